import Foundation
import Lab

/// Fixed, seeded evaluation windows drawn from several corpora (SmolLM2's KJV-test and fortunes windows,
/// docs/papers/activation-sparsity.md §2), and the bookkeeping that turns per-window results into tasks, sparsities
/// and curves. Windows are addressed by id (their index in `windows`); a statistic of a subset of ids covers the
/// corpora that subset contains, one task per corpus, so one corpus's windows give that corpus's numbers.
public struct CorpusWindows: Sendable {
    /// Corpus names, in task order.
    public let corpora: [String]
    /// Token ids of each window: the windows of corpus 0 first, then those of corpus 1, ...
    public let windows: [[Int]]
    /// Index into `corpora` of each window.
    public let corpusOfWindow: [Int]
    /// Positions 0..<context are context only: the targets of rows ≥ context − 1 are scored.
    public let context: Int
    /// Cloze spans of each window, over target rows.
    public let cloze: [[Range<Int>]]

    public init(corpora: [String], windows: [[Int]], corpusOfWindow: [Int], context: Int, cloze: [[Range<Int>]]) {
        precondition(windows.count == corpusOfWindow.count && windows.count == cloze.count,
                     "CorpusWindows: \(windows.count) windows, \(corpusOfWindow.count) corpus labels, \(cloze.count) cloze lists")
        precondition(corpusOfWindow.allSatisfy { corpora.indices.contains($0) }, "CorpusWindows: a corpus label outside 0..<\(corpora.count)")
        self.corpora = corpora
        self.windows = windows
        self.corpusOfWindow = corpusOfWindow
        self.context = context
        self.cloze = cloze
    }

    /// Seeded windows, `perCorpus` per corpus: a random line start among all but the last 50 lines, the following
    /// lines up to ~8 characters per token, encoded; redrawn (up to 100 tries) until it has `tokens` tokens, of
    /// which the first `tokens` are kept. Cloze spans come from the decoded text of each target token.
    public init(corpora: [(name: String, lines: [String])], perCorpus: Int, tokens: Int, context: Int, seed: UInt64,
                encode: (String) -> [Int], decode: (Int) -> String) throws {
        var rng = RNG(seed: seed)
        var windows: [[Int]] = [], corpus: [Int] = []
        for (k, (name, lines)) in corpora.enumerated() {
            for _ in 0..<perCorpus {
                var ids: [Int] = []
                var attempts = 0
                while ids.count < tokens {
                    attempts += 1
                    guard attempts < 100, lines.count > 50 else {
                        throw LabError.invalidArgument("CorpusWindows: the \(name) text (\(lines.count) lines) is too short for \(tokens)-token windows")
                    }
                    let start = rng.int(below: lines.count - 50)
                    var text = "", end = start
                    while text.count < tokens * 8 && end < lines.count { text += lines[end] + "\n"; end += 1 }
                    ids = encode(text)
                }
                windows.append(Array(ids.prefix(tokens)))
                corpus.append(k)
            }
        }
        self.init(corpora: corpora.map(\.name), windows: windows, corpusOfWindow: corpus, context: context,
                  cloze: windows.map { w in clozeSpans(tokenTexts: w.dropFirst().map(decode), firstScored: context - 1) })
    }

    /// Every window id.
    public var all: [Int] { Array(windows.indices) }

    /// The ids of corpus k's windows.
    public func windows(ofCorpus k: Int) -> [Int] { windows.indices.filter { corpusOfWindow[$0] == k } }

    /// The first n windows of each corpus, in id order.
    public func leading(_ n: Int) -> [Int] {
        windows.indices.filter { w in windows(ofCorpus: corpusOfWindow[w]).prefix(n).contains(w) }
    }

    /// The scored next-token target of each row of window w (−1: not scored).
    public func targets(window w: Int) -> [Int] {
        let window = windows[w]
        return (0..<window.count).map { i in i >= context - 1 && i + 1 < window.count ? window[i + 1] : -1 }
    }

    /// Which rows of window w count in the sparsity (the scored ones).
    public func scoredRows(window w: Int) -> [Bool] { (0..<windows[w].count).map { $0 >= context - 1 } }

    /// The tasks of a subset: one pooled WindowStats per corpus present in `ids`, in corpus order.
    public func tasks(_ run: WindowRun, windows ids: [Int]) -> [WindowStats] {
        corpora.indices.filter { k in ids.contains { corpusOfWindow[$0] == k } }.map { k in
            ids.filter { corpusOfWindow[$0] == k }.reduce(WindowStats()) { $0 + run.stats[$1] }
        }
    }

    /// Zero and entry counts summed over a subset.
    public func counts(_ run: WindowRun, windows ids: [Int]) -> SparsityCounts {
        ids.reduce(SparsityCounts(layers: run.layers)) { $0 + run.counts[$1] }
    }

    /// r of `sparse` against `dense` on a subset (mean over its corpora of the accuracy and NLL ratios).
    public func relativePerformance(_ sparse: WindowRun, dense: WindowRun, windows ids: [Int]) -> Double {
        ActivationSparsityCore.relativePerformance(sparse: tasks(sparse, windows: ids), dense: tasks(dense, windows: ids))
    }

    /// The curve of one sweep (runs ordered by decreasing rule parameter) on a subset of windows.
    public func curve(model: String, target: SparsityTarget, rule: String, runs: [(parameter: Double, run: WindowRun)],
                      dense: WindowRun, windows ids: [Int]) -> Curve {
        var curve = Curve(model: model, target: target, rule: rule)
        for (parameter, run) in runs {
            let c = counts(run, windows: ids)
            curve.append(parameter: parameter, sparsity: c.sparsity(points: target.points),
                         relative: relativePerformance(run, dense: dense, windows: ids),
                         input: c.sparsity(points: [.input]), intermediate: c.wideSparsity(target))
        }
        return curve
    }
}

/// Per-window statistics and zero counts of one model, rule and target, indexed by window id (windows not
/// evaluated stay empty), so that any subset can be re-scored later (paired comparisons).
public struct WindowRun: Sendable {
    public var stats: [WindowStats]
    public var counts: [SparsityCounts]
    public let layers: Int

    public init(windows: Int, layers: Int) {
        stats = Array(repeating: WindowStats(), count: windows)
        counts = Array(repeating: SparsityCounts(layers: layers), count: windows)
        self.layers = layers
    }
}

/// One sparsity sweep of one model and target: points ordered by decreasing rule parameter, dense first (s = 0,
/// r = 1).
public struct Curve: Sendable {
    public var model: String
    public var target: SparsityTarget
    public var rule: String
    /// The rule parameter of each point (nil for the dense point).
    public var parameters: [Double?] = [nil]
    public var sparsity: [Double] = [0]
    public var relative: [Double] = [1]
    /// Sparsity of x and of the width-m tensor the target rewrites (all_inputs reports both).
    public var inputSparsity: [Double] = [0]
    public var intermediateSparsity: [Double] = [0]

    public init(model: String, target: SparsityTarget, rule: String) {
        self.model = model
        self.target = target
        self.rule = rule
    }

    public var critical: CriticalPoint { criticalSparsity(sparsity: sparsity, relative: relative) }

    public mutating func append(parameter: Double, sparsity s: Double, relative r: Double, input sIn: Double, intermediate sInt: Double) {
        parameters.append(parameter); sparsity.append(s); relative.append(r)
        inputSparsity.append(sIn); intermediateSparsity.append(sInt)
    }

    /// FFN FLOP saving at the critical sparsity.
    public var ffnSaving: Double {
        let c = critical
        return target.ffnFLOPSaving(inputSparsity: c.interpolate(inputSparsity), intermediateSparsity: c.interpolate(intermediateSparsity))
    }
}
