import Foundation
import Lab

/// What the exit rule and the metrics see of one split: per exit k, a confidence s_k(x) and a prediction
/// ŷ_k(x) for every sample, and the labels. A variant (docs/papers/early-exit-calibration.md §3) maps the
/// baseline's scores to its own.
public struct ExitScores: Sendable, Equatable {
    /// K arrays of N confidences.
    public var confidences: [[Double]]
    /// K arrays of N predicted classes.
    public var predictions: [[Int]]
    public let labels: [Int]

    public init(confidences: [[Double]], predictions: [[Int]], labels: [Int]) {
        precondition(confidences.count == predictions.count && confidences.allSatisfy { $0.count == labels.count }
                     && predictions.allSatisfy { $0.count == labels.count },
                     "ExitScores: \(confidences.count) exits of confidences, \(predictions.count) of predictions, \(labels.count) labels")
        self.confidences = confidences
        self.predictions = predictions
        self.labels = labels
    }

    /// Max-softmax confidence and argmax prediction of every exit's logits.
    public init(logits: ExitLogits) {
        let rows = logits.exits.map { $0.map(SoftmaxSummary.init) }
        self.init(confidences: rows.map { $0.map(\.maxProbability) }, predictions: rows.map { $0.map(\.predicted) },
                  labels: logits.labels)
    }

    public var exitCount: Int { confidences.count }
    public var sampleCount: Int { labels.count }

    /// correct[k][x] = ŷ_k(x) == y(x).
    public var correct: [[Bool]] { predictions.map { zip($0, labels).map { $0 == $1 } } }

    /// safe_k(x) = 1[exit k correct OR no later exit correct]: leaving at k loses nothing (EEFP*).
    public var safe: [[Bool]] {
        let correct = self.correct
        var laterCorrect = [Bool](repeating: false, count: sampleCount)
        var safe = [[Bool]](repeating: [], count: exitCount)
        for k in stride(from: exitCount - 1, through: 0, by: -1) {
            safe[k] = (0..<sampleCount).map { correct[k][$0] || !laterCorrect[$0] }
            for x in 0..<sampleCount where correct[k][x] { laterCorrect[x] = true }
        }
        return safe
    }
}

/// Logits of every exit on one split, as Float64 rows (K exits × N samples × C classes), with the labels.
public struct ExitLogits: Sendable, Equatable {
    public var exits: [[[Double]]]
    public let labels: [Int]

    public init(exits: [[[Double]]], labels: [Int]) {
        precondition(exits.allSatisfy { $0.count == labels.count }, "ExitLogits: every exit needs \(labels.count) rows")
        self.exits = exits
        self.labels = labels
    }

    /// From K tensors [N, C] (`MultiExitModel.exitLogits`).
    public init(tensors: [Tensor], labels: [Int]) {
        self.init(exits: tensors.map { t in
            let classes = t.shape[1]
            return (0..<t.shape[0]).map { i in (0..<classes).map { Double(t.data[i * classes + $0]) } }
        }, labels: labels)
    }

    /// Every logit divided by the exit's temperature (one per exit).
    public func scaled(byTemperatures temperatures: [Double]) -> ExitLogits {
        precondition(temperatures.count == exits.count, "ExitLogits.scaled: \(temperatures.count) temperatures for \(exits.count) exits")
        return ExitLogits(exits: zip(exits, temperatures).map { rows, t in rows.map { $0.map { $0 / t } } }, labels: labels)
    }
}

/// The softmax of one logit row, summarised in Float64 (so confidences near 1 stay distinct): max
/// probability, argmax, the top-1 − top-2 probability and logit gaps, and the entropy H/ln C.
public struct SoftmaxSummary: Sendable, Equatable {
    public let maxProbability: Double
    public let predicted: Int
    public let probabilityMargin: Double
    public let logitMargin: Double
    public let normalizedEntropy: Double

    public init(_ logits: [Double]) {
        precondition(logits.count >= 2 && !logits.contains { $0.isNaN }, "SoftmaxSummary: needs at least 2 non-NaN logits, got \(logits)")
        var top = 0, second = -1
        for j in 1..<logits.count {
            if logits[j] > logits[top] { second = top; top = j } else if second < 0 || logits[j] > logits[second] { second = j }
        }
        let exponentials = logits.map { exp($0 - logits[top]) }
        let total = exponentials.reduce(0, +)
        let probabilities = exponentials.map { $0 / total }
        maxProbability = probabilities[top]
        predicted = top
        probabilityMargin = probabilities[top] - probabilities[second]
        logitMargin = logits[top] - logits[second]
        normalizedEntropy = -probabilities.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) } / log(Double(logits.count))
    }

    /// The negative log-likelihood of class y: logsumexp(z) − z_y.
    public static func negativeLogLikelihood(_ logits: [Double], label: Int) -> Double {
        let top = logits.max()!
        return top + log(logits.reduce(0) { $0 + exp($1 - top) }) - logits[label]
    }
}
