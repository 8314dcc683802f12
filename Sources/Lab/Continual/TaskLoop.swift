import Lab
import LabData

/// The random streams of one continual-learning run, all derived from one root stream: one per purpose
/// (`stream("init")`) and one per (purpose, task) (`stream("order", task: t)`). A stream depends only on the
/// root's seed and its name, never on what was drawn before, so two methods run from the same root see the
/// same batches and the same head initialisations task by task (a paired comparison), and a run can start
/// at any task.
public struct ContinualStreams: Sendable {
    public let root: RNG

    public init(root: RNG) { self.root = root }
    /// Streams rooted at `RNG(seed:)`.
    public init(seed: Int) { self.init(root: RNG(seed: UInt64(seed))) }

    /// The stream of one purpose for the whole run.
    public func stream(_ purpose: String) -> RNG { root.derived(purpose) }
    /// The stream of one purpose in task t: `root.derived("<purpose>/<t>")`.
    public func stream(_ purpose: String, task t: Int) -> RNG { root.derived("\(purpose)/\(t)") }
}

/// One task of a class-incremental sequence, as `TaskLoop` hands it to a method.
public struct ContinualTask: Sendable {
    /// t, counted from 0.
    public let index: Int
    /// Global ids of the task's classes, in head order.
    public let classes: [Int]
    /// Every class of tasks 0...t.
    public let seenClasses: [Int]
    public let streams: ContinualStreams

    /// This task's stream for `purpose` (e.g. "head" for the new head's initialisation).
    public func stream(_ purpose: String) -> RNG { streams.stream(purpose, task: index) }
}

/// One training batch of a task.
public struct TaskBatch {
    public let task: ContinualTask
    /// Epoch within the task, from 0.
    public let epoch: Int
    /// This update's number within the task, from 1 (= updates done once it is applied).
    public let step: Int
    /// Updates of the whole task (epochs x batches per epoch).
    public let stepsInTask: Int
    /// x: [B, C, H, W] normalised images; labels: their global class ids.
    public let x: Tensor
    public let labels: [Int]
}

/// The images a task trains on: rows of one dataset (the task's classes, plus replayed exemplars).
public struct TaskTrainingSet: Sendable {
    public let dataset: ImageDataset
    public let indices: [Int]

    public init(dataset: ImageDataset, indices: [Int]) {
        self.dataset = dataset
        self.indices = indices
    }
}

/// What a continual-learning method supplies to `TaskLoop`; the loop does the rest (batches, the finite-loss
/// guard, zeroGrad / backward / clipping / step).
public protocol ContinualMethod {
    associatedtype TaskOptimizer: Optimizer
    /// Start of task t, before any update: grow the heads, take a teacher copy, assemble the task's training
    /// set (current classes and any replayed exemplars).
    mutating func beginTask(_ task: ContinualTask) throws -> TaskTrainingSet
    /// The optimiser of task t, made fresh for every task: its state (momentum, Adam moments) never carries
    /// over from the previous task, and it covers the heads added in `beginTask`. `stepsInTask` is for
    /// schedules and evaluation plans.
    mutating func makeOptimizer(for task: ContinualTask, stepsInTask: Int) -> TaskOptimizer
    /// Start of an epoch of task t (set the learning rate of a per-epoch schedule). Default: nothing.
    mutating func beginEpoch(_ epoch: Int, of task: ContinualTask, optimizer: TaskOptimizer)
    /// The loss of one batch (train-mode forward on the tape); the loop differentiates it and updates.
    mutating func loss(for batch: TaskBatch) throws -> Tensor
    /// After the update of `batch` (evaluation points, logging). Default: nothing.
    mutating func afterUpdate(_ batch: TaskBatch) throws
    /// End of task t, after its last update (fill the replay buffer, score the task). Default: nothing.
    mutating func endTask(_ task: ContinualTask) throws
}

extension ContinualMethod {
    public mutating func beginEpoch(_ epoch: Int, of task: ContinualTask, optimizer: TaskOptimizer) {}
    public mutating func afterUpdate(_ batch: TaskBatch) throws {}
    public mutating func endTask(_ task: ContinualTask) throws {}
}

/// The task loop of class-incremental training. For each task t: `beginTask`, a fresh optimiser
/// (`makeOptimizer`), then `epochsPerTask` epochs over the task's training set in batches of `batchSize`
/// (a last batch under `minimumBatchSize` images is dropped), shuffled by the task's own stream
/// `streams.stream("order", task: t)` (epoch e's order is the (e+1)-th permutation drawn from it); for each
/// batch: `loss`, a finite check, zeroGrad, backward, optional global-norm clipping, step, `afterUpdate`;
/// finally `endTask`.
///
///     let loop = TaskLoop(name: "fashion-5x2", tasks: tasks, streams: ContinualStreams(seed: 0),
///                         epochsPerTask: 6, batchSize: 32)
///     try loop.run(&method)
public struct TaskLoop: Sendable {
    /// Names the run in error messages.
    public var name: String
    public var tasks: ClassIncrementalTasks
    public var streams: ContinualStreams
    public var epochsPerTask: Int
    public var batchSize: Int
    public var minimumBatchSize: Int
    /// When set, gradients are clipped to this global L2 norm before each step.
    public var gradientClipNorm: Float?

    public init(name: String, tasks: ClassIncrementalTasks, streams: ContinualStreams, epochsPerTask: Int,
                batchSize: Int, minimumBatchSize: Int = 1, gradientClipNorm: Float? = nil) {
        precondition(epochsPerTask > 0 && batchSize > 0 && (1...batchSize).contains(minimumBatchSize),
                     "TaskLoop \(name): epochs \(epochsPerTask), batch \(batchSize), minimum batch \(minimumBatchSize)")
        self.name = name
        self.tasks = tasks
        self.streams = streams
        self.epochsPerTask = epochsPerTask
        self.batchSize = batchSize
        self.minimumBatchSize = minimumBatchSize
        self.gradientClipNorm = gradientClipNorm
    }

    /// Task t as handed to the method.
    public func task(_ t: Int) -> ContinualTask {
        ContinualTask(index: t, classes: tasks.groups[t], seenClasses: tasks.groups[0...t].flatMap { $0 },
                      streams: streams)
    }

    /// Runs tasks `range` (all by default; a later start continues from a model trained on the earlier tasks).
    public func run<Method: ContinualMethod>(_ method: inout Method, tasks range: Range<Int>? = nil) throws {
        for t in range ?? 0..<tasks.taskCount {
            let task = task(t)
            let trainingSet = try method.beginTask(task)
            var loader = DataLoader(trainingSet.dataset, indices: trainingSet.indices, batchSize: batchSize,
                                    minimumBatchSize: minimumBatchSize, rng: task.stream("order"))
            guard loader.batchCount > 0 else {
                throw LabError.invalidArgument("""
                    \(name): task \(t) has \(trainingSet.indices.count) training images, too few for one batch of \
                    \(minimumBatchSize)
                    """)
            }
            let stepsInTask = loader.batchCount * epochsPerTask
            let optimizer = method.makeOptimizer(for: task, stepsInTask: stepsInTask)
            var step = 0
            for epoch in 0..<epochsPerTask {
                method.beginEpoch(epoch, of: task, optimizer: optimizer)
                for (x, labels) in loader.nextEpoch() {
                    step += 1
                    let batch = TaskBatch(task: task, epoch: epoch, step: step, stepsInTask: stepsInTask, x: x,
                                          labels: labels)
                    let loss = try method.loss(for: batch)
                    guard loss.item.isFinite else {
                        throw LabError.nonFinite(what: "\(name) task \(t) loss (= \(loss.item))", step: step - 1)
                    }
                    optimizer.zeroGrad()
                    loss.backward()
                    if let maxNorm = gradientClipNorm { _ = clipGradientNorm(optimizer.parameters, maxNorm: maxNorm) }
                    optimizer.step()
                    try method.afterUpdate(batch)
                }
            }
            try method.endTask(task)
        }
    }
}
