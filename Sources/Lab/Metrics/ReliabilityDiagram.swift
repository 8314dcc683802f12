/// Confidences grouped into equal-width bins on [0, 1] with each bin's mean confidence and accuracy: the
/// data of a reliability diagram and of the expected calibration error (Guo et al. 2017, arXiv 1706.04599).
/// Bin b of B holds confidences in (b/B, (b+1)/B]; 0 goes to the first bin, values above 1 to the last.
///
///     let diagram = ReliabilityDiagram(confidences: [0.3, 0.9, 0.7], correct: [false, true, false], bins: 2)
///     diagram.counts                      // [1, 2]
///     diagram.expectedCalibrationError    // 1/3·|0 − 0.3| + 2/3·|0.5 − 0.8| = 0.3
public struct ReliabilityDiagram: Sendable, Equatable {
    /// Samples per bin.
    public let counts: [Int]
    /// Mean confidence per bin (NaN for an empty bin).
    public let meanConfidences: [Double]
    /// Fraction correct per bin (NaN for an empty bin).
    public let accuracies: [Double]

    public init(confidences: [Double], correct: [Bool], bins: Int = 15) {
        precondition(confidences.count == correct.count, "ReliabilityDiagram: \(confidences.count) confidences for \(correct.count) outcomes")
        precondition(bins >= 1, "ReliabilityDiagram: bins must be at least 1, got \(bins)")
        var counts = [Int](repeating: 0, count: bins), confidenceSums = [Double](repeating: 0, count: bins)
        var correctCounts = [Double](repeating: 0, count: bins)
        for (c, ok) in zip(confidences, correct) {
            let b = min(bins - 1, max(0, Int((c * Double(bins)).rounded(.up)) - 1))
            counts[b] += 1; confidenceSums[b] += c; correctCounts[b] += ok ? 1 : 0
        }
        self.counts = counts
        meanConfidences = zip(confidenceSums, counts).map { $1 == 0 ? .nan : $0 / Double($1) }
        accuracies = zip(correctCounts, counts).map { $1 == 0 ? .nan : $0 / Double($1) }
    }

    /// ECE = Σ_b (n_b / N)·|acc_b − conf_b| over the non-empty bins; NaN for no samples.
    public var expectedCalibrationError: Double {
        let total = counts.reduce(0, +)
        guard total > 0 else { return .nan }
        var ece = 0.0
        for b in counts.indices where counts[b] > 0 {
            ece += Double(counts[b]) / Double(total) * abs(accuracies[b] - meanConfidences[b])
        }
        return ece
    }
}
