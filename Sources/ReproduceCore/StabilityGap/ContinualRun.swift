import Foundation
import Lab
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

    /// The run's random streams derive from (setting, seed, M) only, so results do not depend on scheduling.
    var runRNG: RNG { RNG(seed: UInt64(seed)).derived("\(setting.name)/M\(setting.memory)") }

    public func run(progress: ((_ task: Int, _ step: Int) -> Void)? = nil) throws -> ContinualRunResult {
        let started = Date(), startedCPU = threadCPUSeconds()
        let tasks = setting.taskClasses
        let outputClasses = setting.outputClasses
        var outputIndex = [Int: Int]()
        for (index, c) in outputClasses.enumerated() { outputIndex[c] = index }
        let outputTask = tasks.enumerated().flatMap { t, classes in Array(repeating: t, count: classes.count) }

        var initRNG = runRNG.derived("init")
        let model = IncrementalClassifier(rng: &initRNG)
        var bufferRNG = runRNG.derived("buffer")
        var buffer = ReplayBuffer(memory: setting.memory)

        // The fixed evaluation inputs: each task's test images, and each class's prototype images.
        let testIndicesByTask = tasks.map { classes in classes.flatMap { data.testIndicesByClass[$0] } }
        for (t, indices) in testIndicesByTask.enumerated() where indices.isEmpty {
            throw LabError.invalidArgument("\(setting.name): task \(t) (classes \(tasks[t])) has no test images")
        }
        let testInputs = testIndicesByTask.map { data.test.batch($0) }
        let testOutputs = testIndicesByTask.map { $0.map { outputIndex[data.test.labels[$0]]! } }

        var taskSteps: [Int] = []
        var traces = [EvaluationHead: HeadTrace]()
        var violations = 0, normError = 0.0, sampleSteps = 0, forwards = 0

        for (t, currentClasses) in tasks.enumerated() {
            model.addHead(classes: currentClasses.count)
            let taskIndices = currentClasses.flatMap { data.trainIndicesByClass[$0] } + buffer.allIndices
            let stepsPerEpoch = setting.batchesPerEpoch(sampleCount: taskIndices.count)
            guard stepsPerEpoch > 0 else {
                throw LabError.invalidArgument(
                    "\(setting.name): task \(t) has \(taskIndices.count) training images, too few for one batch of \(setting.minimumBatchSize)")
            }
            let totalSteps = stepsPerEpoch * setting.epochsPerTask
            taskSteps.append(totalSteps)
            for head in EvaluationHead.allCases { traces[head, default: HeadTrace(taskSteps: [])].taskSteps = taskSteps }
            let evaluationSteps = Set(EvaluationSchedule.steps(task: t, totalSteps: totalSteps))

            // Prototype sets: current classes and (oracle) old classes from fixed training images; (NMC) old
            // classes from the buffer as it was at the end of task t − 1.
            let seenClasses = tasks[0...t].flatMap { $0 }
            let current = Set(currentClasses)
            let fixedSets = seenClasses.map { c in
                Array(data.trainIndicesByClass[c].prefix(current.contains(c) ? setting.currentPrototypeImages
                                                                             : setting.oraclePrototypeImages))
            }
            let bufferSets = seenClasses.map { c in current.contains(c) ? [] : buffer.exemplars[c] ?? [] }
            let evaluator = Evaluator(
                model: model, testInputs: Array(testInputs[0...t]), testOutputs: Array(testOutputs[0...t]),
                prototypeInputs: data.train.batch(fixedSets.flatMap { $0 } + bufferSets.flatMap { $0 }),
                fixedSetSizes: fixedSets.map(\.count), bufferSetSizes: bufferSets.map(\.count),
                currentTask: t, outputTask: outputTask, chunk: evaluationChunk)

            let optimizer = SGD(parameters: model.parameters, learningRate: setting.learningRate)
            var orderRNG = runRNG.derived("order/\(t)")
            let replayActive = !buffer.isEmpty
            var step = 0
            for epoch in 0..<setting.epochsPerTask {
                optimizer.learningRate = setting.learningRate * setting.learningRateFactor(epoch: epoch)
                let order = orderRNG.permutation(taskIndices.count).map { taskIndices[$0] }
                for b in 0..<stepsPerEpoch {
                    let batch = Array(order[(b * setting.batchSize)..<min((b + 1) * setting.batchSize, order.count)])
                    let labels = data.train.labels(batch)
                    model.train()
                    let features = model.backbone(data.train.batch(batch))
                    // Task 0 (empty buffer): CE on head t with local targets; then CE over all heads with
                    // global targets, as the authors' code.
                    let loss = replayActive
                        ? crossEntropy(model.logits(features: features), targets: labels.map { outputIndex[$0]! })
                        : crossEntropy(model.heads[t](features),
                                       targets: labels.map { currentClasses.firstIndex(of: $0)! })
                    guard loss.item.isFinite else {
                        throw LabError.nonFinite(what: "\(setting.name) seed \(seed) task \(t) loss (= \(loss.item))",
                                                 step: step)
                    }
                    optimizer.zeroGrad()
                    loss.backward()
                    optimizer.step()
                    step += 1
                    sampleSteps += batch.count
                    if evaluationSteps.contains(step) {
                        let scores = evaluator.evaluate(step: step)
                        for (head, point) in scores.points { traces[head]!.points.append(point) }
                        normError = max(normError, scores.prototypeNormError)
                        forwards += evaluator.forwardCount
                    }
                    progress?(t, step)
                }
            }
            buffer.update(currentClasses: currentClasses, trainIndicesByClass: data.trainIndicesByClass, rng: &bufferRNG)
            violations += buffer.quotaViolations(seenClasses: seenClasses, labels: data.train.labels)
        }
        return ContinualRunResult(setting: setting.name, seed: seed, memory: setting.memory, traces: traces,
                                  bufferQuotaViolations: violations, maxPrototypeNormError: normError,
                                  trainingSampleSteps: sampleSteps, evaluationForwards: forwards,
                                  seconds: Date().timeIntervalSince(started),
                                  cpuSeconds: threadCPUSeconds() - startedCPU)
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
                    .linear: argmaxRows(model.logits(features: testFeatures)),
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

    /// Index of the largest entry of every row: [N, K] → [N] (the lowest index wins ties).
    func argmaxRows(_ logits: Tensor) -> [Int] {
        let k = logits.shape[1]
        return logits.data.withUnsafeBufferPointer { x in
            (0..<logits.shape[0]).map { r in
                var best = 0
                for j in 1..<k where x[r * k + j] > x[r * k + best] { best = j }
                return best
            }
        }
    }
}
