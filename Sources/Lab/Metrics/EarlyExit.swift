/// The cost–accuracy curve of an early-exit network under the confidence-threshold rule, and its summaries
/// (docs/papers/early-exit-calibration.md §3, shared with early-exit-continual).
///
/// Inputs per exit k = 1...K and sample x: a confidence s_k(x) (e.g. max-softmax), whether exit k's
/// prediction is correct, and the exit's cost c_k (increasing in k; MACs or a fraction of the full pass).
/// Rule: x leaves at the first k < K with s_k(x) ≥ τ; if there is none, at K (`NoExitRule.lastExit`). With
/// `NoExitRule.mostConfident` (the rule of the early-exit-continual authors' code) the final exit has a threshold
/// too: x leaves at the first k ≤ K with s_k(x) ≥ τ, and when none fires it pays c_K and takes the prediction of
/// its most confident exit (the first one of the largest s_k). For each threshold τ the curve has the point
/// (mean cost, mean correctness) over the samples.
///
/// The sweep is exact and sorts once: as τ falls, a sample moves to an earlier exit only when τ passes one
/// of its "record" confidences (an s_k larger than every s_j, j < k, among the exits that have a threshold).
/// Each record is an event (value, from exit, to exit, Δcorrect); the events are sorted once by value and swept
/// against the thresholds in decreasing order with integer counts per exit, O(N·K·log(N·K) + T·K) for N
/// samples, K exits and T thresholds. Under `mostConfident` "no exit fired" is one more position (cost c_K,
/// correct as the last record, i.e. the most confident exit), left at the largest record.
///
///     let thresholds = EarlyExitCurve.thresholds(pooling: confidences.dropLast())
///     let curve = EarlyExitCurve(confidences: confidences, correct: correct, exitCosts: [0.24, 0.62, 0.81, 1],
///                                thresholds: thresholds)
///     curve.area                       // normalised AUC in [0, 1]
///     curve.accuracy(atBudget: 0.5)    // Acc@50 %
public struct EarlyExitCurve: Sendable, Equatable {
    /// Mean cost of each point, strictly increasing.
    public let costs: [Double]
    /// Mean correctness of each point (points of equal cost merged into their mean accuracy).
    public let accuracies: [Double]
    /// The exits' costs c_1...c_K as given.
    public let exitCosts: [Double]

    /// What a sample does when no exit's confidence reaches the threshold.
    public enum NoExitRule: Sendable, Equatable {
        /// The final exit has no threshold: the sample leaves there (early-exit-calibration).
        case lastExit
        /// Every exit has a threshold; when none fires the sample pays c_K and takes the prediction of the exit
        /// with the highest s_k (the early-exit-continual authors' code, docs/papers/early-exit-continual.md §3).
        case mostConfident
    }

    /// confidences, correct: K arrays of N values (exit 1 first); exitCosts: K increasing costs; thresholds:
    /// any order, e.g. `thresholds(pooling:)`; noExit: what a sample does when no exit fires. NaN confidences
    /// are refused.
    public init(confidences: [[Double]], correct: [[Bool]], exitCosts: [Double], thresholds: [Double],
                noExit: NoExitRule = .lastExit) {
        let exitCount = exitCosts.count
        precondition(exitCount >= 1 && confidences.count == exitCount && correct.count == exitCount,
                     "EarlyExitCurve: \(confidences.count) confidence and \(correct.count) correctness arrays for \(exitCount) exit costs")
        precondition(zip(exitCosts, exitCosts.dropFirst()).allSatisfy { $0 < $1 },
                     "EarlyExitCurve: exit costs must increase, got \(exitCosts)")
        let sampleCount = correct[0].count
        precondition(sampleCount > 0 && confidences.allSatisfy { $0.count == sampleCount } && correct.allSatisfy { $0.count == sampleCount },
                     "EarlyExitCurve: every exit needs the same non-zero number of samples, got \(confidences.map(\.count)) confidences, \(correct.map(\.count)) outcomes")
        precondition(!thresholds.isEmpty && !thresholds.contains { $0.isNaN }, "EarlyExitCurve: thresholds must be non-empty numbers")

        // Positions: exits 0..<K, plus under `mostConfident` the position K "no exit fired" (cost c_K).
        // Events: at τ ≤ value, a sample moves from position `from` to the earlier exit `to`.
        let thresholdExits = noExit == .lastExit ? exitCount - 1 : exitCount
        let restPosition = noExit == .lastExit ? exitCount - 1 : exitCount
        let positionCosts = noExit == .lastExit ? exitCosts : exitCosts + [exitCosts[exitCount - 1]]
        struct Event { var value: Double; var from: Int; var to: Int; var deltaCorrect: Int }
        var events: [Event] = []
        events.reserveCapacity(sampleCount * max(1, thresholdExits))
        var recordExits = [Int](repeating: 0, count: exitCount)
        var totalCorrect = 0
        for sample in 0..<sampleCount {
            // Records: exits with a threshold whose confidence beats all earlier ones, in increasing order of value.
            var recordCount = 0, best = -Double.infinity
            for k in 0..<thresholdExits {
                let s = confidences[k][sample]
                precondition(!s.isNaN, "EarlyExitCurve: confidence of sample \(sample) at exit \(k + 1) is NaN")
                if s > best { best = s; recordExits[recordCount] = k; recordCount += 1 }
            }
            // At τ = +∞ the sample rests at the last exit, or (no exit fired) with its most confident exit's answer.
            var later = restPosition
            var laterCorrect = correct[noExit == .lastExit ? exitCount - 1 : recordExits[recordCount - 1]][sample]
            totalCorrect += laterCorrect ? 1 : 0
            for r in stride(from: recordCount - 1, through: 0, by: -1) {
                let k = recordExits[r]
                events.append(Event(value: confidences[k][sample], from: later, to: k,
                                    deltaCorrect: (correct[k][sample] ? 1 : 0) - (laterCorrect ? 1 : 0)))
                later = k
                laterCorrect = correct[k][sample]
            }
        }
        events.sort { $0.value > $1.value }

        // Sweep τ downwards from "everyone at rest"; integer counts keep every point exact.
        var positionCounts = [Int](repeating: 0, count: positionCosts.count)
        positionCounts[restPosition] = sampleCount
        var pointCosts: [Double] = [], pointAccuracies: [Double] = []
        var next = 0
        for tau in thresholds.sorted(by: >) {
            while next < events.count && events[next].value >= tau {
                positionCounts[events[next].from] -= 1
                positionCounts[events[next].to] += 1
                totalCorrect += events[next].deltaCorrect
                next += 1
            }
            pointCosts.append(zip(positionCounts, positionCosts).reduce(0) { $0 + Double($1.0) * $1.1 } / Double(sampleCount))
            pointAccuracies.append(Double(totalCorrect) / Double(sampleCount))
        }
        // Increasing cost; points of equal cost merge into their mean accuracy.
        var costs: [Double] = [], accuracies: [Double] = [], tieCount = 0
        for (cost, accuracy) in zip(pointCosts.reversed(), pointAccuracies.reversed()) {
            if let last = costs.last, cost == last {
                tieCount += 1
                accuracies[accuracies.count - 1] += (accuracy - accuracies[accuracies.count - 1]) / Double(tieCount)
            } else {
                costs.append(cost); accuracies.append(accuracy); tieCount = 1
            }
        }
        self.costs = costs
        self.accuracies = accuracies
        self.exitCosts = exitCosts
    }

    /// The threshold set of docs/papers/early-exit-calibration.md §3: {0} ∪ `uniformCount` evenly spaced
    /// points in [0, 1] ∪ `quantileCount` quantiles (levels i/(q+1), i = 1...q) of the pooled confidences ∪
    /// {+∞}. The quantiles keep the curve dense where confidences pile up (near 1 for an overconfident net),
    /// where a uniform grid alone would collapse to a few points. Pass the non-final exits' confidences.
    public static func thresholds(pooling confidences: [[Double]], uniformCount: Int = 501, quantileCount: Int = 999) -> [Double] {
        precondition(uniformCount >= 2, "EarlyExitCurve.thresholds: uniformCount must be at least 2, got \(uniformCount)")
        let uniform = (0..<uniformCount).map { Double($0) / Double(uniformCount - 1) }
        let pooled = confidences.flatMap { $0 }
        let levels = (1...max(1, quantileCount)).map { Double($0) / Double(quantileCount + 1) }
        let quantiles = pooled.isEmpty || quantileCount == 0 ? [] : SortedSample(pooled).quantiles(levels)
        return [0] + uniform + quantiles + [.infinity]
    }

    /// Trapezoid area of accuracy over cost from the cheapest to the dearest point, divided by the cost span
    /// (with costs as fractions of the full pass: ∫ acc d(cost) over [c_1, 1] / (1 − c_1)). The curve spans
    /// [c_1, c_K] when the thresholds include one ≤ every confidence and one above all (0 and +∞).
    public var area: Double {
        guard costs.count > 1 else { return accuracies.first ?? .nan }
        var total = 0.0
        for i in 1..<costs.count { total += (costs[i] - costs[i - 1]) * (accuracies[i] + accuracies[i - 1]) / 2 }
        return total / (costs[costs.count - 1] - costs[0])
    }

    /// Acc@b: the accuracy of the point with the largest cost ≤ `budget` (as in the authors' early-exit
    /// code); nil when even the cheapest point costs more.
    public func accuracy(atBudget budget: Double) -> Double? {
        PiecewiseLinearCurve(xs: costs, ys: accuracies).stepValue(atMost: budget)
    }

    /// The least cost of a point whose accuracy reaches `target` (e.g. the final exit's accuracy); nil when
    /// no point reaches it.
    public func costToMatch(accuracy target: Double) -> Double? {
        PiecewiseLinearCurve(xs: costs, ys: accuracies).firstPoint(reaching: target, .atLeast)?.x
    }
}
