import ActivationSparsityCore
import Foundation
import Lab
import LabLLM
import LabRun

/// The SmolLM2 side of the run: fixed token windows of two corpora and the hooked, scored forward.
struct SmolLM2Bench {
    let model: LlamaModel
    /// Windows of `tokens` BPE tokens; the first half are KJV-test, the second half fortunes.
    let windows: [[Int]]
    let corpusOfWindow: [String]
    let context: Int
    /// Cloze spans per window (over target rows).
    let cloze: [[Range<Int>]]

    static let corpora = ["KJV", "fortunes"]

    /// Seeded windows: a random line start in each corpus text, then the first `tokens` tokens from there.
    init(model: LlamaModel, kjvTest: [String], fortunes: [String], perCorpus: Int, tokens: Int, context: Int, seed: UInt64) throws {
        self.model = model
        self.context = context
        var rng = RNG(seed: seed)
        var windows: [[Int]] = [], corpus: [String] = []
        for (name, lines) in zip(Self.corpora, [kjvTest, fortunes]) {
            for _ in 0..<perCorpus {
                var ids: [Int] = []
                var attempts = 0
                while ids.count < tokens {
                    attempts += 1
                    guard attempts < 100, lines.count > 50 else {
                        throw LabError.invalidArgument("activation-sparsity: the \(name) text (\(lines.count) lines) is too short for \(tokens)-token windows")
                    }
                    let start = rng.int(below: lines.count - 50)
                    var text = "", end = start
                    while text.count < tokens * 8 && end < lines.count { text += lines[end] + "\n"; end += 1 }
                    ids = model.tokenizer.encode(text, parseSpecial: false)
                }
                windows.append(Array(ids.prefix(tokens)))
                corpus.append(name)
            }
        }
        self.windows = windows
        corpusOfWindow = corpus
        cloze = windows.map { w in
            clozeSpans(tokenTexts: w.dropFirst().map { model.tokenizer.decode([$0]) }, firstScored: context - 1)
        }
    }

    var layers: Int { model.config.layers }

    static func llamaPoint(_ point: FFNHookPoint) -> LlamaHookPoint {
        switch point {
        case .input: return .ffnInput
        case .gate: return .gate
        case .up: return .up
        case .intermediate: return .intermediate
        }
    }

    /// Hooks that route the probe's points of every layer to it.
    static func hooks(_ probe: SparsityProbe) -> LlamaHooks {
        var hooks = LlamaHooks()
        for point in probe.target.points {
            hooks.on(llamaPoint(point)) { view in
                probe.apply(layer: view.layer, point: point, base: view.base, rows: view.tokens, width: view.width, rowStride: view.rowStride)
            }
        }
        return hooks
    }

    /// Scores window w (one forward, logits for every token; targets at positions ≥ context) with the probe's rule
    /// active; the probe's counts are reset first and cover the scored rows only. Optionally starts at `fromLayer`
    /// from a cached residual stream.
    func evaluate(window w: Int, probe: SparsityProbe?, fromLayer: Int = 0, residual: [Float]? = nil) throws -> (WindowStats, SparsityCounts) {
        let window = windows[w]
        probe?.resetCounts()
        probe?.countedRows = (0..<window.count).map { $0 >= context - 1 }
        let out = try model.forward([window], logits: .allTokens, hooks: probe.map(Self.hooks) ?? LlamaHooks(),
                                    fromLayer: fromLayer, residual: residual)
        let targets = (0..<window.count).map { i in i >= context - 1 && i + 1 < window.count ? window[i + 1] : -1 }
        let stats = out.logits.withUnsafeBufferPointer {
            WindowStats.score(logits: $0.baseAddress!, vocabulary: out.vocabularySize, targets: targets, cloze: cloze[w])
        }
        try checkFinite(stats.negativeLogLikelihood, what: "SmolLM2 NLL of window \(w)", step: 0)
        return (stats, probe?.counts ?? SparsityCounts(layers: layers))
    }

    /// The residual stream entering every layer for the given windows (packed), from one dense forward.
    func residualStreams(windows ids: [Int]) throws -> [[Float]] {
        try model.hiddenStates(ids.map { windows[$0] }, rows: .allTokens, layers: Array(0..<layers)).residual
    }
}

