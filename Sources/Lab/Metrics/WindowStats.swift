import Foundation

/// Next-token (or masked-token) statistics of one evaluation window, kept per window so that any subset of
/// windows can be re-scored later (paired comparisons across settings of one model).
public struct WindowStats: Sendable, Equatable {
    public var scored = 0
    public var correct = 0
    /// Σ −log p(target), nats.
    public var negativeLogLikelihood = 0.0
    /// Cloze items (a line's last word) and how many had every token top-1.
    public var clozeItems = 0
    public var clozeCorrect = 0

    public init() {}

    public static func + (a: WindowStats, b: WindowStats) -> WindowStats {
        var s = a
        s.scored += b.scored; s.correct += b.correct; s.negativeLogLikelihood += b.negativeLogLikelihood
        s.clozeItems += b.clozeItems; s.clozeCorrect += b.clozeCorrect
        return s
    }

    public var accuracy: Double { Double(correct) / Double(max(scored, 1)) }
    /// Mean NLL per scored token (nats).
    public var meanNLL: Double { negativeLogLikelihood / Double(max(scored, 1)) }
    public var clozeAccuracy: Double { Double(clozeCorrect) / Double(max(clozeItems, 1)) }

    /// Scores logits rows against targets. logits: [rows, vocab]; targets[r] < 0 means row r is not scored;
    /// `cloze` lists row ranges whose rows must all be top-1 for a cloze item to count as correct.
    public static func score(logits: UnsafePointer<Float>, vocabulary: Int, targets: [Int], cloze: [Range<Int>] = []) -> WindowStats {
        var stats = WindowStats()
        var top1 = [Bool](repeating: false, count: targets.count)
        for (r, target) in targets.enumerated() where target >= 0 {
            let row = logits + r * vocabulary
            var best = 0
            var largest = row[0]
            for j in 1..<vocabulary where row[j] > largest { largest = row[j]; best = j }
            var z = 0.0
            for j in 0..<vocabulary { z += exp(Double(row[j] - largest)) }
            stats.scored += 1
            stats.negativeLogLikelihood += Double(largest) + log(z) - Double(row[target])
            if best == target { stats.correct += 1; top1[r] = true }
        }
        for item in cloze {
            stats.clozeItems += 1
            if item.allSatisfy({ top1[$0] }) { stats.clozeCorrect += 1 }
        }
        return stats
    }
}

/// Per-window next-token statistics of a causal LM on fixed windows of T + 1 ids: `logits` [W·T, vocabulary] are the
/// model's outputs for the windows' first T ids (window after window); row i of window w predicts w[i + 1] and is
/// scored when i ≥ firstScored − 1 (targets at positions ≥ firstScored). `cloze(w)` lists window w's cloze items
/// as row ranges (none by default).
public func autoregressiveWindowStats(logits: [Float], vocabulary: Int, windows: [[Int]], firstScored: Int,
                                      cloze: (Int) -> [Range<Int>] = { _ in [] }) -> [WindowStats] {
    let length = (windows.first?.count ?? 1) - 1
    precondition(windows.allSatisfy { $0.count == length + 1 } && logits.count == windows.count * length * vocabulary,
                 "autoregressiveWindowStats: \(logits.count) logits for \(windows.count) windows of \(length) + 1 ids and \(vocabulary) classes")
    return logits.withUnsafeBufferPointer { buffer in
        windows.enumerated().map { w, window in
            let targets = (0..<length).map { i in i >= firstScored - 1 ? window[i + 1] : -1 }
            return WindowStats.score(logits: buffer.baseAddress! + w * length * vocabulary, vocabulary: vocabulary, targets: targets,
                                     cloze: cloze(w))
        }
    }
}
