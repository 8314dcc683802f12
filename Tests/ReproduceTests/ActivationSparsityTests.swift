import ActivationSparsityCore
import Foundation
import Testing
@testable import Lab
import LabData
import LabLLM

@Suite struct ActivationSparsityTests {
    @Test func criticalSparsityInterpolatesTheFirstDropBelowTheLevel() {
        // r drops below 0.99 between s = 0.2 (r = 0.995) and s = 0.4 (r = 0.975): λ = 0.005/0.02 = 0.25.
        let c = criticalSparsity(sparsity: [0, 0.1, 0.2, 0.4, 0.6], relative: [1, 0.999, 0.995, 0.975, 0.99])
        #expect(abs(c.sparsity - 0.25) < 1e-12)
        #expect(c.index == 3 && !c.isLowerBound)
        #expect(abs(c.interpolate([0, 1, 2, 3, 4]) - 2.25) < 1e-12)
        // Never below the level: the last sparsity, flagged as a lower bound.
        let never = criticalSparsity(sparsity: [0, 0.3, 0.5], relative: [1, 0.995, 0.991])
        #expect(never.sparsity == 0.5 && never.isLowerBound)
        // The first point already below: 0.
        #expect(criticalSparsity(sparsity: [0, 0.1], relative: [0.98, 0.97]).sparsity == 0)
    }

    @Test func relativePerformanceAveragesAccuracyAndNLLRatios() {
        var dense = WindowStats(), sparse = WindowStats()
        dense.scored = 100; dense.correct = 50; dense.negativeLogLikelihood = 200     // acc 0.5, NLL 2
        sparse.scored = 100; sparse.correct = 45; sparse.negativeLogLikelihood = 210  // acc 0.45, NLL 2.1
        let r = relativePerformance(sparse: [sparse], dense: [dense])
        #expect(abs(r - (0.9 + exp(-0.1)) / 2) < 1e-12)
        #expect(relativePerformance(sparse: [dense, dense], dense: [dense, dense]) == 1)
    }

    @Test func windowScoringCountsTop1NLLAndCloze() {
        // Vocabulary 3; rows: logits favour 0, 1, 2; targets 0, 2, -1 (unscored).
        let logits: [Float] = [2, 0, 0, 0, 2, 0, 0, 0, 2]
        let stats = logits.withUnsafeBufferPointer {
            WindowStats.score(logits: $0.baseAddress!, vocabulary: 3, targets: [0, 2, -1], cloze: [0..<1, 0..<2])
        }
        let lse = log(exp(2.0) + 2)
        #expect(stats.scored == 2 && stats.correct == 1)
        #expect(abs(stats.negativeLogLikelihood - ((lse - 2) + lse)) < 1e-6)
        #expect(stats.clozeItems == 2 && stats.clozeCorrect == 1)
    }

    @Test func clozeSpansFindTheLastWordOfEachLine() {
        // BPE-like tokens: "The", " cat", " sat", ".", "\n", "A", " dog", "\n"
        let bpe = ["The", " cat", " sat", ".", "\n", "A", " dog", "\n"]
        #expect(clozeSpans(tokenTexts: bpe, firstScored: 0) == [2..<4, 6..<7])
        #expect(clozeSpans(tokenTexts: bpe, firstScored: 3) == [6..<7])
        // Characters: "ab cd\nef\n"
        let chars = ["a", "b", " ", "c", "d", "\n", "e", "f", "\n"]
        #expect(clozeSpans(tokenTexts: chars, firstScored: 0) == [3..<5, 6..<8])
    }

    @Test func interpolationAndJaccard() {
        #expect(PiecewiseLinearCurve(xs: [0.4, 0, 0.2], ys: [0.96, 1, 0.99]).value(clampedAt: 0.3) == 0.975)
        #expect(PiecewiseLinearCurve(xs: [0, 0.2], ys: [1, 0.9]).value(clampedAt: 0.5) == 0.9)
        var row: [Float] = [0, 1, 0, 2]
        let a = keptMask(&row, width: 4)
        var other: [Float] = [3, 1, 0, 0]
        let b = keptMask(&other, width: 4)
        #expect(a == [0b1010] && b == [0b0011])
        #expect(abs(jaccard(a, b) - 1.0 / 3) < 1e-12)
        #expect(jaccard([0], [0]) == 1)
    }

    @Test func flopSavingsPerTarget() {
        #expect(abs(SparsityTarget.input.ffnFLOPSaving(inputSparsity: 0.3, intermediateSparsity: 0) - 0.2) < 1e-12)
        #expect(abs(SparsityTarget.intermediate.ffnFLOPSaving(inputSparsity: 0, intermediateSparsity: 0.6) - 0.2) < 1e-12)
        #expect(abs(SparsityTarget.allInputs.ffnFLOPSaving(inputSparsity: 0.3, intermediateSparsity: 0.6) - 0.4) < 1e-12)
        #expect(SparsityTarget.allInputs.points == [.input, .intermediate])
    }

    @Test func probeCountsScoredRowsOnlyAndOnlyItsLayers() {
        let probe = SparsityProbe(rule: .topK(0.5), target: .intermediate, layerCount: 2, layers: [1])
        probe.countedRows = [false, true]
        let x = Tensor(shape: [2, 4], data: [1, 2, 3, 4, 4, 3, 2, 1])
        #expect(probe.apply(layer: 0, point: .intermediate, x).data == x.data)   // layer 0 untouched
        #expect(probe.apply(layer: 1, point: .input, x).data == x.data)          // other point untouched
        let y = probe.apply(layer: 1, point: .intermediate, x)
        #expect(y.data == [0, 0, 3, 4, 4, 3, 0, 0])
        #expect(probe.counts.entries[1][3] == 4 && probe.counts.zeros[1][3] == 2)
        #expect(probe.counts.sparsity(points: [.intermediate]) == 0.5)
    }

    @Test func effectiveRankOfKnownSpectra() throws {
        // Orthogonal rows with equal norms: erank = number of rows; a rank-one matrix: erank ≈ 1.
        let equal: [Float] = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]
        #expect(abs(try effectiveRank(equal, rows: 3, cols: 4) - 3) < 1e-6)
        let rankOne: [Float] = [1, 2, 3, 2, 4, 6]
        #expect(abs(try effectiveRank(rankOne, rows: 2, cols: 3) - 1) < 1e-6)
    }

    @Test func charLlamaShapesCausalityAndTraining() {
        var rng = RNG(seed: 1)
        let size = LadderSize(name: "tiny", width: 16, layers: 1, heads: 2, ffnWidth: 24)
        let model = CharLlama(size: size, vocabularySize: 7, causal: true, rng: &rng)
        let ids = [1, 2, 3, 4, 5, 6, 1, 2]
        let logits = noGrad { model(ids, batch: 1, length: 8) }
        #expect(logits.shape == [8, 7])
        // Causal: changing the last token leaves earlier rows unchanged.
        var changed = ids; changed[7] = 0
        let other = noGrad { model(changed, batch: 1, length: 8) }
        #expect(Array(logits.data[0..<49]) == Array(other.data[0..<49]))
        // The identity hook changes nothing; a few AdamW steps on a repeating text lower the loss.
        let hooked = noGrad { model(ids, batch: 1, length: 8) { _, _, t in t } }
        #expect(hooked.data == logits.data)
        let corpus = (0..<400).map { $0 % 7 }
        let losses = trainLanguageModel(model, recipe: TrainingRecipe(steps: 30, batchSize: 4, length: 16, warmupSteps: 3), corpus: corpus, dataSeed: 2,
                                        loss: { m, w, _, _ in autoregressiveLoss(m, windows: w, length: 16) })
        #expect(losses.last! < losses.first! * 0.7)
    }

    @Test func diffusionLossAndSamplerBookkeeping() {
        var rng = RNG(seed: 4)
        let size = LadderSize(name: "tiny", width: 16, layers: 2, heads: 2, ffnWidth: 24)
        let model = CharLlama(size: size, vocabularySize: 6, causal: false, rng: &rng)
        var noise = RNG(seed: 9)
        let loss = maskedDiffusionLoss(model, windows: Array(repeating: [0, 1, 2, 3, 4, 0, 1, 2, 3], count: 3).flatMap { $0 }, length: 8, maskID: 5, rng: &noise)
        #expect(loss.item.isFinite && loss.item > 0)
        let masks = fixedMasks(windows: 2, length: 10, ratio: 0.5, rng: &noise)
        #expect(masks.allSatisfy { Set($0).count == 5 })
        // Sampling unmasks `perStep` positions per step: after 2 steps of 2, the 4 masked positions are filled.
        let windows = [[0, 1, 2, 3, 4, 0, 1, 2], [4, 3, 2, 1, 0, 4, 3, 2]]
        let probe = SparsityProbe(rule: .topP(0.9), target: .intermediate, layerCount: 2)
        let trace = sampleWithMaskTrace(model, windows: windows, promptLength: 4, steps: 2, perStep: 2, maskID: 5, probe: probe)
        #expect(trace.driftGenerated.count == 2 && trace.consecutiveGenerated.count == 1)
        #expect(trace.driftGenerated[0] == [1, 1])   // J(M_1, M_1) = 1 in every layer
        #expect(trace.sparsityPerStep.count == 2 && trace.sparsityPerStep.allSatisfy { $0 > 0 && $0 < 1 })
        #expect((0...1).contains(trace.generatedAccuracy))
    }

    /// Two corpora with two windows each; window w's statistics and zero counts are made up so that the corpora
    /// differ (the second corpus is harder and sparser).
    static func twoCorpusRuns() -> (windows: CorpusWindows, dense: WindowRun, sparse: WindowRun) {
        let windows = CorpusWindows(corpora: ["A", "B"], windows: [[1, 2], [3, 4], [5, 6], [7, 8]], corpusOfWindow: [0, 0, 1, 1],
                                    context: 1, cloze: [[], [], [], []])
        var dense = WindowRun(windows: 4, layers: 1), sparse = WindowRun(windows: 4, layers: 1)
        for w in 0..<4 {
            dense.stats[w].scored = 10 + w; dense.stats[w].correct = 8 - w; dense.stats[w].negativeLogLikelihood = Double(10 + 3 * w)
            sparse.stats[w] = dense.stats[w]
            sparse.stats[w].correct -= w % 2 + 1; sparse.stats[w].negativeLogLikelihood += Double(w + 1)
            sparse.counts[w].zeros[0][0] = 2 + 3 * w      // FFNHookPoint.input
            sparse.counts[w].entries[0][0] = 20 + 10 * w
        }
        return (windows, dense, sparse)
    }

    @Test func perCorpusStatisticsAverageToThePooledOnes() {
        let (windows, dense, sparse) = Self.twoCorpusRuns()
        let a = windows.windows(ofCorpus: 0), b = windows.windows(ofCorpus: 1)
        #expect(a == [0, 1] && b == [2, 3] && windows.leading(1) == [0, 2] && windows.leading(5) == windows.all)
        // One task per corpus present: a corpus's windows give that corpus's numbers, not an empty second task.
        #expect(windows.tasks(sparse, windows: a).count == 1 && windows.tasks(sparse, windows: windows.all).count == 2)
        #expect(windows.tasks(sparse, windows: b) == [sparse.stats[2] + sparse.stats[3]])
        // r is the mean over tasks with each corpus weighing 1/2, so the per-corpus r average to the pooled r.
        let rA = windows.relativePerformance(sparse, dense: dense, windows: a)
        let rB = windows.relativePerformance(sparse, dense: dense, windows: b)
        let pooled = windows.relativePerformance(sparse, dense: dense, windows: windows.all)
        #expect(abs((rA + rB) / 2 - pooled) < 1e-12)
        // Hand-computed for corpus A: acc 12/21 vs 15/21, NLL (23 + 3)/21 vs 23/21.
        #expect(abs(rA - (12.0 / 15 + exp(-3.0 / 21)) / 2) < 1e-12)
        #expect(rA < 1 && rB < 1 && windows.relativePerformance(dense, dense: dense, windows: a) == 1)
        // Sparsity is Σ zeros / Σ entries: the entry-weighted average of the per-corpus sparsities is the pooled one.
        let sA = windows.counts(sparse, windows: a), sB = windows.counts(sparse, windows: b)
        let pooledCounts = windows.counts(sparse, windows: windows.all)
        #expect(sA.sparsity(points: [.input]) == 7.0 / 50 && sB.sparsity(points: [.input]) == 19.0 / 90)
        #expect(abs((50 * sA.sparsity(points: [.input]) + 90 * sB.sparsity(points: [.input])) / 140 - pooledCounts.sparsity(points: [.input])) < 1e-12)
        // The curves of the figure: per-corpus curves start at the dense point and bracket the pooled one.
        let curve = { (ids: [Int]) in
            windows.curve(model: "m", target: .input, rule: "top-p", runs: [(0.9, sparse)], dense: dense, windows: ids)
        }
        let (curveA, curveB, curvePooled) = (curve(a), curve(b), curve(windows.all))
        #expect(curveA.relative == [1, rA] && curveB.relative == [1, rB] && curvePooled.relative == [1, pooled])
        #expect(curvePooled.sparsity[1] == 26.0 / 140 && curveA.parameters == [nil, 0.9])
    }

    @Test func corpusWindowsAreSeededLineStartsScoredAfterTheContext() throws {
        // A character "tokenizer": token = Unicode scalar value.
        let encode = { (text: String) in text.unicodeScalars.map { Int($0.value) } }
        let decode = { (token: Int) in String(Unicode.Scalar(UInt32(token))!) }
        let long = (0..<80).map { "line \($0) has words" }
        let short = (0..<80).map { $0 % 2 == 0 ? "x" : "a longer line \($0)" }
        let make = { (seed: UInt64) in
            try CorpusWindows(corpora: [("long", long), ("short", short)], perCorpus: 2, tokens: 12, context: 4, seed: seed,
                              encode: encode, decode: decode)
        }
        let windows = try make(7)
        #expect(windows.windows.count == 4 && windows.windows.allSatisfy { $0.count == 12 })
        #expect(windows.corpusOfWindow == [0, 0, 1, 1])
        #expect(try make(7).windows == windows.windows)
        // Each window is the start of some line's text.
        for (w, tokens) in windows.windows.enumerated() {
            let text = String(String.UnicodeScalarView(tokens.map { Unicode.Scalar(UInt32($0))! }))
            let lines = windows.corpusOfWindow[w] == 0 ? long : short
            #expect(lines.indices.contains { lines[$0...].joined(separator: "\n").hasPrefix(text) }, "window \(w)")
        }
        // Targets: rows ≥ context − 1 predict the next token; the last row has none.
        let targets = windows.targets(window: 1)
        #expect(targets.prefix(3).allSatisfy { $0 == -1 } && targets[3] == windows.windows[1][4] && targets[11] == -1)
        #expect(windows.scoredRows(window: 1) == (0..<12).map { $0 >= 3 })
        // Too little text is a typed error naming the corpus.
        #expect(throws: LabError.self) {
            _ = try CorpusWindows(corpora: [("tiny", ["a"])], perCorpus: 1, tokens: 4, context: 1, seed: 1, encode: encode, decode: decode)
        }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: LlamaModel.defaultPath)))
    func smolLM2SingleLayerRunsAndRuleComparison() throws {
        let model = try LlamaModel(path: LlamaModel.defaultPath, weights: .float32)
        let text = (0..<60).map { "And God said, Let there be light \($0): and there was light." }
        let windows = try CorpusWindows(corpora: [("KJV", text)], perCorpus: 2, tokens: 48, context: 8, seed: 3,
                                        encode: { model.tokenizer.encode($0, parseSpecial: false) }, decode: { model.tokenizer.decode([$0]) })
        let bench = SmolLM2Bench(model: model, windows: windows)
        #expect(try bench.identityError(tokens: 24) <= 1e-5)
        // all_inputs at p = 0.5 in layer 9 only: starting at layer 9 from the cached dense stream gives what the
        // full forward with the same one-layer probe gives.
        let ids = windows.all
        let residuals = try bench.residualStreams(windows: ids, layers: [0, 9])
        for layer in [0, 9] {
            let resumed = try bench.singleLayerRun(.topP(0.5), .allInputs, layer: layer, windows: ids, residuals: residuals)
            let probe = SparsityProbe(rule: .topP(0.5), target: .allInputs, layerCount: bench.layers, layers: [layer])
            for w in ids {
                let (stats, counts) = try bench.evaluate(window: w, probe: probe)
                #expect(resumed.counts[w] == counts, "layer \(layer) window \(w)")
                #expect(resumed.stats[w].scored == stats.scored && resumed.stats[w].scored == 48 - 8)
                #expect(abs(resumed.stats[w].negativeLogLikelihood - stats.negativeLogLikelihood) < 1e-3 * stats.negativeLogLikelihood)
            }
        }
        // Rules at matched sparsity: top-k with k = 1 − s_topp keeps ⌊m·k⌋ of m entries per row, so its sparsity
        // lies in [s_topp, s_topp + 1/m); each rule's r is its curve read at top-p's critical sparsity.
        let dense = try bench.run(nil, .intermediate, windows: ids)
        let sweep = [(parameter: 0.9, run: try bench.run(.topP(0.9), .intermediate, windows: ids))]
        let main = windows.curve(model: "SmolLM2-135M", target: .intermediate, rule: "top-p", runs: sweep, dense: dense, windows: ids)
        let first = windows.leading(1)
        let rules = try bench.compareRules(target: .intermediate, main: main, sweep: sweep, dense: dense, windows: first,
                                           topKAlignedP: [0.9], maxPValues: [0.1])
        #expect(rules.curves.map(\.rule) == ["top-p", "top-k", "max-p"] && rules.curves[2].parameters == [nil, 0.1])
        #expect(rules.curves[0].relative == windows.curve(model: "SmolLM2-135M", target: .intermediate, rule: "top-p", runs: sweep,
                                                          dense: dense, windows: first).relative)
        let m = Double(model.config.ffnWidth)
        #expect(rules.curves[1].sparsity[1] >= main.sparsity[1] - 1e-9 && rules.curves[1].sparsity[1] < main.sparsity[1] + 1 / m)
        #expect(rules.criticalSparsity == main.critical.sparsity)
        for (k, curve) in rules.curves.enumerated() {
            #expect(rules.relativeAtCritical[k] == PiecewiseLinearCurve(xs: curve.sparsity, ys: curve.relative).value(clampedAt: main.critical.sparsity))
        }
        #expect(rules.topPMinusTopK == rules.relativeAtCritical[0] - rules.relativeAtCritical[1])
        #expect(throws: LabError.self) {
            _ = try bench.compareRules(target: .intermediate, main: main, sweep: sweep, dense: dense, windows: first, topKAlignedP: [0.5], maxPValues: [])
        }
    }
}
