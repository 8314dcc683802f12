/// The four counts of a binary decision against binary labels, and the rates read from them.
///
/// Positive = `true` (a harmful prompt, a correct exit, ...). A rate whose denominator is zero is NaN
/// (TPR on a set without positives, precision with no positive predictions): undefined, not 0. F1 is the
/// exception, by the usual convention: 2·TP / (2·TP + FP + FN), and 0 when TP = 0.
public struct BinaryCounts: Sendable, Equatable {
    public var truePositives = 0, falsePositives = 0, trueNegatives = 0, falseNegatives = 0

    public init(truePositives: Int = 0, falsePositives: Int = 0, trueNegatives: Int = 0, falseNegatives: Int = 0) {
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.trueNegatives = trueNegatives
        self.falseNegatives = falseNegatives
    }

    /// Counts of `predictions` against `labels` (equal lengths).
    public init(predictions: [Bool], labels: [Bool]) {
        precondition(predictions.count == labels.count, "BinaryCounts: \(predictions.count) predictions for \(labels.count) labels")
        for (predicted, actual) in zip(predictions, labels) {
            switch (predicted, actual) {
            case (true, true): truePositives += 1
            case (true, false): falsePositives += 1
            case (false, false): trueNegatives += 1
            case (false, true): falseNegatives += 1
            }
        }
    }

    /// Counts of the decision "positive iff score ≥ threshold".
    public init(scores: [Double], labels: [Bool], threshold: Double) {
        self.init(predictions: scores.map { $0 >= threshold }, labels: labels)
    }

    public var positives: Int { truePositives + falseNegatives }
    public var negatives: Int { falsePositives + trueNegatives }

    /// TPR = recall = TP / (TP + FN).
    public var truePositiveRate: Double { ratio(truePositives, positives) }
    /// FPR = FP / (FP + TN).
    public var falsePositiveRate: Double { ratio(falsePositives, negatives) }
    /// TNR = specificity = TN / (FP + TN) = 1 − FPR.
    public var trueNegativeRate: Double { ratio(trueNegatives, negatives) }
    /// Precision = TP / (TP + FP).
    public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
    /// F1 = 2·P·R / (P + R) = 2·TP / (2·TP + FP + FN); 0 when TP = 0.
    public var f1: Double {
        truePositives == 0 ? 0 : 2 * Double(truePositives) / Double(2 * truePositives + falsePositives + falseNegatives)
    }
    /// (TP + TN) / N.
    public var accuracy: Double { ratio(truePositives + trueNegatives, positives + negatives) }

    private func ratio(_ numerator: Int, _ denominator: Int) -> Double {
        denominator == 0 ? .nan : Double(numerator) / Double(denominator)
    }
}

/// The ROC curve of a score against binary labels: one point per distinct score, taken as the threshold
/// of "positive iff score ≥ threshold", from the highest score down, after the starting point (0, 0) at
/// threshold +∞. Tied scores enter together, so the trapezoid area equals the mid-rank AUROC.
public struct ROCCurve: Sendable, Equatable {
    /// +∞, then the distinct scores in descending order.
    public let thresholds: [Double]
    public let falsePositiveRates: [Double]
    public let truePositiveRates: [Double]

    /// Needs at least one positive and one negative label; NaN scores are refused.
    public init(scores: [Double], labels: [Bool]) {
        precondition(scores.count == labels.count, "ROCCurve: \(scores.count) scores for \(labels.count) labels")
        if let bad = scores.firstIndex(where: \.isNaN) { preconditionFailure("ROCCurve: score \(bad) is NaN") }
        let positives = labels.filter { $0 }.count, negatives = labels.count - positives
        precondition(positives > 0 && negatives > 0, "ROCCurve: needs both classes, got \(positives) positives and \(negatives) negatives")
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var thresholds = [Double.infinity], fpr = [0.0], tpr = [0.0]
        var truePositives = 0, falsePositives = 0, i = 0
        while i < order.count {
            let threshold = scores[order[i]]
            while i < order.count && scores[order[i]] == threshold {
                if labels[order[i]] { truePositives += 1 } else { falsePositives += 1 }
                i += 1
            }
            thresholds.append(threshold)
            fpr.append(Double(falsePositives) / Double(negatives))
            tpr.append(Double(truePositives) / Double(positives))
        }
        self.thresholds = thresholds
        falsePositiveRates = fpr
        truePositiveRates = tpr
    }

    /// Trapezoid area under (FPR, TPR).
    public var area: Double {
        var total = 0.0
        for k in 1..<thresholds.count {
            total += (falsePositiveRates[k] - falsePositiveRates[k - 1]) * (truePositiveRates[k] + truePositiveRates[k - 1]) / 2
        }
        return total
    }
}
