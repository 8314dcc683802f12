import ExactOrthogonalInitCore
import Lab
import LabRun

/// One trained network of E3, E4 or E5.
struct TrainedRun: Sendable {
    let method: InitMethod
    let density: Double
    let seed: Int
    /// Number of sparse hidden layers (E5), or 0.
    let depth: Int
    let dataset: String
    let outcome: TrainingOutcome
    let audit: LayerAudit
}

/// The learning-rate calibration of spec §3: train the Dense model once per candidate on the training
/// split, score it on the validation split, keep the best (`chooseLearningRate`).
struct Calibration: Sendable {
    let candidates: [Double]
    let validationAccuracies: [Double]
    let chosen: Double
}

/// Calibrates on `train`/`validation` with `makeDense(rate)` training one Dense model at each candidate
/// rate and returning its validation accuracy (NaN when it diverged).
func calibrateLearningRate(_ candidates: [Double],
                           validationAccuracy: @escaping @Sendable (Double) throws -> Double) throws -> Calibration {
    let scores = try JobPool.run(candidates.map { rate in { try validationAccuracy(rate) } })
    return Calibration(candidates: candidates, validationAccuracies: scores,
                       chosen: try chooseLearningRate(candidates, validationAccuracies: scores))
}

/// A training outcome of an experiment run: a diverged run is a finding (its accuracy is measured as is),
/// so nothing here throws on it; the report says which runs diverged.
func accuracyOrNaN(_ outcome: TrainingOutcome) -> Double {
    outcome.divergedAtStep == nil ? outcome.accuracy : .nan
}
