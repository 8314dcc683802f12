import ActivationSparsityCore
import Foundation
import Lab
import LabRun

/// What the claims read, measured by main.swift.
struct Measurements {
    /// The decoded top-1 token after "The capital of France is".
    let parisToken: String
    let smolLM2IdentityError: Double
    let ladderIdentityError: Double
    /// The largest rise of sparsity from one grid p to the next smaller one, over every sweep.
    let monotoneIncrease: Double
    /// SmolLM2's critical sparsity per target (both corpora).
    let critical: [SparsityTarget: Double]
    /// Mean over targets of each ladder model's critical sparsity, smallest model first.
    let meanCritical: [Double]
    let sizeRho: Double
    /// Mean over input and intermediate of r_topp(s*) − r_topk(s*).
    let ruleGap: Double
    /// r with every layer sparsified (all_inputs, the single-layer study's p) on the single-layer windows.
    let allLayerR: Double
    /// min over layers of single-layer r − all-layer r.
    let singleLayerMargin: Double
    /// Mean over input and intermediate of crit_diffusion − crit_AR.
    let diffusionGap: Double
    /// Best dense accuracy above always predicting the most frequent character: the diffusion LM (masked tokens,
    /// best mask ratio) and its AR partner (next character).
    let diffusionAboveUnigram: Double
    let partnerAboveUnigram: Double
    let driftEnd: Double
    let consecutiveMean: Double

    var sizeDifference: Double { (meanCritical.last ?? .nan) - (meanCritical.first ?? .nan) }
}

/// The claims of docs/papers/activation-sparsity.md §5, each with what its failure means here (a failing claim
/// stays failing: it is a finding) and, where a comparison can be vacuous, the precondition that makes it
/// meaningful (else the verdict is inconclusive).
func addClaims(to report: Report, _ m: Measurements, plan: Plan, seed: Int) throws {
    let crit = m.critical
    func format(_ x: Double) -> String { String(format: "%.3f", x) }
    let meanCrit = m.meanCritical.map(format).joined(separator: ", ")
    let exactFailure = "An exact check failed: a bug to fix."
    // A model within 0.02 of the most-frequent-character rate has learned nothing its sparsity could disturb.
    let beyondUnigram = [
        Condition("diffusion \(plan.diffusionSize.name) dense masked-token accuracy − most-frequent-character rate",
                  measured: m.diffusionAboveUnigram, .greaterThan(0.02)),
        Condition("AR \(plan.diffusionPartner.name) dense accuracy − most-frequent-character rate", measured: m.partnerAboveUnigram, .greaterThan(0.02)),
    ]
    let claims = [
        Claim(id: "gguf-paris", statement: "GGUF runtime is correct: top-1 after \"The capital of France is\" is \" Paris\"",
              measured: m.parisToken == " Paris" ? 1 : 0, .equal(1), kind: .exact, seeds: [seed],
              note: "measured 1 when the decoded top-1 token is \" Paris\" (got \"\(m.parisToken)\")", whenFails: exactFailure),
        Claim(id: "dense-at-p1", statement: "top-p with p = 1 is the identity (max |Δlogit| vs dense, all targets)",
              measured: max(m.smolLM2IdentityError, m.ladderIdentityError), .atMost(1e-5), kind: .exact, seeds: [seed],
              note: "SmolLM2 on one \(plan.identityWindowTokens)-token window (\(m.smolLM2IdentityError)), ladder on all windows (\(m.ladderIdentityError))",
              whenFails: exactFailure),
        Claim(id: "sparsity-monotone", statement: "larger p never raises sparsity (max increase between consecutive grid p)",
              measured: m.monotoneIncrease, .atMost(0.005), kind: .exact, seeds: [seed], whenFails: exactFailure),
        Claim(id: "universal-sparsity", statement: "C1: every target has useful training-free sparsity (min SmolLM2 crit over 5 targets)",
              measured: crit.values.min()!, .atLeast(0.10), seeds: [seed],
              note: SparsityTarget.allCases.map { "\($0.rawValue) \(format(crit[$0]!))" }.joined(separator: ", "),
              whenFails: """
                  At 135 M parameters SmolLM2's FFN input and gate/up projections are dense in magnitude: even top-p 0.99 \
                  zeroes only the smallest ~10 % of entries and r drops quickly; the paper reports the smallest critical \
                  sparsities for its smallest models (C2), and our r (next-token accuracy and NLL on raw text) is a \
                  stricter task than most lm-eval multiple-choice tasks.
                  """),
        Claim(id: "input-tolerates-more", statement: "C3: input tolerates at least the sparsity of gate and up (crit_in − max(crit_gate, crit_up))",
              measured: crit[.input]! - max(crit[.gate]!, crit[.up]!), .atLeast(-0.02), seeds: [seed],
              whenFails: """
                  The input tensor of this small model is less tolerant than gate/up on our tasks: crit input \
                  \(format(crit[.input]!)), gate \(format(crit[.gate]!)), up \(format(crit[.up]!)). SmolLM2's numbers do not \
                  depend on the seed, only on the evaluation windows (the plan's \(plan.smolWindowsPerCorpus)+\(plan.smolWindowsPerCorpus)).
                  """),
        Claim(id: "input-most-practical", statement: "C3: input saves the most FFN FLOPs of the single-matrix targets ((2/3)crit_in − (1/3)crit_int)",
              measured: 2.0 / 3 * crit[.input]! - 1.0 / 3 * crit[.intermediate]!, .greaterThan(0), seeds: [seed],
              whenFails: """
                  SmolLM2's intermediate tensor h = SiLU(W_g x) ⊙ W_u x is far more compressible than its input x: crit_int \(format(crit[.intermediate]!)) vs crit_in \
                  \(format(crit[.input]!)), so skipping W_d columns at crit_int saves more than skipping W_g/W_u \
                  columns at crit_in. The paper's claim rests on larger models where crit_in is much higher.
                  """),
        Claim(id: "size-scaling", statement: "C2: critical sparsity grows with size (Spearman ρ(params, mean crit) over the ladder; crit(L4) − crit(L1))",
              measured: m.sizeRho, .atLeast(0.8),
              and: [Condition("mean crit of the largest − smallest ladder model", measured: m.sizeDifference, .atLeast(0.02))],
              seeds: [seed], note: "mean crit per size: \(meanCrit)",
              whenFails: """
                  The ladder spans only 28 k - 800 k parameters trained for \(plan.recipe.steps) steps (docs/papers/activation-sparsity.md \
                  §7, risk 2). Mean crit per size \(meanCrit): when these lie within a few hundredths of each other their \
                  order moves with the seed, even though the larger models reach a lower test NLL (ladder table). Longer \
                  training (`--train-steps`, a deviation from the design) separates the sizes.
                  """),
        Claim(id: "topp-vs-topk", statement: "top-p is at least as good as top-k at equal sparsity (mean over input, intermediate of r_topp(s*) − r_topk(s*))",
              measured: m.ruleGap, .atLeast(-0.005), seeds: [seed],
              whenFails: "At matched sparsity top-k did better than top-p on these windows (paired, same windows)."),
        // With every layer sparsified the model may be destroyed (r near 0); then any single layer is trivially
        // milder, so the comparison needs an all-layer reference that keeps at least half the dense performance.
        Claim(id: "single-layer-milder", statement: "one sparsified layer hurts less than all (min over layers of single-layer r − all-layer r, all_inputs p = \(plan.singleLayerP))",
              measured: m.singleLayerMargin, .atLeast(0),
              given: [Condition("all-layer r, all_inputs p = \(plan.singleLayerP)", measured: m.allLayerR, .atLeast(0.5))], seeds: [seed],
              whenFails: m.allLayerR < 0.5
                  ? "With every layer sparsified at p = \(plan.singleLayerP) the model keeps r = \(format(m.allLayerR)): nothing is left to compare one layer against."
                  : "Sparsifying one layer at p = \(plan.singleLayerP) hurt more than sparsifying all layers for some layer."),
        Claim(id: "diffusion-non-inferior", statement: "C5: the masked-diffusion LM is as tolerant as the AR model of its size (mean over input, intermediate of crit_diff − crit_AR)",
              measured: m.diffusionGap, .atLeast(-0.05), given: beyondUnigram, seeds: [seed],
              whenFails: m.diffusionAboveUnigram <= 0.02 || m.partnerAboveUnigram <= 0.02
                  ? "A model at unigram level is insensitive to sparsity (caveat in the diffusion section): its tolerance says nothing about C5."
                  : "The masked-diffusion LM tolerated less sparsity than the AR model of its size."),
        Claim(id: "diffusion-masks-drift", statement: "C5: kept-neuron masks change across denoising steps (mean J(M_1, M_S) on generated positions)",
              measured: m.driftEnd, .atMost(0.9),
              and: [Condition("mean consecutive J − J(M_1, M_S)", measured: m.consecutiveMean - m.driftEnd, .greaterThan(0))],
              given: [beyondUnigram[0]], seeds: [seed],
              whenFails: """
                  Kept masks of the generated positions stayed nearly fixed across denoising steps (or the last-step drift \
                  exceeded the mean consecutive similarity), unlike LLaDA-8B in the paper. When the diffusion LM is at \
                  unigram level (caveat in the diffusion section) its activations hardly depend on the context, so the \
                  masks cannot drift much: this is a training-length finding, not evidence against C5.
                  """),
    ]
    for claim in claims { try report.claim(claim) }
}
