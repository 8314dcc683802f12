/// Task-wise Logits Correction (TLC) of docs/papers/early-exit-continual.md §3, as in the authors' v1 code:
/// two scalars (a, b) shared by every exit give task t of T the bias
/// bias_t = a·(T − 1 − t) + b for t < T − 1 and bias_{T−1} = 0, added to every task-agnostic logit of task t's
/// classes at every exit: z'_j = z_j + bias_{task(j)}.
public struct TaskLogitsCorrection: Sendable, Equatable {
    public let a: Double
    public let b: Double
    public let taskCount: Int

    public init(a: Double, b: Double, taskCount: Int) {
        precondition(taskCount >= 1, "TaskLogitsCorrection: taskCount must be at least 1, got \(taskCount)")
        self.a = a
        self.b = b
        self.taskCount = taskCount
    }

    /// No correction (a = b = 0).
    public static func identity(taskCount: Int) -> TaskLogitsCorrection { TaskLogitsCorrection(a: 0, b: 0, taskCount: taskCount) }

    /// bias_t.
    public func bias(task t: Int) -> Double {
        precondition((0..<taskCount).contains(t), "TaskLogitsCorrection: task \(t) outside 0..<\(taskCount)")
        return t == taskCount - 1 ? 0 : a * Double(taskCount - 1 - t) + b
    }

    /// z' of one logit row: row[j] + bias_{outputTask[j]}.
    public func corrected(_ row: ArraySlice<Float>, outputTask: [Int]) -> [Double] {
        precondition(row.count == outputTask.count, "TaskLogitsCorrection: \(row.count) logits, \(outputTask.count) output tasks")
        return zip(row, outputTask).map { Double($0) + bias(task: $1) }
    }
}

/// What TLC's loss reads of a logit table: per image i, exit k and task t the largest and second-largest raw
/// logit among task t's classes. Since the bias is constant within a task, the corrected task maximum is
/// top + bias_t, and after masking the overall argmax (in task t*) that task's maximum is second + bias_{t*}.
///
/// Loss (docs/papers/early-exit-continual.md §3), for each image i and exit k: ĉ = argmax z'_{i,k} (the lowest
/// index on ties), z'_{i,k,ĉ} = −∞, m_{i,k,t} = max of the remaining z' over task t's classes;
/// μ_i = mean_{k,t} m_{i,k,t}; L(a, b) = mean_{i,k,t} (m_{i,k,t} − μ_i)².
public struct TaskLogitSummary: Sendable {
    public let sampleCount: Int
    public let exitCount: Int
    public let taskCount: Int
    /// top[(i·K + k)·T + t], second[...] (second = −∞ for a task with one class).
    let top: [Double]
    let second: [Double]

    /// outputTask[j]: the task of output j; every task needs at least two outputs (else masking its argmax
    /// leaves −∞ and the loss is infinite).
    public init(_ table: ExitLogitTable, outputTask: [Int]) {
        precondition(outputTask.count == table.classCount, "TaskLogitSummary: \(outputTask.count) output tasks for \(table.classCount) logits")
        let taskCount = (outputTask.max() ?? -1) + 1
        for t in 0..<taskCount {
            precondition(outputTask.filter { $0 == t }.count >= 2, "TaskLogitSummary: task \(t) has fewer than two outputs")
        }
        let (n, exitCount) = (table.sampleCount, table.exitCount)
        var top = [Double](repeating: -.infinity, count: n * exitCount * taskCount), second = top
        for i in 0..<n {
            for k in 0..<exitCount {
                let row = table.row(exit: k, sample: i)
                let base = (i * exitCount + k) * taskCount
                for (j, value) in zip(outputTask.indices, row) {
                    let z = Double(value), slot = base + outputTask[j]
                    if z > top[slot] { second[slot] = top[slot]; top[slot] = z } else if z > second[slot] { second[slot] = z }
                }
            }
        }
        sampleCount = n
        self.exitCount = exitCount
        self.taskCount = taskCount
        self.top = top
        self.second = second
    }

    /// The masked task maxima m_{i,k,t} of the loss, averaged separately over the predicted task t* (whose maximum
    /// after masking is its runner-up) and over the other tasks. With two classes per task the predicted task keeps
    /// only its other class, so on the last task's own training images `predicted` sits far below `others`, and the
    /// loss is lowest when the other tasks' logits are pulled down to it.
    public func maskedMaxima(_ correction: TaskLogitsCorrection) -> (predicted: Double, others: Double) {
        let bias = (0..<taskCount).map(correction.bias(task:))
        var predicted = 0.0, others = 0.0
        for slot in stride(from: 0, to: top.count, by: taskCount) {
            var best = 0, bestValue = -Double.infinity
            for t in 0..<taskCount where top[slot + t] + bias[t] > bestValue { bestValue = top[slot + t] + bias[t]; best = t }
            predicted += second[slot + best] + bias[best]
            for t in 0..<taskCount where t != best { others += top[slot + t] + bias[t] }
        }
        let rows = Double(sampleCount * exitCount)
        return (predicted / rows, others / (rows * Double(taskCount - 1)))
    }

    /// L(a, b) of the correction.
    public func loss(_ correction: TaskLogitsCorrection) -> Double {
        precondition(correction.taskCount == taskCount, "TaskLogitSummary.loss: a correction for \(correction.taskCount) tasks, \(taskCount) here")
        let bias = (0..<taskCount).map(correction.bias(task:))
        let perImage = exitCount * taskCount
        var m = [Double](repeating: 0, count: perImage)
        var total = 0.0
        for i in 0..<sampleCount {
            var sum = 0.0
            for k in 0..<exitCount {
                let base = (i * exitCount + k) * taskCount
                var best = 0, bestValue = -Double.infinity
                for t in 0..<taskCount {
                    let v = top[base + t] + bias[t]
                    m[k * taskCount + t] = v
                    if v > bestValue { bestValue = v; best = t }
                }
                m[k * taskCount + best] = second[base + best] + bias[best]
                for t in 0..<taskCount { sum += m[k * taskCount + t] }
            }
            let mean = sum / Double(perImage)
            for value in m { total += (value - mean) * (value - mean) }
        }
        return total / Double(sampleCount * perImage)
    }
}

/// A deterministic grid fit of TLC's (a, b): every point of [−range, range]² with spacing `step` (it includes
/// (0, 0)), then a (2·refineHalfWidth + 1)² grid of spacing `refineStep` centred on the best point (the first
/// minimum in a-major order wins ties). docs/papers/early-exit-continual.md §3: range 4, step 0.05, refine step
/// 0.005, half-width 10 (the authors use hyperopt TPE with 2,000 evaluations).
public struct TaskLogitsCorrectionFit: Sendable {
    public let correction: TaskLogitsCorrection
    /// L(a*, b*) and L(0, 0).
    public let loss: Double
    public let uncorrectedLoss: Double
    public let evaluations: Int
    /// The half-width of the coarse grid; a fitted |a| or |b| above it lies in the refinement around an edge point.
    public let range: Double

    /// True when the fit sits on the edge of the coarse grid (|a| or |b| ≥ range): the minimum may lie outside it.
    public var atGridEdge: Bool { max(abs(correction.a), abs(correction.b)) >= range - 1e-12 }

    public init(_ summary: TaskLogitSummary, range: Double, step: Double, refineStep: Double, refineHalfWidth: Int) {
        precondition(range > 0 && step > 0 && refineStep > 0 && refineHalfWidth >= 0,
                     "TaskLogitsCorrectionFit: range \(range), step \(step), refine step \(refineStep), half-width \(refineHalfWidth)")
        let half = Int((range / step).rounded())
        let taskCount = summary.taskCount
        var best = (a: 0.0, b: 0.0, loss: Double.infinity), evaluations = 0
        func consider(_ a: Double, _ b: Double) {
            let value = summary.loss(TaskLogitsCorrection(a: a, b: b, taskCount: taskCount))
            evaluations += 1
            if value < best.loss { best = (a, b, value) }
        }
        for i in -half...half { for j in -half...half { consider(Double(i) * step, Double(j) * step) } }
        let centre = best
        for i in -refineHalfWidth...refineHalfWidth {
            for j in -refineHalfWidth...refineHalfWidth where i != 0 || j != 0 {
                consider(centre.a + Double(i) * refineStep, centre.b + Double(j) * refineStep)
            }
        }
        correction = TaskLogitsCorrection(a: best.a, b: best.b, taskCount: taskCount)
        loss = best.loss
        uncorrectedLoss = summary.loss(.identity(taskCount: taskCount))
        self.evaluations = evaluations
        self.range = range
    }
}
