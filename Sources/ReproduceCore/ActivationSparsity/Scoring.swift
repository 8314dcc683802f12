import Foundation
import Lab

/// The cloze items of a token sequence: for every line end, the tokens of the line's last word (everything
/// between the line's last space and the newline, punctuation included). A word starts at a token that begins
/// with a space (BPE "Ġword"), after a lone space token (characters), or after a newline. The line ends at a
/// token that begins with a newline; a line whose newline is merged into the word's last token is skipped.
/// Only items whose every position is ≥ `firstScored` are returned.   tokenTexts: [T] → index ranges
public func clozeSpans(tokenTexts: [String], firstScored: Int) -> [Range<Int>] {
    var spans: [Range<Int>] = []
    var wordStart: Int? = nil
    for (i, text) in tokenTexts.enumerated() {
        if text.first == "\n" {
            if let start = wordStart, start < i, start >= firstScored { spans.append(start..<i) }
            wordStart = text.last == "\n" ? i + 1 : i
        } else if text.contains("\n") {
            wordStart = text.last == "\n" ? i + 1 : nil
        } else if text.first == " " {
            wordStart = text.allSatisfy({ $0 == " " }) ? i + 1 : i
        }
    }
    return spans
}

/// Relative performance r of a sparsified model: the mean over tasks of acc_p/acc_dense and
/// exp(−(NLL_p − NLL_dense)) (both 1 for the dense model).
public func relativePerformance(sparse: [WindowStats], dense: [WindowStats]) -> Double {
    precondition(sparse.count == dense.count && !sparse.isEmpty, "relativePerformance: \(sparse.count) tasks vs \(dense.count)")
    var total = 0.0
    for (s, d) in zip(sparse, dense) {
        total += s.accuracy / max(d.accuracy, 1e-12)
        total += exp(-(s.meanNLL - d.meanNLL))
    }
    return total / Double(2 * sparse.count)
}

/// The largest sparsity with r ≥ `level` on a curve of (s_j, r_j) points ordered by decreasing p (dense
/// first, s_0 = 0, r_0 = 1): with j the first index where r_j < level, crit = s_{j−1} + (s_j − s_{j−1})·λ,
/// λ = (r_{j−1} − level)/(r_{j−1} − r_j). Without such a j, crit = the last s (a lower bound).
public struct CriticalPoint: Sendable, Equatable {
    public let sparsity: Double
    /// The segment: crit lies between points `index − 1` and `index` at fraction `fraction`; for a lower
    /// bound, `index` is the point crit equals.
    public let index: Int
    public let fraction: Double
    /// True when no point dropped below the level (crit is then a lower bound).
    public let isLowerBound: Bool

    /// Any per-point quantity (s_in, s_int of all_inputs) at the critical point, by the same interpolation.
    public func interpolate(_ values: [Double]) -> Double {
        if isLowerBound { return values[index] }
        return values[index - 1] + (values[index] - values[index - 1]) * fraction
    }
}

public func criticalSparsity(sparsity s: [Double], relative r: [Double], level: Double = 0.99) -> CriticalPoint {
    precondition(s.count == r.count && !s.isEmpty, "criticalSparsity: \(s.count) sparsities, \(r.count) r values")
    guard let j = r.firstIndex(where: { $0 < level }) else {
        return CriticalPoint(sparsity: s[s.count - 1], index: s.count - 1, fraction: 1, isLowerBound: true)
    }
    if j == 0 { return CriticalPoint(sparsity: s[0], index: 0, fraction: 0, isLowerBound: true) }
    let lambda = (r[j - 1] - level) / (r[j - 1] - r[j])
    return CriticalPoint(sparsity: s[j - 1] + (s[j] - s[j - 1]) * lambda, index: j, fraction: lambda, isLowerBound: false)
}

/// Jaccard index |A ∩ B| / |A ∪ B| of two bit masks of equal length (1 when both are empty).
public func jaccard(_ a: [UInt64], _ b: [UInt64]) -> Double {
    precondition(a.count == b.count, "jaccard: masks of \(a.count) and \(b.count) words")
    var both = 0, either = 0
    for i in a.indices {
        both += (a[i] & b[i]).nonzeroBitCount
        either += (a[i] | b[i]).nonzeroBitCount
    }
    return either == 0 ? 1 : Double(both) / Double(either)
}

/// The kept-entry mask of a row (bit i set when v_i ≠ 0), in ⌈n/64⌉ words.
public func keptMask(_ row: UnsafePointer<Float>, width: Int) -> [UInt64] {
    var words = [UInt64](repeating: 0, count: (width + 63) / 64)
    for i in 0..<width where row[i] != 0 { words[i >> 6] |= 1 << UInt64(i & 63) }
    return words
}
