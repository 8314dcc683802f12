import ActivationSparsityCore
import Foundation
import Lab
import LabData
import LabReport
import LabRun

/// The masked-diffusion LM's results.
struct DiffusionResult: Sendable {
    /// top-p curves for input and intermediate.
    let curves: [Curve]
    let trace: DiffusionSamplingTrace
    /// Dense masked-token statistics per mask ratio.
    let dense: [WindowStats]
    let finalLoss: Double
    let monotoneIncrease: Double
    let timing: JobTiming

    /// Mean J(M_1, M_S) on generated positions.
    var driftEnd: Double { layerMean(trace.driftGenerated).last ?? .nan }
    /// Mean over steps of the consecutive J on generated positions.
    var consecutiveMean: Double {
        layerMean(trace.consecutiveGenerated).reduce(0, +) / Double(max(trace.consecutiveGenerated.count, 1))
    }
}

/// The mean over layers of each step's row.
func layerMean(_ rows: [[Double]]) -> [Double] { rows.map { $0.reduce(0, +) / Double(max($0.count, 1)) } }

/// Trains the LLaDA-style masked-diffusion LM (ladder size `plan.diffusionSize`, bidirectional, a [MASK] token) on
/// the AR models' tokens, sweeps input and intermediate on fixed seeded masks, and samples with top-p on the
/// intermediate tensor while recording kept masks (docs/papers/activation-sparsity.md §3). Runs as one job of a
/// `JobPool` beside the ladder's.
func diffusionModel(_ setup: CharLMSetup) throws -> DiffusionResult {
    let plan = setup.plan
    let jobClock = Stopwatch()
    var timing = JobTiming()
    let maskID = setup.vocabulary.count
    var initRNG = RNG(seed: UInt64(setup.seed)).derived("init-diffusion")
    let model = CharLlama(size: plan.diffusionSize, vocabularySize: setup.vocabulary.count + 1, causal: false, rng: &initRNG)
    let progress = setup.options.progress("train diffusion \(plan.diffusionSize.name)", total: plan.recipe.steps)
    let losses = timedTraining(&timing) {
        trainLanguageModel(model, recipe: plan.recipe, corpus: setup.train, dataSeed: UInt64(setup.seed) &+ 1000,
                           loss: { m, ids, _, rng in maskedDiffusionLoss(m, windows: ids, length: plan.recipe.length, maskID: maskID, rng: &rng) },
                           onStep: { step, loss in progress.update(step + 1, loss: Double(loss)) })
    }
    progress.finish()
    try checkFinite(Double(losses.last ?? .nan), what: "diffusion training loss", step: plan.recipe.steps)
    let windows = setup.evalWindows.map { Array($0.prefix(plan.evalLength)) }
    var maskRNG = RNG(seed: 2509).derived("diffusion-masks")
    let masks = plan.diffusionMaskRatios.map { fixedMasks(windows: windows.count, length: plan.evalLength, ratio: $0, rng: &maskRNG) }
    func tasks(_ probe: SparsityProbe?) -> [WindowStats] {
        masks.map { m in evaluateMasked(model, windows: windows, masks: m, maskID: maskID, probe: probe).stats.reduce(WindowStats(), +) }
    }
    let dense = tasks(nil)
    var curves: [Curve] = []
    var increase = 0.0
    for target in [SparsityTarget.input, .intermediate] {
        var curve = Curve(model: "diffusion \(plan.diffusionSize.name)", target: target, rule: "top-p")
        var grid: [Double] = [], sparsities: [Double] = []
        for p in plan.ladderPGrid where p < 1 {
            let probe = SparsityProbe(rule: .topP(p), target: target, layerCount: plan.diffusionSize.layers)
            let stats = tasks(probe)
            // The probe counted both mask ratios' forwards.
            let s = probe.counts.sparsity(points: target.points)
            grid.append(p); sparsities.append(s)
            curve.append(parameter: p, sparsity: s, relative: relativePerformance(sparse: stats, dense: dense),
                         input: probe.counts.sparsity(points: [.input]), intermediate: probe.counts.wideSparsity(target))
        }
        increase = max(increase, monotoneIncrease(grid, sparsities))
        curves.append(curve)
    }
    let samplingProbe = SparsityProbe(rule: .topP(plan.samplingP), target: .intermediate, layerCount: plan.diffusionSize.layers)
    let trace = sampleWithMaskTrace(model, windows: Array(windows.prefix(plan.samplingWindows)),
                                    promptLength: plan.evalLength - plan.generatedLength, steps: plan.samplingSteps,
                                    perStep: plan.unmaskPerStep, maskID: maskID, probe: samplingProbe)
    timing.jobSeconds = jobClock.seconds
    return DiffusionResult(curves: curves, trace: trace, dense: dense, finalLoss: meanOfLastTen(losses), monotoneIncrease: increase,
                           timing: timing)
}

/// The trivial baselines of a character model on `test`: the accuracy of always predicting the most frequent
/// character, and the unigram entropy H = −Σ_c f_c ln f_c (nats), the loss of predicting the frequencies.
func unigramBaseline(_ test: TextCorpus, vocabulary: Int) -> (accuracy: Double, entropy: Double) {
    var frequency = [Int](repeating: 0, count: vocabulary)
    for t in test.tokens { frequency[t] += 1 }
    let total = Double(max(test.count, 1))
    let entropy = frequency.reduce(0.0) { h, n in
        let f = Double(n) / total
        return n > 0 ? h - f * Foundation.log(f) : h
    }
    return (Double(frequency.max() ?? 0) / total, entropy)
}

/// How far a model's best dense accuracy is above always predicting the most frequent character: a model within
/// 0.02 of it predicts no better than the unigram and is insensitive to anything, so comparisons of its
/// tolerance or its masks say nothing.
func accuracyAboveUnigram(_ dense: [WindowStats], unigram: Double) -> Double {
    (dense.map(\.accuracy).max() ?? .nan) - unigram
}

/// The paragraph that says so when the diffusion LM is at unigram level (nil otherwise). The LLaDA loss bounds
/// the per-character NLL, so a final loss near the unigram entropy means the same.
func unigramCaveat(_ diffusion: DiffusionResult, partner: LadderResult, unigram: (accuracy: Double, entropy: Double), plan: Plan) -> String? {
    guard accuracyAboveUnigram(diffusion.dense, unigram: unigram.accuracy) <= 0.02 else { return nil }
    let ar = plan.diffusionPartner.name
    return """
        **Caveat:** the diffusion LM's dense masked-token accuracy (\(diffusion.dense.map { String(format: "%.3f", $0.accuracy) }.joined(separator: " / "))) \
        is at the level of always predicting the most frequent character (\(String(format: "%.3f", unigram.accuracy))), and its \
        final training loss (\(String(format: "%.3f", diffusion.finalLoss)) nats, mean of the last 10 steps) is at the \
        unigram entropy of the characters (\(String(format: "%.3f", unigram.entropy)) nats; AR \(ar) \
        reached \(String(format: "%.3f", partner.finalLoss)) on the same tokens). Trained like AR \(ar) \
        (same \(plan.recipe.steps) steps, lr 3e-3, warm-up and cosine, batch \(plan.recipe.batchSize) × \(plan.recipe.length) as AR \
        \(ar)), it has not learned beyond unigram statistics: a masked position sees only \
        [MASK] at its own input, so everything it predicts must come through attention, which has to learn \
        position-selective (RoPE) patterns first, while the AR model reads the previous character from its own \
        residual stream. Its tolerance to sparsity and its mask drift therefore say little about C5: the diffusion \
        claims are reported as computed but are vacuous at this training length. A longer training run \
        (`--train-steps`, a deviation from the design's plan) shows whether it learns beyond unigram statistics.
        """
}
