import LabRun

/// What one scale runs (docs/papers/early-exit-calibration.md §2). Full: 8,000 / 4,000 / the official 10,000
/// images, 20 epochs, 3 seeds; smoke: the same code on 600 / 300 / 500 images, 2 epochs, 1 seed, coarser curves.
struct Plan {
    /// Stratified draw from the official training file, per class.
    let trainPerClass: Int
    let validationPerClass: Int
    /// The first images per class of the official test file; nil = all 10,000.
    let testPerClass: Int?
    let epochs: Int
    let seedCount: Int
    /// Uniform and quantile threshold counts of every early-exit curve.
    let curveThresholds: (uniform: Int, quantiles: Int)

    init(scale: Scale) {
        switch scale {
        case .full:
            (trainPerClass, validationPerClass, testPerClass, epochs, seedCount) = (800, 400, nil, 20, 3)
            curveThresholds = (501, 999)
        case .smoke:
            (trainPerClass, validationPerClass, testPerClass, epochs, seedCount) = (60, 30, 50, 2, 1)
            curveThresholds = (101, 99)
        }
    }

    /// Fashion-MNIST pixel statistics of the design (pixels / 255, then standardised).
    static let pixelMean: Float = 0.2860, pixelStd: Float = 0.3530
}
