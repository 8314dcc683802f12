import Foundation
import Lab
import LabContinual
import LabData

/// The training recipe of every task (docs/papers/teacher-adaptation.md §3): SGD without momentum or weight
/// decay, a per-epoch MultiStep schedule, global gradient-norm clipping.
public struct TaskTrainingRecipe: Sendable {
    public var epochsPerTask: Int
    public var batchSize: Int
    /// A last batch with fewer images is dropped (600 images in batches of 32: 18 full batches and one of 24).
    public var minimumBatchSize: Int
    public var learningRate: Float
    /// Epochs (from 0) at which the learning rate is multiplied by 0.1.
    public var milestones: [Int]
    public var gradientClipNorm: Float

    public init(epochsPerTask: Int, batchSize: Int, minimumBatchSize: Int = 8, learningRate: Float = 0.1,
                milestones: [Int], gradientClipNorm: Float = 100) {
        self.epochsPerTask = epochsPerTask
        self.batchSize = batchSize
        self.minimumBatchSize = min(minimumBatchSize, batchSize)
        self.learningRate = learningRate
        self.milestones = milestones
        self.gradientClipNorm = gradientClipNorm
    }

    /// The learning rate of epoch e: lr · 0.1^(milestones ≤ e).
    public func learningRate(epoch: Int) -> Float {
        learningRate * MultiStepSchedule(milestones: milestones).factor(at: epoch)
    }
}

/// One training step of a task t ≥ 1, logged before its update: the losses and the KD error D on batch `step`.
public struct StepRecord: Sendable, Equatable {
    public var task: Int
    /// From 0 within the task.
    public var step: Int
    public var crossEntropy: Double
    /// The training form of L_KD (0 for finetuning).
    public var distillation: Double
    /// D (NaN for finetuning).
    public var kdError: Double

    public init(task: Int, step: Int, crossEntropy: Double, distillation: Double, kdError: Double) {
        self.task = task
        self.step = step
        self.crossEntropy = crossEntropy
        self.distillation = distillation
        self.kdError = kdError
    }
}

/// The model after the shared first task, as plain values (it crosses job boundaries): every parameter and
/// BatchNorm buffer, and its accuracy on task 0.
public struct FirstTaskModel: Sendable {
    public var state: [String: Tensor]
    public var batchNorm: Bool
    /// acc_tag[0, 0] and acc_taw[0, 0] (%).
    public var taskAgnosticAccuracy: Double
    public var taskAwareAccuracy: Double
}

/// What one (seed, sequence, method) run of tasks 1..<T produced.
public struct SequenceRunResult: Sendable {
    public var seed: Int
    public var sequence: String
    public var method: Method
    /// acc_tag and acc_taw after every task 0..<T (row 0 from the shared first-task model), in percent.
    public var taskAgnostic: AccuracyMatrix
    public var taskAware: AccuracyMatrix
    /// Every step of tasks ≥ 1, in order.
    public var steps: [StepRecord]
    /// The parameters the run started task 1 from, flattened in path order (the shared-first-task check).
    public var startParameters: [Float]
    /// Over every task: max |Δ| of the teacher's parameters (conv weights, γ, β, heads) from its copy at the
    /// task's start to the task's end, and max |Δ running mean| of its BatchNorm layers; −∞ without a teacher.
    public var maxTeacherParameterChange: Double
    public var maxTeacherRunningMeanChange: Double
    /// After each task t ≥ 1 (entry t − 1): the share (%) of the test images of tasks 1...t whose task-agnostic
    /// prediction is a class of task 0 (head 0): how much of the later tasks the first head takes.
    public var firstHeadShare: [Double]
    public var trainingSampleSteps: Int
    public var teacherForwards: Int
    public var evaluationForwards: Int
    public var seconds: Double
    public var cpuSeconds: Double

    /// The records of task t.
    public func steps(task t: Int) -> [StepRecord] { steps.filter { $0.task == t } }
}

/// A class-incremental experiment on one data draw: the sequence, the recipe, and whether the network has
/// BatchNorm. Every random stream derives from (seed, task) only (`ContinualStreams`), so all methods and both
/// sequences of a seed see the same first-task model, the same batches and the same head initialisations.
public struct DistillationExperiment: Sendable {
    public var data: ContinualData
    public var recipe: TaskTrainingRecipe
    public var batchNorm: Bool
    /// Images per evaluation forward chunk.
    public var evaluationChunk = 256

    public init(data: ContinualData, recipe: TaskTrainingRecipe, batchNorm: Bool = true) {
        self.data = data
        self.recipe = recipe
        self.batchNorm = batchNorm
    }

    /// The streams of one seed: independent of the sequence and the method.
    public static func streams(seed: Int) -> ContinualStreams {
        ContinualStreams(root: RNG(seed: UInt64(seed)).derived("teacher-adaptation"))
    }

    func loop(_ tasks: ClassIncrementalTasks, seed: Int) -> TaskLoop {
        TaskLoop(name: "seed \(seed)", tasks: tasks, streams: Self.streams(seed: seed),
                 epochsPerTask: recipe.epochsPerTask, batchSize: recipe.batchSize,
                 minimumBatchSize: recipe.minimumBatchSize, gradientClipNorm: recipe.gradientClipNorm)
    }

    /// Trains task 0 (CE on head 0) of `tasks` once; every method and sequence of the seed starts from it.
    public func trainFirstTask(tasks: ClassIncrementalTasks, seed: Int) throws -> FirstTaskModel {
        var initRNG = Self.streams(seed: seed).stream("init")
        var learner = DistillationLearner(method: .finetuning, experiment: self, tasks: tasks,
                                          model: IncrementalClassifier(batchNorm: batchNorm, rng: &initRNG),
                                          accuracies: (AccuracyMatrix(), AccuracyMatrix()))
        try loop(tasks, seed: seed).run(&learner, tasks: 0..<1)
        return FirstTaskModel(state: learner.model.stateDict(), batchNorm: batchNorm,
                              taskAgnosticAccuracy: learner.taskAgnostic[after: 0, on: 0],
                              taskAwareAccuracy: learner.taskAware[after: 0, on: 0])
    }

    /// Runs tasks 1..<T of `tasks` with `method` from the shared first-task model.
    public func run(_ method: Method, sequence: String, tasks: ClassIncrementalTasks, seed: Int,
                    from first: FirstTaskModel) throws -> SequenceRunResult {
        let started = Date(), startedCPU = CPUTime.threadSeconds()
        let model = try Self.model(from: first)
        let startParameters = model.parameters.flatMap(\.data)
        var learner = DistillationLearner(
            method: method, experiment: self, tasks: tasks, model: model,
            accuracies: (AccuracyMatrix(rows: [[first.taskAgnosticAccuracy]]), AccuracyMatrix(rows: [[first.taskAwareAccuracy]])))
        try loop(tasks, seed: seed).run(&learner, tasks: 1..<tasks.taskCount)
        return SequenceRunResult(
            seed: seed, sequence: sequence, method: method, taskAgnostic: learner.taskAgnostic,
            taskAware: learner.taskAware, steps: learner.records, startParameters: startParameters,
            maxTeacherParameterChange: learner.maxTeacherParameterChange,
            maxTeacherRunningMeanChange: learner.maxTeacherRunningMeanChange, firstHeadShare: learner.firstHeadShare,
            trainingSampleSteps: learner.sampleSteps, teacherForwards: learner.teacherForwards,
            evaluationForwards: learner.evaluationForwards, seconds: Date().timeIntervalSince(started),
            cpuSeconds: CPUTime.threadSeconds() - startedCPU)
    }

    /// A fresh network holding the first-task model's head 0, parameters and BatchNorm statistics.
    static func model(from first: FirstTaskModel) throws -> IncrementalClassifier {
        var unused = RNG(seed: 0)
        let model = IncrementalClassifier(batchNorm: first.batchNorm, rng: &unused)
        model.classifier.addHead(outputs: first.state["classifier.heads.0.bias"]?.count ?? 0, initialization: .zeros,
                                 rng: &unused)
        try model.load(stateDict: first.state)
        return model
    }
}

/// The method of the task loop (docs/papers/teacher-adaptation.md §3): CE on the current head plus λ·L_KD
/// against a frozen copy of the previous model, whose BatchNorm layers run in eval mode (running statistics)
/// or, with Teacher Adaptation, in train mode (batch statistics, running statistics updated, no gradient).
struct DistillationLearner: ContinualMethod {
    let method: Method
    let experiment: DistillationExperiment
    /// The whole sequence (the test classes of every task seen so far).
    let tasks: ClassIncrementalTasks
    let model: IncrementalClassifier
    var teacher: IncrementalClassifier?
    /// The teacher's parameters and BatchNorm running means at the start of the task.
    var teacherStart: (parameters: [[Float]], runningMeans: [[Float]]) = ([], [])

    var taskAgnostic: AccuracyMatrix
    var taskAware: AccuracyMatrix
    var records: [StepRecord] = []
    var maxTeacherParameterChange = -Double.infinity, maxTeacherRunningMeanChange = -Double.infinity
    var firstHeadShare: [Double] = []
    var sampleSteps = 0, teacherForwards = 0, evaluationForwards = 0

    init(method: Method, experiment: DistillationExperiment, tasks: ClassIncrementalTasks,
         model: IncrementalClassifier, accuracies: (AccuracyMatrix, AccuracyMatrix)) {
        self.method = method
        self.experiment = experiment
        self.tasks = tasks
        self.model = model
        (taskAgnostic, taskAware) = accuracies
    }

    mutating func beginTask(_ task: ContinualTask) throws -> TaskTrainingSet {
        if task.index > 0 && method.distillation != .none {
            var scratch = RNG(seed: 0)
            let batchNorm = experiment.batchNorm
            let copy = try model.clone { IncrementalClassifier(batchNorm: batchNorm, rng: &scratch) }
            copy.freeze()
            teacher = copy
            teacherStart = (copy.parameters.map(\.data), Self.runningMeans(copy))
        }
        var headRNG = task.stream("head")
        model.classifier.addHead(outputs: task.classes.count, initialization: .standard, rng: &headRNG)
        return TaskTrainingSet(dataset: experiment.data.train,
                               indices: task.classes.flatMap { experiment.data.trainIndicesByClass[$0] })
    }

    mutating func makeOptimizer(for task: ContinualTask, stepsInTask: Int) -> SGD {
        SGD(parameters: model.parameters, learningRate: experiment.recipe.learningRate)
    }

    mutating func beginEpoch(_ epoch: Int, of task: ContinualTask, optimizer: SGD) {
        optimizer.learningRate = experiment.recipe.learningRate(epoch: epoch)
    }

    /// L = CE(z_t, y − offset_t) + λ·L_KD(z_S,old, z_T,old).
    mutating func loss(for batch: TaskBatch) throws -> Tensor {
        let t = batch.task.index
        model.train()
        let features = model.backbone(batch.x)
        let crossEntropyLoss = crossEntropy(model.classifier.logits(features, tasks: t..<(t + 1)),
                                            targets: batch.labels.map { batch.task.classes.firstIndex(of: $0)! })
        sampleSteps += batch.labels.count
        guard t > 0 else { return crossEntropyLoss }
        guard let teacher else {
            records.append(StepRecord(task: t, step: batch.step - 1, crossEntropy: Double(crossEntropyLoss.item),
                                      distillation: 0, kdError: .nan))
            return crossEntropyLoss
        }
        let studentOld = model.classifier.logits(features, tasks: 0..<t)
        let teacherOld = noGrad {
            if method.teacherAdaptation { teacher.train() } else { teacher.eval() }
            return teacher.classifier.logits(teacher.backbone(batch.x), tasks: 0..<t)
        }
        teacherForwards += batch.labels.count
        let distillationLoss = method.distillation.loss(student: studentOld, teacher: teacherOld)
        records.append(StepRecord(
            task: t, step: batch.step - 1, crossEntropy: Double(crossEntropyLoss.item),
            distillation: Double(distillationLoss.item),
            kdError: method.distillation.error(student: studentOld.data, teacher: teacherOld.data,
                                               classes: studentOld.shape[1])))
        return crossEntropyLoss + distillationLoss * method.distillation.weight
    }

    /// Scores the task's model, checks what the teacher changed, and drops the teacher.
    mutating func endTask(_ task: ContinualTask) throws {
        let scores = evaluate(upTo: task.index)
        taskAgnostic.append(scores.taskAgnostic)
        taskAware.append(scores.taskAware)
        if task.index > 0 { firstHeadShare.append(scores.firstHeadShare) }
        if let teacher {
            for (before, after) in zip(teacherStart.parameters, teacher.parameters.map(\.data)) {
                maxTeacherParameterChange = max(maxTeacherParameterChange, Self.maxDifference(before, after))
            }
            for (before, after) in zip(teacherStart.runningMeans, Self.runningMeans(teacher)) {
                maxTeacherRunningMeanChange = max(maxTeacherRunningMeanChange, Self.maxDifference(before, after))
            }
        }
        teacher = nil
    }

    /// acc_tag[t, u] and acc_taw[t, u] (%) for u ≤ t from one eval-mode forward of each task's test images, and the
    /// share (%) of the test images of tasks 1...t predicted (task-agnostic) into head 0 (NaN for t = 0).
    mutating func evaluate(upTo t: Int) -> (taskAgnostic: [Double], taskAware: [Double], firstHeadShare: Double) {
        let data = experiment.data, classifier = model.classifier
        model.eval()
        defer { model.train() }
        return noGrad {
            var agnostic: [Double] = [], aware: [Double] = []
            var laterPredictions: [Int] = []
            for u in 0...t {
                let classes = tasks.groups[u]
                let indices = classes.flatMap { data.testIndicesByClass[$0] }
                let targets = indices.map { classifier.offsets[u] + classes.firstIndex(of: data.test.labels[$0])! }
                let logits = Tensor.concat(stride(from: 0, to: indices.count, by: experiment.evaluationChunk).map { lo in
                    let chunk = Array(indices[lo..<min(lo + experiment.evaluationChunk, indices.count)])
                    return classifier(model.backbone(data.test.batch(chunk)))
                }, axis: 0)
                evaluationForwards += indices.count
                let tag = MultiHeadPrediction.taskAgnostic(logits)
                let taw = MultiHeadPrediction.taskAware(logits, tasks: Array(repeating: u, count: indices.count),
                                                        outputRanges: classifier.outputRanges)
                agnostic.append(100 * Double(zip(tag, targets).filter { $0 == $1 }.count) / Double(indices.count))
                if u > 0 { laterPredictions += tag }
                aware.append(100 * Double(zip(taw, targets).filter { $0 == $1 }.count) / Double(indices.count))
            }
            return (agnostic, aware, Self.percent(of: laterPredictions, in: classifier.outputRanges[0]))
        }
    }

    /// The share (%) of `predictions` (output indices) that fall in `outputs`; NaN for no predictions.
    static func percent(of predictions: [Int], in outputs: Range<Int>) -> Double {
        predictions.isEmpty ? .nan : 100 * Double(predictions.filter(outputs.contains).count) / Double(predictions.count)
    }

    static func runningMeans(_ network: IncrementalClassifier) -> [[Float]] {
        network.namedBuffers().filter { $0.0.hasSuffix("runningMean") }.map(\.1.data)
    }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0) { max($0, Double(abs($1.0 - $1.1))) }
    }
}
