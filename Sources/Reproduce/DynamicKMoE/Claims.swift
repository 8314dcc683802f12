import DynamicKMoECore
import Foundation
import Lab
import LabReport

/// What the claims read.
struct Measurements {
    let tuned: [Variant: FineTuned]
    let conversions: Conversions
    let sweeps: Sweeps
    let load: LoadPoint
    let reference: Double
    let unigram: Double
    let pretrainingLosses: [Float]
    let plan: Plan
    let seed: Int
}

/// The claims of docs/papers/dynamic-k-moe.md §5, with its thresholds.
func addClaims(to report: Report, _ m: Measurements) throws {
    let seeds = [m.seed]
    let plan = m.plan
    let sweeps = m.sweeps

    // Exact: the conversion, the partition, the cost counter.
    // The expert-by-expert MoE of every split, and the masked sweep points that select every expert (τ = 0 of
    // D2DMoE, k = E of MoEfication), against the dense model they were converted from.
    func error(_ point: SweepPoint, _ variant: Variant) -> (relativeCE: Double, logit: Double) {
        let dense = m.tuned[variant]!.dense
        return (abs(point.point.crossEntropy - dense.stats.meanNLL) / dense.stats.meanNLL,
                zip(point.evaluation.logits, dense.logits).reduce(0.0) { max($0, Double(abs($1.0 - $1.1))) })
    }
    let sweepErrors = sweeps.d2dmoe.values.flatMap { $0 }.filter { $0.gating == .dynamicK(tau: 0) }.map { error($0, .reluMid) }
        + sweeps.moefication.flatMap { experts, points in points.filter { $0.gating == .topK(experts) }.map { error($0, .relu0) } }
    let relativeCE = m.conversions.exactness.map(\.relativeCE) + sweepErrors.map(\.relativeCE)
    let logitErrors = m.conversions.exactness.map(\.logit) + sweepErrors.map(\.logit)
    try report.claim(Claim(
        id: "moe-exact-all-experts", statement: "with every expert selected the MoE equals the dense model",
        measured: relativeCE.max()!, .atMost(1e-5),
        and: [Condition("max |Δlogit|", measured: logitErrors.max()!, .atMost(1e-4))],
        kind: .exact, seeds: seeds,
        note: "with all experts selected vs the dense model: the MoE computed expert by expert (Σ_e W2_e a_e + b2, one GEMM per expert) on the \(m.conversions.exactness.count) splits (\(m.conversions.exactness.map(\.name).joined(separator: ", "))) and the masked evaluation at τ = 0 (D2DMoE) and k = E (MoEfication): max |CE_moe − CE_dense|/CE_dense and max |Δlogit|",
        whenFails: "the expert-by-expert sum differs from the dense FFN beyond Float32 rounding: a neuron is missing or counted twice"))
    let misassigned = m.conversions.splits.flatMap { $0.partitions.map(\.misassignedNeurons) }.reduce(0, +)
    let deviation = m.conversions.splits.flatMap { $0.partitions.map(\.maxSizeDeviation) }.max() ?? 0
    try report.claim(Claim(
        id: "balanced-split", statement: "every split is a partition into equal experts",
        measured: Double(misassigned), .equal(0), and: [Condition("max |size − m/E|", measured: Double(deviation), .equal(0))],
        kind: .exact, seeds: seeds,
        note: "neurons assigned twice or never, summed over the \(m.conversions.splits.count) splits × \(plan.config.layers) layers; largest deviation of an expert's size from m/E"))
    let flopErrors = sweeps.d2dmoe.flatMap { experts, points in
        points.filter { $0.gating == .dynamicK(tau: 0) }.map { point -> Double in
            let cost = MoECost(width: plan.config.width, ffnWidth: plan.config.ffnWidth, experts: experts, routerHidden: plan.routerHidden)
            return abs(point.point.cost - (1 + cost.router / cost.denseFFN))
        }
    }
    try report.claim(Claim(
        id: "flops-all-experts", statement: "the cost counter matches the analytic cost",
        measured: flopErrors.max()!, .atMost(1e-9), kind: .exact, seeds: seeds,
        note: "|c(τ = 0) − (1 + R/F)| over the D2DMoE conversions; R/F = \(plan.expertCounts.map { e in formatNumber(MoECost(width: plan.config.width, ffnWidth: plan.config.ffnWidth, experts: e, routerHidden: plan.routerHidden).router / Double(4 * plan.config.width * plan.config.ffnWidth)) }.joined(separator: " / ")) for E = \(plan.expertCounts.map(String.init).joined(separator: " / "))"))

    // Paper claims: each says something only about a model that learned the task (the dense reference beats the
    // unigram baseline on the test windows).
    let learned = [Condition("gelu-ref CE − unigram CE (nats/char)", measured: m.reference - m.unigram, .lessThan(0))]
    let density = Dictionary(uniqueKeysWithValues: [Variant.relu0, .reluMid, .reluHigh].map { ($0, m.tuned[$0]!.density) })
    let setupText = "pretraining \(plan.pretraining.steps) steps (final loss \(formatNumber(meanOfLast(m.pretrainingLosses, 10)))), fine-tunes \(plan.fineTuning.steps) steps at lr \(plan.fineTuning.learningRate), α_mid \(plan.alphaMid), α_high \(plan.alphaHigh)"
    try report.claim(Claim(
        id: "hoyer-sparsifies", statement: "square-Hoyer enforcement raises activation sparsity",
        measured: density[.relu0]!.mean - density[.reluMid]!.mean, .atLeast(0.10), given: learned, seeds: seeds,
        note: "mean zero fraction of relu-mid − relu-0 (per-token densities pooled over layers, test windows)",
        whenFails: "relu-0 density \(formatNumber(density[.relu0]!.mean)), relu-mid \(formatNumber(density[.reluMid]!.mean)): α_mid = \(plan.alphaMid) over \(plan.fineTuning.steps) steps (warm-up over half of them) sparsifies less than 10 points; α_high = \(plan.alphaHigh) gains \(formatNumber(density[.relu0]!.mean - density[.reluHigh]!.mean)) (\(setupText)); side runs on α, fine-tune length and lr: docs/papers/dynamic-k-moe.md §8"))
    try report.claim(Claim(
        id: "density-varies", statement: "per-token density varies (motivates dynamic-k)",
        measured: density[.reluMid]!.cv, .atLeast(0.2), given: learned, seeds: seeds,
        note: "coefficient of variation of per-token density of relu-mid (pooled over layers)",
        whenFails: "relu-mid's per-token density has mean \(formatNumber(density[.reluMid]!.mean)) and std \(formatNumber(density[.reluMid]!.std))"))
    let densities = [density[.relu0]!.mean, density[.reluMid]!.mean, density[.reluHigh]!.mean]
    try report.claim(Claim(
        id: "alpha-monotone", statement: "stronger α → sparser",
        measured: max(densities[1] - densities[0], densities[2] - densities[1]), .lessThan(0), given: learned, seeds: seeds,
        note: "largest step of mean density along α = 0, α_mid, α_high (\(densities.map(formatNumber).joined(separator: " → "))); strictly decreasing iff < 0",
        whenFails: "mean densities \(densities.map(formatNumber).joined(separator: ", ")) for α = 0, \(plan.alphaMid), \(plan.alphaHigh)"))

    let d2dmoe = sweeps.d2dmoeCurve
    let half = d2dmoe.clampedCrossEntropy(atBudget: 0.5)
    try report.claim(Claim(
        id: "d2dmoe-saves-compute", statement: "large savings without significant loss",
        measured: half.value / m.reference, .atMost(1.02),
        and: [Condition("D2DMoE reaches 50 % FFN cost (1 = yes)", measured: half.reached ? 1 : 0, .equal(1))],
        given: learned, seeds: seeds,
        note: "D2DMoE (E = \(plan.mainExperts)) CE at 50 % FFN cost / reference CE (\(formatNumber(m.reference)))"
            + (half.reached ? "" : "; 50 % not reached: CE at the curve's nearest point"),
        whenFails: "D2DMoE's CE at 50 % cost is \(half.reached ? formatNumber(half.value) : "not reached") vs the reference \(formatNumber(m.reference)); relu-mid's own dense CE is \(formatNumber(m.tuned[.reluMid]!.dense.stats.meanNLL)) (\(setupText))"))
    func pairClaim(_ id: String, _ statement: String, _ a: CostCurve, _ b: CostCurve, budgets: [Double], whenFails: String) throws {
        let compared = budgets.map { crossEntropyDifference(a, b, atBudget: $0) }
        let differences = compared.map(\.difference)
        let unreached = zip(budgets, compared).filter { !$0.1.firstReached }.map { "\(Int(100 * $0.0)) %" }
        try report.claim(Claim(
            id: id, statement: statement, measured: differences[0], .atMost(0),
            and: zip(budgets, differences).dropFirst().map { Condition("CE difference at \(Int(100 * $0.0)) %", measured: $0.1, .atMost(0)) }
                + [Condition("budgets \(a.method) does not reach", measured: Double(unreached.count), .equal(0))],
            given: learned, seeds: seeds,
            note: "CE(\(a.method)) − CE(\(b.method)) at \(budgets.map { "\(Int(100 * $0)) %" }.joined(separator: " and ")) FFN cost, E = \(a.experts) vs \(b.experts); "
                + "a curve that does not reach a budget is read at its nearest point"
                + (unreached.isEmpty ? "" : " (\(a.method) does not reach \(unreached.joined(separator: ", ")): a loss)"),
            whenFails: "\(whenFails); CE differences \(differences.map(formatNumber).joined(separator: ", "))"))
    }

    try pairClaim("d2dmoe-beats-moefication", "better trade-off than MoEfication", d2dmoe, sweeps.moeficationCurve, budgets: [0.25, 0.5],
                  whenFails: "MoEfication's static top-k on relu-0 matches or beats D2DMoE here")
    try pairClaim("dynamic-k-beats-topk", "dynamic-k beats top-k with the same router", d2dmoe, sweeps.topKCurve, budgets: [0.25, 0.5],
                  whenFails: "with the same norm router a fixed k is as good as the τ rule (router final MSE \(formatNumber(m.conversions.d2dmoe[plan.mainExperts]!.losses.last ?? .nan)))")
    // CE(D2DMoE) − CE(no enforcement) at a budget = the dense CE relu-mid pays for the penalty + the difference of
    // the two conversions' losses above their own dense model's CE; the failure text gives both parts.
    let enforcementDenseCost = m.tuned[.reluMid]!.dense.stats.meanNLL - m.tuned[.relu0]!.dense.stats.meanNLL
    let conversionGains = [0.25, 0.5].map { crossEntropyDifference(d2dmoe, sweeps.noEnforcementCurve, atBudget: $0).difference - enforcementDenseCost }
    try pairClaim("enforcement-helps", "sparsity enforcement helps", d2dmoe, sweeps.noEnforcementCurve, budgets: [0.25, 0.5],
                  whenFails: "the Hoyer fine-tune (\(plan.fineTuning.steps) steps) lowers the mean density from \(formatNumber(density[.relu0]!.mean)) to \(formatNumber(density[.reluMid]!.mean)) but costs dense CE (relu-mid \(formatNumber(m.tuned[.reluMid]!.dense.stats.meanNLL)) vs relu-0 \(formatNumber(m.tuned[.relu0]!.dense.stats.meanNLL)): \(formatNumber(enforcementDenseCost)) nats); each CE difference is that dense cost plus the difference of the conversions' losses above their own dense CE (D2DMoE's − no enforcement's): \(formatNumber(conversionGains[0])) at 25 %, \(formatNumber(conversionGains[1])) at 50 %, so enforcement helps only where its conversion gain exceeds its dense cost; side runs on α, fine-tune length and lr: docs/papers/dynamic-k-moe.md §8")
    try pairClaim("norm-router-beats-bce", "regression on norms beats BCE", d2dmoe, sweeps.bceRouterCurve, budgets: [0.5],
                  whenFails: "the BCE router's σ(z) ranks experts as well as the norm router at this scale")
    try pairClaim("small-experts-help", "D2DMoE benefits from smaller experts", d2dmoe,
                  sweeps.curve("D2DMoE", experts: plan.coarseExperts, sweeps.d2dmoe[plan.coarseExperts]!), budgets: [0.5],
                  whenFails: "E = \(plan.mainExperts)'s router overhead (\(formatPercent(MoECost(width: plan.config.width, ffnWidth: plan.config.ffnWidth, experts: plan.mainExperts, routerHidden: plan.routerHidden).router / Double(4 * plan.config.width * plan.config.ffnWidth)))) or its harder routing outweighs the finer granularity")
    try report.claim(Claim(
        id: "layer-load-varies", statement: "compute differs across layers and tokens",
        measured: m.load.layerRatio, .atLeast(1.3), and: [Condition("mean over layers of the per-token std of k/E", measured: m.load.tokenStd, .atLeast(0.05))],
        given: learned, seeds: seeds,
        note: "D2DMoE (E = \(plan.mainExperts)) at \(m.load.point.point.parameter) (FFN cost \(formatPercent(m.load.point.point.cost)), the τ closest to 50 %): max/min over layers of k̄_ℓ/E; mean over layers of the std over tokens of k(x)/E",
        whenFails: "per-layer k̄/E = \(m.load.point.evaluation.meanSelected.map { formatNumber($0 / Double(plan.mainExperts)) }.joined(separator: ", "))"))
}

