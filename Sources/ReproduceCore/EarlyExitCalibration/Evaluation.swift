import Lab

/// Everything docs/papers/early-exit-calibration.md §3 measures of one variant on one split: per exit the
/// accuracy, ECE (15 bins), failure-prediction AUROC (s_k vs correct), EEFP* (s_k vs safe_k) and Kendall τ_b
/// against the baseline's confidences; and the early-exit curve with its AUC and Acc@b.
public struct ExitEvaluation: Sendable {
    public let accuracy: [Double]
    public let ece: [Double]
    public let auroc: [Double]
    public let eefp: [Double]
    /// τ_b(s_k, baseline s_k); 1 for the baseline itself.
    public let kendall: [Double]
    public let curve: EarlyExitCurve
    /// Budgets b of Acc@b: 25, 50 and 75 % of the full pass.
    public static let budgets = [0.25, 0.5, 0.75]

    /// thresholds: uniform and quantile counts of `EarlyExitCurve.thresholds` (the smoke scale uses fewer).
    public init(_ scores: ExitScores, baseline: ExitScores, exitCosts: [Double], thresholds: (uniform: Int, quantiles: Int)) {
        let correct = scores.correct, safe = scores.safe
        let exits = 0..<scores.exitCount
        accuracy = exits.map { k in Double(correct[k].filter { $0 }.count) / Double(scores.sampleCount) }
        ece = exits.map { Metrics.expectedCalibrationError(confidences: scores.confidences[$0], correct: correct[$0], bins: 15) }
        auroc = exits.map { Metrics.auroc(scores: scores.confidences[$0], labels: correct[$0]) }
        eefp = exits.map { Metrics.auroc(scores: scores.confidences[$0], labels: safe[$0]) }
        kendall = exits.map { scores.confidences[$0] == baseline.confidences[$0] ? 1 : Metrics.kendallTau(scores.confidences[$0], baseline.confidences[$0]) }
        let nonFinal = Array(scores.confidences.dropLast())
        curve = EarlyExitCurve(confidences: scores.confidences, correct: correct, exitCosts: exitCosts,
                               thresholds: EarlyExitCurve.thresholds(pooling: nonFinal, uniformCount: thresholds.uniform,
                                                                     quantileCount: thresholds.quantiles))
    }

    /// Mean over the non-final exits k = 1...K−1 (the final exit's confidence never decides an exit).
    public static func nonFinalMean(_ values: [Double]) -> Double { Metrics.mean(Array(values.dropLast())) }

    public var meanECE: Double { Self.nonFinalMean(ece) }
    public var allExitMeanECE: Double { Metrics.mean(ece) }
    public var meanAUROC: Double { Self.nonFinalMean(auroc) }
    public var meanEEFP: Double { Self.nonFinalMean(eefp) }
    public var meanKendall: Double { Self.nonFinalMean(kendall) }
    public var auc: Double { curve.area }
    /// Acc@b for each of `budgets` (NaN when the cheapest point costs more than b).
    public var budgetAccuracies: [Double] { Self.budgets.map { curve.accuracy(atBudget: $0) ?? .nan } }
}
