/// The dense evaluation schedule: when, inside a task, the heads are scored.
public enum EvaluationSchedule {
    /// Steps after which task t ≥ 1 is evaluated early on: the drop comes in the first few updates.
    public static let denseSteps = [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96]
    /// Beyond the dense steps (and in task 0), every this many steps.
    public static let interval = 32

    /// The update steps (1-based, ascending) after which task `task` with `totalSteps` updates is evaluated:
    /// task 0 every 32 steps, later tasks the dense steps and then every 32; always the task's last step.
    /// Step 0 (the head just added, no update yet) is never an evaluation point.
    public static func steps(task: Int, totalSteps: Int) -> [Int] {
        precondition(totalSteps >= 1, "EvaluationSchedule: a task needs at least one step, got \(totalSteps)")
        var steps = Set(stride(from: interval, through: totalSteps, by: interval))
        if task > 0 { steps.formUnion(denseSteps.filter { $0 <= totalSteps }) }
        steps.insert(totalSteps)
        return steps.sorted()
    }
}

/// The three ways of reading the same backbone at an evaluation point.
public enum EvaluationHead: String, CaseIterable, Sendable, Codable {
    /// argmax over the concatenated logits of heads 0..t.
    case linear = "Linear"
    /// nearest prototype; old-class prototypes from the replay buffer.
    case nmc = "NMC"
    /// nearest prototype; old-class prototypes from a fixed set of training images.
    case oracle = "NMC-oracle"
}

/// One evaluation of one head: after update `step` of task `task`, on the test set of every seen task.
public struct EvaluationPoint: Sendable, Equatable {
    public var task: Int
    public var step: Int
    /// accuracy[u] for u = 0...task, in percent (task-agnostic: over all seen classes).
    public var accuracy: [Double]
    /// intoCurrentTask[u] for u = 0...task: share (0-1) of task u's test images predicted into a class of
    /// the current task (one column of the task confusion matrix).
    public var intoCurrentTask: [Double]

    public init(task: Int, step: Int, accuracy: [Double], intoCurrentTask: [Double]) {
        precondition(accuracy.count == task + 1 && intoCurrentTask.count == task + 1,
                     "EvaluationPoint: task \(task) needs \(task + 1) accuracies and shares")
        self.task = task
        self.step = step
        self.accuracy = accuracy
        self.intoCurrentTask = intoCurrentTask
    }

    /// Task-recency bias R(t, i) = mean_{u<t} C[u, t]; NaN in task 0 (no old task).
    public var recency: Double {
        task == 0 ? .nan : intoCurrentTask[0..<task].reduce(0, +) / Double(task)
    }
}

/// Every evaluation of one head during one run, in time order, and the number of steps of each task.
public struct HeadTrace: Sendable, Equatable {
    public var points: [EvaluationPoint]
    /// N_t, the update steps of task t.
    public var taskSteps: [Int]

    public init(points: [EvaluationPoint] = [], taskSteps: [Int]) {
        self.points = points
        self.taskSteps = taskSteps
    }

    public var taskCount: Int { taskSteps.count }

    /// The evaluations of task t, in order.
    public func points(task t: Int) -> [EvaluationPoint] { points.filter { $0.task == t } }

    /// end(t): the last evaluation of task t.
    public func end(task t: Int) -> EvaluationPoint {
        guard let last = points.last(where: { $0.task == t }) else {
            preconditionFailure("HeadTrace: task \(t) has no evaluation point")
        }
        return last
    }

    /// Global training step of update `step` of task t: Σ_{s<t} N_s + step.
    public func globalStep(task t: Int, step: Int) -> Int { taskSteps[0..<t].reduce(0, +) + step }
}
