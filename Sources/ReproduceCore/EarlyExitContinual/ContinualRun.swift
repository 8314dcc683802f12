import Foundation
import Lab
import LabContinual
import LabData

/// Training settings of docs/papers/early-exit-continual.md §3 (our choices where the paper's do not fit):
/// Adam (lr 1e-3), state reset per task, batch 64; LwF λ = 1, T = 2; ER 20 exemplars per class; the IC weight
/// ramp targets w̄ = [0.3, 0.6, 0.9].
public struct ContinualSetup: Sendable {
    public var epochsPerTask: Int
    public var batchSize = 64
    public var learningRate: Float = 1e-3
    public var lwfLambda: Float = 1
    public var distillationTemperature: Float = 2
    public var exemplarsPerClass = 20
    public var icWeightTargets = [0.3, 0.6, 0.9]
    /// Images per evaluation forward.
    public var evaluationChunk = 500

    public init(epochsPerTask: Int) { self.epochsPerTask = epochsPerTask }
}

/// Every exit's task-agnostic logits on a set of images, in Float32 rows: exits[k][i·classCount + j], with
/// each image's output index (the position of its class in the concatenated logits).
public struct ExitLogitTable: Sendable, Equatable {
    public let exits: [[Float]]
    public let classCount: Int
    public let targets: [Int]

    public init(exits: [[Float]], classCount: Int, targets: [Int]) {
        precondition(exits.allSatisfy { $0.count == targets.count * classCount },
                     "ExitLogitTable: every exit needs \(targets.count) × \(classCount) logits")
        self.exits = exits
        self.classCount = classCount
        self.targets = targets
    }

    public init(tensors: [Tensor], targets: [Int]) {
        self.init(exits: tensors.map(\.data), classCount: tensors[0].shape[1], targets: targets)
    }

    public var exitCount: Int { exits.count }
    public var sampleCount: Int { targets.count }

    /// Row i of exit k.
    public func row(exit k: Int, sample i: Int) -> ArraySlice<Float> { exits[k][(i * classCount)..<((i + 1) * classCount)] }
}

/// What one training run (method, network variant, seed) produced.
public struct ContinualRunResult: Sendable {
    public let method: ContinualMethodKind
    public let variant: NetworkVariant
    public let seed: Int
    /// Per exit, TAg and TAw accuracy (fractions) on each seen task's test set after every task; empty for
    /// Joint (one training, evaluated once).
    public let taskAgnostic: [AccuracyMatrix]
    public let taskAware: [AccuracyMatrix]
    /// Per exit and task u, TAg and TAw accuracy of the final model on task u's test set.
    public let finalTaskAgnostic: [[Double]]
    public let finalTaskAware: [[Double]]
    /// The final model's logits on every test image (tasks in order).
    public let test: ExitLogitTable
    /// The final model's logits on the last task's training images (TLC is fitted there).
    public let lastTaskTraining: ExitLogitTable
    /// outputTask[j]: the task whose head holds output j.
    public let outputTask: [Int]
    /// Exemplar-buffer quota violations over every task end (ER; 0 otherwise).
    public let bufferViolations: Int
    /// Images through a training step, summed over steps.
    public let trainingSampleSteps: Int
    public let seconds: Double

    /// TAw forgetting of exit k: mean over u < T − 1 of max_{t < T−1} acc[t][u] − acc[T−1][u]; NaN for Joint.
    public func taskAwareForgetting(exit k: Int) -> Double {
        guard !taskAware.isEmpty else { return .nan }
        return taskAware[k].averageForgetting(afterTask: taskAware[k].taskCount - 1)
    }
}

/// One training run of a method on a network variant over the class pairs of `tasks`.
public struct ContinualExitRun {
    public let method: ContinualMethodKind
    public let variant: NetworkVariant
    public let tasks: ClassIncrementalTasks
    public let data: ContinualData
    public let setup: ContinualSetup
    public let seed: Int

    public init(method: ContinualMethodKind, variant: NetworkVariant, tasks: ClassIncrementalTasks, data: ContinualData,
                setup: ContinualSetup, seed: Int) {
        self.method = method
        self.variant = variant
        self.tasks = tasks
        self.data = data
        self.setup = setup
        self.seed = seed
    }

    /// Streams rooted at (seed, method): base and EE runs of one method see the same batches; "init" draws the
    /// backbone, "head/t" task t's heads, "order/t" its batches, "buffer" the exemplars.
    var streams: ContinualStreams { ContinualStreams(root: RNG(seed: UInt64(seed)).derived(method.rawValue)) }

    public func run(progress: ((_ task: Int, _ step: Int) -> Void)? = nil) throws -> ContinualRunResult {
        let started = Date()
        // Joint trains once on every class; its heads still follow the task pairs.
        let loopTasks = method == .joint ? try ClassIncrementalTasks(groups: [tasks.classOrder]) : tasks
        let loop = TaskLoop(name: "\(method.rawValue)-\(variant.rawValue) seed \(seed)", tasks: loopTasks, streams: streams,
                            epochsPerTask: setup.epochsPerTask, batchSize: setup.batchSize)
        var learner = ExitLearner(run: self, streams: streams, progress: progress)
        try loop.run(&learner)
        let model = learner.model
        let lastClasses = tasks.groups[tasks.taskCount - 1]
        let lastIndices = lastClasses.flatMap { data.trainIndicesByClass[$0] }
        let lastTaskTraining = ExitLogitTable(
            tensors: learner.logits(of: data.train, indices: lastIndices),
            targets: lastIndices.map { learner.outputIndex[data.train.labels[$0]]! })
        return ContinualRunResult(
            method: method, variant: variant, seed: seed, taskAgnostic: learner.taskAgnostic, taskAware: learner.taskAware,
            finalTaskAgnostic: learner.lastEvaluation!.taskAgnostic, finalTaskAware: learner.lastEvaluation!.taskAware,
            test: learner.lastEvaluation!.logits, lastTaskTraining: lastTaskTraining,
            outputTask: model.outputRanges.enumerated().flatMap { t, range in Array(repeating: t, count: range.count) },
            bufferViolations: learner.violations, trainingSampleSteps: learner.sampleSteps,
            seconds: Date().timeIntervalSince(started))
    }
}

/// The method of the task loop: heads, teacher and training set per task, the weighted multi-exit loss, the
/// buffer and the evaluation after every task.
struct ExitLearner: ContinualMethod {
    let run: ContinualExitRun
    let model: ContinualExitNetwork
    let ramp: ExitWeightRamp
    let progress: ((_ task: Int, _ step: Int) -> Void)?
    /// outputIndex[c]: the output of global class c in the concatenated logits.
    let outputIndex: [Int: Int]
    var teacher: ContinualExitNetwork?
    var buffer: ReplayBuffer
    var bufferRNG: RNG

    struct Evaluation {
        var taskAgnostic: [[Double]]
        var taskAware: [[Double]]
        var logits: ExitLogitTable
    }
    var taskAgnostic: [AccuracyMatrix] = [], taskAware: [AccuracyMatrix] = []
    var lastEvaluation: Evaluation?
    var violations = 0, sampleSteps = 0

    init(run: ContinualExitRun, streams: ContinualStreams, progress: ((_ task: Int, _ step: Int) -> Void)?) {
        self.run = run
        self.progress = progress
        var initRNG = streams.stream("init")
        model = ContinualExitNetwork(variant: run.variant, rng: &initRNG)
        ramp = ExitWeightRamp(icTargets: run.setup.icWeightTargets, epochs: run.setup.epochsPerTask)
        var outputIndex = [Int: Int]()
        for (j, c) in run.tasks.classOrder.enumerated() { outputIndex[c] = j }
        self.outputIndex = outputIndex
        buffer = ReplayBuffer(capacity: .perClass(run.setup.exemplarsPerClass))
        bufferRNG = streams.stream("buffer")
        if run.method != .joint {
            taskAgnostic = Array(repeating: AccuracyMatrix(), count: model.exitCount)
            taskAware = taskAgnostic
        }
    }

    mutating func beginTask(_ task: ContinualTask) throws -> TaskTrainingSet {
        if run.method == .lwf && task.index > 0 {
            // The frozen model after task t − 1 (its heads 0..<t), taken before the new head is added.
            var scratch = RNG(seed: 0)
            let variant = run.variant
            let copy = try model.clone { ContinualExitNetwork(variant: variant, rng: &scratch) }
            copy.freeze()
            copy.eval()
            teacher = copy
        }
        var headRNG = task.stream("head")
        let newGroups = run.method == .joint ? run.tasks.groups : [task.classes]
        for group in newGroups { model.addTask(outputs: group.count, rng: &headRNG) }
        let replayed = run.method == .replay ? buffer.allIndices : []
        return TaskTrainingSet(dataset: run.data.train,
                               indices: task.classes.flatMap { run.data.trainIndicesByClass[$0] } + replayed)
    }

    mutating func makeOptimizer(for task: ContinualTask, stepsInTask: Int) -> Adam {
        Adam(parameters: model.parameters, learningRate: run.setup.learningRate)
    }

    /// Σ_k w_k(e)·L_k (docs/papers/early-exit-continual.md §3).
    mutating func loss(for batch: TaskBatch) throws -> Tensor {
        model.train()
        let t = batch.task.index
        let features = model.exitFeatures(batch.x)
        let weights = ramp.weights(epoch: batch.epoch, exitCount: model.exitCount)
        let teacherFeatures = teacher.map { teacher in noGrad { teacher.exitFeatures(batch.x) } }
        var total: Tensor?
        for (k, f) in features.enumerated() {
            let heads = model.exitHeads[k]
            var exitLoss: Tensor
            switch run.method {
            case .finetuning, .lwf:
                exitLoss = crossEntropy(heads.logits(f, tasks: t..<(t + 1)),
                                        targets: batch.labels.map { batch.task.classes.firstIndex(of: $0)! })
                if run.method == .lwf, let teacher, let teacherFeatures {
                    let old = 0..<t
                    let kd = taskwiseDistillation(
                        student: old.map { heads.logits(f, tasks: $0..<($0 + 1)) },
                        teacher: noGrad { old.map { teacher.exitHeads[k].logits(teacherFeatures[k], tasks: $0..<($0 + 1)) } },
                        temperature: run.setup.distillationTemperature)
                    exitLoss = exitLoss + kd * run.setup.lwfLambda
                }
            case .replay, .joint:
                exitLoss = crossEntropy(heads(f), targets: batch.labels.map { outputIndex[$0]! })
            }
            let weighted = exitLoss * Float(weights[k])
            total = total.map { $0 + weighted } ?? weighted
        }
        return total!
    }

    mutating func afterUpdate(_ batch: TaskBatch) throws {
        sampleSteps += batch.labels.count
        progress?(batch.task.index, batch.step)
    }

    mutating func endTask(_ task: ContinualTask) throws {
        if run.method == .replay {
            buffer.update(currentClasses: task.classes, trainIndicesByClass: run.data.trainIndicesByClass, rng: &bufferRNG)
            violations += buffer.quotaViolations(seenClasses: task.seenClasses, labels: run.data.train.labels)
        }
        teacher = nil
        let seenTasks = run.method == .joint ? run.tasks.taskCount : task.index + 1
        let evaluation = evaluate(tasks: 0..<seenTasks)
        if run.method != .joint {
            for k in 0..<model.exitCount {
                taskAgnostic[k].append(evaluation.taskAgnostic[k])
                taskAware[k].append(evaluation.taskAware[k])
            }
        }
        lastEvaluation = evaluation
    }

    /// Every exit's logits on rows `indices` of `dataset`, in chunks.
    func logits(of dataset: ImageDataset, indices: [Int]) -> [Tensor] {
        let chunk = run.setup.evaluationChunk
        let batches = stride(from: 0, to: indices.count, by: chunk).lazy.map {
            dataset.batch(Array(indices[$0..<min($0 + chunk, indices.count)]))
        }
        return model.exitLogits(over: batches)
    }

    /// TAg and TAw accuracy of every exit on the test sets of `tasks`, and the logits.
    func evaluate(tasks: Range<Int>) -> Evaluation {
        let testIndices = tasks.map { u in run.tasks.groups[u].flatMap { run.data.testIndicesByClass[$0] } }
        let all = testIndices.flatMap { $0 }
        let targets = all.map { outputIndex[run.data.test.labels[$0]]! }
        let sampleTasks = testIndices.enumerated().flatMap { u, rows in Array(repeating: u, count: rows.count) }
        let tensors = logits(of: run.data.test, indices: all)
        let ranges = model.outputRanges
        var agnostic: [[Double]] = [], aware: [[Double]] = []
        for z in tensors {
            let tag = MultiHeadPrediction.taskAgnostic(z)
            let taw = MultiHeadPrediction.taskAware(z, tasks: sampleTasks, outputRanges: ranges)
            var tagRight = [Int](repeating: 0, count: tasks.count), tawRight = tagRight, counts = tagRight
            for i in 0..<all.count {
                let u = sampleTasks[i]
                counts[u] += 1
                if tag[i] == targets[i] { tagRight[u] += 1 }
                if taw[i] == targets[i] { tawRight[u] += 1 }
            }
            agnostic.append(zip(tagRight, counts).map { Double($0) / Double($1) })
            aware.append(zip(tawRight, counts).map { Double($0) / Double($1) })
        }
        return Evaluation(taskAgnostic: agnostic, taskAware: aware, logits: ExitLogitTable(tensors: tensors, targets: targets))
    }
}
