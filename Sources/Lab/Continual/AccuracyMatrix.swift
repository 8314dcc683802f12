import Lab

/// The accuracies of a class-incremental run: `self[after: i, on: j]` = accuracy on task j's test set after
/// training task i, for j ≤ i (a lower-triangular matrix; rows are appended task by task). Units are the
/// caller's (percent or fractions); every summary is in the same units.
///
///     var matrix = AccuracyMatrix()
///     matrix.append([90])          // after task 0
///     matrix.append([60, 80])      // after task 1
///     matrix.finalAccuracy         // 70 = mean(60, 80)
///     matrix.forgetting(task: 0, afterTask: 1)   // 30 = 90 − 60
public struct AccuracyMatrix: Sendable, Equatable {
    /// rows[i][j] for j = 0...i.
    public private(set) var rows: [[Double]] = []

    public init() {}

    /// A matrix from its rows; row i must hold i + 1 accuracies.
    public init(rows: [[Double]]) {
        for row in rows { append(row) }
    }

    /// Adds the accuracies on tasks 0...i after training task i = `taskCount`.
    public mutating func append(_ row: [Double]) {
        precondition(row.count == rows.count + 1,
                     "AccuracyMatrix: the row after task \(rows.count) needs \(rows.count + 1) accuracies, got \(row.count)")
        rows.append(row)
    }

    /// Tasks trained so far (rows).
    public var taskCount: Int { rows.count }

    /// Accuracy on task j after training task i (j ≤ i).
    public subscript(after i: Int, on j: Int) -> Double {
        precondition(i < rows.count && j <= i, "AccuracyMatrix: no entry after task \(i) on task \(j) (\(rows.count) rows)")
        return rows[i][j]
    }

    /// mean_{j≤i} acc[i][j]: the average accuracy on the tasks seen after task i.
    public func averageAccuracy(afterTask i: Int) -> Double { Metrics.mean(rows[i]) }

    /// The average accuracy after the last task, mean_j acc[T−1][j].
    public var finalAccuracy: Double { averageAccuracy(afterTask: taskCount - 1) }

    /// Average incremental accuracy: mean over i of `averageAccuracy(afterTask: i)`.
    public var averageIncrementalAccuracy: Double { Metrics.mean((0..<taskCount).map(averageAccuracy(afterTask:))) }

    /// Forgetting of task j by task i > j (FACIL, Chaudhry et al. 2018): max_{j≤i'<i} acc[i'][j] − acc[i][j],
    /// the drop from the best accuracy task j ever had before task i.
    public func forgetting(task j: Int, afterTask i: Int) -> Double {
        precondition(j < i && i < rows.count, "AccuracyMatrix: forgetting of task \(j) after task \(i) needs \(j) < \(i) < \(rows.count)")
        return (j..<i).map { rows[$0][j] }.max()! - rows[i][j]
    }

    /// Mean forgetting after task i over the earlier tasks j < i; NaN after task 0 (nothing to forget).
    public func averageForgetting(afterTask i: Int) -> Double {
        Metrics.mean((0..<i).map { forgetting(task: $0, afterTask: i) })
    }
}

/// Predictions of a multi-head classifier from its concatenated logits.
public enum MultiHeadPrediction {
    /// Task-agnostic (TAg): the argmax over every output (the lowest index wins ties). logits: [N, K] → [N].
    public static func taskAgnostic(_ logits: Tensor) -> [Int] { logits.argmax(axis: -1) }

    /// Task-aware (TAw): the argmax within the outputs of each sample's own task, as an index into the
    /// concatenated logits. logits: [N, K]; `tasks[n]` the task of sample n; `outputRanges[t]` task t's outputs.
    public static func taskAware(_ logits: Tensor, tasks: [Int], outputRanges: [Range<Int>]) -> [Int] {
        precondition(logits.rank == 2 && logits.shape[0] == tasks.count,
                     "taskAware: logits \(logits.shape) for \(tasks.count) samples")
        let k = logits.shape[1]
        return logits.data.withUnsafeBufferPointer { x in
            tasks.enumerated().map { n, t in
                let outputs = outputRanges[t]
                precondition(!outputs.isEmpty && outputs.upperBound <= k, "taskAware: task \(t)'s outputs \(outputs) outside \(k) logits")
                var best = outputs.lowerBound
                for j in outputs.dropFirst() where x[n * k + j] > x[n * k + best] { best = j }
                return best
            }
        }
    }
}
