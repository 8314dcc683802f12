import Foundation
import Testing
@testable import Lab
@testable import LabData
@testable import LabContinual

/// A backbone (Linear 3 → 4, BatchNorm) and a growing multi-head classifier on its 4 features.
private final class TinyContinualNet: Module, Layer {
    let backbone: Linear
    let norm = BatchNorm(features: 4)
    let classifier = MultiHeadClassifier(featureSize: 4)

    init(rng: inout RNG) { backbone = Linear(inputSize: 3, outputSize: 4, rng: &rng) }

    func callAsFunction(_ x: Tensor) -> Tensor { classifier(norm(backbone(x)).relu()) }
}

/// A module holding its layers in a nested array, [[Linear]] (2 rows of 2 and 1 layers).
private final class GridNet: Module {
    let grid: [[Linear]]

    init(rng: inout RNG) {
        grid = [[Linear(inputSize: 2, outputSize: 2, rng: &rng), Linear(inputSize: 2, outputSize: 1, rng: &rng)],
                [Linear(inputSize: 1, outputSize: 1, bias: false, rng: &rng)]]
    }
}

/// A module that keeps layers in a dictionary: no stable order, so Module must refuse it.
private final class DictionaryNet: Module {
    var layers: [String: Linear] = [:]
}

/// `classes` classes of `perClass` 1x1x3 images each; image i has pixels (i, class, 0) (max 255).
private func tinyImages(classes: Int, perClass: Int) throws -> ImageDataset {
    var pixels: [UInt8] = [], labels: [Int] = []
    for i in 0..<classes * perClass {
        pixels += [UInt8(i), UInt8(i % classes), 0]
        labels.append(i % classes)
    }
    return try ImageDataset(pixels: pixels, labels: labels, channels: 1, height: 1, width: 3, classCount: classes)
}

/// A finetuning method for the loop tests: CE over the concatenated heads, SGD made fresh per task; it records
/// what the loop handed it.
private struct RecordingFinetuner: ContinualMethod {
    let model: TinyContinualNet
    let data: ImageDataset
    var optimizers: [SGD] = []
    var stepCountsAtStart: [Int] = []
    var batchImages: [[Int: [Int]]] = [[:], [:], [:]]   // task → step → source image ids of the batch
    var epochsBegun: [String] = []
    var ended: [Int] = []
    var poisonTask: Int? = nil

    mutating func beginTask(_ task: ContinualTask) throws -> TaskTrainingSet {
        var headRNG = task.stream("head")
        model.classifier.addHead(outputs: task.classes.count, initialization: .standard, rng: &headRNG)
        return TaskTrainingSet(dataset: data, indices: task.classes.flatMap { c in (0..<data.count).filter { data.labels[$0] == c } })
    }

    mutating func makeOptimizer(for task: ContinualTask, stepsInTask: Int) -> SGD {
        let optimizer = SGD(parameters: model.parameters, learningRate: 0.1)
        stepCountsAtStart.append(optimizer.stepCount)
        optimizers.append(optimizer)
        return optimizer
    }

    mutating func beginEpoch(_ epoch: Int, of task: ContinualTask, optimizer: SGD) {
        epochsBegun.append("\(task.index).\(epoch)")
    }

    mutating func loss(for batch: TaskBatch) throws -> Tensor {
        batchImages[batch.task.index][batch.step] = (0..<batch.labels.count).map { Int((batch.x.data[$0 * 3] * 255).rounded()) }
        model.train()
        let loss = crossEntropy(model(batch.x.reshaped([batch.labels.count, 3])), targets: batch.labels)
        return batch.task.index == poisonTask ? loss * Float.nan : loss
    }

    mutating func endTask(_ task: ContinualTask) throws { ended.append(task.index) }
}

@Suite struct ContinualTests {
    // MARK: - Multi-head classifier

    @Test func multiHeadGrowsConcatenatesAndOffsets() {
        var rng = RNG(seed: 3)
        let heads = MultiHeadClassifier(featureSize: 2)
        #expect(heads.addHead(outputs: 2, initialization: .zeros, rng: &rng) == 0)
        let untouched = RNG(seed: 3)
        #expect(rng.next() == { var r = untouched; return r.next() }())   // zeros draw nothing
        heads.addHead(outputs: 3, initialization: .standard, rng: &rng)
        #expect(heads.taskCount == 2 && heads.outputCount == 5)
        #expect(heads.offsets == [0, 2] && heads.outputRanges == [0..<2, 2..<5])
        #expect(heads.task(ofOutput: 1) == 0 && heads.task(ofOutput: 2) == 1 && heads.task(ofOutput: 4) == 1)
        #expect(heads.namedParameters().map(\.0) == ["heads.0.weight", "heads.0.bias", "heads.1.weight", "heads.1.bias"])
        #expect(heads.parameterCount == 2 * 2 + 2 + 3 * 2 + 3)
        // Standard init: U(±1/√2) for weight and bias.
        let bound = 1 / Float(2).squareRoot()
        #expect((heads.heads[1].weight.data + heads.heads[1].bias!.data).allSatisfy { abs($0) <= bound })
        // Hand values: head 1 weight rows (1, 0), (0, 1), (1, 1), bias (0, 0, −1); f = (2, 3) → (2, 3, 4).
        heads.heads[1].weight.data = [1, 0, 0, 1, 1, 1]
        heads.heads[1].bias!.data = [0, 0, -1]
        let f = Tensor(shape: [1, 2], data: [2, 3])
        #expect(heads(f).data == [0, 0, 2, 3, 4])
        #expect(heads.logits(f, tasks: 1..<2).data == [2, 3, 4])
        #expect(heads.logits(f, tasks: 0..<1).data == [0, 0])
    }

    @Test func standardHeadInitComesFromTheTaskStream() {
        let streams = ContinualStreams(seed: 5)
        func head() -> [Float] {
            let heads = MultiHeadClassifier(featureSize: 4)
            var rng = streams.stream("head", task: 2)
            heads.addHead(outputs: 2, initialization: .standard, rng: &rng)
            return heads.heads[0].weight.data
        }
        #expect(head() == head())
        var expected = RNG(seed: 5).derived("head/2")
        #expect(head() == Linear(inputSize: 4, outputSize: 2, rng: &expected).weight.data)
    }

    @Test func taskAgnosticAndTaskAwarePredictions() {
        // Two tasks of two outputs; rows: sample 0 (task 0), sample 1 (task 1), sample 2 (task 0, a tie).
        let logits = Tensor(shape: [3, 4], data: [1, 5, 9, 0,
                                                   8, 1, 2, 3,
                                                   4, 4, 1, 1])
        #expect(MultiHeadPrediction.taskAgnostic(logits) == [2, 0, 0])
        #expect(MultiHeadPrediction.taskAware(logits, tasks: [0, 1, 0], outputRanges: [0..<2, 2..<4]) == [1, 3, 0])
    }

    // MARK: - Replay buffer

    @Test func fixedTotalBufferKeepsFloorOfMOverNPerClass() {
        // Six classes of 8 training images each; image i has label i / 8. M = 10: quotas 5, 2, 1.
        let labels = (0..<48).map { $0 / 8 }
        let byClass = (0..<6).map { c in Array((c * 8)..<(c * 8 + 8)) }
        func fill(seed: UInt64, check: Bool) -> ReplayBuffer {
            var buffer = ReplayBuffer(capacity: .fixedTotal(10))
            var rng = RNG(seed: seed)
            var seen: [Int] = []
            for (task, expectedQuota) in zip([[0, 1], [2, 3], [4, 5]], [5, 2, 1]) {
                let before = buffer.exemplars
                buffer.update(currentClasses: task, trainIndicesByClass: byClass, rng: &rng)
                seen += task
                guard check else { continue }
                #expect(buffer.quotaViolations(seenClasses: seen, labels: labels) == 0)
                #expect(seen.allSatisfy { buffer.exemplars[$0]!.count == expectedQuota })
                #expect(buffer.allIndices.count == expectedQuota * seen.count)
                #expect(buffer.allIndices.map { labels[$0] } == seen.flatMap { Array(repeating: $0, count: expectedQuota) })
                // Old classes keep a subset of what they held.
                for (c, held) in before { #expect(Set(buffer.exemplars[c]!).isSubset(of: Set(held))) }
            }
            return buffer
        }
        let buffer = fill(seed: 3, check: true)
        // The rule is checked, not assumed: an unseen class counted as seen, or a wrong label, is a violation.
        #expect(buffer.quotaViolations(seenClasses: [0, 1, 2, 3, 4], labels: labels) == 6)   // quota 2 for 5 classes
        var wrongLabels = labels
        wrongLabels[buffer.exemplars[5]![0]] = 0
        #expect(buffer.quotaViolations(seenClasses: Array(0..<6), labels: wrongLabels) == 1)
        // Seeded: the same stream gives the same buffer, another stream another one.
        #expect(fill(seed: 3, check: false) == buffer && fill(seed: 4, check: false) != buffer)
    }

    @Test func perClassBufferGrowsWithTheClasses() {
        let byClass = (0..<4).map { c in Array((10 * c)..<(10 * c + 10)) }
        let labels = (0..<40).map { $0 / 10 }
        var rng = RNG(seed: 4)
        var buffer = ReplayBuffer(capacity: .perClass(3))
        buffer.update(currentClasses: [0, 1], trainIndicesByClass: byClass, rng: &rng)
        let afterFirst = buffer.exemplars
        buffer.update(currentClasses: [2, 3], trainIndicesByClass: byClass, rng: &rng)
        #expect(buffer.quota(seenClassCount: 4) == 3 && buffer.allIndices.count == 12)
        #expect(Set(buffer.exemplars[0]!) == Set(afterFirst[0]!) && Set(buffer.exemplars[1]!) == Set(afterFirst[1]!))
        #expect(buffer.quotaViolations(seenClasses: [0, 1, 2, 3], labels: labels) == 0)
    }

    // MARK: - Accuracy matrix

    @Test func accuracyMatrixSummariesByHand() {
        // acc[i][j]: after task 0: 90; after 1: 60, 80; after 2: 70, 75, 85.
        let matrix = AccuracyMatrix(rows: [[90], [60, 80], [70, 75, 85]])
        #expect(matrix.taskCount == 3 && matrix[after: 2, on: 1] == 75)
        #expect(matrix.averageAccuracy(afterTask: 0) == 90 && matrix.averageAccuracy(afterTask: 1) == 70)
        #expect(abs(matrix.finalAccuracy - 230.0 / 3) < 1e-12)
        #expect(abs(matrix.averageIncrementalAccuracy - (90 + 70 + 230.0 / 3) / 3) < 1e-12)
        // Forgetting: the best earlier accuracy minus the current one. Task 0 after 2: max(90, 60) − 70 = 20
        // (not 60 − 70: the best, not the last); task 1 after 2: 80 − 75 = 5; task 0 after 1: 90 − 60 = 30.
        #expect(matrix.forgetting(task: 0, afterTask: 2) == 20)
        #expect(matrix.forgetting(task: 1, afterTask: 2) == 5)
        #expect(matrix.forgetting(task: 0, afterTask: 1) == 30)
        #expect(matrix.averageForgetting(afterTask: 2) == 12.5 && matrix.averageForgetting(afterTask: 1) == 30)
        #expect(matrix.averageForgetting(afterTask: 0).isNaN)
        var grown = AccuracyMatrix()
        grown.append([90]); grown.append([60, 80]); grown.append([70, 75, 85])
        #expect(grown == matrix)
    }

    // MARK: - Task loop

    @Test func taskLoopStreamsOptimiserResetAndBatches() throws {
        // 3 tasks of 2 classes, 5 images per class: 10 per task; batch 4, minimum 3 → batches 4, 4 (the last 2
        // dropped); 2 epochs → 4 steps per task.
        let data = try tinyImages(classes: 6, perClass: 5)
        let tasks = try ClassIncrementalTasks(classes: Array(0..<6), classesPerTask: 2)
        let loop = TaskLoop(name: "tiny", tasks: tasks, streams: ContinualStreams(seed: 7), epochsPerTask: 2,
                            batchSize: 4, minimumBatchSize: 3)
        func model() -> TinyContinualNet { var rng = RNG(seed: 0); return TinyContinualNet(rng: &rng) }
        var method = RecordingFinetuner(model: model(), data: data)
        try loop.run(&method)
        #expect(method.ended == [0, 1, 2] && method.model.classifier.taskCount == 3)
        #expect(method.epochsBegun == ["0.0", "0.1", "1.0", "1.1", "2.0", "2.1"])
        // A fresh optimiser per task, over every head present (task t: backbone 2 + norm 2 + 2 per head).
        #expect(method.stepCountsAtStart == [0, 0, 0] && method.optimizers.map(\.stepCount) == [4, 4, 4])
        #expect(method.optimizers.map(\.parameters.count) == [6, 8, 10])
        #expect(method.batchImages[1].keys.sorted() == [1, 2, 3, 4])
        // Task 1's batches: epoch e = the (e+1)-th permutation of the task's own stream "order/1".
        let taskRows = [2, 3].flatMap { c in (0..<30).filter { $0 % 6 == c } }
        var order = RNG(seed: 7).derived("order/1")
        let epoch0 = order.permutation(10).map { taskRows[$0] }, epoch1 = order.permutation(10).map { taskRows[$0] }
        #expect(method.batchImages[1][1] == Array(epoch0[0..<4]) && method.batchImages[1][2] == Array(epoch0[4..<8]))
        #expect(method.batchImages[1][3] == Array(epoch1[0..<4]))
        // Per-(seed, task) streams: a run of task 1 alone, from another model, sees the same batches and the
        // same new head.
        var alone = RecordingFinetuner(model: model(), data: data)
        _ = try alone.beginTask(loop.task(0))
        try loop.run(&alone, tasks: 1..<2)
        #expect(alone.batchImages[1] == method.batchImages[1])
        // A non-finite loss stops the run with an error naming the run, the task and the step.
        var poisoned = RecordingFinetuner(model: model(), data: data, poisonTask: 1)
        #expect(throws: LabError.nonFinite(what: "tiny task 1 loss (= nan)", step: 0)) { try loop.run(&poisoned) }
    }

    @Test func streamsDeriveFromTheRootByName() {
        let streams = ContinualStreams(root: RNG(seed: 9).derived("fashion-5x2/M200"))
        var a = streams.stream("order", task: 3), b = RNG(seed: 9).derived("fashion-5x2/M200").derived("order/3")
        #expect(a.next() == b.next())
        var c = streams.stream("buffer"), d = RNG(seed: 9).derived("fashion-5x2/M200").derived("buffer")
        #expect(c.next() == d.next())
    }

    // MARK: - Module: clone, nested arrays, BatchNorm on a frozen teacher

    @Test func cloneKeepsBuffersHeadsModesAndIsIndependent() throws {
        var rng = RNG(seed: 21)
        let student = TinyContinualNet(rng: &rng)
        student.classifier.addHead(outputs: 2, initialization: .standard, rng: &rng)
        student.classifier.addHead(outputs: 3, initialization: .zeros, rng: &rng)
        _ = student(Tensor.randn([5, 3], rng: &rng))   // train mode: moves the running statistics
        student.norm.eval()
        student.backbone.freeze()
        var scratch = RNG(seed: 99)
        let teacher = try student.clone { TinyContinualNet(rng: &scratch) }
        #expect(teacher.classifier.heads.map(\.outputSize) == [2, 3])
        #expect(teacher.stateDict().keys.sorted() == student.stateDict().keys.sorted())
        for (path, value) in student.stateDict() { #expect(teacher.stateDict()[path]!.data == value.data, "\(path)") }
        #expect(teacher.norm.runningMean.data == student.norm.runningMean.data && teacher.norm.runningMean.data != [0, 0, 0, 0])
        #expect(!teacher.norm.isTraining && teacher.isTraining && teacher.classifier.isTraining)
        #expect(!teacher.backbone.weight.requiresGrad && teacher.classifier.heads[0].weight.requiresGrad)
        // A deep copy: changing the clone leaves the original as it was.
        teacher.classifier.heads[1].bias!.data = [1, 2, 3]
        teacher.norm.runningVar.data = [7, 7, 7, 7]
        #expect(student.classifier.heads[1].bias!.data == [0, 0, 0] && student.norm.runningVar.data != [7, 7, 7, 7])
        let x = Tensor.randn([2, 3], rng: &rng)
        student.eval()
        let fresh = try student.clone { TinyContinualNet(rng: &scratch) }
        #expect(noGrad { fresh(x).data == student(x).data })
        // A twin of another architecture is refused with the differing structure named.
        #expect(throws: LabError.self) { _ = try student.clone { GridNet(rng: &scratch) } }
    }

    @Test func nestedArraysOfModulesAreFound() throws {
        var rng = RNG(seed: 2)
        let net = GridNet(rng: &rng)
        #expect(net.namedParameters().map(\.0) == ["grid.0.0.weight", "grid.0.0.bias", "grid.0.1.weight",
                                                     "grid.0.1.bias", "grid.1.0.weight"])
        #expect(net.parameterCount == (4 + 2) + (2 + 1) + 1)
        #expect(net.modules().count == 4 && net.stateDict().count == 5)
        let copy = GridNet(rng: &rng)
        #expect(copy.grid[1][0].weight.data != net.grid[1][0].weight.data)
        copy.copyState(from: net)
        #expect(copy.grid[1][0].weight.data == net.grid[1][0].weight.data && copy.grid[0][1].bias!.data == net.grid[0][1].bias!.data)
        net.freeze()
        #expect(!net.grid[1][0].weight.requiresGrad)
    }

    /// Modules in a dictionary stop the program (precondition in `Module.members`). The stop itself is not
    /// run here: Swift Testing's exit tests can hang on Linux (see NNTests' shapeMismatchStopsWithAMessage), so
    /// the test checks the predicate behind the refusal: it finds the module in the dictionary, and a
    /// dictionary of tensors (exact-orthogonal-init's fixed masks) is not refused.
    @Test func modulesInADictionaryAreRefusedLoudly() {
        var rng = RNG(seed: 0)
        let net = DictionaryNet()
        net.layers["a"] = Linear(inputSize: 1, outputSize: 1, rng: &rng)
        #expect(Module.holdsModule(net.layers))
        #expect(Module.holdsModule([[Linear(inputSize: 1, outputSize: 1, rng: &rng)]]))
        #expect(!Module.holdsModule(["mask": Tensor.zeros([2])]))
    }

    @Test func frozenBatchNormInTrainModeUpdatesRunningStatisticsUnderNoGrad() {
        // Teacher adaptation: a frozen BatchNorm in train mode inside noGrad normalises with the batch and
        // moves its running statistics (momentum 0.1, unbiased variance), with no tape and no change to γ, β.
        let norm = BatchNorm(features: 2)
        norm.weight.data = [2, 1]
        norm.bias.data = [0.5, 0]
        norm.freeze()
        // Channel 0: 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3); channel 1: 0, 0, 2, 2 (mean 1, var 1, 4/3).
        let x = Tensor(shape: [4, 2], data: [1, 0, 2, 0, 3, 2, 4, 2])
        let y = noGrad { norm(x) }
        #expect(!y.requiresGrad)
        #expect(abs(norm.runningMean.data[0] - 0.25) < 1e-6 && abs(norm.runningMean.data[1] - 0.1) < 1e-6)
        #expect(abs(norm.runningVar.data[0] - Float(0.9 + 0.1 * 5.0 / 3)) < 1e-6)
        #expect(abs(norm.runningVar.data[1] - Float(0.9 + 0.1 * 4.0 / 3)) < 1e-6)
        #expect(norm.weight.data == [2, 1] && norm.bias.data == [0.5, 0] && norm.weight.grad == nil)
        // Output of sample 0, channel 0: 2·(1 − 2.5)/√(1.25 + 1e-5) + 0.5.
        #expect(abs(Double(y.data[0]) - (2 * (1 - 2.5) / (1.25 + 1e-5).squareRoot() + 0.5)) < 1e-5)
    }

    @Test func frozenModuleWithBatchNormOnImagesUpdatesOnlyRunningStatisticsInTrainModeUnderNoGrad() {
        // Teacher adaptation on [B, C, H, W] activations: a frozen module (the teacher) put back in train mode
        // inside noGrad normalises each channel over batch and space (n = B·H·W) and moves its running
        // statistics; a later eval-mode forward uses the moved statistics. No tape, no change to γ, β.
        let norm = BatchNorm(features: 2)
        norm.weight.data = [2, 1]
        norm.bias.data = [0.5, -1]
        let teacher = Sequential(norm)
        teacher.freeze()
        teacher.eval()
        // x: [2, 2, 2, 2]. Channel 0 holds 1...8 (mean 4.5, biased var 5.25, unbiased 5.25·8/7 = 6);
        // channel 1 holds four 0s and four 2s (mean 1, biased var 1, unbiased 8/7).
        let x = Tensor(shape: [2, 2, 2, 2], data: [1, 2, 3, 4, 0, 0, 0, 0, 5, 6, 7, 8, 2, 2, 2, 2])
        let adapted = noGrad { () -> Tensor in
            teacher.train()
            return teacher(x)
        }
        #expect(!adapted.requiresGrad)
        #expect(teacher.parameters.allSatisfy { !$0.requiresGrad && $0.grad == nil })
        #expect(norm.weight.data == [2, 1] && norm.bias.data == [0.5, -1])
        // Running statistics: 0.9·(0, 1) + 0.1·(batch mean, unbiased batch variance).
        #expect(abs(norm.runningMean.data[0] - 0.45) < 1e-6 && abs(norm.runningMean.data[1] - 0.1) < 1e-6)
        #expect(abs(norm.runningVar.data[0] - 1.5) < 1e-6)
        #expect(abs(Double(norm.runningVar.data[1]) - (0.9 + 0.1 * 8.0 / 7)) < 1e-6)
        // Batch statistics in the output: x[0, 0, 0, 0] = 1 → 2·(1 − 4.5)/√(5.25 + 1e-5) + 0.5; x[1, 1, 0, 0] = 2 →
        // 1·(2 − 1)/√(1 + 1e-5) − 1.
        #expect(abs(Double(adapted.data[0]) - (2 * (1 - 4.5) / (5.25 + 1e-5).squareRoot() + 0.5)) < 1e-5)
        #expect(abs(Double(adapted.data[12]) - (1 / (1 + 1e-5).squareRoot() - 1)) < 1e-5)
        // Back in eval mode: the moved running statistics, x[0, 0, 0, 0] = 1 → 2·(1 − 0.45)/√(1.5 + 1e-5) + 0.5.
        teacher.eval()
        let evaluated = noGrad { teacher(x) }
        #expect(abs(Double(evaluated.data[0]) - (2 * (1 - 0.45) / (1.5 + 1e-5).squareRoot() + 0.5)) < 1e-5)
        #expect(abs(norm.runningMean.data[0] - 0.45) < 1e-6)   // eval mode leaves them alone
    }

    // MARK: - Fashion / MNIST task draws

    @Test func fashionAndDigitsTaskSequences() throws {
        #expect(try ClassIncrementalTasks.fashionPairs(taskCount: 3).groups == [[0, 1], [2, 3], [4, 5]])
        #expect(try ClassIncrementalTasks.alternatingFashionDigits(taskCount: 4).groups == [[0, 1], [10, 11], [2, 3], [12, 13]])
        #expect(throws: LabError.self) { _ = try ClassIncrementalTasks.fashionPairs(taskCount: 6) }
        #expect(throws: LabError.self) { _ = try ClassIncrementalTasks.alternatingFashionDigits(taskCount: 11) }
    }

    @Test func continualDataDrawsAreSeededAndNormalised() throws {
        let fashion = try tinyImages(classes: 10, perClass: 6)
        let digits = try tinyImages(classes: 10, perClass: 5)
        let half = Normalization(mean: 0.5, std: 0.5)
        func draw(_ seed: UInt64) throws -> ContinualData {
            try ContinualData.fashionAndDigits(fashionTrain: fashion, fashionTest: fashion, mnist: digits,
                                               fashionTrainPerClass: 4, fashionTestPerClass: 2,
                                               mnistTrainPerClass: 3, mnistTestPerClass: 2, normalization: half,
                                               dataRNG: RNG(seed: seed))
        }
        let data = try draw(1234)
        #expect(data.trainIndicesByClass.map(\.count) == Array(repeating: 4, count: 10) + Array(repeating: 3, count: 10))
        #expect(data.testIndicesByClass.map(\.count) == Array(repeating: 2, count: 20))
        #expect(data.train.normalization == half && data.test.normalization == half)
        let same = try draw(1234), other = try draw(1)
        #expect(data.train.pixels == same.train.pixels && data.train.pixels != other.train.pixels)
        // The Fashion part is the same draw as Fashion alone.
        let alone = try ContinualData.fashion(train: fashion, test: fashion, trainPerClass: 4, testPerClass: 2,
                                              normalization: half, dataRNG: RNG(seed: 1234))
        #expect(Array(data.train.pixels.prefix(alone.train.pixels.count)) == alone.train.pixels)
        // MNIST train and test rows are disjoint (pixel 0 = source image id).
        let digitIDs = { (set: ImageDataset) in Set((0..<set.count).filter { set.labels[$0] >= 10 }.map { set.pixels[$0 * 3] }) }
        #expect(digitIDs(data.train).isDisjoint(with: digitIDs(data.test)))
    }
}
