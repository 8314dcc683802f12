// Universal Properties of Activation Sparsity in Modern Large Language Models
// Szatkowski, Będkowski, Devoto, Dubiński, Minervini, Piórczyński, Scardapane, Wójcik (NeurIPS 2025 UniReps
// workshop), arXiv 2509.00454.
//
// A training-free study: in a GLU FFN, FFN(x) = W_d(σ(W_g x) ⊙ W_u x), the small-magnitude entries of one of five
// tensors (FFN input x, gate activation g, up projection u, intermediate h = g ⊙ u, or x and h together) are zeroed
// per token by a magnitude rule (top-p: keep the largest entries holding a fraction p of the L1 mass), p is swept,
// and the model's performance relative to the dense model is read against the achieved sparsity. The critical
// sparsity is the largest sparsity that costs at most 1 % of performance.
//
// Reproduced: the sparsity curves of all five targets (Fig. 2) on the real SmolLM2-135M-Instruct, the rule
// comparison (top-p / top-k / max-p), per-layer sparsity and single-layer sensitivity, the effective rank of the
// activations, the growth of critical sparsity with model size (Fig. 3) on a ladder of four Llama-style char LMs
// trained here, and the masked-diffusion (LLaDA-style) analysis: tolerance vs an AR model of the same size and the
// drift of kept-neuron masks across denoising steps.
//
// Scaled down, and why (2 CPU cores, 8 minutes): lm-eval tasks → next-token accuracy and NLL on fixed windows of
// KJV and fortunes (relative performance r = mean of acc and exp(−ΔNLL) ratios); 1.7B-70B models → SmolLM2-135M plus
// a 28 k - 800 k parameter ladder trained for 500 steps on KJV; LLaDA-8B → a 340 k parameter masked-diffusion char
// LM; MoE experts (C4) are not reproduced.
import ActivationSparsityCore
import Foundation
import Lab
import LabData
import LabLLM
import LabRun

struct ActivationSparsity: PaperCommand {
    static let paper = Paper(
        arXiv: "2509.00454",
        title: "Universal Properties of Activation Sparsity in Modern Large Language Models",
        command: "activation-sparsity",
        reproduces: """
            Fig. 2 (relative performance vs activation sparsity for the five FFN targets) on SmolLM2-135M, Fig. 3 \
            (critical sparsity vs model size) on a ladder of four char LMs trained here, the rule comparison, \
            per-layer and single-layer sensitivity, effective rank, and the masked-diffusion LM analysis. Scaled \
            down: next-token accuracy/NLL on fixed text windows instead of lm-eval tasks, small models.
            """)
    @OptionGroup var options: RunOptions
    @Option(help: ArgumentHelp("""
        Training steps of the ladder and the diffusion LM (default: the design's 500 at full scale, warm-up 4 %; \
        30 at smoke, warm-up 10 %). Any other value is a deviation from the design, stated in REPORT.md.
        """, valueName: "n"))
    var trainSteps: Int?

    func reproduce(in report: Report) throws {
        let seed = report.seeds[0]
        func log(_ text: String) { if !options.quiet { FileHandle.standardError.write(Data("activation-sparsity: \(text)\n".utf8)) } }

        report.text("""
            Training-free activation sparsity in GLU FFNs. Per token, a magnitude rule zeroes small entries of one FFN \
            tensor in every layer: **input** x (the post-norm FFN input, width d), **gate** g = SiLU(W_g x), **up** \
            u = W_u x, **intermediate** h = g ⊙ u (width m), or **all_inputs** (x and h, h computed from the \
            sparsified x). The main rule is top-p: keep the largest |v_i| holding a fraction p of the row's L1 mass. \
            Relative performance r = mean over tasks of acc_p/acc_dense and exp(−(NLL_p − NLL_dense)); the critical \
            sparsity is where r first falls below 0.99 (linear interpolation between grid points).

            Scaled down from the paper: lm-eval tasks are replaced by next-token top-1 accuracy and NLL on fixed text \
            windows (every p and target is scored on the same windows, so comparisons are paired); the 1.7B-70B model \
            families by the real SmolLM2-135M-Instruct (GGUF Q4_1, dequantised to Float32) plus a ladder of four \
            Llama-style character LMs trained here on KJV; LLaDA-8B by a masked-diffusion char LM of ladder size \
            \(Plan(scale: options.scale, layers: 30).diffusionSize.name). MoE experts (paper C4) are not reproduced.
            """)

        // MARK: Data and the SmolLM2 runtime
        // KJV (train = first 95 % of characters, test = the rest) and fortunes as held-out text; SmolLM2 loaded and
        // checked on the one prompt whose answer everyone knows.
        let (kjvTrain, kjvTest, fortunes, model, parisToken) = try report.section("Data and SmolLM2") {
            let verses = try TextFiles.kjvVerses()
            let corpus = try TextCorpus(text: verses.joined(separator: "\n") + "\n")
            let (train, test) = corpus.split(trainFraction: 0.95)
            let entries = try TextFiles.fortunes()
            guard FileManager.default.fileExists(atPath: LlamaModel.defaultPath) else {
                throw LabError.missingFile(path: LlamaModel.defaultPath, fix: "make data-smollm2")
            }
            let model = try LlamaModel(path: LlamaModel.defaultPath, weights: .float32)
            let prompt = model.tokenizer.encode("The capital of France is", parseSpecial: false)
            let out = try model.forward([prompt], logits: .lastToken)
            let top = model.tokenizer.decode([LlamaModel.argmax(out.logits(row: 0))])
            report.text("""
                KJV: \(verses.count) verses, \(corpus.count) characters, character vocabulary \(corpus.vocabulary.count); \
                train = first \(train.count) characters (95 %, cut at a verse end), test = last \(test.count). \
                Fortunes: \(entries.count) entries (held-out text for SmolLM2 only). SmolLM2-135M-Instruct \
                (\(model.config.parameterCount) parameters) loaded in \(String(format: "%.1f", model.loadSeconds)) s; top-1 \
                next token after "The capital of France is": "\(top)".
                """)
            return (train, test, entries.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init),
                    model, top)
        }
        let layers = model.config.layers
        if let steps = trainSteps, steps < 1 { throw LabError.invalidArgument("--train-steps \(steps): need at least 1 step") }
        let plan = Plan(scale: options.scale, layers: layers, trainSteps: trainSteps)
        if let steps = trainSteps {
            report.text("""
                **Deviation from the design (exploration run):** `--train-steps \(steps)` trains the ladder and the diffusion \
                LM for \(steps) steps (warm-up \(plan.recipe.warmupSteps)) instead of the design's \(Plan(scale: options.scale, layers: layers).recipe.steps). \
                The claims below are this run's; the committed figures use the design's length.
                """)
        }
        if options.scale == .full {
            report.text("""
                The design's full plan, no cut: the SmolLM2 main sweep uses \(plan.smolWindowsPerCorpus)+\(plan.smolWindowsPerCorpus) \
                windows of \(plan.smolWindowTokens) tokens, the rule comparison the first \(plan.ruleWindowsPerCorpus)+\(plan.ruleWindowsPerCorpus) \
                of them with \(plan.maxPValues.count) values per rule; the ladder and the diffusion LM train \(plan.recipe.steps) steps on \
                batches of \(plan.recipe.batchSize) windows × \(plan.recipe.length) characters and are evaluated on \(plan.evalWindows) \
                windows of \(plan.evalLength) characters; sampling fills the last \(plan.generatedLength) characters of each window.
                """)
        }

        // MARK: SmolLM2 main sweep (Fig. 2)
        // Every target × every p on the same windows; per-window statistics and zero counts are kept, so that the
        // rule comparison and the single-layer study can re-score subsets of these windows later (paired).
        let windows = try CorpusWindows(
            corpora: [("KJV", kjvTest.text(0..<kjvTest.count).split(separator: "\n").map(String.init)), ("fortunes", fortunes)],
            perCorpus: plan.smolWindowsPerCorpus, tokens: plan.smolWindowTokens, context: plan.smolContext, seed: 2509,
            encode: { model.tokenizer.encode($0, parseSpecial: false) }, decode: { model.tokenizer.decode([$0]) })
        let bench = SmolLM2Bench(model: model, windows: windows)
        let (dense, sweep, smolCurves, identityError) = try report.section("SmolLM2 sweep (Fig. 2)") {
            let dense = try bench.run(nil, .input, windows: windows.all)
            let identityError = try bench.identityError(tokens: plan.identityWindowTokens)
            let progress = options.progress("SmolLM2 sweep", total: SparsityTarget.allCases.count * plan.smolPGrid.count)
            let sweep = try bench.sweep(grid: plan.smolPGrid) { progress.update($0) }
            progress.finish()
            func curves(_ ids: [Int]) -> [Curve] {
                SparsityTarget.allCases.map { windows.curve(model: "SmolLM2-135M", target: $0, rule: "top-p", runs: sweep[$0]!, dense: dense, windows: ids) }
            }
            let pooled = curves(windows.all)
            try report.figure(sparsityCurvesFigure(pooled, perCorpus: windows.corpora.indices.map { curves(windows.windows(ofCorpus: $0)) },
                                                   corpora: windows.corpora),
                              name: "fig-sparsity-curves",
                              caption: "SmolLM2-135M: r vs sparsity per target (thick: both corpora; dotted: per corpus; red: critical sparsity)")
            return (dense, sweep, pooled, identityError)
        }
        let smolCurveOf = Dictionary(uniqueKeysWithValues: smolCurves.map { ($0.target, $0) })
        log("SmolLM2 crit: " + smolCurves.map { "\($0.target.rawValue) \(String(format: "%.3f", $0.critical.sparsity))" }.joined(separator: ", "))

        // MARK: Rules at matched sparsity
        // top-k with k chosen so that its sparsity matches top-p's, and max-p, on the first windows of each corpus;
        // each rule's r is read at top-p's critical sparsity of that target.
        let ruleWindows = windows.leading(plan.ruleWindowsPerCorpus)
        let rules = try report.section("Rules: top-p vs top-k vs max-p") {
            let rules = try [SparsityTarget.input, .intermediate].map { target in
                try bench.compareRules(target: target, main: smolCurveOf[target]!, sweep: sweep[target]!, dense: dense, windows: ruleWindows,
                                       topKAlignedP: plan.topKAlignedP, maxPValues: plan.maxPValues)
            }
            try report.figure(rulesFigure(rules, windows: ruleWindows.count), name: "fig-rules",
                              caption: "top-p vs top-k (k matched to top-p's sparsity) vs max-p")
            try report.table(rulesTable(rules), name: "rules", caption: "Each rule's r at top-p's critical sparsity s* (linear interpolation on its curve)")
            return rules
        }

        // MARK: Per-layer sparsity and single-layer sensitivity
        // (a) how sparse each layer gets at p = 0.9; (b) all_inputs at p = 0.5 in one layer only: is one layer's
        // sparsification milder than all layers'? The dense residual stream entering each layer is cached once.
        let singleWindows = windows.leading(1)
        let (allLayerR, singleLayerMargin) = try report.section("Per-layer and single-layer sensitivity") {
            let residuals = try bench.residualStreams(windows: singleWindows, layers: plan.singleLayers)
            let allLayerRun = sweep[.allInputs]!.first { $0.parameter == plan.singleLayerP }!.run
            let allLayerR = windows.relativePerformance(allLayerRun, dense: dense, windows: singleWindows)
            var singleR: [Double] = []
            var table = Table(header: ["layer", "single-layer r", "all-layer r", "difference", "s_in", "s_int"])
            for l in plan.singleLayers {
                let run = try bench.singleLayerRun(.topP(plan.singleLayerP), .allInputs, layer: l, windows: singleWindows, residuals: residuals)
                let r = windows.relativePerformance(run, dense: dense, windows: singleWindows)
                let counts = windows.counts(run, windows: singleWindows)
                singleR.append(r)
                table.append([.integer(l), .number(rounded(r)), .number(rounded(allLayerR)), .number(rounded(r - allLayerR)),
                              .number(rounded(counts.sparsity(layer: l, points: [.input]))),
                              .number(rounded(counts.sparsity(layer: l, points: [.intermediate])))])
            }
            try report.table(table, name: "single-layer", caption: "all_inputs, top-p \(plan.singleLayerP), one layer sparsified at a time (\(singleWindows.count) windows)")
            let profile = SparsityTarget.allCases.map { target in
                let counts = windows.counts(sweep[target]!.first { $0.parameter == plan.layerProfileP }!.run, windows: windows.all)
                return (target, (0..<layers).map { counts.sparsity(layer: $0, points: target.points) })
            }
            try report.figure(layersFigure(profile: profile, profileP: plan.layerProfileP, singleLayers: plan.singleLayers, singleR: singleR,
                                           allLayerR: allLayerR, singleP: plan.singleLayerP),
                              name: "fig-layers", caption: "Per-layer sparsity (a) and single-layer sensitivity (b), SmolLM2-135M")
            return (allLayerR, (singleR.min() ?? .nan) - allLayerR)
        }

        // MARK: Effective rank of the dense activations
        // erank/n of x, g, u, h per layer on the first windows (no centering, as the paper's code).
        let smolErank = try report.section("Effective rank (SmolLM2)") {
            let sequences = singleWindows.map { Array(windows.windows[$0].prefix(plan.erankTokens / singleWindows.count)) }
            var erank = Array(repeating: [Double](repeating: 0, count: layers), count: 4)
            var hooks = LlamaHooks()
            var failure: Error?
            for (k, point) in FFNHookPoint.allCases.enumerated() {
                hooks.on(SmolLM2Bench.llamaPoint(point)) { view in
                    do {
                        erank[k][view.layer] = try effectiveRank(view.copy(), rows: view.tokens, cols: view.width) / Double(view.width)
                    } catch { failure = error }
                }
            }
            _ = try model.forward(sequences, logits: .none, hooks: hooks)
            if let failure { throw failure }
            return erank
        }

        // MARK: The size ladder (Fig. 3)
        // Four char LMs that differ only in size, trained on the same tokens; each is swept like SmolLM2 on fixed
        // KJV-test windows. Does the critical sparsity grow with size?
        var evalRNG = RNG(seed: UInt64(seed)).derived("eval-windows")
        let evalStarts = kjvTest.windowStarts(count: plan.evalWindows, length: plan.evalLength + 1, rng: &evalRNG)
        let setup = CharLMSetup(plan: plan, seed: seed, train: kjvTrain.tokens, vocabulary: kjvTrain.vocabulary,
                                evalWindows: evalStarts.map { Array(kjvTest.tokens[$0..<$0 + plan.evalLength + 1]) }, options: options)
        // The four ladder models and the diffusion LM are independent single-threaded jobs (own model, RNGs and
        // probes), run side by side on as many workers as --threads: each model's numbers are the same whether it
        // trains alone or beside others. Largest first, so the two workers finish together.
        let (ladder, diffusion) = try report.section("Size ladder and diffusion LM: training and sweeps (Fig. 3)") {
            let (ladder, diffusion) = try trainSideBySide(setup, workers: Parallel.threads)
            var table = Table(header: ["model", "params", "final train loss (nats)", "test acc", "test NLL (nats/char)",
                                       "train (s)", "train CPU (s)", "job (s)"])
            for result in ladder {
                table.append([.text(result.size.name), .integer(result.parameters), .number(rounded(result.finalLoss)),
                              .number(rounded(result.dense.accuracy)), .number(rounded(result.dense.meanNLL)),
                              .number(rounded(result.timing.trainSeconds)), .number(rounded(result.timing.trainCPUSeconds)),
                              .number(rounded(result.timing.jobSeconds))])
                log("\(result.size.name): \(result.parameters) params, test NLL \(String(format: "%.3f", result.dense.meanNLL)), crit " +
                    result.curves.map { String(format: "%.3f", $0.critical.sparsity) }.joined(separator: " ") +
                    ", train \(String(format: "%.1f", result.timing.trainSeconds)) s")
            }
            try report.table(table, name: "ladder", caption: """
                The ladder: same data, same \(plan.recipe.steps) steps; dense quality on \(plan.evalWindows) KJV-test windows. \
                Timing: each model is one single-threaded job, \(min(Parallel.threads, plan.ladder.count + 1)) side by side with \
                the diffusion LM's (train: wall and CPU seconds of its training; job: training, sweeps and effective rank)
                """)
            try report.figure(ladderCurvesFigure(ladder), name: "fig-ladder-curves", caption: "r vs sparsity for each ladder size and target (dashed: r = 0.99)")
            return (ladder, diffusion)
        }

        // Critical sparsity vs size, with SmolLM2 (KJV-only r) as a hollow direction check.
        let kjvWindows = windows.windows(ofCorpus: 0)
        let smolKJVCurves = SparsityTarget.allCases.map { (target: SparsityTarget) -> Curve in
            windows.curve(model: "SmolLM2-135M", target: target, rule: "top-p", runs: sweep[target]!, dense: dense, windows: kjvWindows)
        }
        let meanCrit = ladder.map { r in r.curves.map(\.critical.sparsity).reduce(0, +) / Double(r.curves.count) }
        let sizeRho = ladder.count >= 2 ? Metrics.spearman(ladder.map { Double($0.parameters) }, meanCrit) : .nan
        try report.section("Critical sparsity vs size (Fig. 3)") {
            try report.figure(criticalVsSizeFigure(ladder, meanCritical: meanCrit, smolLM2: smolKJVCurves, smolLM2Parameters: model.config.parameterCount),
                              name: "fig-critical-vs-size", caption: "Critical sparsity per target vs model size")
            report.text("""
                Spearman ρ(params, mean crit) over \(ladder.map(\.size.name).joined(separator: ", ")) = \(String(format: "%.3f", sizeRho)); \
                mean crit \(meanCrit.map { String(format: "%.3f", $0) }.joined(separator: " → ")). The hollow SmolLM2 markers \
                (KJV-only r) are a direction check only: different corpus, tokenizer (BPE tokens vs characters) and \
                training length, so they are excluded from the statistic.
                """)
        }

        // MARK: Masked-diffusion LM (LLaDA-style)
        // The same architecture with bidirectional attention and a [MASK] token, trained with the LLaDA loss on the
        // same tokens as the AR model of that size. (a) Is it as tolerant? (c, d) Do kept-neuron masks drift
        // across denoising steps?
        let arPartner = ladder.first { $0.size == plan.diffusionPartner }!
        let diffusionGap = diffusion.curves.map { curve in
            curve.critical.sparsity - arPartner.curves[SparsityTarget.allCases.firstIndex(of: curve.target)!].critical.sparsity
        }.reduce(0, +) / 2
        let unigram = unigramBaseline(kjvTest, vocabulary: kjvTrain.vocabulary.count)
        try report.section("Masked-diffusion LM") {
            try report.figure(diffusionFigure(diffusion, partner: arPartner, plan: plan), name: "fig-diffusion",
                              caption: "Masked-diffusion LM: tolerance (a), sparsity per step (b), mask drift (c, d)")
            report.text("""
                Diffusion LM: dense masked-token accuracy \(diffusion.dense.map { String(format: "%.3f", $0.accuracy) }.joined(separator: " / ")) \
                at mask ratios \(plan.diffusionMaskRatios.map { String($0) }.joined(separator: " / ")); sampling \(plan.samplingWindows) windows, \
                \(plan.samplingSteps) steps, \(plan.unmaskPerStep) unmasked per step: generated characters match the held-out text \
                \(String(format: "%.1f", 100 * diffusion.trace.generatedAccuracy)) % of the time. Mean J(M_1, M_S) on generated positions = \
                \(String(format: "%.3f", diffusion.driftEnd)); mean consecutive J = \(String(format: "%.3f", diffusion.consecutiveMean)). \
                Trained \(plan.recipe.steps) steps beside the ladder (one thread): \(String(format: "%.1f", diffusion.timing.trainSeconds)) s \
                (\(String(format: "%.1f", diffusion.timing.trainCPUSeconds)) CPU s), the whole job \(String(format: "%.1f", diffusion.timing.jobSeconds)) s.
                """)
            if let caveat = unigramCaveat(diffusion, partner: arPartner, unigram: unigram, plan: plan) {
                report.text(caveat)
            }
        }

        // MARK: Effective rank figure and the critical table
        try report.section("Effective rank and the critical-sparsity table") {
            try report.table(erankTable(smolLM2: smolErank, config: model.config, ladder: ladder), name: "erank",
                             caption: "Effective rank / width of the dense activations, mean over layers")
            try report.figure(erankFigure(smolLM2: smolErank, ladder: ladder), name: "fig-erank", caption: "Effective rank of FFN activations")
            // ρ between erank/n and crit across (size, target) for the four single-tensor targets.
            var erankValues: [Double] = [], critValues: [Double] = []
            for result in ladder {
                for (k, target) in [SparsityTarget.input, .gate, .up, .intermediate].enumerated() {
                    erankValues.append(result.erank[k])
                    critValues.append(result.curves[SparsityTarget.allCases.firstIndex(of: target)!].critical.sparsity)
                }
            }
            report.text("Spearman ρ(erank/n, crit) across (ladder size, target) = \(String(format: "%.3f", Metrics.spearman(erankValues, critValues))) (no claim attached).")
            let smolShare = ffnShare(width: model.config.width, layers: layers, qkvWidth: model.config.qkvWidth, ffnWidth: model.config.ffnWidth,
                                     vocabulary: model.config.vocabularySize, averageContext: plan.smolWindowTokens / 2)
            try report.table(criticalTable(smolLM2: smolCurves, smolLM2Dense: windows.tasks(dense, windows: windows.all).reduce(WindowStats(), +),
                                           smolLM2Share: smolShare, config: model.config, ladder: ladder, diffusion: diffusion,
                                           vocabulary: kjvTrain.vocabulary.count, plan: plan),
                             name: "critical", caption: """
                Critical sparsity (largest sparsity with r ≥ 0.99) and the FFN / model matmul FLOPs it saves (FFN share of \
                SmolLM2's per-token matmul FLOPs = \(String(format: "%.2f", smolShare)); the rule's own cost is not counted). \
                Dense columns: SmolLM2 pooled over both corpora, ladder on KJV-test, diffusion at mask ratio \(plan.diffusionMaskRatios[0])
                """)
            let sweepCurves = smolCurves.map { ($0, "\(windows.windows.count) windows") } + rules.flatMap { $0.curves.map { ($0, "rule windows") } }
                + ladder.flatMap { $0.curves.map { ($0, "") } } + diffusion.curves.map { ($0, "") }
            try report.table(sweepTable(sweepCurves), name: "sweep", caption: "Every measured point (dense first in each curve)")
        }

        // MARK: Claims
        let smolMonotone = smolCurves.map { monotoneIncrease($0.parameters.dropFirst().map { $0! }, Array($0.sparsity.dropFirst())) }
        try addClaims(to: report, Measurements(
            parisToken: parisToken, smolLM2IdentityError: identityError, ladderIdentityError: ladder.map(\.identityError).max() ?? 0,
            monotoneIncrease: (smolMonotone + ladder.map(\.monotoneIncrease) + [diffusion.monotoneIncrease]).max()!,
            critical: smolCurveOf.mapValues(\.critical.sparsity), meanCritical: meanCrit, sizeRho: sizeRho,
            ruleGap: rules.map(\.topPMinusTopK).reduce(0, +) / Double(rules.count), allLayerR: allLayerR, singleLayerMargin: singleLayerMargin,
            diffusionGap: diffusionGap, diffusionAboveUnigram: accuracyAboveUnigram(diffusion.dense, unigram: unigram.accuracy),
            partnerAboveUnigram: accuracyAboveUnigram([arPartner.dense], unigram: unigram.accuracy),
            driftEnd: diffusion.driftEnd, consecutiveMean: diffusion.consecutiveMean), plan: plan, seed: seed)
    }
}

ActivationSparsity.runMain()
