/// A sample sorted once, answering many order-statistic queries: quantiles and counts by binary search.
///
/// Sorting costs O(N log N) once; each `quantile` is then O(1) and each count O(log N). An early-exit
/// threshold sweep (999 quantiles of 30k pooled confidences, then a count per threshold) costs one sort
/// instead of one sort per query.
///
///     let sample = SortedSample([0.9, 0.2, 0.5, 0.7])
///     sample.quantile(0.5)            // 0.6
///     sample.count(greaterThan: 0.5)  // 2
///
/// NaN policy: NaN has no place in an order, so the initialiser refuses it (precondition); ±∞ are ordinary
/// values (a quantile interpolating between −∞ and +∞ is NaN).
public struct SortedSample: Sendable, Equatable {
    /// The values in ascending order.
    public let values: [Double]

    public init(_ values: [Double]) {
        if let bad = values.firstIndex(where: \.isNaN) {
            preconditionFailure("SortedSample: value \(bad) of \(values.count) is NaN; drop non-finite values first")
        }
        self.values = values.sorted()
    }

    public var count: Int { values.count }

    /// Quantile q ∈ [0, 1] by linear interpolation between order statistics: with s sorted ascending and
    /// h = q·(N − 1), Q(q) = s[⌊h⌋] + (h − ⌊h⌋)·(s[⌊h⌋ + 1] − s[⌊h⌋]). This is NumPy's default
    /// (`np.quantile(..., method="linear")`, Hyndman & Fan type 7); NumPy evaluates the same line from the
    /// upper end when h − ⌊h⌋ ≥ 0.5, so the two can differ in the last bit. NaN for an empty sample.
    public func quantile(_ q: Double) -> Double {
        precondition(q >= 0 && q <= 1, "SortedSample.quantile: q = \(q) is outside [0, 1]")
        guard !values.isEmpty else { return .nan }
        let position = q * Double(values.count - 1)
        let lower = Int(position.rounded(.down)), upper = min(lower + 1, values.count - 1)
        return values[lower] + (values[upper] - values[lower]) * (position - Double(lower))
    }

    /// `quantile(q)` for every q, in the order given.
    public func quantiles(_ qs: [Double]) -> [Double] { qs.map(quantile) }

    /// Number of values ≤ x (binary search).
    public func count(atMost x: Double) -> Int { firstIndex { $0 > x } }

    /// Number of values < x (binary search).
    public func count(lessThan x: Double) -> Int { firstIndex { $0 >= x } }

    /// Number of values > x.
    public func count(greaterThan x: Double) -> Int { values.count - count(atMost: x) }

    /// Number of values ≥ x.
    public func count(atLeast x: Double) -> Int { values.count - count(lessThan: x) }

    /// Empirical CDF F(x) = (number of values ≤ x) / N; NaN for an empty sample.
    public func fraction(atMost x: Double) -> Double {
        values.isEmpty ? .nan : Double(count(atMost: x)) / Double(values.count)
    }

    /// The first index whose value satisfies `isPast`, which must be false then true along the sorted values.
    private func firstIndex(where isPast: (Double) -> Bool) -> Int {
        var low = 0, high = values.count
        while low < high {
            let middle = (low + high) / 2
            if isPast(values[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
