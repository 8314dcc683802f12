import Foundation
import Lab
import LabLLM

/// SmolLM2 under a sparsity probe: the hooked, scored forward of one window, runs over window subsets, and the
/// single-layer study's forward from a cached residual stream (docs/papers/activation-sparsity.md §3).
public struct SmolLM2Bench {
    public let model: LlamaModel
    public let windows: CorpusWindows

    public init(model: LlamaModel, windows: CorpusWindows) {
        self.model = model
        self.windows = windows
    }

    public var layers: Int { model.config.layers }

    /// The Llama hook point of an FFN point.
    public static func llamaPoint(_ point: FFNHookPoint) -> LlamaHookPoint {
        switch point {
        case .input: return .ffnInput
        case .gate: return .gate
        case .up: return .up
        case .intermediate: return .intermediate
        }
    }

    /// Hooks that route the probe's points of every layer to it.
    public static func hooks(_ probe: SparsityProbe) -> LlamaHooks {
        var hooks = LlamaHooks()
        for point in probe.target.points {
            hooks.on(llamaPoint(point)) { view in
                probe.apply(layer: view.layer, point: point, base: view.base, rows: view.tokens, width: view.width, rowStride: view.rowStride)
            }
        }
        return hooks
    }

    /// Scores window w (one forward, logits for every token) with the probe's rule active; the probe's counts are
    /// reset first and cover the scored rows only. With `fromLayer` ℓ > 0 the forward starts at block ℓ from
    /// `residual`, the dense stream entering it.
    public func evaluate(window w: Int, probe: SparsityProbe?, fromLayer: Int = 0, residual: [Float]? = nil) throws -> (WindowStats, SparsityCounts) {
        probe?.resetCounts()
        probe?.countedRows = windows.scoredRows(window: w)
        let out = try model.forward([windows.windows[w]], logits: .allTokens, hooks: probe.map(Self.hooks) ?? LlamaHooks(),
                                    fromLayer: fromLayer, residual: residual)
        let stats = out.logits.withUnsafeBufferPointer {
            WindowStats.score(logits: $0.baseAddress!, vocabulary: out.vocabularySize, targets: windows.targets(window: w), cloze: windows.cloze[w])
        }
        try checkFinite(stats.negativeLogLikelihood, what: "SmolLM2 NLL of window \(w)", step: 0)
        return (stats, probe?.counts ?? SparsityCounts(layers: layers))
    }

    /// One rule on one target (nil: dense) over the windows `ids`; the other windows stay empty.
    public func run(_ rule: SparsityRule?, _ target: SparsityTarget, windows ids: [Int]) throws -> WindowRun {
        let probe = rule.map { SparsityProbe(rule: $0, target: target, layerCount: layers) }
        var run = WindowRun(windows: windows.windows.count, layers: layers)
        for w in ids { (run.stats[w], run.counts[w]) = try evaluate(window: w, probe: probe) }
        return run
    }

    /// The dense-at-p1 check: the largest |Δlogit| between the dense forward and top-p with p = 1 on each target,
    /// over the first `tokens` tokens of window 0 (top-p 1 keeps every non-zero entry, so this must be ~0).
    public func identityError(tokens: Int) throws -> Double {
        let short = Array(windows.windows[0].prefix(tokens))
        let dense = try model.forward([short], logits: .allTokens).logits
        var error = 0.0
        for target in SparsityTarget.allCases {
            let probe = SparsityProbe(rule: .topP(1), target: target, layerCount: layers)
            let logits = try model.forward([short], logits: .allTokens, hooks: Self.hooks(probe)).logits
            for i in logits.indices { error = max(error, Double(abs(logits[i] - dense[i]))) }
        }
        return error
    }

    /// The main sweep: top-p at every p of `grid` (in its order) on every target, all windows; `progress` gets
    /// the number of runs done.
    public func sweep(grid: [Double], progress: (Int) -> Void = { _ in }) throws -> [SparsityTarget: [(parameter: Double, run: WindowRun)]] {
        var runs: [SparsityTarget: [(parameter: Double, run: WindowRun)]] = [:]
        var done = 0
        for target in SparsityTarget.allCases {
            for p in grid {
                runs[target, default: []].append((p, try run(.topP(p), target, windows: windows.all)))
                done += 1
                progress(done)
            }
        }
        return runs
    }

    /// Rules at matched sparsity on the windows `ids` (docs/papers/activation-sparsity.md §3): top-k with
    /// k = 1 − s_topp(p) for each p of `topKAlignedP` (s_topp read from `main`, the all-window top-p curve) and
    /// max-p at each of `maxPValues`, against top-p re-scored on the same windows from `sweep`'s runs. Each rule's
    /// r is interpolated at s* = main's critical sparsity.
    public func compareRules(target: SparsityTarget, main: Curve, sweep: [(parameter: Double, run: WindowRun)], dense: WindowRun,
                             windows ids: [Int], topKAlignedP: [Double], maxPValues: [Double]) throws -> RuleComparison {
        let name = "SmolLM2-135M"
        let topP = windows.curve(model: name, target: target, rule: "top-p", runs: sweep, dense: dense, windows: ids)
        var topKRuns: [(parameter: Double, run: WindowRun)] = []
        for p in topKAlignedP {
            guard let i = main.parameters.firstIndex(of: p) else {
                throw LabError.invalidArgument("compareRules: top-k is aligned to top-p \(p), which the main sweep did not run")
            }
            let k = max(0, min(1, 1 - main.sparsity[i]))
            topKRuns.append((k, try run(.topK(k), target, windows: ids)))
        }
        var maxPRuns: [(parameter: Double, run: WindowRun)] = []
        for p in maxPValues { maxPRuns.append((p, try run(.maxP(p), target, windows: ids))) }
        let curves = [topP,
                      windows.curve(model: name, target: target, rule: "top-k", runs: topKRuns, dense: dense, windows: ids),
                      windows.curve(model: name, target: target, rule: "max-p", runs: maxPRuns, dense: dense, windows: ids)]
        let sStar = main.critical.sparsity
        return RuleComparison(target: target, criticalSparsity: sStar, curves: curves,
                              relativeAtCritical: curves.map { PiecewiseLinearCurve(xs: $0.sparsity, ys: $0.relative).value(clampedAt: sStar) })
    }

    /// Only layer `layer` sparsified by `rule` on `target`, over the windows `ids`; each forward starts at that
    /// layer from the dense residual stream entering it (`residuals`: the `hiddenStates` of those windows, packed
    /// in the order of `ids`, with that layer among theirs).
    public func singleLayerRun(_ rule: SparsityRule, _ target: SparsityTarget, layer: Int, windows ids: [Int],
                               residuals: LlamaHiddenStates) throws -> WindowRun {
        let probe = SparsityProbe(rule: rule, target: target, layerCount: layers, layers: [layer])
        var run = WindowRun(windows: windows.windows.count, layers: layers)
        let d = model.config.width
        for (k, w) in ids.enumerated() {
            let rows = residuals.sequenceOffsets[k] * d ..< residuals.sequenceOffsets[k + 1] * d
            let residual = layer == 0 ? nil : Array(residuals.residual[residuals.layers.firstIndex(of: layer)!][rows])
            (run.stats[w], run.counts[w]) = try evaluate(window: w, probe: probe, fromLayer: layer, residual: residual)
        }
        return run
    }

    /// The dense residual streams x_ℓ, ℓ ∈ `layers`, of the windows `ids` (packed in that order, every row).
    public func residualStreams(windows ids: [Int], layers: [Int]) throws -> LlamaHiddenStates {
        try model.hiddenStates(ids.map { windows.windows[$0] }, rows: .allTokens, layers: layers)
    }
}

/// The three rules on one target at matched sparsity.
public struct RuleComparison: Sendable {
    public let target: SparsityTarget
    /// s*: top-p's critical sparsity on all windows.
    public let criticalSparsity: Double
    /// top-p, top-k, max-p on the rule windows.
    public let curves: [Curve]
    /// Each curve's r at s*.
    public let relativeAtCritical: [Double]

    /// r_topp(s*) − r_topk(s*).
    public var topPMinusTopK: Double { relativeAtCritical[0] - relativeAtCritical[1] }
}
