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

    /// Binary F1 = 2·precision·recall / (precision + recall), positives = true; 0 when there is no true
    /// positive. Other rates (TPR, FPR, precision) and thresholded scores: `BinaryCounts`; the curve: `ROCCurve`.
    public static func f1(predictions: [Bool], labels: [Bool]) -> Double {
        BinaryCounts(predictions: predictions, labels: labels).f1
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

    /// What `mean` and `std` do with NaN and ±∞.
    public enum NonFiniteValues: Sendable {
        /// IEEE arithmetic: any NaN gives NaN, an infinity gives ±∞ or NaN.
        case propagate
        /// Drop NaN and ±∞ first: the statistic of the finite values (e.g. over seeds, some of which diverged).
        case skip
    }

    /// Arithmetic mean Σx / n, summed left to right; NaN when empty (after dropping, for `.skip`).
    public static func mean(_ x: [Double], nonFinite: NonFiniteValues = .propagate) -> Double {
        let values = nonFinite == .skip ? x.filter(\.isFinite) : x
        return values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }

    /// Standard deviation √(Σ(x − x̄)² / (n − 1)) (sample; population n with `unbiased: false`); 0 for one
    /// value, NaN for none. Non-finite values as in `mean`.
    public static func std(_ x: [Double], unbiased: Bool = true, nonFinite: NonFiniteValues = .propagate) -> Double {
        let values = nonFinite == .skip ? x.filter(\.isFinite) : x
        guard values.count > 1 else { return values.isEmpty ? .nan : 0 }
        let m = mean(values)
        return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(unbiased ? values.count - 1 : values.count)).squareRoot()
    }

    /// Quantile q ∈ [0, 1] with linear interpolation between order statistics (NumPy's default; see
    /// `SortedSample.quantile`); NaN when x is empty or holds a NaN. Sorts on every call: for several
    /// quantiles of one sample use `SortedSample`.
    public static func quantile(_ x: [Double], _ q: Double) -> Double {
        x.contains(where: \.isNaN) ? .nan : SortedSample(x).quantile(q)
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

    /// Kendall's τ_b = (C − D) / √((n₀ − n₁)(n₀ − n₂)), ties in either variable corrected: C, D concordant
    /// and discordant pairs, n₀ = n(n − 1)/2, n₁ and n₂ the pairs tied in x and in y. O(n log n) by Knight's
    /// algorithm (JASA 1966): sort by (x, y), count the swaps a merge sort by y makes (= D), and the tie
    /// groups along the way; C − D = n₀ − n₁ − n₂ + n₃ − 2D with n₃ the pairs tied in both. NaN when either
    /// variable is constant; NaN values are refused.
    public static func kendallTau(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "kendallTau: \(x.count) vs \(y.count) values")
        precondition(!x.contains(where: \.isNaN) && !y.contains(where: \.isNaN), "kendallTau: NaN values have no rank")
        let n = x.count
        let order = x.indices.sorted { x[$0] < x[$1] || (x[$0] == x[$1] && y[$0] < y[$1]) }
        var ys = order.map { y[$0] }
        let xs = order.map { x[$0] }
        // Tied pairs in x (n₁) and in both (n₃), from runs of the (x, y)-sorted sequence.
        var tiedX = 0, tiedBoth = 0, runX = 1, runBoth = 1
        for i in 1..<max(n, 1) {
            if xs[i] == xs[i - 1] {
                runX += 1
                runBoth = ys[i] == ys[i - 1] ? runBoth + 1 : 1
            } else {
                runX = 1; runBoth = 1
            }
            tiedX += runX - 1; tiedBoth += runBoth - 1
        }
        let discordant = mergeSortCountingSwaps(&ys)
        var tiedY = 0, runY = 1
        for i in 1..<max(n, 1) {
            runY = ys[i] == ys[i - 1] ? runY + 1 : 1
            tiedY += runY - 1
        }
        let pairs = n * (n - 1) / 2
        let concordantMinusDiscordant = pairs - tiedX - tiedY + tiedBoth - 2 * discordant
        let denominator = (Double(pairs - tiedX) * Double(pairs - tiedY)).squareRoot()
        return denominator == 0 ? .nan : Double(concordantMinusDiscordant) / denominator
    }

    /// Sorts `values` ascending by a stable bottom-up merge sort and returns the number of swaps of
    /// adjacent elements an insertion sort would make (pairs i < j with values[i] > values[j]).
    private static func mergeSortCountingSwaps(_ values: inout [Double]) -> Int {
        let n = values.count
        var buffer = values, swaps = 0, width = 1
        values.withUnsafeMutableBufferPointer { source in
            buffer.withUnsafeMutableBufferPointer { target in
                var from = source, to = target, inSource = true
                while width < n {
                    var start = 0
                    while start < n {
                        let middle = min(start + width, n), end = min(start + 2 * width, n)
                        var left = start, right = middle, out = start
                        while left < middle && right < end {
                            if from[right] < from[left] {
                                to[out] = from[right]; right += 1
                                swaps += middle - left
                            } else {
                                to[out] = from[left]; left += 1
                            }
                            out += 1
                        }
                        while left < middle { to[out] = from[left]; left += 1; out += 1 }
                        while right < end { to[out] = from[right]; right += 1; out += 1 }
                        start = end
                    }
                    swap(&from, &to); inSource.toggle()
                    width *= 2
                }
                if !inSource { for i in 0..<n { source[i] = target[i] } }
            }
        }
        return swaps
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
}
