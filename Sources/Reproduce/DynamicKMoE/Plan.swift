import DynamicKMoECore
import Lab
import LabRun

/// Every size of the run at one scale (docs/papers/dynamic-k-moe.md §2–§3).
struct Plan {
    let scale: Scale
    let config: (width: Int, layers: Int, heads: Int, ffnWidth: Int, context: Int)
    /// Dense GELU pretraining: AdamW lr 3e-3, warm-up then cosine to 10 %.
    let pretraining: TrainingRecipe
    /// The four fine-tunes: AdamW lr 3e-4, cosine to 10 % without warm-up, from the pretrained checkpoint.
    let fineTuning: TrainingRecipe
    /// The square-Hoyer weights of relu-mid (the D2DMoE model) and relu-high (docs/papers/dynamic-k-moe.md §3).
    let alphaMid: Double
    let alphaHigh = 3e-3
    /// Expert counts E of the splits; `mainExperts` is the paper's main setting (s = 8 at full scale) and
    /// `coarseExperts` the larger experts of the small-experts-help comparison.
    let expertCounts: [Int]
    let mainExperts: Int
    let coarseExperts: Int
    let kMeansIterations = 20
    let routerHidden = 32
    let routerSteps: Int
    let routerBatch: Int
    let routerLearningRate: Float = 1e-3
    /// Training windows (× the context length) whose FFN inputs and activations are cached for the routers.
    let cacheWindows: Int
    let tauGrid: [Double]
    /// k values of the top-k sweeps; those ≤ E are used, plus E itself.
    let kGrid: [Int]
    let evalWindows: Int
    /// Evaluation windows hold `evalLength` characters: inputs are the first evalLength − 1, targets at positions
    /// ≥ evalFirstScored are scored.
    var evalLength: Int { config.context }
    let evalFirstScored = 8
    /// Mean causal context T̄ of the whole-model cost (keys per query, averaged over positions 1…T).
    var meanContext: Double { Double(config.context + 1) / 2 }
    /// The budgets of the comparisons and of table-budgets (FFN cost fractions).
    let budgets = [0.25, 0.5, 0.75]

    /// The design's plan at `scale`. `sideRun` overrides α_mid and the fine-tunes' length and learning rate for the
    /// investigation of failing claims (docs/papers/dynamic-k-moe.md §8); nil fields keep the design's values.
    init(scale: Scale, sideRun: SideRun = SideRun()) {
        self.scale = scale
        alphaMid = sideRun.alphaMid ?? 1e-3
        switch scale {
        case .full:
            config = (128, 4, 4, 512, 128)
            pretraining = TrainingRecipe(steps: 500, batchSize: 24, length: 128, warmupSteps: 30)
            fineTuning = TrainingRecipe(steps: sideRun.fineTuneSteps ?? 80, batchSize: 24, length: 128, warmupSteps: 0,
                                        learningRate: sideRun.fineTuneLearningRate ?? 3e-4)
            expertCounts = [16, 64, 128]; mainExperts = 64; coarseExperts = 16
            routerSteps = 500; routerBatch = 1024
            cacheWindows = 256
            tauGrid = [0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
            kGrid = [1, 2, 4, 8, 16, 32]
            evalWindows = 64
        case .smoke:
            config = (64, 2, 4, 256, 64)
            pretraining = TrainingRecipe(steps: 40, batchSize: 8, length: 64, warmupSteps: 4)
            fineTuning = TrainingRecipe(steps: sideRun.fineTuneSteps ?? 10, batchSize: 8, length: 64, warmupSteps: 0,
                                        learningRate: sideRun.fineTuneLearningRate ?? 3e-4)
            expertCounts = [8, 16]; mainExperts = 16; coarseExperts = 8
            routerSteps = 30; routerBatch = 256
            cacheWindows = 32
            tauGrid = [0, 0.2, 0.5, 0.9]
            kGrid = [1, 4]
            evalWindows = 16
        }
    }

    /// The k values of a top-k sweep over E experts: the grid's values below E, then E.
    func kValues(experts: Int) -> [Int] { kGrid.filter { $0 < experts } + [experts] }

    func gptConfig(vocabularySize: Int) -> GPTConfig {
        GPTConfig(width: config.width, layers: config.layers, heads: config.heads, ffnWidth: config.ffnWidth, context: config.context,
                  vocabularySize: vocabularySize)
    }
}

/// Overrides of a side run (docs/papers/dynamic-k-moe.md §8): every non-nil field is a deviation from the design.
struct SideRun {
    var alphaMid: Double?
    var fineTuneSteps: Int?
    var fineTuneLearningRate: Float?

    /// The overrides as command-line text, e.g. "--alpha-mid 0.01 --fine-tune-steps 240"; empty for the design.
    var flags: String {
        [alphaMid.map { "--alpha-mid \($0)" }, fineTuneSteps.map { "--fine-tune-steps \($0)" },
         fineTuneLearningRate.map { "--fine-tune-lr \($0)" }].compactMap { $0 }.joined(separator: " ")
    }
}
