import Foundation
import Lab
import LabContinual
import LabData

/// What one training run (setting, seed, M) produced: the three heads' traces on the same backbone, and the
/// checks and costs of the run.
public struct ContinualRunResult: Sendable {
    public var setting: String
    public var seed: Int
    public var memory: Int
    public var traces: [EvaluationHead: HeadTrace]
    /// Buffer quota violations summed over every task end (see `ReplayBuffer.quotaViolations`).
    public var bufferQuotaViolations: Int
    /// max |‖μ̂_c‖ − 1| over every prototype of both NMC heads at every evaluation.
    public var maxPrototypeNormError: Double
    /// Images passed through a training step (forward + backward), summed over steps.
    public var trainingSampleSteps: Int
    /// Images passed through an evaluation forward.
    public var evaluationForwards: Int
    public var seconds: Double
    /// CPU time of the run's thread (the run is single-threaded): its cost on an idle core.
    public var cpuSeconds: Double

    public func trace(_ head: EvaluationHead) -> HeadTrace { traces[head]! }
}

/// Finetuning with replay on one setting, scored densely by the linear head, NMC and NMC-oracle on the same
/// backbone at the same evaluation points (one forward per image gives f and every logit).
public struct ContinualLearner {
    public let setting: ContinualSetting
    public let data: ContinualData
    public let seed: Int
    /// Images per evaluation forward chunk (bounds the im2col buffers).
    public var evaluationChunk = 256

    public init(setting: ContinualSetting, data: ContinualData, seed: Int) {
        self.setting = setting
        self.data = data
        self.seed = seed
    }

    /// The run's random streams derive from (setting, seed, M) only, so results do not depend on scheduling:
    /// "init" (the backbone), "buffer" (exemplar draws), and per task t "order/t" (its batches).
    var streams: ContinualStreams {
        ContinualStreams(root: RNG(seed: UInt64(seed)).derived("\(setting.name)/M\(setting.memory)"))
    }

    public func run(progress: ((_ task: Int, _ step: Int) -> Void)? = nil) throws -> ContinualRunResult {
        let started = Date(), startedCPU = threadCPUSeconds()
        let loop = TaskLoop(name: "\(setting.name) seed \(seed)", tasks: setting.tasks, streams: streams,
                            epochsPerTask: setting.epochsPerTask, batchSize: setting.batchSize,
                            minimumBatchSize: setting.minimumBatchSize)
        var method = try ReplayFinetuning(setting: setting, data: data, streams: streams,
                                          evaluationChunk: evaluationChunk, progress: progress)
        try loop.run(&method)
        return ContinualRunResult(setting: setting.name, seed: seed, memory: setting.memory, traces: method.traces,
                                  bufferQuotaViolations: method.violations, maxPrototypeNormError: method.normError,
                                  trainingSampleSteps: method.sampleSteps, evaluationForwards: method.forwards,
                                  seconds: Date().timeIntervalSince(started),
                                  cpuSeconds: threadCPUSeconds() - startedCPU)
    }
}

/// The method of the task loop: FACIL's finetuning with a fixed-total replay buffer, and the dense
/// evaluation of the three heads after the scheduled update steps.
struct ReplayFinetuning: ContinualMethod {
    let setting: ContinualSetting
    let data: ContinualData
    let evaluationChunk: Int
    let progress: ((_ task: Int, _ step: Int) -> Void)?
    let model: IncrementalClassifier
    var buffer: ReplayBuffer
    var bufferRNG: RNG
    /// outputIndex[c]: the output of global class c in the concatenated logits; outputTask[k]: the task of output k.
    let outputIndex: [Int: Int]
    let outputTask: [Int]
    /// Each task's test images and their output indices.
    let testInputs: [Tensor]
    let testOutputs: [[Int]]

    // The task in progress.
    var evaluator: Evaluator?
    var evaluationSteps: Set<Int> = []
    var replayActive = false

    // What the run reports.
    var taskSteps: [Int] = []
    var traces = [EvaluationHead: HeadTrace]()
    var violations = 0, normError = 0.0, sampleSteps = 0, forwards = 0

    init(setting: ContinualSetting, data: ContinualData, streams: ContinualStreams, evaluationChunk: Int,
         progress: ((_ task: Int, _ step: Int) -> Void)?) throws {
        self.setting = setting
        self.data = data
        self.evaluationChunk = evaluationChunk
        self.progress = progress
        var initRNG = streams.stream("init")
        model = IncrementalClassifier(rng: &initRNG)
        bufferRNG = streams.stream("buffer")
        buffer = ReplayBuffer(capacity: .fixedTotal(setting.memory))
        let tasks = setting.tasks.groups
        var outputIndex = [Int: Int]()
        for (index, c) in setting.tasks.classOrder.enumerated() { outputIndex[c] = index }
        self.outputIndex = outputIndex
        outputTask = tasks.enumerated().flatMap { t, classes in Array(repeating: t, count: classes.count) }

        // The fixed evaluation inputs: each task's test images.
        let testIndicesByTask = tasks.map { classes in classes.flatMap { data.testIndicesByClass[$0] } }
        for (t, indices) in testIndicesByTask.enumerated() where indices.isEmpty {
            throw LabError.invalidArgument("\(setting.name): task \(t) (classes \(tasks[t])) has no test images")
        }
        testInputs = testIndicesByTask.map { data.test.batch($0) }
        testOutputs = testIndicesByTask.map { $0.map { outputIndex[data.test.labels[$0]]! } }
    }

    mutating func beginTask(_ task: ContinualTask) throws -> TaskTrainingSet {
        let t = task.index
        var headRNG = task.stream("head")   // untouched: FACIL's heads start at zero
        model.classifier.addHead(outputs: task.classes.count, initialization: .zeros, rng: &headRNG)

        // Prototype sets: current classes and (oracle) old classes from fixed training images; (NMC) old
        // classes from the buffer as it was at the end of task t − 1.
        let current = Set(task.classes)
        let fixedSets = task.seenClasses.map { c in
            Array(data.trainIndicesByClass[c].prefix(current.contains(c) ? setting.currentPrototypeImages
                                                                         : setting.oraclePrototypeImages))
        }
        let bufferSets = task.seenClasses.map { c in current.contains(c) ? [] : buffer.exemplars[c] ?? [] }
        evaluator = Evaluator(
            model: model, testInputs: Array(testInputs[0...t]), testOutputs: Array(testOutputs[0...t]),
            prototypeInputs: data.train.batch(fixedSets.flatMap { $0 } + bufferSets.flatMap { $0 }),
            fixedSetSizes: fixedSets.map(\.count), bufferSetSizes: bufferSets.map(\.count),
            currentTask: t, outputTask: outputTask, chunk: evaluationChunk)
        replayActive = !buffer.isEmpty
        return TaskTrainingSet(dataset: data.train,
                               indices: task.classes.flatMap { data.trainIndicesByClass[$0] } + buffer.allIndices)
    }

    mutating func makeOptimizer(for task: ContinualTask, stepsInTask: Int) -> SGD {
        taskSteps.append(stepsInTask)
        for head in EvaluationHead.allCases { traces[head, default: HeadTrace(taskSteps: [])].taskSteps = taskSteps }
        evaluationSteps = Set(EvaluationSchedule.steps(task: task.index, totalSteps: stepsInTask))
        return SGD(parameters: model.parameters, learningRate: setting.learningRate)
    }

    mutating func beginEpoch(_ epoch: Int, of task: ContinualTask, optimizer: SGD) {
        optimizer.learningRate = setting.learningRate * setting.learningRateFactor(epoch: epoch)
    }

    /// Task 0 (empty buffer): CE on head t with local targets; then CE over all heads with global targets, as
    /// the authors' code.
    mutating func loss(for batch: TaskBatch) throws -> Tensor {
        model.train()
        let features = model.backbone(batch.x)
        return replayActive
            ? crossEntropy(model.classifier(features), targets: batch.labels.map { outputIndex[$0]! })
            : crossEntropy(model.classifier.logits(features, tasks: batch.task.index..<(batch.task.index + 1)),
                           targets: batch.labels.map { batch.task.classes.firstIndex(of: $0)! })
    }

    mutating func afterUpdate(_ batch: TaskBatch) throws {
        sampleSteps += batch.labels.count
        if evaluationSteps.contains(batch.step), let evaluator {
            let scores = evaluator.evaluate(step: batch.step)
            for (head, point) in scores.points { traces[head]!.points.append(point) }
            normError = max(normError, scores.prototypeNormError)
            forwards += evaluator.forwardCount
        }
        progress?(batch.task.index, batch.step)
    }

    mutating func endTask(_ task: ContinualTask) throws {
        buffer.update(currentClasses: task.classes, trainIndicesByClass: data.trainIndicesByClass, rng: &bufferRNG)
        violations += buffer.quotaViolations(seenClasses: task.seenClasses, labels: data.train.labels)
    }
}

/// CPU seconds consumed by the calling thread so far.
func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Scores the three heads of task t's model at one evaluation point from one eval-mode forward of every
/// test image and every prototype image.
struct Evaluator {
    let model: IncrementalClassifier
    /// testInputs[u]: [n_u, 1, 28, 28], the test images of task u ≤ t; testOutputs[u]: their output indices.
    let testInputs: [Tensor]
    let testOutputs: [[Int]]
    /// The fixed prototype images of every seen class (in output order), then the buffer exemplars of every
    /// seen class (in output order): [P, 1, 28, 28].
    let prototypeInputs: Tensor
    let fixedSetSizes: [Int]
    let bufferSetSizes: [Int]
    let currentTask: Int
    /// outputTask[k]: the task whose head holds output k.
    let outputTask: [Int]
    let chunk: Int

    var forwardCount: Int { testInputs.reduce(0) { $0 + $1.shape[0] } + prototypeInputs.shape[0] }

    struct Scores {
        var points: [EvaluationHead: EvaluationPoint]
        var prototypeNormError: Double
    }

    func evaluate(step: Int) -> Scores {
        model.eval()
        defer { model.train() }
        return noGrad {
            // Features of the prototype images, L2-normalised: f̂ = f/‖f‖.
            let prototypeFeatures = Distances.l2NormalizedRows(features(prototypeInputs))
            var fixedRows: [[Int]] = [], bufferRows: [[Int]] = []
            var start = 0
            for size in fixedSetSizes { fixedRows.append(Array(start..<(start + size))); start += size }
            for size in bufferSetSizes { bufferRows.append(Array(start..<(start + size))); start += size }
            let seenOutputs = fixedSetSizes.count
            let oldOutputs = outputTask.prefix(seenOutputs).filter { $0 < currentTask }.count
            // NMC: old classes from the buffer, current classes from the fixed set; the oracle: fixed sets only.
            let nmcRows = (0..<seenOutputs).map { $0 < oldOutputs ? bufferRows[$0] : fixedRows[$0] }
            let nmcPrototypes = prototypes(prototypeFeatures, rows: nmcRows)
            let oraclePrototypes = prototypes(prototypeFeatures, rows: fixedRows)
            let normError = (Distances.rowNorms(nmcPrototypes) + Distances.rowNorms(oraclePrototypes))
                .map { abs($0 - 1) }.max() ?? 0

            var accuracy = [EvaluationHead: [Double]](), intoCurrent = [EvaluationHead: [Double]]()
            for (u, inputs) in testInputs.enumerated() {
                let testFeatures = features(inputs)
                let normalized = Distances.l2NormalizedRows(testFeatures)
                let predictions: [EvaluationHead: [Int]] = [
                    .linear: MultiHeadPrediction.taskAgnostic(model.classifier(testFeatures)),
                    .nmc: Distances.nearestRow(normalized, among: nmcPrototypes),
                    .oracle: Distances.nearestRow(normalized, among: oraclePrototypes),
                ]
                for (head, predicted) in predictions {
                    let correct = zip(predicted, testOutputs[u]).filter { $0 == $1 }.count
                    let current = predicted.filter { outputTask[$0] == currentTask }.count
                    accuracy[head, default: []].append(100 * Double(correct) / Double(predicted.count))
                    intoCurrent[head, default: []].append(Double(current) / Double(predicted.count))
                }
            }
            var points = [EvaluationHead: EvaluationPoint]()
            for head in EvaluationHead.allCases {
                points[head] = EvaluationPoint(task: currentTask, step: step, accuracy: accuracy[head]!,
                                               intoCurrentTask: intoCurrent[head]!)
            }
            return Scores(points: points, prototypeNormError: normError)
        }
    }

    /// Backbone features in chunks: x: [N, 1, 28, 28] → [N, 64].
    func features(_ inputs: Tensor) -> Tensor {
        let n = inputs.shape[0]
        guard n > chunk else { return model.backbone(inputs) }
        let parts = stride(from: 0, to: n, by: chunk).map { lo in
            model.backbone(inputs.slice(axis: 0, lo..<min(lo + chunk, n)))
        }
        return Tensor.concat(parts, axis: 0)
    }

    /// μ̂_c = m_c/‖m_c‖ with m_c the mean of the normalised features of class c's rows: [classes, 64].
    func prototypes(_ normalizedFeatures: Tensor, rows: [[Int]]) -> Tensor {
        let width = normalizedFeatures.shape[1]
        var means = [Float](repeating: 0, count: rows.count * width)
        normalizedFeatures.data.withUnsafeBufferPointer { f in
            for (c, members) in rows.enumerated() {
                precondition(!members.isEmpty, "NMC: class at output \(c) has no prototype images")
                for r in members { for j in 0..<width { means[c * width + j] += f[r * width + j] } }
                for j in 0..<width { means[c * width + j] /= Float(members.count) }
            }
        }
        return Distances.l2NormalizedRows(Tensor(shape: [rows.count, width], data: means))
    }
}
