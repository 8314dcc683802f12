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
// a 28 k - 800 k parameter ladder trained for 200 steps on KJV; LLaDA-8B → a 340 k parameter masked-diffusion char
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
        Training steps of the ladder and the diffusion LM (default: the spec's 200 at full scale, 30 at smoke; \
        warm-up 10 %). Any other value is a deviation from the spec, stated in REPORT.md.
        """, valueName: "n"))
    var trainSteps: Int?

    func reproduce(in report: Report) throws {
        let seed = report.seeds[0]
        var timings: [(section: String, wall: Double, cpu: Double)] = []
        /// A report section that also records its CPU seconds (the machine is shared: wall time is noisy).
        func timed<T>(_ name: String, _ body: () throws -> T) throws -> T {
            let wall0 = Date(), cpu0 = cpuSeconds()
            let value = try report.section(name, body)
            timings.append((name, Date().timeIntervalSince(wall0), cpuSeconds() - cpu0))
            return value
        }
        let quiet = options.quiet
        func log(_ text: String) { if !quiet { FileHandle.standardError.write(Data("activation-sparsity: \(text)\n".utf8)) } }

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
        let (kjvTrain, kjvTest, fortunes, model, parisToken) = try timed("Data and SmolLM2") {
            let verses = try TextFiles.kjvVerses()
            let corpus = try TextCorpus(text: verses.joined(separator: "\n") + "\n")
            let (train, test) = corpus.split(trainFraction: 0.95)
            let entries = try TextFiles.fortunes()
            guard FileManager.default.fileExists(atPath: LlamaModel.defaultPath) else {
                throw LabError.missingFile(path: LlamaModel.defaultPath, fix: "make data-smollm2")
            }
            let model = try LlamaModel(path: LlamaModel.defaultPath)
            let prompt = model.tokenizer.encode("The capital of France is", parseSpecial: false)
            let out = try model.forward([prompt], logits: .lastToken)
            let top = model.tokenizer.decode([LlamaModel.argmax(out.logits(row: 0))])
            report.text("""
                KJV: \(verses.count) verses, \(corpus.count) characters, character vocabulary \(corpus.vocabulary.count); \
                train = first \(train.count) characters (95 %, cut at a verse end), test = last \(test.count). \
                Fortunes: \(entries.count) entries (held-out text for SmolLM2 only). SmolLM2-135M-Instruct loaded in \
                \(String(format: "%.1f", model.loadSeconds)) s; top-1 next token after "The capital of France is": "\(top)".
                """)
            return (train, test, entries.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init),
                    model, top)
        }
        let layers = model.config.layers
        if let steps = trainSteps, steps < 1 { throw LabError.invalidArgument("--train-steps \(steps): need at least 1 step") }
        let plan = Plan(scale: options.scale, layers: layers, trainSteps: trainSteps)
        if let steps = trainSteps {
            report.text("""
                **Deviation from the spec (exploration run):** `--train-steps \(steps)` trains the ladder and the diffusion \
                LM for \(steps) steps (warm-up \(plan.recipe.warmupSteps)) instead of the spec's \(Plan(scale: options.scale, layers: layers).recipe.steps). \
                The claims below are this run's; the committed figures use the spec's length.
                """)
        }
        if options.scale == .full {
            report.text("""
                The spec's full plan, no cut: the SmolLM2 main sweep uses \(plan.smolWindowsPerCorpus)+\(plan.smolWindowsPerCorpus) \
                windows of \(plan.smolWindowTokens) tokens, the rule comparison the first \(plan.ruleWindowsPerCorpus)+\(plan.ruleWindowsPerCorpus) \
                of them with \(plan.maxPValues.count) values per rule; the ladder and the diffusion LM train \(plan.recipe.steps) steps on \
                batches of \(plan.recipe.batchSize) windows × \(plan.recipe.length) characters and are evaluated on \(plan.evalWindows) \
                windows of \(plan.evalLength) characters; sampling fills the last \(plan.generatedLength) characters of each window.
                """)
        }
        let kjvTestLines = kjvTest.text(0..<kjvTest.count).split(separator: "\n").map(String.init)

        // MARK: SmolLM2 main sweep (Fig. 2)
        // Every target × every p on the same windows; per-window statistics and zero counts are kept, so that the
        // rule comparison and the single-layer study can re-score subsets of these windows later (paired).
        let bench = try SmolLM2Bench(model: model, kjvTest: kjvTestLines, fortunes: fortunes, perCorpus: plan.smolWindowsPerCorpus,
                                     tokens: plan.smolWindowTokens, context: plan.smolContext, seed: 2509)
        typealias WindowRun = (stats: [WindowStats], counts: [SparsityCounts])
        func runSmol(_ rule: SparsityRule?, _ target: SparsityTarget, windows: [Int]) throws -> WindowRun {
            // Indexed by window id (windows not evaluated stay empty), so subsets can be re-scored by id.
            let probe = rule.map { SparsityProbe(rule: $0, target: target, layerCount: layers) }
            var stats = [WindowStats](repeating: WindowStats(), count: bench.windows.count)
            var counts = [SparsityCounts](repeating: SparsityCounts(layers: layers), count: bench.windows.count)
            for w in windows { (stats[w], counts[w]) = try bench.evaluate(window: w, probe: probe) }
            return (stats, counts)
        }
        let allWindows = Array(bench.windows.indices)
        /// Task statistics of a window subset: one WindowStats per corpus (or KJV only).
        func tasks(_ run: WindowRun, windows: [Int], kjvOnly: Bool = false) -> [WindowStats] {
            let corpora = kjvOnly ? ["KJV"] : SmolLM2Bench.corpora
            return corpora.map { name in
                windows.filter { bench.corpusOfWindow[$0] == name }.reduce(WindowStats()) { $0 + run.stats[$1] }
            }
        }
        func counts(_ run: WindowRun, windows: [Int]) -> SparsityCounts {
            windows.reduce(SparsityCounts(layers: layers)) { $0 + run.counts[$1] }
        }
        func smolCurve(_ runs: [(Double, WindowRun)], target: SparsityTarget, dense: WindowRun, windows: [Int],
                       kjvOnly: Bool = false, rule: String = "top-p") -> Curve {
            var curve = Curve(model: "SmolLM2-135M", target: target, rule: rule)
            for (p, run) in runs {
                let c = counts(run, windows: windows)
                curve.append(parameter: p, sparsity: c.sparsity(points: target.points),
                             relative: relativePerformance(sparse: tasks(run, windows: windows, kjvOnly: kjvOnly),
                                                           dense: tasks(dense, windows: windows, kjvOnly: kjvOnly)),
                             input: c.sparsity(points: [.input]), intermediate: wideSparsity(c, target: target))
            }
            return curve
        }
        var sweepRows: [[TableCell]] = []
        func recordSweep(_ curve: Curve, extra: String = "") {
            for i in curve.sparsity.indices {
                sweepRows.append([.text(curve.model), .text(curve.target.rawValue), .text(curve.rule),
                                  curve.parameters[i].map { .number($0) } ?? .text("dense"),
                                  .number(rounded(curve.sparsity[i])), .number(rounded(curve.relative[i])),
                                  .number(rounded(curve.inputSparsity[i])), .number(rounded(curve.intermediateSparsity[i])),
                                  .text(extra)])
            }
        }

        let (dense, sweeps, smolCurves, identityError) = try timed("SmolLM2 sweep (Fig. 2)") {
            let dense = try runSmol(nil, .input, windows: allWindows)
            // dense-at-p1: top-p with p = 1 must leave every logit unchanged (one short window, all targets).
            let short = Array(bench.windows[0].prefix(plan.identityWindowTokens))
            let denseLogits = try model.forward([short], logits: .allTokens).logits
            var identityError = 0.0
            for target in SparsityTarget.allCases {
                let probe = SparsityProbe(rule: .topP(1), target: target, layerCount: layers)
                let logits = try model.forward([short], logits: .allTokens, hooks: SmolLM2Bench.hooks(probe)).logits
                for i in logits.indices { identityError = max(identityError, Double(abs(logits[i] - denseLogits[i]))) }
            }
            var sweeps: [SparsityTarget: [(Double, WindowRun)]] = [:]
            let progress = options.progress("SmolLM2 sweep", total: SparsityTarget.allCases.count * plan.smolPGrid.count)
            for target in SparsityTarget.allCases {
                for p in plan.smolPGrid {
                    sweeps[target, default: []].append((p, try runSmol(.topP(p), target, windows: allWindows)))
                    progress.update(sweeps.values.reduce(0) { $0 + $1.count })
                }
            }
            progress.finish()
            let curves = SparsityTarget.allCases.map { smolCurve(sweeps[$0]!, target: $0, dense: dense, windows: allWindows) }
            curves.forEach { recordSweep($0, extra: "\(bench.windows.count) windows") }

            let figure = Figure(rows: 1, cols: 5, width: 19, height: 4.2, dpi: 120, sharey: true)
            figure.suptitle = "SmolLM2-135M: relative performance vs activation sparsity (top-p, every FFN layer)"
            for (panel, curve) in curves.enumerated() {
                let axes = figure[0, panel]
                axes.line(curve.sparsity, curve.relative, label: "KJV + fortunes", color: .blue, width: 2.5, marker: .circle, markerSize: 4)
                for (k, corpus) in SmolLM2Bench.corpora.enumerated() {
                    let ids = allWindows.filter { bench.corpusOfWindow[$0] == corpus }
                    let c = smolCurve(sweeps[curve.target]!, target: curve.target, dense: dense, windows: ids)
                    axes.line(c.sparsity, c.relative, label: corpus, color: Color.cycle[k + 1], width: 1, dash: .dotted)
                }
                axes.horizontalLine(at: 0.99, label: "r = 0.99")
                axes.verticalLine(at: curve.critical.sparsity, color: .red, dash: .dashDot)
                axes.title = "\(curve.target.rawValue): crit = \(String(format: "%.3f", curve.critical.sparsity))"
                axes.xlabel = "achieved sparsity (fraction of zeros)"
                axes.ylabel = "relative performance r"
                axes.legend = .lowerLeft
            }
            try report.figure(figure, name: "fig-sparsity-curves",
                              caption: "SmolLM2-135M: r vs sparsity per target (thick: both corpora; dotted: per corpus; red: critical sparsity)")
            return (dense, sweeps, curves, identityError)
        }
        let smolCurveOf = Dictionary(uniqueKeysWithValues: smolCurves.map { ($0.target, $0) })
        log("SmolLM2 crit: " + smolCurves.map { "\($0.target.rawValue) \(String(format: "%.3f", $0.critical.sparsity))" }.joined(separator: ", "))

        // MARK: Rules at matched sparsity
        // top-k with k chosen so that its sparsity matches top-p's, and max-p, on the first windows of each corpus;
        // each rule's r is read at top-p's critical sparsity of that target.
        let ruleWindows = allWindows.filter { w in
            let corpus = bench.corpusOfWindow[w]
            return allWindows.filter { bench.corpusOfWindow[$0] == corpus }.prefix(plan.ruleWindowsPerCorpus).contains(w)
        }
        let ruleGap = try timed("Rules: top-p vs top-k vs max-p") {
            var table = Table(header: ["target", "s* (top-p crit)", "r top-p(s*)", "r top-k(s*)", "r max-p(s*)", "top-p − top-k"])
            let figure = Figure(rows: 1, cols: 2, width: 12, height: 4.4, dpi: 130, sharey: true)
            figure.suptitle = "SmolLM2-135M: sparsification rules compared on \(ruleWindows.count) windows"
            var gaps: [Double] = []
            for (panel, target) in [SparsityTarget.input, .intermediate].enumerated() {
                let topP = smolCurve(sweeps[target]!, target: target, dense: dense, windows: ruleWindows)
                var topKRuns: [(Double, WindowRun)] = []
                for p in plan.topKAlignedP {
                    let sparsity = smolCurveOf[target]!.sparsity[smolCurveOf[target]!.parameters.firstIndex(of: p)!]
                    let k = max(0, min(1, 1 - sparsity))
                    topKRuns.append((k, try runSmol(.topK(k), target, windows: ruleWindows)))
                }
                var maxPRuns: [(Double, WindowRun)] = []
                for p in plan.maxPValues { maxPRuns.append((p, try runSmol(.maxP(p), target, windows: ruleWindows))) }
                let topK = smolCurve(topKRuns, target: target, dense: dense, windows: ruleWindows, rule: "top-k")
                let maxP = smolCurve(maxPRuns, target: target, dense: dense, windows: ruleWindows, rule: "max-p")
                for c in [topP, topK, maxP] { recordSweep(c, extra: "rule windows") }
                let sStar = smolCurveOf[target]!.critical.sparsity
                let r = [topP, topK, maxP].map { PiecewiseLinearCurve(xs: $0.sparsity, ys: $0.relative).value(clampedAt: sStar) }
                gaps.append(r[0] - r[1])
                table.append([.text(target.rawValue), .number(rounded(sStar)), .number(rounded(r[0])), .number(rounded(r[1])),
                              .number(rounded(r[2])), .number(rounded(r[0] - r[1]))])
                let axes = figure[0, panel]
                for (k, c) in [topP, topK, maxP].enumerated() {
                    axes.line(c.sparsity, c.relative, label: c.rule, color: Color.cycle[k], marker: [.circle, .square, .triangle][k], markerSize: 4)
                }
                axes.horizontalLine(at: 0.99, label: "r = 0.99")
                axes.verticalLine(at: sStar, label: "s* = top-p crit", color: .red, dash: .dashDot)
                axes.title = "target: \(target.rawValue)"
                axes.xlabel = "achieved sparsity (fraction of zeros)"
                axes.ylabel = "relative performance r"
                axes.legend = .lowerLeft
            }
            try report.figure(figure, name: "fig-rules", caption: "top-p vs top-k (k matched to top-p's sparsity) vs max-p")
            try report.table(table, name: "rules", caption: "Each rule's r at top-p's critical sparsity s* (linear interpolation on its curve)")
            return gaps.reduce(0, +) / Double(gaps.count)
        }

        // MARK: Per-layer sparsity and single-layer sensitivity
        // (a) how sparse each layer gets at p = 0.9; (b) all_inputs at p = 0.5 in one layer only: is one layer's
        // sparsification milder than all layers'? The dense residual stream entering each layer is cached once.
        let singleWindows = allWindows.filter { w in allWindows.first { bench.corpusOfWindow[$0] == bench.corpusOfWindow[w] } == w }
        let singleLayerMargin = try timed("Per-layer and single-layer sensitivity") {
            let residuals = try bench.residualStreams(windows: singleWindows)
            let allLayerRun = sweeps[.allInputs]!.first { $0.0 == plan.singleLayerP }!.1
            let allLayerR = relativePerformance(sparse: tasks(allLayerRun, windows: singleWindows), dense: tasks(dense, windows: singleWindows))
            var singleR: [Double] = []
            var table = Table(header: ["layer", "single-layer r", "all-layer r", "difference", "s_in", "s_int"])
            for l in plan.singleLayers {
                let probe = SparsityProbe(rule: .topP(plan.singleLayerP), target: .allInputs, layerCount: layers, layers: [l])
                var stats: [WindowStats] = [], total = SparsityCounts(layers: layers)
                for (k, w) in singleWindows.enumerated() {
                    let tokens = bench.windows[w].count
                    let residual = Array(residuals[l][k * tokens * model.config.width..<(k + 1) * tokens * model.config.width])
                    let (s, c) = try bench.evaluate(window: w, probe: probe, fromLayer: l, residual: l == 0 ? nil : residual)
                    stats.append(s); total = total + c
                }
                var run: WindowRun = (Array(repeating: WindowStats(), count: bench.windows.count), [])
                for (k, w) in singleWindows.enumerated() { run.stats[w] = stats[k] }
                let r = relativePerformance(sparse: tasks(run, windows: singleWindows), dense: tasks(dense, windows: singleWindows))
                singleR.append(r)
                table.append([.integer(l), .number(rounded(r)), .number(rounded(allLayerR)), .number(rounded(r - allLayerR)),
                              .number(rounded(total.sparsity(layer: l, point: .input))), .number(rounded(total.sparsity(layer: l, point: .intermediate)))])
            }
            try report.table(table, name: "single-layer", caption: "all_inputs, top-p \(plan.singleLayerP), one layer sparsified at a time (\(singleWindows.count) windows)")

            let figure = Figure(rows: 1, cols: 2, width: 13, height: 4.5, dpi: 130)
            let profile = figure[0, 0]
            for (k, target) in SparsityTarget.allCases.enumerated() {
                let run = sweeps[target]!.first { $0.0 == plan.layerProfileP }!.1
                let c = counts(run, windows: allWindows)
                profile.line((0..<layers).map(Double.init), (0..<layers).map { l in
                    let z = target.points.reduce(0) { $0 + c.zeros[l][FFNHookPoint.allCases.firstIndex(of: $1)!] }
                    let n = target.points.reduce(0) { $0 + c.entries[l][FFNHookPoint.allCases.firstIndex(of: $1)!] }
                    return Double(z) / Double(max(n, 1))
                }, label: target.rawValue, color: Color.cycle[k], marker: .circle, markerSize: 3)
            }
            profile.title = "(a) per-layer sparsity at top-p \(plan.layerProfileP)"
            profile.xlabel = "layer"
            profile.ylabel = "sparsity (fraction of zeros)"
            profile.legend = .upperRight
            let single = figure[0, 1]
            single.line(plan.singleLayers.map(Double.init), singleR, label: "only layer ℓ sparsified", color: .blue, marker: .circle, markerSize: 4)
            single.horizontalLine(at: allLayerR, label: "all layers sparsified", color: .red)
            single.title = "(b) all_inputs, top-p \(plan.singleLayerP): single-layer r"
            single.xlabel = "sparsified layer ℓ"
            single.ylabel = "relative performance r"
            single.legend = .lowerRight
            try report.figure(figure, name: "fig-layers", caption: "Per-layer sparsity (a) and single-layer sensitivity (b), SmolLM2-135M")
            return (singleR.min() ?? .nan) - allLayerR
        }

        // MARK: Effective rank of the dense activations
        // erank/n of x, g, u, h per layer on the first windows (no centering, as the paper's code).
        let smolErank = try timed("Effective rank (SmolLM2)") {
            let sequences = singleWindows.map { Array(bench.windows[$0].prefix(plan.erankTokens / singleWindows.count)) }
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
            var table = Table(header: ["model", "tensor", "mean erank/n", "width n"])
            for (k, point) in FFNHookPoint.allCases.enumerated() {
                table.append([.text("SmolLM2-135M"), .text(point.rawValue), .number(rounded(erank[k].reduce(0, +) / Double(layers))),
                              .integer(point == .input ? model.config.width : model.config.ffnWidth)])
            }
            return (erank, table)
        }

        // MARK: The size ladder (Fig. 3)
        // Four char LMs that differ only in size, trained on the same tokens; each is swept like SmolLM2 on 64
        // fixed KJV-test windows. Does the critical sparsity grow with size?
        var evalRNG = RNG(seed: UInt64(seed)).derived("eval-windows")
        let evalStarts = kjvTest.windowStarts(count: plan.evalWindows, length: plan.evalLength + 1, rng: &evalRNG)
        let evalWindows = evalStarts.map { Array(kjvTest.tokens[$0..<$0 + plan.evalLength + 1]) }
        let vocabulary = kjvTrain.vocabulary
        var monotoneIncrease = 0.0
        func checkMonotone(_ parameters: [Double], _ sparsity: [Double]) {
            // Points ordered by decreasing p: sparsity must not fall by more than noise.
            for i in 1..<sparsity.count where parameters[i] < parameters[i - 1] {
                monotoneIncrease = max(monotoneIncrease, sparsity[i - 1] - sparsity[i])
            }
        }
        for target in SparsityTarget.allCases {
            let runs = sweeps[target]!
            checkMonotone(runs.map(\.0), runs.map { counts($0.1, windows: allWindows).sparsity(points: target.points) })
        }

        struct LadderResult {
            let size: LadderSize
            let parameters: Int
            let finalLoss: Double
            let dense: WindowStats
            let curves: [Curve]
            let erank: [Double]
        }
        /// The final training loss: the mean of the last 10 steps' losses.
        func meanOfLastTen(_ losses: [Float]) -> Double { Double(losses.suffix(10).reduce(0, +)) / Double(min(10, losses.count)) }
        var ladderIdentityError = 0.0
        /// Trains one AR ladder model and sweeps it.
        func ladderModel(_ size: LadderSize) throws -> LadderResult {
            var initRNG = RNG(seed: UInt64(seed)).derived("init-\(size.name)")
            let model = CharLlama(size: size, vocabularySize: vocabulary.count, causal: true, rng: &initRNG)
            let progress = options.progress("train \(size.name)", total: plan.recipe.steps)
            let losses = train(model, recipe: plan.recipe, train: kjvTrain.tokens, dataSeed: UInt64(seed) &+ 1000,
                               loss: { m, ids, _ in autoregressiveLoss(m, windows: ids, length: plan.recipe.length) },
                               onStep: { step, loss in progress.update(step + 1, loss: Double(loss)) })
            progress.finish()
            let finalLoss = meanOfLastTen(losses)
            try checkFinite(finalLoss, what: "\(size.name) training loss", step: plan.recipe.steps)
            let (denseStats, denseLogits) = evaluateAutoregressive(model, windows: evalWindows, firstScored: plan.evalFirstScored, vocabulary: vocabulary)
            let dense = denseStats.reduce(WindowStats(), +)
            var curves: [Curve] = []
            for target in SparsityTarget.allCases {
                var curve = Curve(model: size.name, target: target, rule: "top-p")
                var grid: [Double] = [], sparsities: [Double] = []
                for p in plan.ladderPGrid {
                    let probe = SparsityProbe(rule: .topP(p), target: target, layerCount: size.layers)
                    let (stats, logits) = evaluateAutoregressive(model, windows: evalWindows, firstScored: plan.evalFirstScored,
                                                                 vocabulary: vocabulary, probe: probe)
                    let s = probe.counts.sparsity(points: target.points)
                    grid.append(p); sparsities.append(s)
                    if p == 1 {
                        for i in logits.indices { ladderIdentityError = max(ladderIdentityError, Double(abs(logits[i] - denseLogits[i]))) }
                        continue
                    }
                    curve.append(parameter: p, sparsity: s,
                                 relative: relativePerformance(sparse: [stats.reduce(WindowStats(), +)], dense: [dense]),
                                 input: probe.counts.sparsity(points: [.input]), intermediate: wideSparsity(probe.counts, target: target))
                }
                checkMonotone(grid, sparsities)
                recordSweep(curve)
                curves.append(curve)
            }
            // Effective rank on the first windows' tokens (dense), mean over layers, per tensor.
            var erankSum = [Double](repeating: 0, count: 4)
            let rows = plan.erankTokens / plan.evalLength
            let erankWindows = Array(evalWindows.prefix(max(rows, 1)))
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
            return LadderResult(size: size, parameters: model.parameterCount, finalLoss: finalLoss, dense: dense, curves: curves,
                                erank: erankSum.map { $0 / Double(size.layers) })
        }
        let ladder = try timed("Size ladder: training and sweeps (Fig. 3)") {
            var results: [LadderResult] = []
            var table = Table(header: ["model", "params", "final train loss (nats)", "test acc", "test NLL (nats/char)"])
            for size in plan.ladder {
                let result = try ladderModel(size)
                results.append(result)
                table.append([.text(size.name), .integer(result.parameters), .number(rounded(result.finalLoss)),
                              .number(rounded(result.dense.accuracy)), .number(rounded(result.dense.meanNLL))])
                log("\(size.name): \(result.parameters) params, test NLL \(String(format: "%.3f", result.dense.meanNLL)), crit " +
                    result.curves.map { String(format: "%.3f", $0.critical.sparsity) }.joined(separator: " "))
            }
            try report.table(table, name: "ladder", caption: "The ladder: same data, same \(plan.recipe.steps) steps; dense quality on \(plan.evalWindows) KJV-test windows")

            let figure = Figure(rows: 1, cols: 5, width: 19, height: 4.2, dpi: 120, sharey: true)
            figure.suptitle = "Char-LM ladder (KJV): relative performance vs activation sparsity per target (top-p)"
            for (panel, target) in SparsityTarget.allCases.enumerated() {
                let axes = figure[0, panel]
                for (k, result) in results.enumerated() {
                    let c = result.curves[panel]
                    axes.line(c.sparsity, c.relative, label: "\(result.size.name) (\(result.parameters / 1000) k)", color: Color.cycle[k],
                              marker: .circle, markerSize: 3)
                }
                axes.horizontalLine(at: 0.99)
                axes.title = target.rawValue
                axes.xlabel = "achieved sparsity (fraction of zeros)"
                axes.ylabel = "relative performance r"
                axes.legend = .lowerLeft
            }
            try report.figure(figure, name: "fig-ladder-curves", caption: "r vs sparsity for each ladder size and target (dashed: r = 0.99)")
            return results
        }

        // Critical sparsity vs size, with SmolLM2 (KJV-only r) as a hollow direction check.
        let smolKJVCurves = SparsityTarget.allCases.map { smolCurve(sweeps[$0]!, target: $0, dense: dense, windows: allWindows, kjvOnly: true) }
        let meanCrit = ladder.map { r in r.curves.map(\.critical.sparsity).reduce(0, +) / Double(r.curves.count) }
        let sizeRho = ladder.count >= 2 ? Metrics.spearman(ladder.map { Double($0.parameters) }, meanCrit) : .nan
        let sizeDiff = (meanCrit.last ?? .nan) - (meanCrit.first ?? .nan)
        try report.section("Critical sparsity vs size (Fig. 3)") {
            let figure = Figure(width: 8.5, height: 5, dpi: 130)
            let axes = figure[0, 0]
            let params = ladder.map { Double($0.parameters) }
            let smolParams = 134_515_008.0
            for (k, target) in SparsityTarget.allCases.enumerated() {
                axes.line(params, ladder.map { $0.curves[k].critical.sparsity }, label: target.rawValue, color: Color.cycle[k], marker: .circle, markerSize: 5)
                axes.scatter([smolParams], [smolKJVCurves[k].critical.sparsity], color: Color.cycle[k], size: 9, marker: .circle, hollow: true)
            }
            axes.line(params, meanCrit, label: "mean over targets", color: .black, width: 2.5, dash: .dashed)
            axes.xscale = .log10
            axes.title = "Critical sparsity vs parameters (ladder L1-L4; hollow: SmolLM2-135M, KJV-only r)"
            axes.xlabel = "parameters (log scale)"
            axes.ylabel = "critical sparsity (r ≥ 0.99)"
            axes.legend = .auto   // the emptiest corner: where the lines sit moves with the seed
            try report.figure(figure, name: "fig-critical-vs-size", caption: "Critical sparsity per target vs model size")
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
        let diffusion = try timed("Masked-diffusion LM") {
            let maskID = vocabulary.count
            var initRNG = RNG(seed: UInt64(seed)).derived("init-diffusion")
            let model = CharLlama(size: plan.diffusionSize, vocabularySize: vocabulary.count + 1, causal: false, rng: &initRNG)
            let progress = options.progress("train diffusion \(plan.diffusionSize.name)", total: plan.recipe.steps)
            let losses = train(model, recipe: plan.recipe, train: kjvTrain.tokens, dataSeed: UInt64(seed) &+ 1000,
                               loss: { m, ids, rng in maskedDiffusionLoss(m, windows: ids, length: plan.recipe.length, maskID: maskID, rng: &rng) },
                               onStep: { step, loss in progress.update(step + 1, loss: Double(loss)) })
            progress.finish()
            try checkFinite(Double(losses.last ?? .nan), what: "diffusion training loss", step: plan.recipe.steps)
            let finalLoss = meanOfLastTen(losses)
            let windows = evalWindows.map { Array($0.prefix(plan.evalLength)) }
            var maskRNG = RNG(seed: 2509).derived("diffusion-masks")
            let masks = plan.diffusionMaskRatios.map { fixedMasks(windows: windows.count, length: plan.evalLength, ratio: $0, rng: &maskRNG) }
            func diffusionTasks(_ probe: SparsityProbe?) -> [WindowStats] {
                masks.map { m in evaluateMasked(model, windows: windows, masks: m, maskID: maskID, probe: probe).stats.reduce(WindowStats(), +) }
            }
            let denseTasks = diffusionTasks(nil)
            var curves: [Curve] = []
            for target in [SparsityTarget.input, .intermediate] {
                var curve = Curve(model: "diffusion \(plan.diffusionSize.name)", target: target, rule: "top-p")
                var grid: [Double] = [], sparsities: [Double] = []
                for p in plan.ladderPGrid where p < 1 {
                    let probe = SparsityProbe(rule: .topP(p), target: target, layerCount: plan.diffusionSize.layers)
                    let stats = diffusionTasks(probe)
                    // The probe counted both mask ratios' forwards.
                    let s = probe.counts.sparsity(points: target.points)
                    grid.append(p); sparsities.append(s)
                    curve.append(parameter: p, sparsity: s, relative: relativePerformance(sparse: stats, dense: denseTasks),
                                 input: probe.counts.sparsity(points: [.input]), intermediate: wideSparsity(probe.counts, target: target))
                }
                checkMonotone(grid, sparsities)
                recordSweep(curve)
                curves.append(curve)
            }
            // Sampling with top-p on the intermediate tensor, recording kept masks per step.
            let samplingProbe = SparsityProbe(rule: .topP(plan.samplingP), target: .intermediate, layerCount: plan.diffusionSize.layers)
            let trace = sampleWithMaskTrace(model, windows: Array(windows.prefix(plan.samplingWindows)),
                                            promptLength: plan.evalLength - plan.generatedLength, steps: plan.samplingSteps,
                                            perStep: plan.unmaskPerStep, maskID: maskID, probe: samplingProbe)
            return (curves, trace, denseTasks, finalLoss)
        }
        let (diffusionCurves, trace, diffusionDense, diffusionFinalLoss) = diffusion
        let arPartner = ladder.first { $0.size == plan.diffusionPartner }!
        let diffusionGap = [SparsityTarget.input, .intermediate].enumerated().map { k, target in
            diffusionCurves[k].critical.sparsity - arPartner.curves[SparsityTarget.allCases.firstIndex(of: target)!].critical.sparsity
        }.reduce(0, +) / 2
        func layerMean(_ rows: [[Double]]) -> [Double] { rows.map { $0.reduce(0, +) / Double(max($0.count, 1)) } }
        let driftEnd = layerMean(trace.driftGenerated).last ?? .nan
        let consecutiveMean = layerMean(trace.consecutiveGenerated).reduce(0, +) / Double(max(trace.consecutiveGenerated.count, 1))
        try report.section("Diffusion figures") {
            let figure = Figure(rows: 2, cols: 2, width: 13, height: 9, dpi: 120)
            let a = figure[0, 0]
            for (k, target) in [SparsityTarget.input, .intermediate].enumerated() {
                let ar = arPartner.curves[SparsityTarget.allCases.firstIndex(of: target)!]
                a.line(ar.sparsity, ar.relative, label: "AR \(plan.diffusionPartner.name), \(target.rawValue)", color: Color.cycle[k], marker: .circle, markerSize: 3)
                a.line(diffusionCurves[k].sparsity, diffusionCurves[k].relative, label: "diffusion, \(target.rawValue)",
                       color: Color.cycle[k], dash: .dashed, marker: .square, markerSize: 3)
            }
            a.horizontalLine(at: 0.99)
            a.title = "(a) AR vs masked diffusion, same size (\(plan.diffusionSize.name))"
            a.xlabel = "achieved sparsity (fraction of zeros)"
            a.ylabel = "relative performance r"
            a.legend = .lowerLeft
            let b = figure[0, 1]
            b.line((1...trace.sparsityPerStep.count).map(Double.init), trace.sparsityPerStep, label: "intermediate, top-p \(plan.samplingP)", color: .blue, marker: .circle, markerSize: 4)
            b.title = "(b) mean sparsity per denoising step"
            b.xlabel = "denoising step"
            b.ylabel = "sparsity (fraction of zeros)"
            b.legend = .auto
            let c = figure[1, 0]
            let steps = (1...trace.driftGenerated.count).map(Double.init)
            c.line(Array(steps.dropLast()), layerMean(trace.consecutiveGenerated), label: "consecutive J(M_t, M_t+1), generated", color: .blue, marker: .circle, markerSize: 3)
            c.line(Array(steps.dropLast()), layerMean(trace.consecutivePrompt), label: "consecutive, prompt", color: .blue, dash: .dashed)
            c.line(steps, layerMean(trace.driftGenerated), label: "drift J(M_1, M_t), generated", color: .red, marker: .square, markerSize: 3)
            c.line(steps, layerMean(trace.driftPrompt), label: "drift, prompt", color: .red, dash: .dashed)
            c.title = "(c) kept-mask Jaccard across denoising steps"
            c.xlabel = "denoising step t"
            c.ylabel = "Jaccard index (mean over layers, positions)"
            c.legend = .lowerLeft
            let d = figure[1, 1]
            let heat = (0..<plan.diffusionSize.layers).map { l in trace.consecutiveGenerated.map { $0[l] } }
            d.heatmap(heat, rowLabels: (0..<plan.diffusionSize.layers).map { "layer \($0)" },
                      columnLabels: (1..<trace.driftGenerated.count).map { "\($0)" }, colorbarLabel: "J(M_t, M_t+1), generated")
            d.title = "(d) consecutive Jaccard per layer × step"
            d.xlabel = "denoising step t"
            d.ylabel = "layer"
            try report.figure(figure, name: "fig-diffusion", caption: "Masked-diffusion LM: tolerance (a), sparsity per step (b), mask drift (c, d)")
            report.text("""
                Diffusion LM: dense masked-token accuracy \(diffusionDense.map { String(format: "%.3f", $0.accuracy) }.joined(separator: " / ")) \
                at mask ratios \(plan.diffusionMaskRatios.map { String($0) }.joined(separator: " / ")); sampling \(plan.samplingWindows) windows, \
                \(plan.samplingSteps) steps, \(plan.unmaskPerStep) unmasked per step: generated characters match the held-out text \
                \(String(format: "%.1f", 100 * trace.generatedAccuracy)) % of the time. Mean J(M_1, M_S) on generated positions = \
                \(String(format: "%.3f", driftEnd)); mean consecutive J = \(String(format: "%.3f", consecutiveMean)).
                """)
            // A model that predicts no better than the most frequent character is insensitive to anything; say so,
            // because then the diffusion claims hold vacuously. The LLaDA loss bounds the per-character NLL, so a
            // final loss near the unigram entropy H = −Σ_c f_c ln f_c means the same.
            var frequency = [Int](repeating: 0, count: vocabulary.count)
            for t in kjvTest.tokens { frequency[t] += 1 }
            let unigram = Double(frequency.max() ?? 0) / Double(max(kjvTest.count, 1))
            let unigramEntropy = frequency.reduce(0.0) { h, n in
                let f = Double(n) / Double(max(kjvTest.count, 1))
                return n > 0 ? h - f * Foundation.log(f) : h
            }
            if diffusionDense.allSatisfy({ $0.accuracy <= unigram + 0.02 }) {
                report.text("""
                    **Caveat:** the diffusion LM's dense masked-token accuracy (\(diffusionDense.map { String(format: "%.3f", $0.accuracy) }.joined(separator: " / "))) \
                    is at the level of always predicting the most frequent character (\(String(format: "%.3f", unigram))), and its \
                    final training loss (\(String(format: "%.3f", diffusionFinalLoss)) nats, mean of the last 10 steps) is at the \
                    unigram entropy of the characters (\(String(format: "%.3f", unigramEntropy)) nats; AR \(plan.diffusionPartner.name) \
                    reached \(String(format: "%.3f", arPartner.finalLoss)) on the same tokens). Trained like AR \(plan.diffusionPartner.name) \
                    (same \(plan.recipe.steps) steps, lr 3e-3, warm-up and cosine, batch \(plan.recipe.batchSize) × \(plan.recipe.length) as AR \
                    \(plan.diffusionPartner.name)), it has not learned beyond unigram statistics: a masked position sees only \
                    [MASK] at its own input, so everything it predicts must come through attention, which has to learn \
                    position-selective (RoPE) patterns first, while the AR model reads the previous character from its own \
                    residual stream. Its tolerance to sparsity and its mask drift therefore say little about C5: the diffusion \
                    claims are reported as computed but are vacuous at this training length. A longer training run \
                    (`--train-steps`, a deviation from the spec's plan) shows whether it learns beyond unigram statistics.
                    """)
            }
        }

        // MARK: Effective rank figure and the critical table
        try report.section("Effective rank and the critical-sparsity table") {
            let (erank, erankTable) = smolErank
            var table = erankTable
            for result in ladder {
                for (k, point) in FFNHookPoint.allCases.enumerated() {
                    table.append([.text(result.size.name), .text(point.rawValue), .number(rounded(result.erank[k])),
                                  .integer(point == .input ? result.size.width : result.size.ffnWidth)])
                }
            }
            try report.table(table, name: "erank", caption: "Effective rank / width of the dense activations, mean over layers")
            let figure = Figure(rows: 1, cols: 2, width: 13, height: 4.5, dpi: 130)
            let a = figure[0, 0]
            for (k, point) in FFNHookPoint.allCases.enumerated() {
                a.line((0..<layers).map(Double.init), erank[k], label: point.rawValue, color: Color.cycle[k], marker: .circle, markerSize: 3)
            }
            a.title = "(a) SmolLM2-135M: erank/n per layer"
            a.xlabel = "layer"
            a.ylabel = "effective rank / width"
            a.legend = .upperRight
            let b = figure[0, 1]
            for (k, point) in FFNHookPoint.allCases.enumerated() {
                b.line(ladder.map { Double($0.parameters) }, ladder.map { $0.erank[k] }, label: point.rawValue, color: Color.cycle[k], marker: .circle, markerSize: 4)
            }
            b.xscale = .log10
            b.title = "(b) ladder: erank/n (mean over layers) vs size"
            b.xlabel = "parameters (log scale)"
            b.ylabel = "effective rank / width"
            b.legend = .upperRight
            try report.figure(figure, name: "fig-erank", caption: "Effective rank of FFN activations")
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
            var critical = Table(header: ["model", "params", "target", "dense acc", "dense NLL", "dense cloze", "crit", "crit is lower bound",
                                          "FFN FLOP saving", "model FLOP saving"])
            let smolDense = tasks(dense, windows: allWindows).reduce(WindowStats(), +)
            for curve in smolCurves {
                let c = curve.critical
                critical.append([.text("SmolLM2-135M"), .integer(134_515_008), .text(curve.target.rawValue), .number(rounded(smolDense.accuracy)),
                                 .number(rounded(smolDense.meanNLL)), .number(rounded(smolDense.clozeAccuracy)), .number(rounded(c.sparsity)),
                                 .text(c.isLowerBound ? "yes" : "no"), .number(rounded(curve.ffnSaving)), .number(rounded(curve.ffnSaving * smolShare))])
            }
            for result in ladder {
                let share = ffnShare(width: result.size.width, layers: result.size.layers, qkvWidth: 3 * result.size.width,
                                     ffnWidth: result.size.ffnWidth, vocabulary: vocabulary.count, averageContext: plan.evalLength / 2)
                for curve in result.curves {
                    critical.append([.text(result.size.name), .integer(result.parameters), .text(curve.target.rawValue),
                                     .number(rounded(result.dense.accuracy)), .number(rounded(result.dense.meanNLL)),
                                     .number(rounded(result.dense.clozeAccuracy)), .number(rounded(curve.critical.sparsity)),
                                     .text(curve.critical.isLowerBound ? "yes" : "no"), .number(rounded(curve.ffnSaving)),
                                     .number(rounded(curve.ffnSaving * share))])
                }
            }
            for curve in diffusionCurves {
                critical.append([.text(curve.model), .text("same as \(plan.diffusionSize.name) + 1 embedding row"), .text(curve.target.rawValue),
                                 .number(rounded(diffusionDense[0].accuracy)), .number(rounded(diffusionDense[0].meanNLL)), .text("n/a"),
                                 .number(rounded(curve.critical.sparsity)), .text(curve.critical.isLowerBound ? "yes" : "no"),
                                 .number(rounded(curve.ffnSaving)), .text("")])
            }
            try report.table(critical, name: "critical", caption: """
                Critical sparsity (largest sparsity with r ≥ 0.99) and the FFN / model matmul FLOPs it saves (FFN share of \
                SmolLM2's per-token matmul FLOPs = \(String(format: "%.2f", smolShare)); the rule's own cost is not counted). \
                Dense columns: SmolLM2 pooled over both corpora, ladder on KJV-test, diffusion at mask ratio \(plan.diffusionMaskRatios[0])
                """)
            try report.table(Table(header: ["model", "target", "rule", "parameter", "sparsity", "r", "s_in", "s_int", "windows"], rows: sweepRows),
                             name: "sweep", caption: "Every measured point (dense first in each curve)")
        }

        // MARK: Claims
        var claims: [Claim] = []
        let crit = Dictionary(uniqueKeysWithValues: smolCurves.map { ($0.target, $0.critical.sparsity) })
        claims.append(Claim(id: "gguf-paris", statement: "GGUF runtime is correct: top-1 after \"The capital of France is\" is \" Paris\"",
                               measured: parisToken == " Paris" ? 1 : 0, .equal(1), kind: .exact, seeds: [seed],
                               note: "measured 1 when the decoded top-1 token is \" Paris\" (got \"\(parisToken)\")"))
        claims.append(Claim(id: "dense-at-p1", statement: "top-p with p = 1 is the identity (max |Δlogit| vs dense, all targets)",
                               measured: max(identityError, ladderIdentityError), .atMost(1e-5), kind: .exact, seeds: [seed],
                               note: "SmolLM2 on one \(plan.identityWindowTokens)-token window (\(identityError)), ladder on all windows (\(ladderIdentityError))"))
        claims.append(Claim(id: "sparsity-monotone", statement: "larger p never raises sparsity (max increase between consecutive grid p)",
                               measured: monotoneIncrease, .atMost(0.005), kind: .exact, seeds: [seed]))
        claims.append(Claim(id: "universal-sparsity", statement: "C1: every target has useful training-free sparsity (min SmolLM2 crit over 5 targets)",
                               measured: crit.values.min()!, .atLeast(0.10), seeds: [seed],
                               note: SparsityTarget.allCases.map { "\($0.rawValue) \(String(format: "%.3f", crit[$0]!))" }.joined(separator: ", ")))
        claims.append(Claim(id: "input-tolerates-more", statement: "C3: input tolerates at least the sparsity of gate and up (crit_in − max(crit_gate, crit_up))",
                               measured: crit[.input]! - max(crit[.gate]!, crit[.up]!), .atLeast(-0.02), seeds: [seed]))
        claims.append(Claim(id: "input-most-practical", statement: "C3: input saves the most FFN FLOPs of the single-matrix targets ((2/3)crit_in − (1/3)crit_int)",
                               measured: 2.0 / 3 * crit[.input]! - 1.0 / 3 * crit[.intermediate]!, .greaterThan(0), seeds: [seed]))
        claims.append(Claim(id: "size-scaling", statement: "C2: critical sparsity grows with size (Spearman ρ(params, mean crit) over the ladder; crit(L4) − crit(L1))",
                               measured: sizeRho, .atLeast(0.8),
                               and: [Condition("mean crit of the largest − smallest ladder model", measured: sizeDiff, .atLeast(0.02))],
                               seeds: [seed], note: "mean crit per size: \(meanCrit.map { String(format: "%.3f", $0) }.joined(separator: ", "))"))
        claims.append(Claim(id: "topp-vs-topk", statement: "top-p is at least as good as top-k at equal sparsity (mean over input, intermediate of r_topp(s*) − r_topk(s*))",
                               measured: ruleGap, .atLeast(-0.005), seeds: [seed]))
        claims.append(Claim(id: "single-layer-milder", statement: "one sparsified layer hurts less than all (min over layers of single-layer r − all-layer r, all_inputs p = 0.5)",
                               measured: singleLayerMargin, .atLeast(0), seeds: [seed]))
        claims.append(Claim(id: "diffusion-non-inferior", statement: "C5: the masked-diffusion LM is as tolerant as the AR model of its size (mean over input, intermediate of crit_diff − crit_AR)",
                               measured: diffusionGap, .atLeast(-0.05), seeds: [seed]))
        claims.append(Claim(id: "diffusion-masks-drift", statement: "C5: kept-neuron masks change across denoising steps (mean J(M_1, M_S) on generated positions)",
                               measured: driftEnd, .atMost(0.9),
                               and: [Condition("mean consecutive J − J(M_1, M_S)", measured: consecutiveMean - driftEnd, .greaterThan(0))],
                               seeds: [seed]))

        for claim in claims { try report.claim(claim) }

        // What a failing paper claim means here (spec §5: a failing claim stays failing and is explained).
        let explanations: [String: String] = [
            "universal-sparsity": """
                At 135 M parameters SmolLM2's FFN input and gate/up projections are dense in magnitude: even top-p 0.99 \
                zeroes only the smallest ~10 % of entries and r drops quickly; the paper reports the smallest critical \
                sparsities for its smallest models (C2), and our r (next-token accuracy and NLL on raw text) is a \
                stricter task than most lm-eval multiple-choice tasks.
                """,
            "input-tolerates-more": """
                The input tensor of this small model is less tolerant than gate/up on our tasks: crit input \
                \(String(format: "%.3f", crit[.input]!)), gate \(String(format: "%.3f", crit[.gate]!)), up \
                \(String(format: "%.3f", crit[.up]!)). SmolLM2's numbers do not depend on the seed; with 2+2 windows \
                (an earlier run) the margin was −0.029, so more windows move it towards the threshold but not past it.
                """,
            "input-most-practical": """
                SmolLM2's intermediate tensor h = SiLU(W_g x) ⊙ W_u x is far more compressible than its input x (DATA.md: \
                25-38 % of |h| < 0.01 in the first layers): crit_int \(String(format: "%.3f", crit[.intermediate]!)) vs crit_in \
                \(String(format: "%.3f", crit[.input]!)), so skipping W_d columns at crit_int saves more than skipping W_g/W_u \
                columns at crit_in. The paper's claim rests on larger models where crit_in is much higher.
                """,
            "size-scaling": """
                The ladder spans only 28 k - 800 k parameters trained for \(plan.recipe.steps) steps (spec §7 risk 2). Mean crit \
                per size \(meanCrit.map { String(format: "%.3f", $0) }.joined(separator: ", ")): when these lie within a few \
                hundredths of each other their order moves with the seed, even though the larger models reach a lower \
                test NLL (ladder table). Longer training (`--train-steps`, a deviation from the spec) separates the sizes.
                """,
            "topp-vs-topk": "At matched sparsity top-k did better than top-p on these windows (paired, same windows).",
            "single-layer-milder": "Sparsifying one layer at p = 0.5 hurt more than sparsifying all layers for some layer.",
            "diffusion-non-inferior": "The masked-diffusion LM tolerated less sparsity than the AR model of its size.",
            "diffusion-masks-drift": """
                Kept masks of the generated positions stayed nearly fixed across denoising steps (or the last-step drift \
                exceeded the mean consecutive similarity), unlike LLaDA-8B in the paper. When the diffusion LM is at \
                unigram level (caveat in the diffusion section) its activations hardly depend on the context, so the \
                masks cannot drift much: this is a training-length finding, not evidence against C5.
                """,
        ]
        let failing = claims.filter { !$0.holds }
        report.text(failing.isEmpty ? "Every claim holds at this scale and seed." : """
            **Failing claims (findings, not errors).** \(failing.map { c in
                "`\(c.id)` (measured \(String(format: "%.4g", c.measured)), needs \(c.comparison.text)): \(explanations[c.id] ?? "an exact check failed: a bug to fix.")"
            }.joined(separator: " "))
            """)

        // MARK: Timing
        var timing = Table(header: ["section", "wall s", "CPU s"])
        for t in timings { timing.append([.text(t.section), .number(rounded(t.wall, 1)), .number(rounded(t.cpu, 1))]) }
        try report.table(timing, name: "timing", caption: "Wall and CPU seconds per section (\(Parallel.threads) threads; the machine may be shared)")
    }
}

ActivationSparsity.runMain()
