// Exploiting Activation Sparsity with Dense to Dynamic-k Mixture-of-Experts Conversion (v1: SADMoE). Szatkowski,
// Wójcik, Piórczyński, Scardapane, NeurIPS 2024, arXiv 2310.04361; code: bartwojcik/D2DMoE.
//
// D2DMoE turns a dense transformer's FFNs into mixtures of experts that run a per-token number of experts:
// (1) the FFN activation becomes ReLU and the model is fine-tuned with a square-Hoyer penalty that makes the
// activations sparser; (2) each FFN's neurons are split into equal experts by balanced k-means on the rows of W1;
// (3) a small router per layer regresses every expert's output norm; (4) dynamic-k runs the experts whose predicted
// norm is at least τ times the largest. Against MoEfication (static top-k, router trained with BCE on summed
// activations) it reaches a better cost–quality trade-off. This script reproduces, on a char-level GPT-2-style
// model trained here on KJV (docs/papers/dynamic-k-moe.md):
//   the activation-density histograms (paper Fig. 2), CE and accuracy vs FFN cost for D2DMoE and MoEfication
//   (Fig. 3), the ablations (enforcement, dynamic-k, norm regression), the α sweep, the expert-size sweep and the
//   per-layer / per-token load, with every claim of docs/papers/dynamic-k-moe.md §5.
// Scaled down (docs/papers/dynamic-k-moe.md §2): a 0.8 M-parameter 4-layer char GPT-2 pretrained for 500 steps
// instead of GPT-2 on OpenWebText; 80-step fine-tunes; cost counted analytically (FLOPs of the matmuls), not timed.
// Every number in REPORT.md, claims.json and the figures is computed by this run.
import DynamicKMoECore
import Foundation
import Lab
import LabData
import LabRun

struct DynamicKMoE: PaperCommand {
    static let paper = Paper(
        arXiv: "2310.04361",
        title: "Exploiting Activation Sparsity with Dense to Dynamic-k Mixture-of-Experts Conversion",
        command: "dynamic-k-moe",
        reproduces: """
            Fig. 2 (activation density), Fig. 3 (CE / accuracy vs FFN cost, D2DMoE vs MoEfication), the ablations \
            (sparsity enforcement, dynamic-k vs top-k, norm regression vs BCE), the α and expert-size sweeps and the \
            per-layer load, on a char-level GPT-2-style model (0.8 M parameters) trained on KJV instead of GPT-2 on \
            OpenWebText; cost is counted analytically.
            """)
    @OptionGroup var options: RunOptions
    // Side-run overrides for the investigation of the failing claims (docs/papers/dynamic-k-moe.md §8); the
    // committed figures never use them.
    @Option(parsing: .unconditional, help: ArgumentHelp("""
        Side runs only: the square-Hoyer weight α_mid of relu-mid, the D2DMoE model (default: the design's 0.001; \
        α_high stays 0.003). Any other value is a deviation from the design, stated in REPORT.md.
        """, valueName: "α"))
    var alphaMid: Double?
    @Option(parsing: .unconditional, help: ArgumentHelp("""
        Side runs only: steps of each of the four fine-tunes (default: the design's 80 at full scale, 10 at smoke). \
        Any other value is a deviation from the design, stated in REPORT.md.
        """, valueName: "n"))
    var fineTuneSteps: Int?
    @Option(name: .customLong("fine-tune-lr"), parsing: .unconditional, help: ArgumentHelp("""
        Side runs only: peak AdamW learning rate of the four fine-tunes (default: the design's 0.0003). Any other \
        value is a deviation from the design, stated in REPORT.md.
        """, valueName: "lr"))
    var fineTuneLearningRate: Float?

    var sideRun: SideRun { SideRun(alphaMid: alphaMid, fineTuneSteps: fineTuneSteps, fineTuneLearningRate: fineTuneLearningRate) }

    func validate() throws {
        // As for the shared flags, a side-run flag given twice is an error, not "the last one wins".
        try rejectRepeatedFlags(Array(CommandLine.arguments.dropFirst()), flags: ["--alpha-mid", "--fine-tune-steps", "--fine-tune-lr"],
                                valueless: [])
        if let alphaMid, !(alphaMid.isFinite && alphaMid >= 0) {
            throw ValidationError("--alpha-mid must be a finite number ≥ 0, got \(alphaMid)")
        }
        if let fineTuneSteps, fineTuneSteps < 1 { throw ValidationError("--fine-tune-steps must be at least 1, got \(fineTuneSteps)") }
        if let fineTuneLearningRate, !(fineTuneLearningRate.isFinite && fineTuneLearningRate > 0) {
            throw ValidationError("--fine-tune-lr must be a finite number > 0, got \(fineTuneLearningRate)")
        }
    }

    func reproduce(in report: Report) throws {
        let plan = Plan(scale: options.scale, sideRun: sideRun)
        let seed = report.seeds[0]
        func log(_ text: String) { if !options.quiet { FileHandle.standardError.write(Data("dynamic-k-moe: \(text)\n".utf8)) } }
        report.text("""
            Dense to dynamic-k MoE conversion (D2DMoE) of a char-level GPT-2-style decoder, against MoEfication. Scale: \
            **\(options.scale.rawValue)**, seed \(seed). FFN cost fraction c = Σ_ℓ (R + k̄_ℓ·4ds) / Σ_ℓ 4dm = R/F + mean_ℓ k̄_ℓ/E \
            (FLOPs = 2 × multiply-adds of the matmuls; router R = 2dh + 2hE counted; biases and activations not counted; \
            docs/papers/dynamic-k-moe.md §3). CE is the mean next-character cross-entropy (nats/char) on \(plan.evalWindows) \
            fixed KJV-test windows of \(plan.evalLength) characters, positions ≥ \(plan.evalFirstScored) scored.
            """)
        if !sideRun.flags.isEmpty {
            let design = Plan(scale: options.scale)
            report.text("""
                **Deviation from the design (side run):** `\(sideRun.flags)`: α_mid \(plan.alphaMid) (design \(design.alphaMid)), \
                fine-tunes of \(plan.fineTuning.steps) steps (design \(design.fineTuning.steps)) at lr \(plan.fineTuning.learningRate) \
                (design \(design.fineTuning.learningRate)). The claims below are this run's; the committed figures use the design's \
                values (docs/papers/dynamic-k-moe.md §8).
                """)
        }

        // MARK: Data
        // KJV, one verse per line; train = the first 95 % of characters (cut at a verse end), test = the rest; fixed
        // seeded test windows, the same for every model and setting (paired comparisons).
        let setup = try report.section("Data") { () throws -> Setup in
            let verses = try TextFiles.kjvVerses()
            let corpus = try TextCorpus(text: verses.joined(separator: "\n") + "\n")
            let (train, test) = corpus.split(trainFraction: 0.95)
            var rng = RNG(seed: UInt64(seed)).derived("eval-windows")
            let starts = test.windowStarts(count: plan.evalWindows, length: plan.evalLength, rng: &rng)
            report.text("""
                KJV: \(verses.count) verses, \(corpus.count) characters, character vocabulary \(corpus.vocabulary.count); \
                train = the first \(train.count) characters, test = the last \(test.count).
                """)
            return Setup(plan: plan, seed: seed, train: train.tokens, vocabularySize: corpus.vocabulary.count,
                         evalWindows: starts.map { Array(test.tokens[$0..<$0 + plan.evalLength]) }, options: options)
        }

        // MARK: Dense GELU pretraining
        // The dense model every variant starts from: GPT-2's recipe at char scale.
        let (base, pretrainingLosses) = try report.section("Dense GELU pretraining") { () throws -> (CharGPT, [Float]) in
            let (model, losses) = try pretrain(setup)
            let dense = setup.evaluateDense(model)
            report.text("""
                \(model.parameterCount) parameters (d = \(plan.config.width), \(plan.config.layers) pre-LN blocks, \(plan.config.heads) heads, \
                m = \(plan.config.ffnWidth), context \(plan.config.context), tied embeddings, learned positions); \(plan.pretraining.steps) AdamW \
                steps on \(plan.pretraining.batchSize) × \(plan.pretraining.length) characters (lr \(plan.pretraining.learningRate), \
                \(plan.pretraining.warmupSteps) warm-up steps, cosine to 10 %). Final training loss (mean of the last 10 steps) \
                \(formatNumber(meanOfLast(losses, 10))); test CE \(formatNumber(dense.stats.meanNLL)), accuracy \(formatNumber(dense.stats.accuracy)).
                """)
            return (model, losses)
        }

        // MARK: Fine-tunes and activation density (Fig. 2)
        // Four fine-tunes from the checkpoint: the dense reference (GELU, no penalty), ReLU-fication without penalty
        // (MoEfication's model, also the no-enforcement ablation) and ReLU with square Hoyer at α_mid (the D2DMoE
        // model) and α_high. How sparse, and how unevenly sparse across tokens, do they get?
        let tuned = try report.section("Fine-tunes and activation density (≈ paper Fig. 2)") { () throws -> [Variant: FineTuned] in
            var tuned: [Variant: FineTuned] = [:]
            for variant in Variant.allCases {
                tuned[variant] = try fineTune(base, variant, setup)
                log("\(variant.rawValue): test CE \(formatNumber(tuned[variant]!.dense.stats.meanNLL)), density \(formatNumber(tuned[variant]!.density.mean))")
            }
            try report.table(fineTuneTable(tuned, plan: plan), name: "fine-tunes",
                             caption: "The four fine-tunes (\(plan.fineTuning.steps) steps, lr \(plan.fineTuning.learningRate)): dense test quality and per-token activation density")
            try report.figure(densityFigure(tuned, plan: plan), name: "fig-density",
                              caption: "Per-token FFN activation density (fraction of a_i > 0, pooled over layers) of the ReLU models (≈ paper Fig. 2)")
            return tuned
        }
        let reference = tuned[.geluRef]!.dense.stats.meanNLL
        let unigram = unigramCrossEntropy(train: setup.train, windows: setup.evalWindows, firstScored: plan.evalFirstScored,
                                          vocabulary: setup.vocabularySize)

        // MARK: Expert splits and routers
        // Per model, layer and E: balanced k-means on the normalised rows of W1; routers trained on targets computed
        // once from a cache of the frozen model's FFN inputs and activations on training windows.
        let conversions = try report.section("Expert splits and routers") { () throws -> Conversions in
            let conversions = buildConversions(tuned, setup, log: log)
            try report.table(routerTable(conversions), name: "routers",
                             caption: "Router training: loss (mean over layers) at the first and last step; \(plan.routerSteps) Adam steps, batch \(plan.routerBatch), lr \(plan.routerLearningRate)")
            try report.figure(routerLossFigure(conversions), name: "fig-router-loss",
                              caption: "Router training loss per step (mean over layers); an unconverged router makes dynamic-k look worse than it is")
            return conversions
        }

        // MARK: Cost–quality sweeps (Fig. 3, ablations, α, expert size)
        // Every method swept over its τ or k grid on the same windows; each point is (FFN cost fraction, CE, acc).
        let sweeps = try report.section("Cost–quality sweeps (≈ paper Fig. 3 and ablations)") { () throws -> Sweeps in
            let sweeps = runSweeps(tuned, conversions, setup, log: log)
            let dense = [densePoint(tuned[.geluRef]!.dense), densePoint(tuned[.reluMid]!.dense)]
            try report.figure(costLossFigure(sweeps, dense: dense, plan: plan), name: "fig-cost-loss",
                              caption: "CE (a) and accuracy (b) vs FFN cost, E = \(plan.mainExperts): D2DMoE (τ sweep) vs MoEfication (k sweep) (≈ paper Fig. 3)")
            try report.figure(ablationFigure(sweeps, reference: reference, plan: plan), name: "fig-ablation",
                              caption: "Ablations: sparsity enforcement, dynamic-k vs top-k, norm regression vs BCE router")
            try report.figure(alphaFigure(sweeps, reference: reference, plan: plan), name: "fig-alpha",
                              caption: "D2DMoE curves for the Hoyer weights α = 0, α_mid, α_high")
            try report.figure(granularityFigure(sweeps, reference: reference, plan: plan), name: "fig-granularity",
                              caption: "D2DMoE and MoEfication for E ∈ {\(plan.expertCounts.map(String.init).joined(separator: ", "))} (routers counted)")
            try report.table(costLossTable(sweeps, dense: dense), name: "cost-loss", caption: "Every measured point")
            try report.table(alphaTable(tuned, sweeps, reference: reference, plan: plan), name: "alpha",
                             caption: "The α sweep: dense CE, density, and the FFN cost at which D2DMoE (E = \(plan.mainExperts)) reaches 1.02 × the reference CE (\(formatNumber(1.02 * reference)))")
            try report.table(budgetTable(sweeps, plan: plan), name: "budgets",
                             caption: "CE of each method at 25 / 50 / 75 % FFN cost (linear interpolation; — = not reached)")
            return sweeps
        }

        // MARK: Per-layer and per-token load
        // At the τ whose cost is closest to 50 %, how many experts does each layer run, and how much does it vary
        // from token to token?
        let load = try report.section("Per-layer and per-token load") { () throws -> LoadPoint in
            let load = halfCostLoad(sweeps.d2dmoe[plan.mainExperts]!, experts: plan.mainExperts)
            try report.figure(layerLoadFigure(load, experts: plan.mainExperts), name: "fig-layer-load",
                              caption: "D2DMoE at \(load.point.point.parameter) (FFN cost \(formatPercent(load.point.point.cost))): (a) mean k/E per layer, (b) per-token k/E per layer")
            return load
        }

        // MARK: Claims
        try addClaims(to: report, Measurements(tuned: tuned, conversions: conversions, sweeps: sweeps, load: load, reference: reference,
                                               unigram: unigram, pretrainingLosses: pretrainingLosses, plan: plan, seed: seed))
    }
}

DynamicKMoE.runMain()
