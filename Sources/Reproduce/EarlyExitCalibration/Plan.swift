import EarlyExitCalibrationCore

/// What one scale runs (docs/papers/early-exit-calibration.md §2).
struct Plan {
    /// Stratified draw from the official training file, per class.
    var trainPerClass: Int
    var validationPerClass: Int
    /// The first images per class of the official test file; nil = all 10,000.
    var testPerClass: Int?
    var epochs: Int
    var seedCount: Int
    /// Uniform and quantile threshold counts of every early-exit curve.
    var curveThresholds: (uniform: Int, quantiles: Int)

    static let full = Plan(trainPerClass: 800, validationPerClass: 400, testPerClass: nil, epochs: 20, seedCount: 3,
                           curveThresholds: (501, 999))
    static let smoke = Plan(trainPerClass: 60, validationPerClass: 30, testPerClass: 50, epochs: 2, seedCount: 1,
                            curveThresholds: (101, 99))

    /// Fashion-MNIST pixel statistics of the spec (pixels / 255, then standardised).
    static let pixelMean: Float = 0.2860, pixelStd: Float = 0.3530
}
