import EarlyExitContinualCore
import Foundation
import Lab
import LabContinual
import LabData
import LabRun

/// One trained network (method, variant, seed) and its evaluation on the test images after the last task.
struct EvaluatedRun: Sendable {
    let result: ContinualRunResult
    /// Before TLC.
    let outcomes: ExitOutcomes
    /// EE only: the TLC fit on the last task's training images, the corrected outcomes, and both curves.
    let fit: TaskLogitsCorrectionFit?
    let corrected: ExitOutcomes?
    let curve: EarlyExitCurve?
    let correctedCurve: EarlyExitCurve?
    /// EE only: the loss's masked task maxima on the last task's training images without correction (the predicted
    /// task's runner-up, and the other tasks' maxima), docs/papers/early-exit-continual.md §3.
    let maskedMaxima: (predicted: Double, others: Double)?
    /// Seconds of the TLC fit and the curves.
    let evaluationSeconds: Double

    var method: ContinualMethodKind { result.method }
    var seed: Int { result.seed }
    /// TAg accuracy of the final exit.
    var finalAccuracy: Double { outcomes.accuracies.last! }
}

/// Every run of one method and seed: the base network and the EE network.
struct MethodSeed: Sendable {
    let base: EvaluatedRun
    let earlyExit: EvaluatedRun

    var baseAccuracy: Double { base.finalAccuracy }
    /// AUC, Acc@b and the cost to match the base network's accuracy, before and after TLC.
    var summary: CurveSummary { CurveSummary(earlyExit.curve!, target: baseAccuracy) }
    var correctedSummary: CurveSummary { CurveSummary(earlyExit.correctedCurve!, target: baseAccuracy) }
}

/// All runs: study[method][seed index].
struct Study: Sendable {
    let runs: [ContinualMethodKind: [MethodSeed]]
    let seeds: [Int]
    let exitCosts: [Double]

    subscript(_ method: ContinualMethodKind) -> [MethodSeed] { runs[method]! }

    /// The mean over seeds of a value of each (method, seed).
    func mean(_ method: ContinualMethodKind, _ value: (MethodSeed) -> Double) -> Double { Metrics.mean(self[method].map(value)) }
}

/// The official test split (first `testPerClass` per class) and the training file, normalised.
func loadFashion(_ plan: Plan) throws -> (training: ImageDataset, test: ImageDataset) {
    let (training, test) = try FashionMNIST.load()
    return (training, try test.firstPerClass(plan.testPerClass))
}

/// Seed s's data: a stratified draw of `trainPerClass` images per class (stream "data" of seed s), the fixed test split.
func seedData(training: ImageDataset, test: ImageDataset, plan: Plan, seed: Int) throws -> ContinualData {
    var rng = RNG(seed: UInt64(seed)).derived("data")
    return ContinualData(train: try training.balancedSubset(perClass: plan.trainPerClass, rng: &rng), test: test,
                         normalization: Normalization(mean: Plan.pixelMean, std: Plan.pixelStd))
}

/// Trains every (method, variant, seed) in a job pool (two workers, single-threaded BLAS each) and evaluates it:
/// outcomes before TLC; for EE networks the TLC fit, the outcomes after it and both cost–accuracy curves.
func runStudy(plan: Plan, tasks: ClassIncrementalTasks, data: [ContinualData], seeds: [Int], exitCosts: [Double],
              quiet: Bool) throws -> Study {
    let setup = plan.setup
    // Longest jobs first (LwF and EE pay more per step), so the two workers finish together.
    let order: [ContinualMethodKind] = [.lwf, .replay, .finetuning, .joint]
    let keys = order.flatMap { method in [NetworkVariant.earlyExit, .base].flatMap { variant in seeds.indices.map { (method, variant, $0) } } }
    let progress = JobProgress(LabRun.Progress("training \(keys.count) networks", total: keys.count, quiet: quiet))
    let jobs: [@Sendable () throws -> EvaluatedRun] = keys.map { method, variant, s in
        let data = data[s], seed = seeds[s]
        return {
            let run = ContinualExitRun(method: method, variant: variant, tasks: tasks, data: data, setup: setup, seed: seed)
            let evaluated = try evaluate(try run.run(), plan: plan, exitCosts: exitCosts)
            progress.tick()
            return evaluated
        }
    }
    let results = try JobPool.run(jobs)
    progress.finish()
    var runs: [ContinualMethodKind: [MethodSeed]] = [:]
    for method in order {
        runs[method] = seeds.indices.map { s in
            func find(_ variant: NetworkVariant) -> EvaluatedRun {
                results[keys.firstIndex { $0.0 == method && $0.1 == variant && $0.2 == s }!]
            }
            return MethodSeed(base: find(.base), earlyExit: find(.earlyExit))
        }
    }
    return Study(runs: runs, seeds: seeds, exitCosts: exitCosts)
}

/// The evaluation of one trained network (docs/papers/early-exit-continual.md §3).
func evaluate(_ result: ContinualRunResult, plan: Plan, exitCosts: [Double]) throws -> EvaluatedRun {
    let outcomes = ExitOutcomes(result.test, outputTask: result.outputTask)
    guard result.variant == .earlyExit else {
        return EvaluatedRun(result: result, outcomes: outcomes, fit: nil, corrected: nil, curve: nil, correctedCurve: nil,
                            maskedMaxima: nil, evaluationSeconds: 0)
    }
    let started = Date()
    let grid = plan.tlcGrid
    let summary = TaskLogitSummary(result.lastTaskTraining, outputTask: result.outputTask)
    let fit = TaskLogitsCorrectionFit(summary, range: grid.range, step: grid.step, refineStep: grid.refineStep,
                                      refineHalfWidth: grid.halfWidth)
    let corrected = ExitOutcomes(result.test, outputTask: result.outputTask, correction: fit.correction)
    return EvaluatedRun(result: result, outcomes: outcomes, fit: fit, corrected: corrected,
                        curve: outcomes.curve(exitCosts: exitCosts, thresholds: plan.curveThresholds),
                        correctedCurve: corrected.curve(exitCosts: exitCosts, thresholds: plan.curveThresholds),
                        maskedMaxima: summary.maskedMaxima(.identity(taskCount: summary.taskCount)), evaluationSeconds: Date().timeIntervalSince(started))
}

/// The progress line of the job pool, advanced from the workers under a lock.
final class JobProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let progress: LabRun.Progress
    private var done = 0

    init(_ progress: LabRun.Progress) { self.progress = progress }

    func tick() {
        lock.lock(); defer { lock.unlock() }
        done += 1
        progress.update(done)
    }

    func finish() { progress.finish() }
}
