import Foundation
import Testing

/// A built executable of this package run as a plain child process (not a Swift Testing exit test, which
/// hangs here): its exit status, whether a signal ended it, and what it wrote.
private struct ChildRun {
    let status: Int32
    let signalled: Bool
    let output: String

    /// Runs `.build/<configuration>/<executable> arguments` from the package root with a fresh working directory
    /// of its own, so that a wrong default output folder cannot touch the checkout.
    static func run(_ executable: String, _ arguments: [String], in directory: String) throws -> ChildRun {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates = ["release", "debug"].map { root.appendingPathComponent(".build/\($0)/\(executable)").path }
        let path = try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0) },
                                "build \(executable) first (swift build)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ChildRun(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                        output: String(decoding: data, as: UTF8.self))
    }
}

/// Bad arguments and output folders given to a real paper executable: a clear error naming the argument, a
/// non-zero exit, no trap, and nothing written.
@Suite(.serialized) struct CLITests {
    @Test func badArgumentsEndInAnErrorNotATrap() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("labtests-cli-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try Data("a file".utf8).write(to: URL(fileURLWithPath: scratch + "/file"))
        let cases: [(arguments: [String], status: Int32, message: String)] = [
            (["--seed=-1"], 64, "--seed must be between 0 and 2147483647, got -1"),
            (["--seed", "-1"], 64, "--seed must be between 0 and 2147483647, got -1"),
            (["--seed", "99999999999999999999"], 64, "--seed"),
            (["--seeds", "0"], 64, "--seeds must be between 1 and 1000, got 0"),
            (["--threads", "0"], 64, "--threads must be between 1 and 1024, got 0"),
            (["--seed", "1", "--seed", "2"], 64, "--seed is given more than once"),
            (["--scale", "smoke", "--out", "/"], 1, "root folder"),
            (["--scale", "smoke", "--out", scratch + "/file"], 1, "exists and is a file"),
        ]
        for (arguments, status, message) in cases {
            let run = try ChildRun.run("expertsim", arguments + ["--quiet"], in: scratch)
            #expect(!run.signalled && run.status == status, "\(arguments): exit \(run.status), \(run.output)")
            #expect(run.output.contains(message), "\(arguments): \(run.output)")
        }
        // Nothing written: no .smoke/ or figures/ in the working directory, the file untouched.
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: scratch)) == ["file"])
    }
}
