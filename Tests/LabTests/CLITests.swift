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

    /// dynamic-k-moe's side-run flags (docs/papers/dynamic-k-moe.md §8): out-of-range or repeated values exit 64
    /// naming the flag, before any data is read or anything is written.
    @Test func dynamicKMoESideRunFlagsAreValidated() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("labtests-cli-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let cases: [(arguments: [String], message: String)] = [
            (["--alpha-mid", "-1"], "--alpha-mid must be a finite number ≥ 0, got -1.0"),
            (["--alpha-mid", "nan"], "--alpha-mid must be a finite number ≥ 0, got nan"),
            (["--alpha-mid", "0.01", "--alpha-mid=0.02"], "--alpha-mid is given more than once"),
            (["--fine-tune-steps", "0"], "--fine-tune-steps must be at least 1, got 0"),
            (["--fine-tune-lr", "0"], "--fine-tune-lr must be a finite number > 0, got 0.0"),
        ]
        for (arguments, message) in cases {
            let run = try ChildRun.run("dynamic-k-moe", ["--scale", "smoke", "--quiet"] + arguments, in: scratch)
            #expect(!run.signalled && run.status == 64, "\(arguments): exit \(run.status), \(run.output)")
            #expect(run.output.contains(message), "\(arguments): \(run.output)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty)
    }

    /// lab-llm: out-of-range options exit 64 before the model loads; bad --perplexity files, a bad model and a
    /// prompt longer than the context exit 1 naming the file or the limit, before any prefill. The model is the
    /// tiny Llama GGUF of the fuzz suite (context 16), so no data is needed.
    @Test func labLLMBadArgumentsAndFiles() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("labtests-llm-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        func file(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = scratch + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        let model = try file("tiny.gguf", tinyLlamaGGUF())
        let badModel = try file("kv0.gguf", tinyLlamaGGUF(metadata: ["llama.attention.head_count_kv": .u32(0)]))
        let empty = try file("empty.txt", [])
        let binary = try file("binary.bin", [0x7F, 0x45, 0x4C, 0x46, 0xFF, 0xFE, 0x00, 0x01])
        let oneToken = try file("one.txt", Array("ab".utf8))
        let text = try file("text.txt", Array(String(repeating: "abcd ", count: 8).utf8))
        let longPrompt = String(repeating: "ab", count: 20)
        let cases: [(arguments: [String], status: Int32, message: String)] = [
            (["--threads", "0", "hi"], 64, "--threads must be between 1 and 1024, got 0"),
            (["--top=-3", "hi"], 64, "--top must be between 1 and 1000, got -3"),
            (["--top", "-3", "hi"], 64, "--top must be between 1 and 1000, got -3"),
            (["--tokens=-5", "--perplexity", text], 64, "--tokens must be between 2 and 100000000, got -5"),
            (["--max-tokens", "-1", "hi"], 64, "--max-tokens must be between 0 and 1000000, got -1"),
            (["--top", "1", "--top=2", "hi"], 64, "--top is given more than once"),
            ([], 64, "give a prompt, --perplexity FILE or --bench"),
            (["--model", model, "--perplexity", empty], 1, "cannot read \(empty): the file is empty"),
            (["--model", model, "--perplexity", binary], 1, "cannot read \(binary): not UTF-8 text"),
            (["--model", model, "--perplexity", scratch + "/absent.txt"], 1, "missing file \(scratch)/absent.txt"),
            (["--model", model, "--perplexity", oneToken], 1, "cannot read \(oneToken): 1 token; perplexity needs at least 2"),
            (["--model", badModel, "hi"], 1, "cannot read \(badModel): llama.attention.head_count_kv is 0"),
            (["--model", model, longPrompt], 1, "the prompt has 20 tokens; with 32 tokens to generate it needs 51 positions, above the model's context length 16"),
            (["--model", model, "--top", "3", longPrompt], 1, "the prompt has 20 tokens; with 1 tokens to generate it needs 20 positions, above the model's context length 16"),
            (["--model", model, "--perplexity", text, "--tokens", "12"], 0, "perplexity "),
            (["--model", model, "--top", "2", "abab"], 0, "p="),
        ]
        for (arguments, status, message) in cases {
            let run = try ChildRun.run("lab-llm", arguments, in: scratch)
            #expect(!run.signalled && run.status == status, "\(arguments): exit \(run.status), \(run.output)")
            #expect(run.output.contains(message), "\(arguments): \(run.output)")
            #expect(!run.output.lowercased().contains("nan"), "\(arguments): \(run.output)")
        }
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: scratch))
            == ["tiny.gguf", "kv0.gguf", "empty.txt", "binary.bin", "one.txt", "text.txt"])
    }
}
