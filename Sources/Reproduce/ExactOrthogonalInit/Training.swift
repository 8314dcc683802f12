import ExactOrthogonalInitCore
import Foundation
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

/// The learning-rate calibration of docs/papers/exact-orthogonal-init.md §3: train the Dense model once per candidate on the training
/// split, score it on the validation split, keep the best (`chooseLearningRate`).
struct Calibration: Sendable {
    let candidates: [Double]
    let validationAccuracies: [Double]
    let chosen: Double
}

/// Calibrates on `train`/`validation` with `makeDense(rate)` training one Dense model at each candidate
/// rate and returning its validation accuracy (NaN when it diverged).
func calibrateLearningRate(_ label: String, quiet: Bool, _ candidates: [Double],
                           validationAccuracy: @escaping @Sendable (Double) throws -> Double) throws -> Calibration {
    let scores = try pooled("\(label): learning-rate calibration", quiet: quiet, candidates.map { rate in { try validationAccuracy(rate) } })
    return Calibration(candidates: candidates, validationAccuracies: scores,
                       chosen: try chooseLearningRate(candidates, validationAccuracies: scores))
}

/// Runs independent jobs on the job pool (two single-threaded workers) with a progress line on stderr that
/// counts finished jobs (silent when `quiet`).
func pooled<Result: Sendable>(_ label: String, quiet: Bool, _ jobs: [@Sendable () throws -> Result]) throws -> [Result] {
    let counter = JobCounter(LabRun.Progress(label, total: jobs.count, quiet: quiet))
    defer { counter.finish() }
    return try JobPool.run(jobs.map { job in { defer { counter.tick() }; return try job() } })
}

/// A `Progress` shared by the pool's workers (updates under a lock).
private final class JobCounter: @unchecked Sendable {
    private let lock = NSLock()
    private let progress: LabRun.Progress
    private var done = 0

    init(_ progress: LabRun.Progress) { self.progress = progress }

    func tick() { lock.withLock { done += 1; progress.update(done) } }
    func finish() { lock.withLock { progress.finish() } }
}

/// A training outcome of an experiment run: a diverged run is a finding (its accuracy is measured as is),
/// so nothing here throws on it; the report says which runs diverged.
func accuracyOrNaN(_ outcome: TrainingOutcome) -> Double {
    outcome.divergedAtStep == nil ? outcome.accuracy : .nan
}
