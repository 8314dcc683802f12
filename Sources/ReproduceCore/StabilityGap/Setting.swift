import Lab
import LabData

/// One class-incremental experiment: the task sequence, the replay memory and the training recipe
/// (finetuning with replay, as the authors' FACIL-based code).
public struct ContinualSetting: Sendable {
    /// "fashion-5x2", "fm-10x2" or "memory".
    public var name: String
    /// Global class ids of each task, in head order.
    public var taskClasses: [[Int]]
    /// Total exemplar memory M (images).
    public var memory: Int
    public var epochsPerTask: Int
    public var batchSize: Int
    /// A final batch with fewer images is dropped.
    public var minimumBatchSize: Int
    /// SGD learning rate at the start of each task; per-epoch LinearLR down to `finalLearningRateFactor`.
    public var learningRate: Float
    public var finalLearningRateFactor: Float
    /// |P_c| for the current classes of both NMC heads (fixed training images of c).
    public var currentPrototypeImages: Int
    /// |P_c| for old classes of the NMC-oracle head (fixed training images of c, independent of the buffer).
    public var oraclePrototypeImages: Int

    public init(name: String, taskClasses: [[Int]], memory: Int, epochsPerTask: Int, batchSize: Int,
                minimumBatchSize: Int = 8, learningRate: Float = 0.1, finalLearningRateFactor: Float = 0.01,
                currentPrototypeImages: Int, oraclePrototypeImages: Int) {
        self.name = name
        self.taskClasses = taskClasses
        self.memory = memory
        self.epochsPerTask = epochsPerTask
        self.batchSize = batchSize
        self.minimumBatchSize = minimumBatchSize
        self.learningRate = learningRate
        self.finalLearningRateFactor = finalLearningRateFactor
        self.currentPrototypeImages = currentPrototypeImages
        self.oraclePrototypeImages = oraclePrototypeImages
    }

    public var taskCount: Int { taskClasses.count }

    /// Every class of the sequence in output order (task 0's classes first).
    public var outputClasses: [Int] { taskClasses.flatMap { $0 } }

    /// The learning-rate factor of epoch e of a task: 1 − (1 − final)·e/E (PyTorch's LinearLR per epoch).
    public func learningRateFactor(epoch: Int) -> Float {
        LinearSchedule(start: 1, end: finalLearningRateFactor, totalSteps: epochsPerTask).factor(at: epoch)
    }

    /// Update steps of one epoch over `sampleCount` images: full batches, plus the remainder as a last batch
    /// when it holds at least `minimumBatchSize` images.
    public func batchesPerEpoch(sampleCount: Int) -> Int {
        sampleCount / batchSize + (sampleCount % batchSize >= minimumBatchSize ? 1 : 0)
    }
}

/// The images of one setting: training and test sets with global labels, and each class's training images in
/// their drawn order (the first ones are the fixed prototype sets of the NMC heads).
public struct ContinualData: Sendable {
    public let train: ImageDataset
    public let test: ImageDataset
    /// trainIndicesByClass[c]: indices into `train` of class c, in drawn order ([] for absent classes).
    public let trainIndicesByClass: [[Int]]
    /// testIndicesByClass[c]: indices into `test` of class c.
    public let testIndicesByClass: [[Int]]

    /// x = (p/255 − 0.5)/0.5, as the authors' transforms.
    public static let normalization = Normalization(mean: 0.5, std: 0.5)

    public init(train: ImageDataset, test: ImageDataset) {
        self.train = train.normalized(Self.normalization)
        self.test = test.normalized(Self.normalization)
        trainIndicesByClass = train.indicesByClass()
        testIndicesByClass = test.indicesByClass()
    }

    /// Fashion-MNIST only: `trainPerClass` training images per class from the official train split and
    /// `testPerClass` from t10k, drawn with `dataRNG` (the same draw for every run seed).
    public static func fashion(train: ImageDataset, test: ImageDataset, trainPerClass: Int, testPerClass: Int,
                               dataRNG: RNG) throws -> ContinualData {
        var trainRNG = dataRNG.derived("fashion/train"), testRNG = dataRNG.derived("fashion/test")
        return ContinualData(train: try train.balancedSubset(perClass: trainPerClass, rng: &trainRNG),
                             test: try test.balancedSubset(perClass: testPerClass, rng: &testRNG))
    }

    /// Fashion-MNIST (classes 0-9) and MNIST-5k (classes 10-19): Fashion train from the train split and test
    /// from t10k; MNIST-5k (500 per class) split per class into disjoint train and test parts.
    public static func fashionAndDigits(fashionTrain: ImageDataset, fashionTest: ImageDataset, mnist: ImageDataset,
                                        fashionTrainPerClass: Int, fashionTestPerClass: Int,
                                        mnistTrainPerClass: Int, mnistTestPerClass: Int,
                                        dataRNG: RNG) throws -> ContinualData {
        let fashion = try Self.fashion(train: fashionTrain, test: fashionTest, trainPerClass: fashionTrainPerClass,
                                       testPerClass: fashionTestPerClass, dataRNG: dataRNG)
        var mnistRNG = dataRNG.derived("mnist/split")
        let digits = try mnist.stratifiedSplit(perClass: [mnistTrainPerClass, mnistTestPerClass], rng: &mnistRNG)
        return ContinualData(
            train: try FashionAndDigits.combine(fashion: fashion.train, mnist: digits[0]),
            test: try FashionAndDigits.combine(fashion: fashion.test, mnist: digits[1]))
    }
}
