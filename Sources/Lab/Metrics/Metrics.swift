import Foundation

/// Metrics shared by the papers. Inputs are plain arrays (Doubles for values, Ints for classes); every
/// function is tested against hand-computed or textbook values in Tests/LabTests/MetricsTests.swift.
public enum Metrics {
    // MARK: - Classification

    /// Fraction of rows whose argmax equals the label. logits: [N, C].
    public static func accuracy(logits: Tensor, labels: [Int]) -> Double {
        accuracy(predictions: logits.argmax(axis: -1), labels: labels)
    }

    /// Fraction of predictions equal to the labels.
    public static func accuracy(predictions: [Int], labels: [Int]) -> Double {
        precondition(predictions.count == labels.count, "accuracy: \(predictions.count) predictions for \(labels.count) labels")
        guard !labels.isEmpty else { return .nan }
        return Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }

    /// counts[t][p] = number of items with true class t predicted as p.
    public static func confusionMatrix(predictions: [Int], labels: [Int], classes: Int) -> [[Int]] {
        var m = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (p, t) in zip(predictions, labels) { m[t][p] += 1 }
        return m
    }

    /// Binary F1 = 2·precision·recall / (precision + recall), positives = true.
    public static func f1(predictions: [Bool], labels: [Bool]) -> Double {
        let tp = Double(zip(predictions, labels).filter { $0 && $1 }.count)
        let fp = Double(zip(predictions, labels).filter { $0 && !$1 }.count)
        let fn = Double(zip(predictions, labels).filter { !$0 && $1 }.count)
        return tp == 0 ? 0 : 2 * tp / (2 * tp + fp + fn)
    }

    /// Area under the ROC curve = P(score of a random positive > score of a random negative), ties counted
    /// half (Mann-Whitney U with mid-ranks).
    public static func auroc(scores: [Double], labels: [Bool]) -> Double {
        let positives = labels.filter { $0 }.count, negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return .nan }
        let r = ranks(scores)
        let rankSum = zip(r, labels).filter { $0.1 }.reduce(0.0) { $0 + $1.0 }
        return (rankSum - Double(positives) * Double(positives + 1) / 2) / (Double(positives) * Double(negatives))
    }

    /// Expected calibration error with `bins` equal-width confidence bins (Guo et al. 2017):
    /// Σ_b (n_b/N)·|acc_b − conf_b|; the bins themselves: `ReliabilityDiagram`.
    public static func expectedCalibrationError(confidences: [Double], correct: [Bool], bins: Int = 15) -> Double {
        ReliabilityDiagram(confidences: confidences, correct: correct, bins: bins).expectedCalibrationError
    }

    // MARK: - Statistics

    /// Mean of the values (NaN when empty).
    public static func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }

    /// Standard deviation (sample, n − 1, by default; population with `unbiased: false`). 0 for one value.
    public static func std(_ x: [Double], unbiased: Bool = true) -> Double {
        guard x.count > 1 else { return x.isEmpty ? .nan : 0 }
        let m = mean(x)
        return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(unbiased ? x.count - 1 : x.count)).squareRoot()
    }

    /// Quantile q ∈ [0, 1] with linear interpolation between order statistics (NumPy's default).
    public static func quantile(_ x: [Double], _ q: Double) -> Double {
        guard !x.isEmpty else { return .nan }
        let s = x.sorted()
        let pos = q * Double(s.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(lo + 1, s.count - 1)
        return s[lo] + (s[hi] - s[lo]) * (pos - Double(lo))
    }

    /// Median.
    public static func median(_ x: [Double]) -> Double { quantile(x, 0.5) }

    /// Ranks 1...n, ties given their mean rank.
    public static func ranks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var r = [Double](repeating: 0, count: x.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
            let mid = Double(i + j) / 2 + 1
            for k in i...j { r[order[k]] = mid }
            i = j + 1
        }
        return r
    }

    /// Pearson correlation.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "pearson: \(x.count) vs \(y.count) values")
        let (mx, my) = (mean(x), mean(y))
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        return sxx == 0 || syy == 0 ? .nan : sxy / (sxx * syy).squareRoot()
    }

    /// Spearman's rank correlation ρ (Pearson correlation of mid-ranks).
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double { pearson(ranks(x), ranks(y)) }

    /// Kendall's τ_b (ties in either variable corrected).
    public static func kendallTau(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "kendallTau: \(x.count) vs \(y.count) values")
        var concordant = 0.0, discordant = 0.0, tiesX = 0.0, tiesY = 0.0
        for i in 0..<x.count {
            for j in (i + 1)..<max(i + 1, x.count) {
                let dx = x[i] - x[j], dy = y[i] - y[j]
                if dx == 0 && dy == 0 { continue }
                if dx == 0 { tiesX += 1; continue }
                if dy == 0 { tiesY += 1; continue }
                if (dx > 0) == (dy > 0) { concordant += 1 } else { discordant += 1 }
            }
        }
        let denom = ((concordant + discordant + tiesX) * (concordant + discordant + tiesY)).squareRoot()
        return denom == 0 ? .nan : (concordant - discordant) / denom
    }

    // MARK: - Distributions

    /// Wasserstein-1 distance between two empirical distributions: ∫|F_a(t) − F_b(t)| dt over the merged
    /// support (any sizes). For equal sizes it equals (1/n)·Σ|a_(j) − b_(j)|.
    public static func wasserstein1(_ a: [Double], _ b: [Double]) -> Double {
        guard !a.isEmpty, !b.isEmpty else { return .nan }
        let sa = a.sorted(), sb = b.sorted()
        let all = (sa + sb).sorted()
        var ia = 0, ib = 0, total = 0.0
        for k in 0..<(all.count - 1) {
            let t = all[k]
            while ia < sa.count && sa[ia] <= t { ia += 1 }
            while ib < sb.count && sb[ib] <= t { ib += 1 }
            total += abs(Double(ia) / Double(sa.count) - Double(ib) / Double(sb.count)) * (all[k + 1] - t)
        }
        return total
    }

    /// Two-sample Kolmogorov-Smirnov statistic sup_t |F_a(t) − F_b(t)|.
    public static func ksStatistic(_ a: [Double], _ b: [Double]) -> Double {
        guard !a.isEmpty, !b.isEmpty else { return .nan }
        let sa = a.sorted(), sb = b.sorted()
        var ia = 0, ib = 0, d = 0.0
        while ia < sa.count && ib < sb.count {
            let t = min(sa[ia], sb[ib])
            while ia < sa.count && sa[ia] <= t { ia += 1 }
            while ib < sb.count && sb[ib] <= t { ib += 1 }
            d = max(d, abs(Double(ia) / Double(sa.count) - Double(ib) / Double(sb.count)))
        }
        return d
    }

    /// Jaccard index |A ∩ B| / |A ∪ B| of two boolean masks (1 when both are empty).
    public static func jaccard(_ a: [Bool], _ b: [Bool]) -> Double {
        precondition(a.count == b.count, "jaccard: masks of \(a.count) and \(b.count) entries")
        var inter = 0, union = 0
        for (x, y) in zip(a, b) { if x && y { inter += 1 }; if x || y { union += 1 } }
        return union == 0 ? 1 : Double(inter) / Double(union)
    }

    /// Linear interpolation of y at x0 on a polyline through (xs, ys) (xs increasing); clamps outside.
    public static func interpolate(xs: [Double], ys: [Double], at x0: Double) -> Double {
        precondition(xs.count == ys.count && !xs.isEmpty, "interpolate: \(xs.count) xs for \(ys.count) ys")
        if x0 <= xs[0] { return ys[0] }
        for i in 1..<xs.count where x0 <= xs[i] {
            let t = (x0 - xs[i - 1]) / (xs[i] - xs[i - 1])
            return ys[i - 1] + t * (ys[i] - ys[i - 1])
        }
        return ys[ys.count - 1]
    }
}
