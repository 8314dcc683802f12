import LabRun
import SafetyProbeCore

/// What one scale runs (docs/papers/safety-probe.md §2). Full: the design's pool (2,041 prompts under P1: dna-id's
/// 667 lines hold one duplicate after normalisation, so 666 remain; a common pool of 780 under P1/P2/P3), 3 seeds, self-judgement 40 per set, generation 24 per set × 40 tokens;
/// smoke: the same code on a pool of 120, a common pool of 48, 1 seed, 4 per set and 2 per set × 8 tokens.
struct Plan {
    let sizes: PoolSizes
    let seedCount: Int
    /// Self-judgement prompts per set (dna-id test of the first seed, harmbench, faq, alarming).
    let judgementPerSet: Int
    /// Generation prompts per set (the same four sets) and new tokens per answer.
    let generationPerSet: Int
    let generationTokens: Int
    /// Layers of the MLP and Mahalanobis per-layer curves (fig-per-layer b) and of the MLP's R2 search.
    let coarseLayers = Array(stride(from: 0, through: 30, by: 5))
    /// The runtime checks: prompts of the cached-vs-recomputed state check, and of the greedy check with its tokens.
    let cacheStatePrompts = 4, cacheGreedyPrompts = 2, cacheGreedyTokens = 16
    /// Data seed of the pool (fixed for all run seeds).
    static let dataSeed: UInt64 = 1234

    init(scale: Scale) {
        switch scale {
        case .full:
            sizes = PoolSizes(
                pool: [.dnaID: 666, .dnaOther: 100, .harmbench: 200, .tense: 200, .benignID: 500, .faq: 175, .alarming: 200],
                common: [.dnaID: 240, .benignID: 240, .harmbench: 80, .tense: 60, .faq: 80, .alarming: 80])
            (seedCount, judgementPerSet, generationPerSet, generationTokens) = (3, 40, 24, 40)
        case .smoke:
            sizes = PoolSizes(
                pool: [.dnaID: 32, .dnaOther: 0, .harmbench: 16, .tense: 8, .benignID: 32, .faq: 16, .alarming: 16],
                common: [.dnaID: 12, .benignID: 12, .harmbench: 6, .tense: 6, .faq: 6, .alarming: 6])
            (seedCount, judgementPerSet, generationPerSet, generationTokens) = (1, 4, 2, 8)
        }
    }
}
