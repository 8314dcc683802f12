import ActivationSparsityCore
import Foundation
import Testing
@testable import Lab
import LabData

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
        let losses = train(model, recipe: TrainingRecipe(steps: 30, batchSize: 4, length: 16, warmupSteps: 3), train: corpus, dataSeed: 2,
                           loss: { m, w, _ in autoregressiveLoss(m, windows: w, length: 16) })
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
}
