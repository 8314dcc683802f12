import Foundation
import Lab

/// The README's wall-time section, generated from every `figures/<paper>/run.json` (`make results`, and so
/// `make bench`): one row per paper with the recorded full-scale wall time, CPU time, threads, peak memory and
/// CPU of its seed-0 run, then the expected wall time of every paper × several seeds spread over N task slots
/// (Slurm nodes), scheduled longest first. Nothing in it is typed: a paper rerun on another machine changes it.
public enum WallTimeTable {
    public static let beginMarker = "<!-- walltimes:begin -->"
    public static let endMarker = "<!-- walltimes:end -->"

    /// The task slots the schedule table shows (a node with 2k cores runs k 2-CPU tasks, and counts as k).
    public static let slots = [1, 2, 3, 5, 10, 15, 30]

    /// What the table needs from one paper's run.json (older files may lack the optional fields).
    public struct PaperTime: Sendable, Equatable, Decodable {
        public var paper: String
        public var scale: Scale
        public var wallSeconds: Double
        public var cpuSeconds: Double?
        public var threads: Int
        public var peakMemoryBytes: Int
        public var cpu: String?
        public var kernels: String?
        public var started: String
        /// The folder under figures/ (= make target); not in run.json, set by `collect`.
        public var folder: String = ""

        enum CodingKeys: String, CodingKey {
            case paper, scale, wallSeconds, cpuSeconds, threads, peakMemoryBytes, cpu, kernels, started
        }

        public init(folder: String, paper: String, scale: Scale, wallSeconds: Double, cpuSeconds: Double?, threads: Int,
                    peakMemoryBytes: Int, cpu: String?, kernels: String?, started: String) {
            self.folder = folder
            self.paper = paper
            self.scale = scale
            self.wallSeconds = wallSeconds
            self.cpuSeconds = cpuSeconds
            self.threads = threads
            self.peakMemoryBytes = peakMemoryBytes
            self.cpu = cpu
            self.kernels = kernels
            self.started = started
        }
    }

    /// Reads `<figures>/<folder>/run.json` of every folder that has one, sorted by folder. A run.json that does
    /// not decode is an error naming the file.
    public static func collect(figuresDirectory: String) throws -> [PaperTime] {
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: figuresDirectory).sorted()) ?? []
        return try folders.compactMap { folder in
            let path = "\(figuresDirectory)/\(folder)/run.json"
            guard let data = FileManager.default.contents(atPath: path) else { return nil }
            do {
                var time = try LabJSON.decoder.decode(PaperTime.self, from: data)
                time.folder = folder
                return time
            } catch {
                throw LabError.corruptFile(path: path, reason: "not a run.json: \(describeDecodingError(error))")
            }
        }
    }

    /// The time to finish `tasks` on `slots` identical workers when each next-longest task goes to the worker
    /// that frees up first (longest processing time first: within 4/3 of the optimum, and exact when there are
    /// at least as many slots as tasks).
    public static func makespan(_ tasks: [Double], slots: Int) -> Double {
        precondition(slots >= 1, "makespan: need at least one slot")
        var finish = [Double](repeating: 0, count: slots)
        for task in tasks.sorted(by: >) {
            let next = finish.indices.min { finish[$0] < finish[$1] }!
            finish[next] += task
        }
        return finish.max() ?? 0
    }

    static func minutes(_ seconds: Double) -> String { String(format: "%.1f", seconds / 60) }

    /// The Markdown section: the per-paper table, then the schedule of `seeds` seeds of every paper.
    public static func markdown(_ times: [PaperTime], seeds: Int = 3) -> String {
        let full = times.filter { $0.scale == .full }
        guard !full.isEmpty else { return "No full-scale runs recorded yet: run `make reproduce-all`.\n" }
        var out = "| paper | wall time (min) | CPU time (min) | threads | peak memory (MiB) | CPU | kernels | run started (UTC) |\n"
        out += "|---|---:|---:|---:|---:|---|---|---|\n"
        for time in full {
            let cells = ["`\(time.folder)`", minutes(time.wallSeconds), time.cpuSeconds.map(minutes) ?? "—", "\(time.threads)",
                         String(format: "%.0f", Double(time.peakMemoryBytes) / 1_048_576), time.cpu ?? "unknown",
                         time.kernels ?? "unknown", time.started]
            out += "| " + cells.map(escapeMarkdownCell).joined(separator: " | ") + " |\n"
        }
        let total = full.map(\.wallSeconds).reduce(0, +)
        out += "\nAll \(full.count) papers once: \(minutes(total)) minutes on this table's machines.\n"

        let tasks = full.flatMap { time in [Double](repeating: time.wallSeconds, count: seeds) }
        let longest = full.max { $0.wallSeconds < $1.wallSeconds }!
        out += "\nExpected wall time of \(full.count) papers × \(seeds) seeds (\(tasks.count) tasks) from these recorded "
            + "times: \(minutes(tasks.reduce(0, +))) minutes of 2-core work. Scheduled longest first over N task slots "
            + "(a node with 2k cores runs k 2-CPU tasks at a time, and counts as k):\n\n"
        out += "| task slots | " + slots.map(String.init).joined(separator: " | ") + " |\n"
        out += "|---|" + slots.map { _ in "---:|" }.joined() + "\n"
        out += "| wall time (minutes) | " + slots.map { minutes(makespan(tasks, slots: $0)) }.joined(separator: " | ") + " |\n"
        out += "\nFrom \(tasks.count) slots on, the longest single task (`\(longest.folder)`, \(minutes(longest.wallSeconds)) "
            + "minutes) is the wall time; add the queue wait and, once, `make build` and `make data` on the shared filesystem.\n"
        return out
    }

    /// `readme` with the text between the markers replaced by `section`.
    public static func replacingSection(in readme: String, with section: String, readmePath: String) throws -> String {
        guard let begin = readme.range(of: beginMarker), let end = readme.range(of: endMarker),
              begin.upperBound <= end.lowerBound else {
            throw LabError.corruptFile(
                path: readmePath,
                reason: "no '\(beginMarker)' followed by '\(endMarker)': put the two markers where the wall-time table goes")
        }
        return String(readme[..<begin.upperBound]) + "\n" + section + String(readme[end.lowerBound...])
    }
}
