import ActivationSparsityCore
import Lab
import LabReport

/// Every size of the run at one scale (docs/papers/activation-sparsity.md §2).
struct Plan: Sendable {
    let scale: Scale
    // SmolLM2
    let smolWindowsPerCorpus: Int
    let smolWindowTokens: Int
    /// The first positions of a window are context only; targets at positions ≥ this are scored.
    let smolContext = 16
    let smolPGrid: [Double]
    let ruleWindowsPerCorpus: Int
    /// top-k runs use k = 1 − s_topp(p) at these top-p values (so the points align in sparsity).
    let topKAlignedP: [Double]
    let maxPValues: [Double]
    let singleLayers: [Int]
    let singleLayerP = 0.5
    let layerProfileP = 0.9
    let identityWindowTokens = 64
    // Ladder and diffusion
    let ladder: [LadderSize]
    let recipe: TrainingRecipe
    let evalWindows: Int
    /// Evaluation windows have the training length (RoPE models are not asked to extrapolate).
    var evalLength: Int { recipe.length }
    let evalFirstScored = 8
    let ladderPGrid: [Double]
    let diffusionSize: LadderSize
    let diffusionMaskRatios = [0.15, 0.5]
    let samplingWindows: Int
    let samplingSteps: Int
    let unmaskPerStep = 2
    let samplingP = 0.9
    let erankTokens: Int

    /// `trainSteps` overrides the training length of the ladder and the diffusion LM (warm-up in the design's
    /// proportion: 4 % at full scale, 10 % at smoke), for exploring other lengths (a deviation, stated in REPORT.md).
    init(scale: Scale, layers: Int, trainSteps: Int? = nil) {
        self.scale = scale
        switch scale {
        case .full:
            // The design's full plan (no cut rule needed): 5.1 min wall on an idle 2-core machine with 200 training
            // steps; at 500 steps, with the ladder and the diffusion LM as jobs side by side, an estimated 6.5 min
            // (CPU seconds per section, docs/papers/activation-sparsity.md §2).
            smolWindowsPerCorpus = 3; smolWindowTokens = 256
            smolPGrid = [0.99, 0.98, 0.95, 0.9, 0.8, 0.5]
            ruleWindowsPerCorpus = 2
            topKAlignedP = [0.99, 0.95, 0.9, 0.8]; maxPValues = [0.02, 0.05, 0.1, 0.2]
            singleLayers = Array(0..<layers)
            ladder = LadderSize.all
            // 500 steps, 20 warm-up (the design's revised length: at 200 the diffusion LM stays at unigram level and
            // the ladder's size order is noise).
            recipe = TrainingRecipe(steps: trainSteps ?? 500, batchSize: 24, length: 128, warmupSteps: max(1, (trainSteps ?? 500) / 25))
            evalWindows = 64
            ladderPGrid = [1, 0.995, 0.99, 0.98, 0.97, 0.95, 0.9, 0.85, 0.8, 0.7, 0.5, 0.3, 0]
            diffusionSize = .l3
            samplingWindows = 32; samplingSteps = 16
            erankTokens = 512
        case .smoke:
            smolWindowsPerCorpus = 1; smolWindowTokens = 64
            smolPGrid = [0.9, 0.5]
            ruleWindowsPerCorpus = 1
            topKAlignedP = [0.9]; maxPValues = [0.1]
            singleLayers = [0, layers / 2, layers - 1]
            ladder = [.l1, .l2]
            recipe = TrainingRecipe(steps: trainSteps ?? 30, batchSize: 8, length: 64, warmupSteps: max(1, (trainSteps ?? 30) / 10))
            evalWindows = 8
            ladderPGrid = [1, 0.9, 0.5]
            diffusionSize = .l2
            samplingWindows = 4; samplingSteps = 4
            erankTokens = 128
        }
    }

    /// The AR partner of the diffusion LM: the ladder model of the same size.
    var diffusionPartner: LadderSize { diffusionSize }
    var generatedLength: Int { samplingSteps * unmaskPerStep }
}
