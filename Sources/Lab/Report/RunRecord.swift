import CBLAS
import Dispatch
import Foundation
import Lab

/// Wall-clock time since it was made, from a monotonic clock.
public struct Stopwatch: Sendable {
    private let start = DispatchTime.now().uptimeNanoseconds

    public init() {}

    /// Seconds elapsed.
    public var seconds: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}

/// The schema of `run.json`: everything needed to say how a result was produced.
public struct RunRecord: Codable, Sendable {
    /// One timed section of the run (`Report.section`): wall time, and the CPU time of every thread of the
    /// process meanwhile (more than the wall time when several threads worked; nil in files written before
    /// CPU time was recorded).
    public struct SectionTime: Codable, Sendable, Equatable {
        public var name: String
        public var seconds: Double
        public var cpuSeconds: Double?
    }

    /// The commit the executable ran from, and whether tracked files had uncommitted changes.
    public struct GitState: Codable, Sendable, Equatable {
        /// `git rev-parse HEAD`, or "unknown" outside a git checkout or without git.
        public var commit: String
        public var dirty: Bool
    }

    public var paper: String
    public var title: String
    /// argv, as given.
    public var command: [String]
    /// argv as one shell-quoted line.
    public var commandLine: String
    public var scale: Scale
    public var seed: Int
    public var seeds: [Int]
    public var outputDirectory: String
    public var git: GitState
    /// Major.minor version of the compiler that built the executable.
    public var swift: String
    /// `openblas_get_config()`: version, kernel and threading build of the OpenBLAS in use.
    public var openblas: String
    /// Lab's kernel choice (`LAB_KERNELS`): "portable" (the same numbers on every x86-64 CPU with AVX2) or
    /// "native" (nil in files written before it was recorded).
    public var kernels: String?
    /// The CPU's model name (`/proc/cpuinfo`), or "unknown" (nil in files written before it was recorded).
    public var cpu: String?
    /// The thread budget of Lab's loops and OpenBLAS at the end of the run.
    public var threads: Int
    public var cores: Int
    public var sections: [SectionTime]
    public var wallSeconds: Double
    /// CPU time of the whole process (all threads) from the report's creation to `finish()`.
    public var cpuSeconds: Double?
    /// getrusage(RUSAGE_SELF).ru_maxrss, in bytes.
    public var peakMemoryBytes: Int
    public var hostname: String
    public var operatingSystem: String
    /// ISO 8601, UTC.
    public var started: String
    public var finished: String
    /// Every data file the run read (path as given → lowercase hex SHA-256), from `DataProvenance`; nil in
    /// files written before it was recorded.
    public var dataFiles: [String: String]?
}

/// Facts about the build and the machine, gathered once per run.
enum Provenance {
    /// Reads the current commit and whether tracked files differ from it, from the working directory.
    ///
    /// What runs write is not what they ran from: changes under `figures/` (every paper's committed results) and
    /// to `README.md` (its generated tables) do not make a tree dirty. Otherwise `make reproduce-all`, or a paper's
    /// seeds run one after another, would record every run after the first as dirty, because the runs before it
    /// rewrote their own committed figures.
    static func gitState(directory: String? = nil) -> RunRecord.GitState {
        let here = directory.map { ["-C", $0] } ?? []
        guard let commit = runGit(here + ["rev-parse", "HEAD"])?.trimmingCharacters(in: .whitespacesAndNewlines),
              !commit.isEmpty else { return RunRecord.GitState(commit: "unknown", dirty: false) }
        let changes = runGit(here + ["status", "--porcelain", "--untracked-files=no", "--",
                                     ":(top)", ":(top,exclude)figures", ":(top,exclude)README.md"]) ?? ""
        return RunRecord.GitState(commit: commit, dirty: !changes.isEmpty)
    }

    /// stdout of `git <arguments>`, or nil when git is missing or fails (e.g. not a repository).
    private static func runGit(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The compiler version is fixed when the executable is built, so it is read at compile time: a
    /// `swift --version` at run time would name whatever toolchain is on PATH now.
    static var swiftVersion: String {
        #if compiler(>=6.5)
        return ">= 6.5"
        #elseif compiler(>=6.4)
        return "6.4"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }

    /// The first "model name" of /proc/cpuinfo.
    static var cpuModel: String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":") else { return "unknown" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }

    static var openblasConfig: String {
        guard let config = openblas_get_config() else { return "unknown" }
        return String(cString: config).trimmingCharacters(in: .whitespaces)
    }

    /// Peak resident set size of this process so far, in bytes (Linux reports kilobytes, macOS bytes).
    static var peakMemoryBytes: Int {
        var usage = rusage()
        #if os(Linux)
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss) * 1024
        #else
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss)
        #endif
    }

    static var hostname: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// argv as one line a shell would split back the same way.
    static func shellLine(_ arguments: [String]) -> String {
        arguments.map { argument in
            let safe = !argument.isEmpty && argument.allSatisfy {
                $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0)
            }
            return safe ? argument : "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}
