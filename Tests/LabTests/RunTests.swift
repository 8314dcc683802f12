import ArgumentParser
import Foundation
import Synchronization
import Testing
@testable import Lab
@testable import LabReport
@testable import LabRun

/// A paper command as a paper executable declares one.
private struct ToyPaper: PaperCommand {
    static let paper = Paper(arXiv: "0000.00001", title: "A toy paper", command: "toy-paper",
                             reproduces: "Figure 1 (a toy curve), at a tenth of the paper's width.")
    static let defaultSeedCount = 2
    @OptionGroup var options: RunOptions

    final class Calls: @unchecked Sendable { var reproduce = 0 }
    static let calls = Calls()

    func reproduce(in report: Report) throws {
        Self.calls.reproduce += 1
        report.printClaimTable = { _ in }
        report.section("toy") { report.text("A toy section.") }
        try report.claim(Claim(id: "toy", statement: "the seed is 3", measured: Double(options.seed), .equal(3),
                               seeds: report.seeds))
    }
}

/// A paper whose seed count depends on the scale, and that still declares its own `run()` (the pattern the
/// papers used before `defaultSeedCount(scale:)` and `Report.record`).
private struct ScaledPaper: PaperCommand {
    static let paper = Paper(arXiv: "0000.00002", title: "A scaled paper", command: "scaled-paper", reproduces: "Nothing.")
    static func defaultSeedCount(scale: Scale) -> Int { scale == .full ? 5 : 1 }
    @OptionGroup var options: RunOptions
    final class Calls: @unchecked Sendable { var ownRun = 0 }
    static let calls = Calls()

    func reproduce(in report: Report) throws {
        report.printClaimTable = { _ in }
        try report.record("flops", ["training": 1.5e9])
        try report.claim(Claim(id: "seeds", statement: "s", measured: Double(report.seeds.count), .atLeast(1), seeds: report.seeds))
    }
}

private struct OwnRunPaper: PaperCommand {
    static let paper = Paper(arXiv: "0000.00003", title: "Own run", command: "own-run", reproduces: "Nothing.")
    @OptionGroup var options: RunOptions
    final class Calls: @unchecked Sendable { var ownRun = 0 }
    static let calls = Calls()

    func run() throws { Self.calls.ownRun += 1 }
    func reproduce(in report: Report) throws {}
}

/// Collects what a `Progress` writes.
private final class Captured {
    var lines: [String] = []
}

/// Serialized: the job pool sets the process-wide thread budget, which its tests read back.
@Suite(.serialized) struct RunTests {
    @Test func sharedOptionsParse() throws {
        let options = try RunOptions.parse(["--scale", "smoke", "--seed", "3", "--out", "x", "--threads", "1"])
        #expect(options.scale == .smoke && options.seed == 3 && options.out == "x" && options.threads == 1)
        #expect(!options.quiet && options.seeds == nil)
        #expect(options.outputDirectory(folder: "toy") == "x")
        #expect(options.seedList(defaultCount: 2) == [3, 4])

        let defaults = try RunOptions.parse([])
        #expect(defaults.scale == .full && defaults.seed == 0 && defaults.threads == nil)
        #expect(defaults.outputDirectory(folder: "toy") == "figures/toy")
        let averaged = try RunOptions.parse(["--seeds", "5", "--quiet"])
        #expect(averaged.seedList(defaultCount: 2) == [0, 1, 2, 3, 4] && averaged.quiet)
        // A smoke run never writes into figures/ unless told to.
        #expect(try RunOptions.parse(["--scale", "smoke"]).outputDirectory(folder: "toy") == ".smoke/toy")
        #expect(try RunOptions.parse(["--scale=smoke", "--out", "figures/toy"]).outputDirectory(folder: "toy") == "figures/toy")
        #expect(try RunOptions.parse(["--seed", "2147483647"]).seed == 2147483647)
    }

    @Test func badFlagsAreErrors() {
        for arguments in [["--bogus"], ["--scale", "medium"], ["--seed", "x"], ["--threads", "0"], ["--seeds", "0"],
                          ["--seed=-1"], ["--seed", "-1"], ["--seed", "2147483648"], ["--seed", "99999999999999999999999"],
                          ["--seeds", "1001"], ["--threads", "-2"], ["--threads", "100000"], ["--out", ""], ["--seed"]] {
            #expect(throws: (any Error).self, "\(arguments) parsed") { try RunOptions.parse(arguments) }
            do {
                _ = try RunOptions.parse(arguments)
            } catch {
                #expect(RunOptions.exitCode(for: error) == .validationFailure)
            }
        }
    }

    @Test func repeatedFlagsAreErrors() throws {
        for arguments in [["--seed", "1", "--seed", "2"], ["--seed=1", "--seed", "1"], ["--quiet", "--quiet"],
                          ["--out", "a", "--scale", "smoke", "--out=b"]] {
            #expect(throws: ValidationError.self, "\(arguments) was accepted") { try ToyPaper.parseOnce(arguments) }
        }
        do {
            _ = try ToyPaper.parseOnce(["--seed", "1", "--seed", "2"])
        } catch {
            #expect(ToyPaper.message(for: error) == "--seed is given more than once; give it once")
            #expect(ToyPaper.exitCode(for: error) == .validationFailure)
        }
        // A value that looks like a flag is a value, not a repeat.
        #expect(try ToyPaper.parseOnce(["--out", "--seed", "--seed", "4"]).options.out == "--seed")
        #expect(try ToyPaper.parseOnce(["--seeds", "2", "--seed", "4"]).options.seedList(defaultCount: 1) == [4, 5])
    }

    @Test func badOutputFolderIsRefusedBeforeTheStory() throws {
        let folder = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try AtomicFile.write("a file", to: folder + "/file")
        let before = ToyPaper.calls.reproduce
        for out in ["/", folder + "/file", folder + "/file/below"] {
            var command = try ToyPaper.parseOnce(["--scale", "smoke", "--seed", "3", "--out", out, "--quiet"])
            #expect(throws: LabError.self, "--out \(out) was accepted") { try runThroughWitness(&command) }
        }
        #expect(ToyPaper.calls.reproduce == before)
    }

    @Test func paperCommandStatesWhatItReproducesAndRuns() throws {
        let help = ToyPaper.helpMessage(columns: 200)
        #expect(help.contains("Reproduces \"A toy paper\" (arXiv:0000.00001)."))
        #expect(help.contains("Figure 1 (a toy curve)"))
        #expect(help.contains("make toy-paper"))
        #expect(help.contains("--scale <smoke|full>"))

        let folder = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let command = try ToyPaper.parse(["--scale", "smoke", "--seed", "3", "--out", folder, "--quiet"])
        try command.run()
        let claims = try ClaimsFile.read(path: folder + "/claims.json")
        #expect(claims.paper == "arXiv:0000.00001" && claims.scale == .smoke && claims.seed == 3)
        #expect(claims.seeds == [3, 4] && claims.claims.first?.seeds == [3, 4])
        #expect(claims.claims.first?.holds == true)
        #expect(ReportScratch.text(folder + "/REPORT.md")?.contains("## toy") == true)
    }

    @Test func seedCountFollowsTheScaleAndAPapersOwnRunIsReached() throws {
        let folder = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var smoke = try ScaledPaper.parse(["--scale", "smoke", "--out", folder + "/smoke", "--quiet"])
        try runThroughWitness(&smoke)
        #expect(try ClaimsFile.read(path: folder + "/smoke/claims.json").seeds == [0])
        var full = try ScaledPaper.parse(["--scale", "full", "--seed", "2", "--out", folder + "/full", "--quiet"])
        try runThroughWitness(&full)
        #expect(try ClaimsFile.read(path: folder + "/full/claims.json").seeds == [2, 3, 4, 5, 6])

        // The paper's own fact is in run.json, next to the record's keys.
        let runData = try #require(FileManager.default.contents(atPath: folder + "/full/run.json"))
        let run = try #require(try JSONSerialization.jsonObject(with: runData) as? [String: Any])
        #expect((run["flops"] as? [String: Double])?["training"] == 1.5e9)
        #expect(run["seed"] as? Int == 2)

        // runMain's path calls a paper's own run() (the conformance's witness), not the protocol extension's.
        var own = try OwnRunPaper.parse(["--quiet"])
        try runThroughWitness(&own)
        #expect(OwnRunPaper.calls.ownRun == 1)
    }

    @Test func cpuTimeCountsWorkNotWaiting() {
        let processStart = CPUTime.processSeconds(), threadStart = CPUTime.threadSeconds()
        var x = 0.0
        for i in 0..<20_000_000 { x += sin(Double(i)) }
        #expect(x.isFinite)
        let busyProcess = CPUTime.processSeconds() - processStart, busyThread = CPUTime.threadSeconds() - threadStart
        #expect(busyThread > 0.01 && busyProcess >= busyThread * 0.9)
        let idleStart = CPUTime.threadSeconds()
        usleep(200_000)
        #expect(CPUTime.threadSeconds() - idleStart < 0.05)
    }

    @Test func outcomeSaysWhetherTheRunBroke() {
        #expect(outcome(named: "toy") {}.exitCode == 0)
        let broke = outcome(named: "toy") { try checkFinite(Float.nan, what: "training loss", step: 12) }
        #expect(broke.exitCode == 1)
        guard case .broke(let message) = broke else { Issue.record("a NaN did not break the run"); return }
        #expect(message.hasPrefix("toy: error: training loss"))
        #expect(message.contains("step 12"))
        let multiLine = outcome(named: "toy") { throw LabError.invalidArgument("first line\nsecond line") }
        #expect(multiLine == .broke(message: "toy: error: first line second line"))
    }

    @Test func finiteGuardNamesStepAndTensor() throws {
        try checkFinite(0.25, what: "loss", step: 1)
        try checkFinite(Float(-1e30), what: "loss", step: 1)
        #expect(throws: LabError.nonFinite(what: "loss (= inf)", step: 7)) {
            try checkFinite(Double.infinity, what: "loss", step: 7)
        }
        let weights = Tensor(shape: [2, 3], data: [0, 1, 2, 3, .nan, 5])
        weights.name = "layer1.weight"
        #expect {
            try checkFinite(weights, step: 40)
        } throws: { error in
            guard case LabError.nonFinite(let what, let step) = error else { return false }
            return step == 40 && what.contains("layer1.weight") && what.contains("[2, 3]") && what.contains("index 4")
        }
        try checkFinite(Tensor(shape: [3], data: [1, 2, 3]), what: "activations", step: 1)
    }

    @Test func jobPoolKeepsOrderAndSingleThreadedBLAS() throws {
        let threadsBefore = Parallel.threads
        let results = try JobPool.run((0..<12).map { index in
            { @Sendable in
                // Later jobs finish first, so completion order differs from job order.
                usleep(UInt32((12 - index) * 500))
                return (index * index, Parallel.threads)
            }
        })
        #expect(results.map(\.0) == (0..<12).map { $0 * $0 })
        #expect(results.allSatisfy { $0.1 == 1 })
        #expect(Parallel.threads == threadsBefore)
        #expect(try JobPool.run([] as [@Sendable () throws -> Int]).isEmpty)
    }

    @Test func aThreadsOwnBudgetLeavesOtherThreadsAlone() throws {
        // A JobPool running on another thread gives its jobs a budget of 1; this thread keeps the process's
        // budget all the while (parallel tests, or a job pool beside other work, never change each other's
        // chunk splits).
        let global = Parallel.threads
        let started = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let seen = Mutex<[Int]>([])
        Thread {
            let inJobs = try? JobPool.run((0..<4).map { _ in { @Sendable in started.signal(); usleep(20_000); return Parallel.threads } })
            seen.withLock { $0 = inJobs ?? [] }
            done.signal()
        }.start()
        started.wait()
        var outside: [Int] = []
        for _ in 0..<10 { outside.append(Parallel.threads); usleep(2_000) }
        done.wait()
        #expect(seen.withLock { $0 } == [1, 1, 1, 1])
        #expect(outside.allSatisfy { $0 == global })
        // Nested budgets restore the previous one on the way out, also when the body throws.
        Parallel.withThreads(1) {
            #expect(Parallel.threads == 1)
            Parallel.withThreads(2) { #expect(Parallel.threads == 2) }
            #expect(throws: LabError.self) { try Parallel.withThreads(2) { throw LabError.invalidArgument("x") } }
            #expect(Parallel.threads == 1)
        }
        #expect(Parallel.threads == global)
    }

    /// A one-block Llama-style char LM: embedding, RoPE attention and SwiGLU, tied head.
    private final class TinyCharLM: Module, TokenSequenceModel {
        let vocabularySize = 9
        let embedding: Embedding
        let norm = RMSNorm(features: 32)
        let attention: MultiHeadAttention
        let ffn: SwiGLU

        init(seed: UInt64) {
            var rng = RNG(seed: seed)
            embedding = Embedding(vocabularySize: 9, dimension: 32, std: 0.02, rng: &rng)
            attention = MultiHeadAttention(dimension: 32, heads: 2, causal: true, ropeBase: 10_000, rng: &rng)
            ffn = SwiGLU(dimension: 32, hiddenSize: 64, rng: &rng)
        }

        func logits(_ ids: [Int], batch: Int, length: Int) -> Tensor {
            var x = embedding(ids, shape: [batch, length])
            x = x + attention(norm(x))
            x = x + ffn(norm(x))
            return x.reshaped([batch * length, 32]).matmul(embedding.weight, transposeB: true)
        }
    }

    @Test func jobPoolTrainingIsTheSameAloneOrSideBySide() throws {
        // Three char LMs trained as jobs: each one's losses and weights are bit-identical whether the jobs run
        // one at a time or three side by side (each job on one thread, its own model and RNGs).
        let corpus = (0..<600).map { ($0 * 7 + $0 / 13) % 9 }
        let recipe = TrainingRecipe(steps: 12, batchSize: 4, length: 24, warmupSteps: 2)
        let jobs: [@Sendable () throws -> [Float]] = (0..<3).map { index in
            {
                let model = TinyCharLM(seed: UInt64(index))
                let losses = trainLanguageModel(model, recipe: recipe, corpus: corpus, dataSeed: UInt64(10 + index),
                                                loss: { m, w, _, _ in autoregressiveLoss(m, windows: w, length: recipe.length) })
                return losses + model.parameters.flatMap(\.data)
            }
        }
        let alone = try JobPool.run(jobs, workers: 1)
        let sideBySide = try JobPool.run(jobs, workers: 3)
        #expect(alone == sideBySide)
        #expect(alone[0] != alone[1])
    }

    @Test func jobPoolPropagatesTheFirstError() {
        let threadsBefore = Parallel.threads
        let jobs: [@Sendable () throws -> Int] = (0..<10).map { index in
            {
                if index == 3 || index == 7 { throw LabError.invalidArgument("job \(index) failed") }
                return index
            }
        }
        #expect(throws: LabError.invalidArgument("job 3 failed")) { try JobPool.run(jobs) }
        #expect(Parallel.threads == threadsBefore)
    }

    @Test func progressPrintsPlainLinesOffATerminal() {
        let every = Captured()
        let progress = Progress("train", total: 4, interval: 0, isTerminal: false) { every.lines.append($0) }
        for step in 1...4 { progress.update(step, loss: 1 / Double(step)) }
        progress.finish()
        #expect(every.lines.count == 5)
        #expect(every.lines.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\r") })
        #expect(every.lines[1].hasPrefix("train  2/4 (50%)  loss 0.5"))
        #expect(every.lines[4].hasPrefix("train: done 4/4 in ") && every.lines[4].contains("loss 0.25"))

        let throttled = Captured()
        let slow = Progress("eval", total: 100, interval: 3600, isTerminal: false) { throttled.lines.append($0) }
        for step in 1...100 { slow.update(step) }
        slow.finish()
        #expect(throttled.lines.count == 1 && throttled.lines[0].hasPrefix("eval: done 100/100"))

        let silent = Captured()
        let quiet = Progress("train", total: 2, quiet: true, interval: 0, isTerminal: false) { silent.lines.append($0) }
        quiet.update(1)
        quiet.update(2)
        quiet.finish()
        #expect(silent.lines.isEmpty)

        let live = Captured()
        let bar = Progress("train", total: 2, isTerminal: true) { live.lines.append($0) }
        bar.update(2, loss: 0.1)
        bar.finish()
        #expect(live.lines.first?.hasPrefix("\r\u{1B}[2Ktrain  [########################]  2/2") == true)
        #expect(live.lines.last?.hasSuffix("\n") == true)
    }
}
