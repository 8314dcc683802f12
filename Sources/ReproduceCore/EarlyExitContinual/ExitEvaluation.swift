import Foundation
import Lab

/// Every exit's task-agnostic outcome on a set of images, after an optional TLC (docs/papers/early-exit-continual.md
/// §3): confidence s_k = max softmax of the (corrected) logits, prediction = their argmax (lowest index on ties).
public struct ExitOutcomes: Sendable {
    /// confidences[k][i], predictions[k][i].
    public let confidences: [[Double]]
    public let predictions: [[Int]]
    public let targets: [Int]
    /// outputTask[j]: the task of output j.
    public let outputTask: [Int]

    public init(confidences: [[Double]], predictions: [[Int]], targets: [Int], outputTask: [Int]) {
        precondition(confidences.count == predictions.count && confidences.allSatisfy { $0.count == targets.count }
                     && predictions.allSatisfy { $0.count == targets.count },
                     "ExitOutcomes: \(confidences.count) exits of confidences, \(predictions.count) of predictions, \(targets.count) targets")
        self.confidences = confidences
        self.predictions = predictions
        self.targets = targets
        self.outputTask = outputTask
    }

    /// From a logit table, corrected by `correction` (identity when nil). Softmax in Float64.
    public init(_ table: ExitLogitTable, outputTask: [Int], correction: TaskLogitsCorrection? = nil) {
        var confidences: [[Double]] = [], predictions: [[Int]] = []
        for k in 0..<table.exitCount {
            var s = [Double](), predicted = [Int]()
            s.reserveCapacity(table.sampleCount); predicted.reserveCapacity(table.sampleCount)
            for i in 0..<table.sampleCount {
                let row = table.row(exit: k, sample: i)
                let z = correction?.corrected(row, outputTask: outputTask) ?? row.map(Double.init)
                var top = 0
                for j in 1..<z.count where z[j] > z[top] { top = j }
                let total = z.reduce(0) { $0 + exp($1 - z[top]) }
                s.append(1 / total)
                predicted.append(top)
            }
            confidences.append(s); predictions.append(predicted)
        }
        self.init(confidences: confidences, predictions: predictions, targets: table.targets, outputTask: outputTask)
    }

    public var exitCount: Int { confidences.count }
    public var sampleCount: Int { targets.count }
    public var taskCount: Int { (outputTask.max() ?? -1) + 1 }

    /// correct[k][i].
    public var correct: [[Bool]] { predictions.map { zip($0, targets).map { $0 == $1 } } }

    /// TAg accuracy of every exit.
    public var accuracies: [Double] { correct.map { Double($0.filter { $0 }.count) / Double(sampleCount) } }

    /// Recency (i): mean s_k over the images of task u that exit k classifies correctly, and their count
    /// ([k][u]; the mean is NaN when the count is 0).
    public var correctConfidence: (mean: [[Double]], count: [[Int]]) {
        let correct = self.correct
        var means: [[Double]] = [], counts: [[Int]] = []
        for k in 0..<exitCount {
            var sum = [Double](repeating: 0, count: taskCount), count = [Int](repeating: 0, count: taskCount)
            for i in 0..<sampleCount where correct[k][i] {
                let u = outputTask[targets[i]]
                sum[u] += confidences[k][i]; count[u] += 1
            }
            means.append(zip(sum, count).map { $1 == 0 ? .nan : $0 / Double($1) })
            counts.append(count)
        }
        return (means, counts)
    }

    /// Mean s_k over every image of task u (correct or not); NaN when the set has no image of task u.
    public func meanConfidence(exit k: Int, task u: Int) -> Double {
        let images = (0..<sampleCount).filter { outputTask[targets[$0]] == u }
        return images.isEmpty ? .nan : images.reduce(0) { $0 + confidences[k][$1] } / Double(images.count)
    }

    /// Recency (ii): the share of all images that exit k assigns to task u's classes ([k][u]; rows sum to 1).
    public var predictionShare: [[Double]] {
        predictions.map { predicted in
            var count = [Double](repeating: 0, count: taskCount)
            for j in predicted { count[outputTask[j]] += 1 }
            return count.map { $0 / Double(sampleCount) }
        }
    }

    /// Overthinking (docs/papers/early-exit-continual.md §3): the fraction of images that at least one IC (exits
    /// 1...K−1) classifies correctly while the final exit is wrong, and that count as a fraction of the final
    /// exit's errors (NaN when it makes none).
    public var overthinking: (fraction: Double, ofFinalErrors: Double) {
        precondition(exitCount >= 2, "ExitOutcomes.overthinking needs internal classifiers")
        let correct = self.correct
        let finalWrong = (0..<sampleCount).filter { !correct[exitCount - 1][$0] }
        let rescued = finalWrong.filter { i in (0..<(exitCount - 1)).contains { correct[$0][i] } }.count
        return (Double(rescued) / Double(sampleCount), finalWrong.isEmpty ? .nan : Double(rescued) / Double(finalWrong.count))
    }

    /// The cost–accuracy curve under the authors' rule (`EarlyExitCurve.NoExitRule.mostConfident`) with the
    /// thresholds {0} ∪ uniform points ∪ quantiles of the pooled IC confidences ∪ {+∞}.
    public func curve(exitCosts: [Double], thresholds: (uniform: Int, quantiles: Int)) -> EarlyExitCurve {
        EarlyExitCurve(confidences: confidences, correct: correct, exitCosts: exitCosts,
                       thresholds: EarlyExitCurve.thresholds(pooling: Array(confidences.dropLast()), uniformCount: thresholds.uniform,
                                                             quantileCount: thresholds.quantiles),
                       noExit: .mostConfident)
    }
}

/// The summaries of one cost–accuracy curve (docs/papers/early-exit-continual.md §3): AUC, Acc@b for
/// b ∈ {25, 50, 75, 100 %} (the point with the largest cost ≤ b; NaN if none), and the least cost reaching a
/// target accuracy (nil if the curve never reaches it).
public struct CurveSummary: Sendable, Equatable {
    public static let budgets = [0.25, 0.5, 0.75, 1.0]
    public let area: Double
    public let budgetAccuracies: [Double]
    public let costToMatch: Double?
    /// The last exit's cost c_K (every sample through every exit): what "never reaches" is reported as.
    public let fullCost: Double

    public init(_ curve: EarlyExitCurve, target: Double) {
        area = curve.area
        budgetAccuracies = Self.budgets.map { curve.accuracy(atBudget: $0) ?? .nan }
        costToMatch = curve.costToMatch(accuracy: target)
        fullCost = curve.exitCosts.last!
    }
}

/// What decides which task the task-agnostic argmax picks (docs/papers/early-exit-continual.md §8): per exit k and
/// task t, the mean over images of head t's **level** (the mean of its logits) and of its **spread** (its largest
/// logit minus that mean), so that task t's largest logit is level + spread. With two classes per task, CE within
/// the head (FT, LwF) and task-wise distillation (LwF) give the head's two logits opposite gradients, so under SGD
/// or Adam without weight decay the sum of its two weight rows and of its two biases does not move from the
/// initialisation: training changes a head's spread, not its level (for FT up to rounding: its old heads get no
/// gradient and its current head opposite ones; LwF's near-zero distillation gradients let Adam turn rounding
/// into a small drift).
public struct HeadLogitProfile: Sendable, Equatable {
    /// level[k][t], spread[k][t].
    public let level: [[Double]]
    public let spread: [[Double]]

    public init(level: [[Double]], spread: [[Double]]) {
        self.level = level
        self.spread = spread
    }

    /// From a logit table; outputTask[j] is the task of output j.
    public init(_ table: ExitLogitTable, outputTask: [Int]) {
        precondition(outputTask.count == table.classCount, "HeadLogitProfile: \(outputTask.count) output tasks for \(table.classCount) logits")
        let taskCount = (outputTask.max() ?? -1) + 1
        let outputs = (0..<taskCount).map { t in outputTask.indices.filter { outputTask[$0] == t } }
        var level: [[Double]] = [], spread: [[Double]] = []
        for k in 0..<table.exitCount {
            var levelSum = [Double](repeating: 0, count: taskCount), spreadSum = levelSum
            for i in 0..<table.sampleCount {
                let row = table.row(exit: k, sample: i)
                for t in 0..<taskCount {
                    let z = outputs[t].map { Double(row[row.startIndex + $0]) }
                    let mean = z.reduce(0, +) / Double(z.count)
                    levelSum[t] += mean
                    spreadSum[t] += z.max()! - mean
                }
            }
            let n = Double(table.sampleCount)
            level.append(levelSum.map { $0 / n })
            spread.append(spreadSum.map { $0 / n })
        }
        self.init(level: level, spread: spread)
    }
}
