/// Equal-mass histogram binning (Zadrozny & Elkan 2001): sort the scores, cut them into `bins` groups of
/// (nearly) equal count, and map a score to the fraction of positive outcomes in its group. A calibrator
/// that keeps only the bin's rank: every score inside one bin gets the same value.
///
/// Group i of B takes sorted positions ⌊i·N/B⌋ ..< ⌊(i+1)·N/B⌋; its upper edge is its largest score. A score
/// s falls in the first group whose upper edge is ≥ s (the last group above every edge). Groups whose
/// upper edges coincide (ties) are merged, so every score — training or new — falls in a group that has
/// samples.
///
///     let binning = HistogramBinning(scores: [0.1, 0.2, 0.6, 0.9], outcomes: [false, true, true, true], bins: 2)
///     binning.upperEdges       // [0.2, 0.9]
///     binning.values           // [0.5, 1]
///     binning.predict(0.15)    // 0.5
public struct HistogramBinning: Sendable, Equatable {
    /// Largest score of each group, increasing; the last group also takes every larger score.
    public let upperEdges: [Double]
    /// Fraction of positive outcomes in each group.
    public let values: [Double]

    public init(scores: [Double], outcomes: [Bool], bins: Int) {
        precondition(scores.count == outcomes.count && !scores.isEmpty,
                     "HistogramBinning: \(scores.count) scores for \(outcomes.count) outcomes (need equal, non-zero counts)")
        precondition(bins >= 1, "HistogramBinning: bins must be at least 1, got \(bins)")
        precondition(!scores.contains { $0.isNaN }, "HistogramBinning: NaN score")
        let sorted = scores.sorted()
        var edges: [Double] = []
        for i in 0..<bins {
            let end = (i + 1) * sorted.count / bins
            guard end > i * sorted.count / bins else { continue }   // more bins than scores
            let edge = sorted[end - 1]
            if edges.last != edge { edges.append(edge) }
        }
        var positives = [Double](repeating: 0, count: edges.count), counts = [Double](repeating: 0, count: edges.count)
        for (score, outcome) in zip(scores, outcomes) {
            let group = Self.group(of: score, upperEdges: edges)
            counts[group] += 1
            positives[group] += outcome ? 1 : 0
        }
        upperEdges = edges
        values = zip(positives, counts).map { $0 / $1 }
    }

    /// The positive fraction of the group `score` falls in.
    public func predict(_ score: Double) -> Double { values[Self.group(of: score, upperEdges: upperEdges)] }

    /// The first group whose upper edge is ≥ score, else the last one.
    private static func group(of score: Double, upperEdges: [Double]) -> Int {
        var low = 0, high = upperEdges.count - 1
        while low < high {
            let middle = (low + high) / 2
            if upperEdges[middle] >= score { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
