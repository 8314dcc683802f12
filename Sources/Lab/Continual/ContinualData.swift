import Lab
import LabData

/// The images of a class-incremental experiment: training and test sets with global labels, and each class's
/// training and test rows in their drawn order (so "the first k training images of class c" is a fixed set,
/// e.g. for prototypes).
public struct ContinualData: Sendable {
    public let train: ImageDataset
    public let test: ImageDataset
    /// trainIndicesByClass[c]: rows of `train` of class c, in drawn order ([] for absent classes).
    public let trainIndicesByClass: [[Int]]
    /// testIndicesByClass[c]: rows of `test` of class c.
    public let testIndicesByClass: [[Int]]

    /// Both sets with `normalization` applied (e.g. x = (p/255 − 0.5)/0.5 as `Normalization(mean: 0.5, std: 0.5)`).
    public init(train: ImageDataset, test: ImageDataset, normalization: Normalization) {
        self.train = train.normalized(normalization)
        self.test = test.normalized(normalization)
        trainIndicesByClass = train.indicesByClass()
        testIndicesByClass = test.indicesByClass()
    }

    /// Fashion-MNIST only: `trainPerClass` training images per class from the official train split and
    /// `testPerClass` from t10k, drawn from `dataRNG`'s streams "fashion/train" and "fashion/test" (a fixed data
    /// seed gives the same images to every run seed).
    public static func fashion(train: ImageDataset, test: ImageDataset, trainPerClass: Int, testPerClass: Int,
                               normalization: Normalization, dataRNG: RNG) throws -> ContinualData {
        var trainRNG = dataRNG.derived("fashion/train"), testRNG = dataRNG.derived("fashion/test")
        return ContinualData(train: try train.balancedSubset(perClass: trainPerClass, rng: &trainRNG),
                             test: try test.balancedSubset(perClass: testPerClass, rng: &testRNG),
                             normalization: normalization)
    }

    /// Fashion-MNIST (classes 0-9) and MNIST-5k (classes 10-19, `FashionAndDigits`): Fashion drawn as in
    /// `fashion`, MNIST-5k (500 per class) split per class into disjoint train and test parts from `dataRNG`'s
    /// stream "mnist/split". One transform for both domains, so the domain difference survives preprocessing.
    public static func fashionAndDigits(fashionTrain: ImageDataset, fashionTest: ImageDataset, mnist: ImageDataset,
                                        fashionTrainPerClass: Int, fashionTestPerClass: Int,
                                        mnistTrainPerClass: Int, mnistTestPerClass: Int,
                                        normalization: Normalization, dataRNG: RNG) throws -> ContinualData {
        var trainRNG = dataRNG.derived("fashion/train"), testRNG = dataRNG.derived("fashion/test")
        var mnistRNG = dataRNG.derived("mnist/split")
        let digits = try mnist.stratifiedSplit(perClass: [mnistTrainPerClass, mnistTestPerClass], rng: &mnistRNG)
        return ContinualData(
            train: try FashionAndDigits.combine(
                fashion: try fashionTrain.balancedSubset(perClass: fashionTrainPerClass, rng: &trainRNG), mnist: digits[0]),
            test: try FashionAndDigits.combine(
                fashion: try fashionTest.balancedSubset(perClass: fashionTestPerClass, rng: &testRNG), mnist: digits[1]),
            normalization: normalization)
    }
}

/// The Fashion-MNIST / MNIST-5k task sequences of the continual-learning papers (stability-gap,
/// teacher-adaptation, early-exit-continual), in global class ids (`FashionAndDigits`).
extension ClassIncrementalTasks {
    /// Fashion {0,1}, {2,3}, ..., the first `taskCount` of the five pairs in natural label order.
    public static func fashionPairs(taskCount: Int) throws -> ClassIncrementalTasks {
        guard (1...5).contains(taskCount) else {
            throw LabError.invalidArgument("fashionPairs: Fashion-MNIST has 5 class pairs, \(taskCount) tasks asked for")
        }
        return try ClassIncrementalTasks(groups: (0..<taskCount).map { [2 * $0, 2 * $0 + 1] })
    }

    /// Alternating domains: task 2k = Fashion {2k, 2k+1}, task 2k+1 = MNIST digits {2k, 2k+1} (ids 10 + d),
    /// the first `taskCount` of ten tasks.
    public static func alternatingFashionDigits(taskCount: Int) throws -> ClassIncrementalTasks {
        guard (1...10).contains(taskCount) else {
            throw LabError.invalidArgument("alternatingFashionDigits: the sequence has 10 tasks, \(taskCount) asked for")
        }
        return try ClassIncrementalTasks(groups: (0..<taskCount).map { t in
            let k = t / 2
            return t % 2 == 0
                ? [FashionAndDigits.globalClass(fashion: 2 * k), FashionAndDigits.globalClass(fashion: 2 * k + 1)]
                : [FashionAndDigits.globalClass(digit: 2 * k), FashionAndDigits.globalClass(digit: 2 * k + 1)]
        })
    }
}
