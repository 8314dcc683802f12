import ActivationSparsityCore
import Foundation
import Lab
import LabData
import LabReport
import LabRun

/// What the ladder and the diffusion LM share: the plan, the run's seed, the KJV training tokens and vocabulary,
/// the fixed KJV-test evaluation windows, and the run's progress lines. Read-only, so the side-by-side training
/// jobs share it.
struct CharLMSetup: Sendable {
    let plan: Plan
    let seed: Int
    let train: [Int]
    let vocabulary: Vocabulary
    /// evalLength + 1 characters each.
    let evalWindows: [[Int]]
    let options: RunOptions
}

/// How long one single-threaded job (`JobPool`) took: training alone and the whole job (training, sweeps and
/// effective rank), wall seconds, and the training's CPU seconds on the job's own thread.
struct JobTiming: Sendable {
    var trainSeconds = 0.0
    var trainCPUSeconds = 0.0
    var jobSeconds = 0.0
}

/// Times `train` (wall and this thread's CPU) into `timing`.
func timedTraining<T>(_ timing: inout JobTiming, _ train: () throws -> T) rethrows -> T {
    let clock = Stopwatch(), cpu = CPUTime.threadSeconds()
    defer {
        timing.trainSeconds = clock.seconds
        timing.trainCPUSeconds = CPUTime.threadSeconds() - cpu
    }
    return try train()
}

/// One trained ladder model and its sweeps.
struct LadderResult: Sendable {
    let size: LadderSize
    let parameters: Int
    let finalLoss: Double
    let dense: WindowStats
    /// top-p curves on KJV-test, one per target in SparsityTarget.allCases order.
    let curves: [Curve]
    /// Mean erank/n over layers per FFN point, in FFNHookPoint.allCases order.
    let erank: [Double]
    /// dense-at-p1: max |Δlogit| of top-p 1 against dense, all targets and windows.
    let identityError: Double
    /// sparsity-monotone: the largest rise of sparsity from one grid p to the next smaller one.
    let monotoneIncrease: Double
    let timing: JobTiming
}

/// The final training loss: the mean of the last 10 steps' losses.
func meanOfLastTen(_ losses: [Float]) -> Double { Double(losses.suffix(10).reduce(0, +)) / Double(min(10, losses.count)) }

/// The largest rise of sparsity between consecutive points of a sweep ordered by decreasing parameter (a larger p
/// must never give a sparser model).
func monotoneIncrease(_ parameters: [Double], _ sparsity: [Double]) -> Double {
    var increase = 0.0
    for i in 1..<sparsity.count where parameters[i] < parameters[i - 1] {
        increase = max(increase, sparsity[i - 1] - sparsity[i])
    }
    return increase
}

/// Trains one AR ladder model (docs/papers/activation-sparsity.md §3) and sweeps every target over the ladder's p grid
/// on the evaluation windows; also the effective rank of its dense activations. Runs as one job of a `JobPool`
/// (one thread): its own model, RNGs and probes, so its numbers do not depend on what runs beside it.
func ladderModel(_ size: LadderSize, _ setup: CharLMSetup) throws -> LadderResult {
    let plan = setup.plan
    let jobClock = Stopwatch()
    var timing = JobTiming()
    var initRNG = RNG(seed: UInt64(setup.seed)).derived("init-\(size.name)")
    let model = CharLlama(size: size, vocabularySize: setup.vocabulary.count, causal: true, rng: &initRNG)
    let progress = setup.options.progress("train \(size.name)", total: plan.recipe.steps)
    let losses = timedTraining(&timing) {
        trainLanguageModel(model, recipe: plan.recipe, corpus: setup.train, dataSeed: UInt64(setup.seed) &+ 1000,
                           loss: { m, ids, _, _ in autoregressiveLoss(m, windows: ids, length: plan.recipe.length) },
                           onStep: { step, loss in progress.update(step + 1, loss: Double(loss)) })
    }
    progress.finish()
    let finalLoss = meanOfLastTen(losses)
    try checkFinite(finalLoss, what: "\(size.name) training loss", step: plan.recipe.steps)
    func evaluate(_ probe: SparsityProbe?) -> (stats: [WindowStats], logits: [Float]) {
        evaluateAutoregressive(model, windows: setup.evalWindows, firstScored: plan.evalFirstScored, vocabulary: setup.vocabulary, probe: probe)
    }
    let (denseStats, denseLogits) = evaluate(nil)
    let dense = denseStats.reduce(WindowStats(), +)
    var curves: [Curve] = []
    var identityError = 0.0, increase = 0.0
    for target in SparsityTarget.allCases {
        var curve = Curve(model: size.name, target: target, rule: "top-p")
        var sparsities: [Double] = []
        for p in plan.ladderPGrid {
            let probe = SparsityProbe(rule: .topP(p), target: target, layerCount: size.layers)
            let (stats, logits) = evaluate(probe)
            let s = probe.counts.sparsity(points: target.points)
            sparsities.append(s)
            if p == 1 {
                for i in logits.indices { identityError = max(identityError, Double(abs(logits[i] - denseLogits[i]))) }
                continue
            }
            curve.append(parameter: p, sparsity: s, relative: relativePerformance(sparse: [stats.reduce(WindowStats(), +)], dense: [dense]),
                         input: probe.counts.sparsity(points: [.input]), intermediate: probe.counts.wideSparsity(target))
        }
        increase = max(increase, monotoneIncrease(plan.ladderPGrid, sparsities))
        curves.append(curve)
    }
    // Effective rank on the first windows' tokens (dense), mean over layers, per tensor.
    var erankSum = [Double](repeating: 0, count: 4)
    let erankWindows = Array(setup.evalWindows.prefix(max(plan.erankTokens / plan.evalLength, 1)))
    var failure: Error?
    _ = noGrad {
        model(erankWindows.flatMap { $0.prefix(plan.evalLength) }, batch: erankWindows.count, length: plan.evalLength) { _, point, t in
            let k = FFNHookPoint.allCases.firstIndex(of: point)!
            let width = t.shape[t.rank - 1]
            do { erankSum[k] += try effectiveRank(t.data, rows: t.count / width, cols: width) / Double(width) } catch { failure = error }
            return t
        }
    }
    if let failure { throw failure }
    timing.jobSeconds = jobClock.seconds
    return LadderResult(size: size, parameters: model.parameterCount, finalLoss: finalLoss, dense: dense, curves: curves,
                        erank: erankSum.map { $0 / Double(size.layers) }, identityError: identityError, monotoneIncrease: increase,
                        timing: timing)
}

/// Trains and sweeps the ladder's models and the diffusion LM as single-threaded jobs, `workers` of them side by
/// side (`JobPool`). Each job has its own model, RNGs and probes and reads only `setup`, so its numbers are the
/// same whatever runs beside it. Jobs start largest first (per-token matmul work, layers × (4d² + 3dm)) so that
/// the workers finish close together; results come back in plan order.
func trainSideBySide(_ setup: CharLMSetup, workers: Int) throws -> (ladder: [LadderResult], diffusion: DiffusionResult) {
    enum Outcome: Sendable { case ladder(LadderResult), diffusion(DiffusionResult) }
    let plan = setup.plan
    func work(_ size: LadderSize) -> Int { size.layers * (4 * size.width * size.width + 3 * size.width * size.ffnWidth) }
    // The diffusion LM is the last job in plan order, after the ladder model of its size.
    var jobs: [@Sendable () throws -> Outcome] = plan.ladder.map { size in { .ladder(try ladderModel(size, setup)) } }
    jobs.append { .diffusion(try diffusionModel(setup)) }
    let works = plan.ladder.map(work) + [work(plan.diffusionSize)]
    let order = jobs.indices.sorted { works[$0] != works[$1] ? works[$0] > works[$1] : $0 < $1 }
    let outcomes = try JobPool.run(order.map { jobs[$0] }, workers: workers)
    var byJob = [Outcome?](repeating: nil, count: jobs.count)
    for (k, index) in order.enumerated() { byJob[index] = outcomes[k] }
    let ladder = byJob.prefix(plan.ladder.count).map { outcome -> LadderResult in
        guard case .ladder(let result)? = outcome else { preconditionFailure("trainSideBySide: job order") }
        return result
    }
    guard let last = byJob.last, case .diffusion(let diffusion)? = last else { preconditionFailure("trainSideBySide: job order") }
    return (ladder, diffusion)
}
