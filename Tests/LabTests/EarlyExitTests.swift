import Foundation
import Testing
@testable import Lab

/// The two-exit toy of docs/papers/early-exit-calibration.md §3 (costs 0.5 and 1): 1,000 samples in groups
/// of (count, IC1 confidence, IC1 correct, final correct).
private func toy(_ groups: [(count: Int, confidence: Double, early: Bool, final: Bool)]) -> (confidences: [[Double]], correct: [[Bool]]) {
    var s: [Double] = [], early: [Bool] = [], final: [Bool] = []
    for g in groups {
        s += Array(repeating: g.confidence, count: g.count)
        early += Array(repeating: g.early, count: g.count)
        final += Array(repeating: g.final, count: g.count)
    }
    return ([s, Array(repeating: 1, count: s.count)], [early, final])
}

/// Toy (b) with IC1 confidences `high` on group H (675 CC, 50 WC, 25 WW) and `low` on group L (25 CC, 150 WC, 75 WW).
private func rankingToy(high: Double, low: Double) -> (confidences: [[Double]], correct: [[Bool]]) {
    toy([(675, high, true, true), (50, high, false, true), (25, high, false, false),
         (25, low, true, true), (150, low, false, true), (75, low, false, false)])
}

@Suite struct EarlyExitTests {
    @Test func toyCurvesMatchTheAnalyticValues() {
        let thresholds = EarlyExitCurve.thresholds(pooling: [[0.1, 0.9]], uniformCount: 11, quantileCount: 3)
        // (a) constant 0.7: points (0.5, 0.7) and (1, 0.9) → AUC = ½·(0.7 + 0.9)/2 / ½ = 0.8.
        let constant = toy([(700, 0.7, true, true), (200, 0.7, false, true), (100, 0.7, false, false)])
        let curveA = EarlyExitCurve(confidences: constant.confidences, correct: constant.correct, exitCosts: [0.5, 1], thresholds: thresholds)
        #expect(curveA.costs == [0.5, 1] && curveA.accuracies == [0.7, 0.9])
        #expect(abs(curveA.area - 0.8) < 1e-12)
        // (b): H exits early at 0.1 < τ ≤ 0.9: cost (750·0.5 + 250)/1000 = 0.625, acc (675 + 175)/1000 = 0.85;
        // AUC = [0.125·(0.7 + 0.85)/2 + 0.375·(0.85 + 0.9)/2] / 0.5 = 0.85.
        let b = rankingToy(high: 0.9, low: 0.1)
        let curveB = EarlyExitCurve(confidences: b.confidences, correct: b.correct, exitCosts: [0.5, 1], thresholds: thresholds)
        #expect(curveB.costs == [0.5, 0.625, 1])
        #expect(abs(curveB.area - 0.85) < 1e-12)
        #expect(curveB.accuracy(atBudget: 0.7) == 0.85)
        #expect(curveB.accuracy(atBudget: 0.4) == nil)
        #expect(curveB.costToMatch(accuracy: 0.8) == 0.625)
        #expect(curveB.costToMatch(accuracy: 0.95) == nil)
        // (c) has the ranking of (b) and ECE = 0.75·|0.9 − 0.99| + 0.25·|0.1 − 0.6| = 0.1925.
        let c = rankingToy(high: 0.99, low: 0.6)
        #expect(abs(Metrics.expectedCalibrationError(confidences: c.confidences[0], correct: c.correct[0]) - 0.1925) < 1e-12)
        #expect(Metrics.expectedCalibrationError(confidences: b.confidences[0], correct: b.correct[0]) < 1e-12)
        let curveC = EarlyExitCurve(confidences: c.confidences, correct: c.correct, exitCosts: [0.5, 1],
                                    thresholds: EarlyExitCurve.thresholds(pooling: [c.confidences[0]]))
        #expect(abs(curveC.area - 0.85) < 1e-12)
    }

    /// The event sweep against the rule applied sample by sample at every threshold (3 exits, ties included).
    @Test func sweepEqualsTheRuleAppliedPerSample() {
        var rng = RNG(seed: 5)
        let n = 300, costs = [0.2, 0.55, 1.0]
        let confidences = (0..<3).map { _ in (0..<n).map { _ in (rng.uniform() * 20).rounded() / 20 } }
        let correct = (0..<3).map { k in (0..<n).map { _ in rng.bernoulli(0.5 + 0.15 * Double(k)) } }
        let thresholds = EarlyExitCurve.thresholds(pooling: Array(confidences.prefix(2)), uniformCount: 21, quantileCount: 9)
        let curve = EarlyExitCurve(confidences: confidences, correct: correct, exitCosts: costs, thresholds: thresholds)
        var expected: [Double: [Double]] = [:]
        for tau in thresholds {
            var cost = 0.0, right = 0.0
            for x in 0..<n {
                let exit = (0..<2).first { confidences[$0][x] >= tau } ?? 2
                cost += costs[exit]; right += correct[exit][x] ? 1 : 0
            }
            expected[(cost / Double(n) * 1e9).rounded() / 1e9, default: []].append(right / Double(n))
        }
        let keys = expected.keys.sorted()
        #expect(curve.costs.count == keys.count)
        for (i, key) in keys.enumerated() {
            #expect(abs(curve.costs[i] - key) < 1e-9)
            #expect(abs(curve.accuracies[i] - Metrics.mean(expected[key]!)) < 1e-12)
        }
        #expect(curve.costs.first == 0.2 && curve.costs.last == 1.0)
    }

    /// The authors' no-exit rule (`mostConfident`): the final exit has a threshold too, and a sample on which no
    /// exit fires pays c_K with the prediction of its most confident exit. Hand-computed curve on three samples
    /// (exits cost 0.2, 0.6, 1):
    ///   A: s = (0.9, 0.5, 0.8), correct (yes, no, no) — fires at IC1 for τ ≤ 0.9; above, falls back to IC1 (right).
    ///   B: s = (0.3, 0.7, 0.6), correct (no, yes, no) — IC2 for 0.3 < τ ≤ 0.7, IC1 for τ ≤ 0.3; above 0.7 the
    ///      fallback takes IC2's answer (right) at cost 1.
    ///   C: s = (0.2, 0.4, 0.95), correct (no, no, yes) — final for 0.4 < τ ≤ 0.95, IC2 for 0.2 < τ ≤ 0.4, IC1 below.
    @Test func mostConfidentRuleFallsBackToTheMostConfidentExit() {
        let confidences = [[0.9, 0.3, 0.2], [0.5, 0.7, 0.4], [0.8, 0.6, 0.95]]
        let correct = [[true, false, false], [false, true, false], [false, false, true]]
        let costs = [0.2, 0.6, 1.0]
        let thresholds = [0.1, 0.35, 0.8, 0.92, 0.99]
        let curve = EarlyExitCurve(confidences: confidences, correct: correct, exitCosts: costs, thresholds: thresholds,
                                   noExit: .mostConfident)
        // τ = 0.99: nobody fires; cost 1 each; fallbacks A→IC1 right, B→IC2 right, C→final right: 3/3.
        // τ = 0.92: A at IC1 (0.2, right); B falls back (1, right); C at final (1, right): cost 2.2/3, acc 1.
        // τ = 0.8: the same as 0.92 (B's best is 0.7 < 0.8).
        // τ = 0.35: A IC1 (0.2, right), B IC2 (0.6, right), C IC2 (0.6, wrong): cost 1.4/3, acc 2/3.
        // τ = 0.1: everyone at IC1: cost 0.2, acc 1/3.
        #expect(curve.costs.count == 4)
        let expectedCosts = [0.2, 1.4 / 3, 2.2 / 3, 1.0], expectedAccuracies = [1.0 / 3, 2.0 / 3, 1, 1]
        for i in 0..<4 {
            #expect(abs(curve.costs[i] - expectedCosts[i]) < 1e-12)
            #expect(abs(curve.accuracies[i] - expectedAccuracies[i]) < 1e-12)
        }
        // The default rule on the same data: at τ = 0.99 everyone leaves at the final exit (1/3 right).
        let lastExit = EarlyExitCurve(confidences: confidences, correct: correct, exitCosts: costs, thresholds: thresholds)
        #expect(lastExit.accuracies.last! == 1.0 / 3)
    }

    /// The sweep under `mostConfident` against the rule applied sample by sample (4 exits, ties included).
    @Test func mostConfidentSweepEqualsTheRulePerSample() {
        var rng = RNG(seed: 11)
        let n = 250, costs = [0.2, 0.5, 0.7, 1.0]
        let confidences = (0..<4).map { _ in (0..<n).map { _ in (rng.uniform() * 10).rounded() / 10 } }
        let correct = (0..<4).map { k in (0..<n).map { _ in rng.bernoulli(0.4 + 0.15 * Double(k)) } }
        let thresholds = EarlyExitCurve.thresholds(pooling: Array(confidences.prefix(3)), uniformCount: 21, quantileCount: 9)
        let curve = EarlyExitCurve(confidences: confidences, correct: correct, exitCosts: costs, thresholds: thresholds,
                                   noExit: .mostConfident)
        var expected: [Double: [Double]] = [:]
        for tau in thresholds {
            var cost = 0.0, right = 0.0
            for x in 0..<n {
                if let exit = (0..<4).first(where: { confidences[$0][x] >= tau }) {
                    cost += costs[exit]; right += correct[exit][x] ? 1 : 0
                } else {
                    let top = (0..<4).map { confidences[$0][x] }.max()!
                    let best = (0..<4).first { confidences[$0][x] == top }!
                    cost += costs[3]; right += correct[best][x] ? 1 : 0
                }
            }
            expected[(cost / Double(n) * 1e9).rounded() / 1e9, default: []].append(right / Double(n))
        }
        let keys = expected.keys.sorted()
        #expect(curve.costs.count == keys.count)
        for (i, key) in keys.enumerated() {
            #expect(abs(curve.costs[i] - key) < 1e-9)
            #expect(abs(curve.accuracies[i] - Metrics.mean(expected[key]!)) < 1e-12)
        }
    }

    /// Hand counts for the 4-block CNN of docs/papers/early-exit-calibration.md §3.
    @Test func macCounts() {
        var rng = RNG(seed: 0)
        let conv = Conv2d(inputChannels: 16, outputChannels: 32, kernelSize: 3, padding: 1, rng: &rng)
        let counted = MACs.conv2d(conv, inputHeight: 14, inputWidth: 14)
        #expect(counted.macs == 14 * 14 * 9 * 16 * 32 && counted.outputHeight == 14 && counted.outputWidth == 14)
        let strided = Conv2d(inputChannels: 1, outputChannels: 4, kernelSize: 3, stride: 2, rng: &rng)
        #expect(MACs.conv2d(strided, inputHeight: 28, inputWidth: 28) == (13 * 13 * 9 * 4, 13, 13))
        #expect(MACs.linear(Linear(inputSize: 784, outputSize: 10, rng: &rng)) == 7_840)

        var costs = ExitCosts(exitCount: 4)
        costs.add("b1.conv1", macs: 28 * 28 * 9 * 1 * 16, block: 1)      // 112,896
        costs.add("b1.conv2", macs: 14 * 14 * 9 * 16 * 16, block: 1)     // 451,584
        costs.add("b2.conv", macs: 14 * 14 * 9 * 16 * 32, block: 2)      // 903,168
        costs.add("b3.conv", macs: 7 * 7 * 9 * 32 * 32, block: 3)        // 451,584
        costs.add("b4.conv", macs: 7 * 7 * 9 * 32 * 32, block: 4)
        for (k, inputs) in [784, 288, 288, 1_568].enumerated() { costs.add("head\(k + 1)", macs: inputs * 10, head: k + 1) }
        #expect(costs.cumulativeBackboneMACs == [564_480, 1_467_648, 1_919_232, 2_370_816])
        #expect(costs.exitMACs == [572_320, 1_478_368, 1_932_832, 2_400_096])
        let relative = costs.relativeExitCosts
        for (measured, expected) in zip(relative, [0.23846, 0.61596, 0.80531, 1.0]) { #expect(abs(measured - expected) < 1e-5) }
    }

    @Test func reliabilityDiagram() {
        let diagram = ReliabilityDiagram(confidences: [0, 0.3, 0.9, 0.7, 1.2], correct: [false, false, true, false, true], bins: 2)
        #expect(diagram.counts == [2, 3])
        #expect(diagram.accuracies == [0, 2.0 / 3])
        #expect(abs(diagram.meanConfidences[1] - 2.8 / 3) < 1e-12)
        // ECE = 2/5·|0 − 0.15| + 3/5·|2/3 − 2.8/3| = 0.06 + 0.16 = 0.22
        #expect(abs(diagram.expectedCalibrationError - 0.22) < 1e-12)
        #expect(ReliabilityDiagram(confidences: [], correct: []).expectedCalibrationError.isNaN)
    }

    final class TwoExitMLP: Module, MultiExitModel {
        let body: Linear, early: Linear, late: Linear
        init(rng: inout RNG) {
            body = Linear(inputSize: 3, outputSize: 4, rng: &rng)
            early = Linear(inputSize: 4, outputSize: 2, rng: &rng)
            late = Linear(inputSize: 4, outputSize: 2, rng: &rng)
        }
        var exitCount: Int { 2 }
        func exits(_ x: Tensor) -> [Tensor] { let h = body(x).relu(); return [early(h), late(h)] }
    }

    @Test func multiExitLogitsStackBatchesWithoutGradients() {
        var rng = RNG(seed: 2)
        let model = TwoExitMLP(rng: &rng)
        let x = Tensor.randn([5, 3], rng: &rng)
        let whole = model.exits(x)
        let parts = model.exitLogits(over: [x.slice(axis: 0, 0..<2), x.slice(axis: 0, 2..<5)])
        #expect(parts.count == 2 && parts[0].shape == [5, 2])
        for k in 0..<2 { for (a, b) in zip(parts[k].data, whole[k].data) { #expect(abs(a - b) < 1e-6) } }
        #expect(!parts[1].requiresGrad && model.isTraining)
    }
}

@Suite struct CalibratorKitTests {
    @Test func isotonicPoolsAdjacentViolators() {
        // y by x: 0 | 1, 0 | 1 → blocks {0.1}: 0, {0.2, 0.3}: 0.5, {0.4}: 1.
        let fit = IsotonicRegression(x: [0.4, 0.1, 0.3, 0.2], y: [1, 0, 0, 1])
        #expect(fit.levels == [0, 0.5, 1])
        #expect(fit.blocks[1].lowerX == 0.2 && fit.blocks[1].upperX == 0.3)
        #expect(fit.predict(0.25) == 0.5 && fit.predict(-1) == 0 && fit.predict(2) == 1)
        // 0.32 is in the gap (0.3, 0.4), nearer to 0.3; 0.38 nearer to 0.4.
        #expect(fit.predict(0.32) == 0.5 && fit.predict(0.38) == 1)
        // Tied x are pooled before ordering: (0.5: 1, 0) → 0.5; then 3, 1 violates → pooled to 2.
        let tied = IsotonicRegression(x: [0.5, 0.5, 0.7, 0.8], y: [1, 0, 3, 1])
        #expect(tied.levels == [0.5, 2])
        // The fit is non-decreasing on random data and its weighted mean equals the data's (PAV keeps sums).
        var rng = RNG(seed: 9)
        let x = (0..<200).map { _ in rng.uniform() }, y = x.map { _ in rng.bernoulli(0.5) ? 1.0 : 0 }
        let random = IsotonicRegression(x: x, y: y)
        #expect(zip(random.levels, random.levels.dropFirst()).allSatisfy { $0 < $1 })
        #expect(abs(random.blocks.reduce(0) { $0 + $1.level * $1.weight } - y.reduce(0, +)) < 1e-9)
    }

    @Test func histogramBinningHasEqualMassBins() {
        let binning = HistogramBinning(scores: [0.6, 0.1, 0.9, 0.2], outcomes: [true, false, true, true], bins: 2)
        #expect(binning.upperEdges == [0.2, 0.9] && binning.values == [0.5, 1])
        #expect(binning.predict(0.15) == 0.5 && binning.predict(0.2) == 0.5 && binning.predict(0.3) == 1 && binning.predict(5) == 1)
        // Ties merge groups: three equal scores of five in 5 bins leave edges 0.1, 0.5, 0.7.
        let tied = HistogramBinning(scores: [0.5, 0.5, 0.5, 0.1, 0.7], outcomes: [true, false, false, true, true], bins: 5)
        #expect(tied.upperEdges == [0.1, 0.5, 0.7])
        #expect(abs(tied.values[1] - 1.0 / 3) < 1e-12)
    }
}
