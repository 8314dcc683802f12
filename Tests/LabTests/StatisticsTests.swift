import Foundation
import Testing
@testable import Lab

@Suite struct StatisticsTests {
    @Test func sortedSampleQuantilesAndCounts() {
        let sample = SortedSample([4, 1, 3, 2])
        #expect(sample.values == [1, 2, 3, 4])
        // h = q·(N − 1): q = 0.5 → h = 1.5 → 2.5; q = 0.9 → h = 2.7 → 3.7 (np.quantile gives the same).
        #expect(sample.quantile(0.5) == 2.5)
        #expect(abs(sample.quantile(0.9) - 3.7) < 1e-12)
        #expect(sample.quantiles([0, 1.0 / 3, 1]) == [1, 2, 4])
        #expect(SortedSample([]).quantile(0.5).isNaN)
        #expect(Metrics.quantile([1, .nan, 3], 0.5).isNaN && Metrics.median([3, 1, 2]) == 2)
        let tied = SortedSample([0.5, 0.2, 0.5, 0.9, 0.5])
        #expect(tied.count(atMost: 0.5) == 4)
        #expect(tied.count(lessThan: 0.5) == 1)
        #expect(tied.count(greaterThan: 0.5) == 1)
        #expect(tied.count(atLeast: 0.5) == 4)
        #expect(tied.count(atMost: 0.1) == 0 && tied.count(atMost: 1) == 5)
        #expect(tied.fraction(atMost: 0.5) == 0.8)
    }

    @Test func sortedSampleAgreesWithSortingPerQuery() {
        var rng = RNG(seed: 11)
        let values = (0..<1_001).map { _ in Double(rng.int(below: 50)) + rng.uniform() }
        let sample = SortedSample(values), sorted = values.sorted()
        for q in stride(from: 0.0, through: 1.0, by: 0.013) {
            let h = q * Double(sorted.count - 1), lower = Int(h)
            let expected = lower + 1 < sorted.count
                ? sorted[lower] + (h - Double(lower)) * (sorted[lower + 1] - sorted[lower]) : sorted[lower]
            #expect(abs(sample.quantile(q) - expected) < 1e-12)
            let threshold = sample.quantile(q)
            #expect(sample.count(greaterThan: threshold) == values.filter { $0 > threshold }.count)
        }
    }

    @Test func meanAndStdNonFinitePolicy() {
        #expect(Metrics.mean([1, .nan, 3]).isNaN)
        #expect(Metrics.mean([1, .nan, 3, .infinity], nonFinite: .skip) == 2)
        #expect(Metrics.mean([.nan], nonFinite: .skip).isNaN)
        #expect(Metrics.std([1, .infinity, 3], nonFinite: .skip) == 2.0.squareRoot())
        #expect(Metrics.std([5, .nan], nonFinite: .skip) == 0)
        #expect(Metrics.std([1, .nan, 3]).isNaN)
    }

    /// τ_b by its definition over all pairs, the reference for the O(n log n) version.
    private func bruteForceKendallTau(_ x: [Double], _ y: [Double]) -> Double {
        var concordant = 0.0, discordant = 0.0, tiedXOnly = 0.0, tiedYOnly = 0.0
        for i in 0..<x.count {
            for j in (i + 1)..<max(i + 1, x.count) {
                let dx = x[i] - x[j], dy = y[i] - y[j]
                if dx == 0 && dy == 0 { continue }
                if dx == 0 { tiedXOnly += 1; continue }
                if dy == 0 { tiedYOnly += 1; continue }
                if (dx > 0) == (dy > 0) { concordant += 1 } else { discordant += 1 }
            }
        }
        return (concordant - discordant) / ((concordant + discordant + tiedXOnly) * (concordant + discordant + tiedYOnly)).squareRoot()
    }

    @Test func kendallTauByHand() {
        // Pairs: 4 concordant, one tied in x only (2, 2), one tied in y only (3, 3): 4 / √(5·5).
        #expect(abs(Metrics.kendallTau([1, 2, 2, 3], [1, 2, 3, 3]) - 0.8) < 1e-15)
        // 7 concordant, 3 discordant, no ties: 4 / 10.
        #expect(abs(Metrics.kendallTau([1, 2, 3, 4, 5], [3, 1, 2, 5, 4]) - 0.4) < 1e-15)
        #expect(Metrics.kendallTau([1, 2, 3], [3, 2, 1]) == -1)
        #expect(Metrics.kendallTau([1, 1, 1], [1, 2, 3]).isNaN)
    }

    @Test func kendallTauMatchesAllPairsWithTies() {
        var rng = RNG(seed: 5)
        for (n, levels) in [(2, 2), (6, 2), (17, 3), (200, 5), (513, 40), (1_000, 1_000_000)] {
            let x = (0..<n).map { _ in Double(rng.int(below: levels)) }
            let y = x.map { $0 + Double(rng.int(below: levels)) - Double(levels / 2) }
            let (fast, reference) = (Metrics.kendallTau(x, y), bruteForceKendallTau(x, y))
            #expect(fast.isNaN ? reference.isNaN : abs(fast - reference) < 1e-12, "n \(n), \(levels) levels")
        }
    }

    @Test func curveReadsBudgetsAndLevels() throws {
        let curve = PiecewiseLinearCurve(xs: [1.0, 0.2, 0.5], ys: [0.9, 0.6, 0.8])
        #expect(curve.xs == [0.2, 0.5, 1.0] && curve.ys == [0.6, 0.8, 0.9])
        #expect(abs(try #require(curve.value(at: 0.75)) - 0.85) < 1e-12)
        #expect(curve.value(at: 0.2) == 0.6 && curve.value(at: 1.0) == 0.9)
        #expect(curve.value(at: 0.1) == nil && curve.value(at: 1.01) == nil)
        #expect(curve.value(clampedAt: 0.1) == 0.6 && curve.value(clampedAt: 2) == 0.9)
        #expect(curve.stepValue(atMost: 0.75) == 0.8 && curve.stepValue(atMost: 0.5) == 0.8)
        #expect(curve.stepValue(atMost: 0.1) == nil && curve.stepValue(atMost: 3) == 0.9)
        #expect(abs(try #require(curve.firstCrossing(of: 0.7, .atLeast)) - 0.35) < 1e-12)
        #expect(curve.firstCrossing(of: 0.5, .atLeast) == 0.2)
        #expect(curve.firstPoint(reaching: 0.7, .atLeast)?.x == 0.5)
        #expect(curve.firstCrossing(of: 0.95, .atLeast) == nil && curve.firstPoint(reaching: 0.95, .atLeast) == nil)
    }

    @Test func curveFirstCrossingOnNonMonotoneCurves() throws {
        // Accuracy rises, dips, rises: the level 0.8 is first reached inside the first segment.
        let accuracy = PiecewiseLinearCurve(xs: [0, 1, 2, 3], ys: [0.5, 0.9, 0.6, 1.0])
        #expect(abs(try #require(accuracy.firstCrossing(of: 0.8, .atLeast)) - 0.75) < 1e-12)
        #expect(abs(try #require(accuracy.firstCrossing(of: 0.95, .atLeast)) - 2.875) < 1e-12)
        // Loss falls, rises, falls: the level 1.5 is reached only in the last segment.
        let loss = PiecewiseLinearCurve(xs: [0, 1, 2, 3], ys: [3, 2, 2.5, 1])
        #expect(abs(try #require(loss.firstCrossing(of: 1.5, .atMost)) - (2 + 2.0 / 3)) < 1e-12)
        #expect(loss.firstPoint(reaching: 1.5, .atMost)?.x == 3)
        #expect(loss.firstCrossing(of: 0.5, .atMost) == nil)
    }

    @Test func binaryCountsAndRates() {
        let counts = BinaryCounts(predictions: [true, true, true, false], labels: [true, true, false, true])
        #expect(counts == BinaryCounts(truePositives: 2, falsePositives: 1, trueNegatives: 0, falseNegatives: 1))
        #expect(abs(counts.truePositiveRate - 2.0 / 3) < 1e-15 && counts.falsePositiveRate == 1 && counts.trueNegativeRate == 0)
        #expect(abs(counts.precision - 2.0 / 3) < 1e-15 && abs(counts.f1 - 2.0 / 3) < 1e-15 && counts.accuracy == 0.5)
        let thresholded = BinaryCounts(scores: [0.9, 0.5, 0.5, 0.2], labels: [true, false, true, false], threshold: 0.5)
        #expect(thresholded == BinaryCounts(truePositives: 2, falsePositives: 1, trueNegatives: 1, falseNegatives: 0))
        // A benign-only set: FPR is defined, TPR and precision are not.
        let benign = BinaryCounts(predictions: [false, false, false, false], labels: [false, false, false, false])
        #expect(benign.falsePositiveRate == 0 && benign.truePositiveRate.isNaN && benign.precision.isNaN && benign.f1 == 0)
    }

    @Test func rocCurveByHandAndItsAreaIsTheMidRankAUROC() {
        let roc = ROCCurve(scores: [0.8, 0.4, 0.5, 0.1], labels: [true, true, false, false])
        #expect(roc.thresholds == [.infinity, 0.8, 0.5, 0.4, 0.1])
        #expect(roc.truePositiveRates == [0, 0.5, 0.5, 1, 1])
        #expect(roc.falsePositiveRates == [0, 0, 0.5, 0.5, 1])
        #expect(roc.area == 0.75)
        var rng = RNG(seed: 3)
        let labels = (0..<500).map { _ in rng.bernoulli(0.3) }
        let scores = labels.map { Double(rng.int(below: 12)) + ($0 ? 2 : 0) }   // many ties
        #expect(abs(ROCCurve(scores: scores, labels: labels).area - Metrics.auroc(scores: scores, labels: labels)) < 1e-12)
    }
}
