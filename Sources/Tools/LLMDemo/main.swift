// lab-llm: run SmolLM2-135M-Instruct (or any llama GGUF) with LabLLM.
//   lab-llm "The capital of France is"          greedy continuation + tokens/s
//   lab-llm --chat "What is the capital of France?"
//   lab-llm --top 5 "The capital of France is"  top-5 next tokens with probabilities
//   lab-llm --bench [--json out.json]            prefill / generation speed, load time, peak RSS
import ArgumentParser
import Foundation
import Lab
import LabLLM
import LabRun

@main
struct LLMDemo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lab-llm",
                                                    abstract: "Greedy text generation and benchmarks with LabLLM.")

    @Argument(help: "The prompt.") var prompt: String?
    @Option(help: "Path of the GGUF model.") var model: String = LlamaModel.defaultPath
    @Flag(help: "Wrap the prompt in the ChatML chat template (as a user message).") var chat = false
    @Option(parsing: .unconditional, help: "Print the top-K next tokens (1 ... 1000) with probabilities instead of generating.")
    var top: Int?
    @Option(parsing: .unconditional, help: "Maximum number of generated tokens (0 ... 1000000).") var maxTokens: Int = 32
    @Option(parsing: .unconditional, help: "Threads for Lab loops and OpenBLAS (1 ... 1024).") var threads: Int?
    @Flag(help: "Run the speed benchmark.") var bench = false
    @Option(help: "Perplexity of the first --tokens tokens of this UTF-8 text file (windows of 512, or the context length if shorter).") var perplexity: String?
    @Option(parsing: .unconditional, help: "With --perplexity: how many tokens to score (2 ... 100000000).") var tokens: Int = 2000
    @Option(help: "With --bench: also write the results as JSON here.") var json: String?
    @Option(help: "How the weight matrices are held: quantized (the file's Q4/Q8 codes only) or float32 (also a Float32 copy, as the paper studies use).")
    var weights: String = LlamaWeightStorage.quantized.rawValue
    @Option(help: "Activations in products with the quantised matrices: float32 (exact weights), int8 (llama.cpp's Q8_0 scheme, fastest) or int8x2 (16-bit activations as two int8 planes: logits within the reference tests' 1e-3, about 1.4x float32's prefill with AVX-512 VNNI).")
    var activations: String = LlamaActivations.float32.rawValue

    /// Every option is checked before the model loads; a flag given twice is refused in `main()`.
    func validate() throws {
        func check(_ flag: String, _ value: Int?, _ range: ClosedRange<Int>) throws {
            if let value, !range.contains(value) {
                throw ValidationError("\(flag) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
        }
        try check("--threads", threads, 1...RunOptions.maximumThreads)
        try check("--top", top, 1...1000)
        try check("--max-tokens", maxTokens, 0...1_000_000)
        try check("--tokens", tokens, 2...100_000_000)
        if LlamaActivations(rawValue: activations) == nil { throw ValidationError("--activations must be float32, int8 or int8x2, got '\(activations)'") }
        if LlamaWeightStorage(rawValue: weights) == nil { throw ValidationError("--weights must be quantized or float32, got '\(weights)'") }
        if perplexity == nil, prompt == nil, !bench { throw ValidationError("give a prompt, --perplexity FILE or --bench") }
    }

    static let flags = ["--model", "--chat", "--top", "--max-tokens", "--threads", "--bench", "--perplexity", "--tokens", "--json", "--weights", "--activations"]

    static func main() {
        do {
            try rejectRepeatedFlags(Array(CommandLine.arguments.dropFirst()), flags: flags, valueless: ["--chat", "--bench"])
        } catch {
            exit(withError: error)
        }
        main(nil)
    }

    func run() throws {
        Parallel.configure(threads: threads)
        let perplexityText = try perplexity.map(Self.readText)
        let llm = try LlamaModel(path: model, weights: LlamaWeightStorage(rawValue: weights)!)
        llm.activations = LlamaActivations(rawValue: activations)!
        if bench { try runBenchmark(llm); return }
        if let perplexity, let perplexityText {
            let ids = Array(llm.tokenizer.encode(perplexityText, parseSpecial: false).prefix(tokens))
            guard ids.count >= 2 else {
                throw LabError.corruptFile(path: perplexity, reason: "\(ids.count) token\(ids.count == 1 ? "" : "s"); perplexity needs at least 2")
            }
            let start = now(), window = min(512, llm.config.contextLength)
            let (sum, count) = try llm.negativeLogLikelihood(ids, window: window)
            let value = Foundation.exp(sum / Double(count))
            guard value.isFinite else {
                throw LabError.nonFiniteResult(what: "perplexity of \(perplexity) over \(count) tokens", value: value)
            }
            print(String(format: "perplexity %.3f over %d scored tokens (%d tokens, windows of %d) in %.1f s",
                         value, count, ids.count, window, now() - start))
            return
        }
        guard let prompt else { throw ValidationError("give a prompt, --perplexity FILE or --bench") }
        let text = chat ? BPETokenizer.chatPrompt([.init(role: "user", content: prompt)]) : prompt
        let ids = llm.tokenizer.encode(text)
        guard !ids.isEmpty else { throw ValidationError("the prompt is empty") }
        if let k = top {
            try llm.checkRoom(prompts: [ids], maxTokens: 1)
            let out = try llm.forward([ids], logits: .lastToken)
            let row = Array(out.logits(row: 0))
            if let bad = row.firstIndex(where: { !$0.isFinite }) {
                throw LabError.nonFiniteResult(what: "next-token logit of token \(bad)", value: Double(row[bad]))
            }
            let probabilities = softmax(row)
            for id in row.indices.sorted(by: { row[$0] > row[$1] }).prefix(k) {
                print(String(format: "%6d  %-20@  p=%.4f  logit=%.3f", id, "\(llm.tokenizer.decode([id]).debugDescription)" as NSString,
                             probabilities[id], row[id]))
            }
            return
        }
        try llm.checkRoom(prompts: [ids], maxTokens: maxTokens)
        FileHandle.standardOutput.write(Data((chat ? prompt + "\n" : prompt).utf8))
        let start = now()
        var generated: [Int] = []
        var firstToken = start
        _ = try llm.generate(prompt: ids, maxTokens: maxTokens) { token in
            if generated.isEmpty { firstToken = now() }
            // Print whole characters only: a token may end in the middle of a UTF-8 sequence.
            let before = llm.tokenizer.decode(generated)
            generated.append(token)
            let after = llm.tokenizer.decode(generated)
            if !after.hasSuffix("\u{FFFD}") { FileHandle.standardOutput.write(Data(after.dropFirst(before.count).utf8)) }
        }
        let seconds = now() - start
        print()
        let decodeSeconds = start + seconds - firstToken
        FileHandle.standardError.write(String(format: "[prefill %d tokens + first token %.2f s (%.0f tokens/s); %d more tokens %.2f s (%.1f tokens/s); load %.2f s]\n",
                                              ids.count, firstToken - start, Double(ids.count) / (firstToken - start),
                                              max(generated.count - 1, 0), decodeSeconds,
                                              Double(max(generated.count - 1, 0)) / max(decodeSeconds, 1e-9), llm.loadSeconds).data(using: .utf8)!)
    }

    func softmax(_ x: [Float]) -> [Double] {
        let m = Double(x.max() ?? 0)
        let e = x.map { Foundation.exp(Double($0) - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    /// Prefill of one 512-token prompt and of 32 prompts x 64 tokens (logits of the last token of each, as
    /// llama.cpp computes by default), greedy generation of 128 tokens in one stream (best of 3) and of 64 tokens for each
    /// of 32 prompts at once (batched decode, prefill included), load time and peak RSS.
    func runBenchmark(_ llm: LlamaModel) throws {
        let sample = """
        In the beginning God created the heaven and the earth. And the earth was without form, and void; and \
        darkness was upon the face of the deep. And the Spirit of God moved upon the face of the waters. And God \
        said, Let there be light: and there was light. And God saw the light, that it was good: and God divided \
        the light from the darkness. And God called the light Day, and the darkness he called Night. And the \
        evening and the morning were the first day. 1234567890 fn main() { println!("{}", 42); } café naïve 😀.
        """
        var corpus = llm.tokenizer.encode(sample)
        while corpus.count < 4096 { corpus += corpus }
        let long = Array(corpus.prefix(512))
        let batch = (0..<32).map { Array(corpus[($0 * 97)..<($0 * 97 + 64)]) }

        _ = try llm.forward([Array(long.prefix(64))], logits: .lastToken)  // warm-up (page faults, thread pool)
        // Each workload: best wall time over `repeats`, and the process CPU time of that repeat divided by the
        // thread count (what the wall time would be on an otherwise idle machine with perfect scaling; this
        // machine is shared, so wall times swing with other users' load).
        var cpuEstimates: [Double] = []
        func best(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
            var b = Double.infinity, cpu = Double.infinity
            for _ in 0..<repeats {
                let t = now(), c = CPUTime.processSeconds()
                try body()
                b = min(b, now() - t)
                cpu = min(cpu, (CPUTime.processSeconds() - c) / Double(Parallel.threads))
            }
            cpuEstimates.append(cpu)
            return b
        }
        let tLong = try best(3) { _ = try llm.forward([long], logits: .lastToken) }
        let tBatch = try best(3) { _ = try llm.forward(batch, logits: .lastToken) }
        // Greedy generation: 128 decode steps after a 16-token prompt, best of 3 (only the steps are timed).
        let generateCount = 128
        var tGenerate = Double.infinity, cpuGenerate = Double.infinity
        for _ in 0..<3 {
            var caches = [llm.makeCache()]
            _ = try llm.forward([Array(corpus.prefix(16))], caches: &caches, logits: .lastToken)
            var token = corpus[16]
            let t = now(), c = CPUTime.processSeconds()
            for _ in 0..<generateCount {
                let out = try llm.forward([[token]], caches: &caches, logits: .lastToken)
                token = LlamaModel.argmax(out.logits(row: 0))
            }
            tGenerate = min(tGenerate, now() - t)
            cpuGenerate = min(cpuGenerate, (CPUTime.processSeconds() - c) / Double(Parallel.threads))
        }
        cpuEstimates.append(cpuGenerate)
        let tGenerateBatch = try best(1) {
            let out = try llm.generate(prompts: batch, maxTokens: 64, stopTokens: [])
            precondition(out.allSatisfy { $0.count == 64 })
        }
        let rss = peakRSSMegabytes()
        let counts = [512.0, 2048, Double(generateCount), 2048]
        let rows: [(String, Double, String)] = [
            ("load_s", llm.loadSeconds, "s"),
            ("prefill_512_tok_per_s", 512 / tLong, "tokens/s"),
            ("prefill_32x64_tok_per_s", 2048 / tBatch, "tokens/s"),
            ("generate_tok_per_s", Double(generateCount) / tGenerate, "tokens/s"),
            ("generate_32x64_tok_per_s", 2048 / tGenerateBatch, "tokens/s (incl. prefill)"),
            ("peak_rss_mb", rss, "MB"),
            ("cpu_prefill_512_tok_per_s", counts[0] / cpuEstimates[0], "tokens per CPU-s / threads"),
            ("cpu_prefill_32x64_tok_per_s", counts[1] / cpuEstimates[1], "tokens per CPU-s / threads"),
            ("cpu_generate_tok_per_s", counts[2] / cpuEstimates[2], "tokens per CPU-s / threads"),
            ("cpu_generate_32x64_tok_per_s", counts[3] / cpuEstimates[3], "tokens per CPU-s / threads"),
        ]
        print("lab-llm bench (\(Parallel.threads) threads, OpenBLAS \(Parallel.openBLASCore) kernels, \(llm.weightStorage.rawValue) weights, \(llm.activations.rawValue) activations, \(model))")
        for (name, value, unit) in rows { print(String(format: "  %-26@ %10.2f %@", name as NSString, value, unit as NSString)) }
        if let json {
            var fields = rows.map { "\"\($0.0)\": \(String(format: "%.4f", $0.1))" }
            fields.append("\"threads\": \(Parallel.threads)")
            fields.append("\"kernels\": \"\(Parallel.kernels.rawValue)\", \"openblas_core\": \"\(Parallel.openBLASCore)\"")
            fields.append("\"weights\": \"\(llm.weightStorage.rawValue)\", \"activations\": \"\(llm.activations.rawValue)\"")
            let text = "{" + fields.joined(separator: ", ") + "}\n"
            let temporary = json + ".tmp"
            try text.write(toFile: temporary, atomically: false, encoding: .utf8)
            guard rename(temporary, json) == 0 else { throw LabError.io(path: json, reason: "rename from \(temporary) failed (errno \(errno))") }
        }
    }

    /// The text of `path` for `--perplexity`: missing, unreadable, empty or non-UTF-8 files are refused with
    /// an error naming the file and what is wrong (before the model loads).
    static func readText(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LabError.missingFile(path: path, fix: "give --perplexity an existing UTF-8 text file")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw LabError.io(path: path, reason: "cannot be read (\(error.localizedDescription))")
        }
        guard !data.isEmpty else { throw LabError.corruptFile(path: path, reason: "the file is empty; perplexity needs text") }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw LabError.corruptFile(path: path, reason: "not UTF-8 text (a binary file?)")
        }
        return text
    }

    func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// VmHWM of /proc/self/status (peak resident set), in MB.
    func peakRSSMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
        return kb / 1024
    }
}
