import Foundation
import Testing
@testable import Lab

@Suite struct MetricsTests {
    @Test func classification() {
        let logits = Tensor(rows: [[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
        #expect(Metrics.accuracy(logits: logits, labels: [1, 1, 1]) == 2.0 / 3)
        #expect(Metrics.confusionMatrix(predictions: [1, 0, 1], labels: [1, 1, 0], classes: 2) == [[0, 1], [1, 1]])
        // tp 2, fp 1, fn 1 → F1 = 4/6
        #expect(abs(Metrics.f1(predictions: [true, true, true, false], labels: [true, true, false, true]) - 2.0 / 3) < 1e-12)
        // Positives {0.8, 0.4}, negatives {0.5, 0.1}: pairs won 1 + 1 + 0 + 1 = 3 of 4.
        #expect(Metrics.auroc(scores: [0.8, 0.4, 0.5, 0.1], labels: [true, true, false, false]) == 0.75)
        #expect(Metrics.auroc(scores: [0.5, 0.5], labels: [true, false]) == 0.5)
        // Two bins: (0, .5] holds 0.3 (wrong) → |0 − .3|; (.5, 1] holds .9 (right), .7 (wrong) → |.5 − .8|.
        let ece = Metrics.expectedCalibrationError(confidences: [0.3, 0.9, 0.7], correct: [false, true, false], bins: 2)
        #expect(abs(ece - (1.0 / 3 * 0.3 + 2.0 / 3 * 0.3)) < 1e-12)
    }

    @Test func statistics() {
        #expect(Metrics.mean([1, 2, 3, 4]) == 2.5)
        #expect(abs(Metrics.std([2, 4, 4, 4, 5, 5, 7, 9], unbiased: false) - 2) < 1e-12)
        #expect(Metrics.quantile([1, 2, 3, 4], 0.5) == 2.5)
        #expect(Metrics.quantile([10, 0, 5], 0.25) == 2.5)
        #expect(Metrics.ranks([10, 20, 20, 5]) == [2, 3.5, 3.5, 1])
        #expect(abs(Metrics.spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) - 0.820_782_681_668_123_9) < 1e-9)
        #expect(abs(Metrics.kendallTau([1, 2, 3, 4], [1, 3, 2, 4]) - 4.0 / 6) < 1e-12)
        #expect(abs(Metrics.pearson([1, 2, 3], [2, 4, 6]) - 1) < 1e-12)
        #expect(Metrics.jaccard([true, true, false], [true, false, false]) == 0.5)
        #expect(PiecewiseLinearCurve(xs: [0, 1, 2], ys: [0, 10, 0]).value(at: 1.5) == 5)
    }

    @Test func distributionDistances() {
        #expect(abs(Metrics.wasserstein1([0, 1, 3], [5, 1, 0]) - 2.0 / 3) < 1e-12)   // sorted pairs |0−0|+|1−1|+|3−5|
        var rng = RNG(seed: 4)
        let a = (0..<200).map { _ in rng.normal() }
        #expect(abs(Metrics.wasserstein1(a, a.map { $0 + 0.75 }) - 0.75) < 1e-9)
        // Unequal sizes: F_a jumps at 0 (to 1), F_b at 0 and 2 (to 1/2, 1): ∫|ΔF| = 1/2·2.
        #expect(abs(Metrics.wasserstein1([0], [0, 2]) - 1) < 1e-12)
        #expect(Metrics.ksStatistic([1, 2, 3], [1, 2, 3]) == 0)
        #expect(abs(Metrics.ksStatistic([1, 2, 3, 4], [3, 4, 5, 6]) - 0.5) < 1e-12)
    }
}
