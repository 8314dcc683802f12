import ExactOrthogonalInitCore
import LabRun

/// Every size of the reproduction at one scale (docs/papers/exact-orthogonal-init.md §2): `full` is the committed run, `smoke` the same
/// code on small sizes (well under 30 s).
struct Plan {
    // E1: generator
    var generatorSides: [Int]
    var generatorRectangles = [(128, 784), (10, 128)]
    var generatorDensities = [1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0 / 2, 0.9]
    var timingRepeats = 3
    // E2: Jacobian spectra of MLP-7 at init
    var jacobianDensities: [Double]
    var jacobianSeeds: Int
    var jacobianImages = 32
    var autodiffExamples = 2
    /// T of AI (masked descent steps towards isometry).
    var aiSteps: Int
    // E3: MLP-7 accuracy vs density
    var mlpTrainImages: Int
    var mlpEpochs: Int
    var mlpDensities: [Double]
    var mlpSeeds: Int
    var testImages: Int?
    // E4: CNN
    var cnnTrainImages: Int
    var cnnTestImages: Int
    var cnnEpochs: Int
    var cnnDensities: [Double]
    var cnnSeeds: Int
    // E5: deep MLP
    var deepDepth: Int
    var deeperDepth: Int
    var deepTrainImages: Int
    var deepEpochs: Int
    var deepSeeds: Int
    var deeperSeeds: Int
    var mnistSeeds: Int

    var learningRates = [0.003, 0.01, 0.03, 0.1]
    var validationFraction = 0.1
    var mlpWidths = [784, 128, 128, 128, 128, 128, 128, 10]
    var deepWidth = 64
    var deepDensity = 1.0 / 8

    private static let full = Plan(
        generatorSides: [64, 128, 256, 512],
        jacobianDensities: [1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0 / 2, 1], jacobianSeeds: 5, aiSteps: 1000,
        mlpTrainImages: 6000, mlpEpochs: 8, mlpDensities: [1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0 / 2],
        mlpSeeds: 3, testImages: nil,
        cnnTrainImages: 2000, cnnTestImages: 2000, cnnEpochs: 5, cnnDensities: [1.0 / 16, 1.0 / 4], cnnSeeds: 2,
        deepDepth: 128, deeperDepth: 256, deepTrainImages: 4000, deepEpochs: 6, deepSeeds: 3, deeperSeeds: 2,
        mnistSeeds: 2)

    private static let smoke = Plan(
        generatorSides: [64, 128],
        jacobianDensities: [1.0 / 16, 1.0 / 2], jacobianSeeds: 1, aiSteps: 100,
        mlpTrainImages: 1000, mlpEpochs: 1, mlpDensities: [1.0 / 16, 1.0 / 2], mlpSeeds: 1, testImages: 1000,
        cnnTrainImages: 256, cnnTestImages: 500, cnnEpochs: 1, cnnDensities: [1.0 / 4], cnnSeeds: 1,
        deepDepth: 32, deeperDepth: 64, deepTrainImages: 512, deepEpochs: 1, deepSeeds: 1, deeperSeeds: 1,
        mnistSeeds: 1)

    /// MLP-7's widths and the deep MLP's: 784 → w, D sparse w x w, w → 10.
    func deepWidths(depth: Int) -> [Int] { [784] + Array(repeating: deepWidth, count: depth + 1) + [10] }
}

extension Plan {
    /// The plan of `scale` (declared here, outside the struct, so that the memberwise initialiser above stays).
    init(scale: Scale) {
        switch scale {
        case .full: self = .full
        case .smoke: self = .smoke
        }
    }
}
