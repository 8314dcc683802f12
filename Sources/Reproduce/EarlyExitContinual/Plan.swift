import EarlyExitContinualCore
import LabRun

/// What one scale runs (docs/papers/early-exit-continual.md §2). Full: 400 training images per class (a seeded
/// stratified draw per seed), the first 500 test images per class, 8 epochs per task, seeds {0, 1, 2}, the TLC grid
/// of step 0.05; smoke: the same code on 40 / 30 images, 2 epochs, 1 seed, TLC step 0.25, coarser curves.
struct Plan {
    let trainPerClass: Int
    let testPerClass: Int
    let epochsPerTask: Int
    let seedCount: Int
    /// TLC grid: [−range, range]² with spacing step, then a (2·halfWidth + 1)² grid of spacing refineStep.
    let tlcGrid: (range: Double, step: Double, refineStep: Double, halfWidth: Int)
    /// Uniform and quantile threshold counts of every cost–accuracy curve.
    let curveThresholds: (uniform: Int, quantiles: Int)

    init(scale: Scale) {
        switch scale {
        case .full:
            (trainPerClass, testPerClass, epochsPerTask, seedCount) = (400, 500, 8, 3)
            tlcGrid = (4, 0.05, 0.005, 10)
            curveThresholds = (501, 999)
        case .smoke:
            (trainPerClass, testPerClass, epochsPerTask, seedCount) = (40, 30, 2, 1)
            tlcGrid = (4, 0.25, 0.025, 10)
            curveThresholds = (101, 99)
        }
    }

    var setup: ContinualSetup { ContinualSetup(epochsPerTask: epochsPerTask) }

    /// Fashion-MNIST pixel statistics of the design (pixels / 255, then standardised).
    static let pixelMean: Float = 0.2860, pixelStd: Float = 0.3530
    /// 5 tasks × 2 classes in the natural label order.
    static let taskCount = 5
    /// The budgets of Acc@b, as the tables name them.
    static let budgetNames = ["Acc@25%", "Acc@50%", "Acc@75%", "Acc@100%"]
}
