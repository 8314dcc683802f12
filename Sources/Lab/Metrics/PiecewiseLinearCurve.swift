/// A polyline y(x) through measured points, sorted by x: a cost–accuracy or cost–loss curve that is read
/// at budgets ("accuracy at cost b") and at levels ("cost to reach accuracy a").
///
/// Budgets outside the measured range are **not reached**: `value(at:)` returns nil there rather than
/// extrapolating, and the reach queries return nil when the curve never gets to the level. Callers decide
/// what "not reached" means for their comparison (a loss, ∞, a missing table cell).
///
///     let curve = PiecewiseLinearCurve(xs: [0.2, 0.5, 1.0], ys: [0.6, 0.8, 0.9])
///     curve.value(at: 0.75)                  // 0.85
///     curve.value(at: 0.1)                   // nil: cheaper than any measured point
///     curve.firstCrossing(of: 0.7, .atLeast) // 0.35
///     curve.firstPoint(reaching: 0.7, .atLeast)?.x  // 0.5
public struct PiecewiseLinearCurve: Sendable, Equatable {
    /// Abscissae in ascending order (points with equal x keep their input order).
    public let xs: [Double]
    /// Ordinates, in the order of `xs`.
    public let ys: [Double]

    /// Which side of a level counts as reaching it: accuracy reaches a target from below (`.atLeast`),
    /// a loss from above (`.atMost`).
    public enum Reach: Sendable { case atLeast, atMost }

    /// The points (xs[i], ys[i]) in any order; they are sorted by x.
    public init(xs: [Double], ys: [Double]) {
        precondition(xs.count == ys.count && !xs.isEmpty, "PiecewiseLinearCurve: \(xs.count) xs for \(ys.count) ys (need equal, non-zero counts)")
        if let bad = xs.firstIndex(where: \.isNaN) { preconditionFailure("PiecewiseLinearCurve: x \(bad) of \(xs.count) is NaN") }
        let order = xs.indices.sorted { xs[$0] < xs[$1] }
        self.xs = order.map { xs[$0] }
        self.ys = order.map { ys[$0] }
    }

    /// y at x0 by linear interpolation between the neighbouring points; nil ("not reached") when x0 is
    /// below the first or above the last x. At the first and last x it is that point's y; at an inner
    /// measured x it equals the point's y up to rounding (the segment formula is evaluated).
    public func value(at x0: Double) -> Double? {
        guard x0 >= xs[0] && x0 <= xs[xs.count - 1] else { return nil }
        return value(clampedAt: x0)
    }

    /// y at x0 by linear interpolation, held constant at the end values beyond the measured range.
    public func value(clampedAt x0: Double) -> Double {
        if x0 <= xs[0] { return ys[0] }
        if x0 >= xs[xs.count - 1] { return ys[ys.count - 1] }
        // The first point at or past x0; the one before it lies strictly below x0, so the segment has width.
        var low = 1, high = xs.count - 1
        while low < high {
            let middle = (low + high) / 2
            if xs[middle] >= x0 { high = middle } else { low = middle + 1 }
        }
        let k = low
        return ys[k - 1] + (ys[k] - ys[k - 1]) * (x0 - xs[k - 1]) / (xs[k] - xs[k - 1])
    }

    /// Step rule: y of the point with the largest x ≤ x0 (the last such point when several share that x);
    /// nil when x0 is below every x. This is "Acc@b = accuracy of the point with the largest cost ≤ b".
    public func stepValue(atMost x0: Double) -> Double? {
        var low = 0, high = xs.count
        while low < high {
            let middle = (low + high) / 2
            if xs[middle] > x0 { high = middle } else { low = middle + 1 }
        }
        return low == 0 ? nil : ys[low - 1]
    }

    /// The first measured point, in order of x, whose y reaches `level` (y ≥ level for `.atLeast`,
    /// y ≤ level for `.atMost`); nil if none does. This is "the smallest measured cost that matches a target".
    public func firstPoint(reaching level: Double, _ reach: Reach) -> (x: Double, y: Double)? {
        guard let i = ys.firstIndex(where: { reaches($0, level, reach) }) else { return nil }
        return (xs[i], ys[i])
    }

    /// The smallest x at which the polyline reaches `level`, walking along x: the first point that reaches
    /// it if it is the first point, else the linear crossing inside the segment that ends at that point.
    /// On a non-monotone curve this is the first crossing; later dips do not matter. nil if never reached.
    public func firstCrossing(of level: Double, _ reach: Reach) -> Double? {
        guard let i = ys.firstIndex(where: { reaches($0, level, reach) }) else { return nil }
        if i == 0 { return xs[0] }
        return xs[i - 1] + (xs[i] - xs[i - 1]) * (level - ys[i - 1]) / (ys[i] - ys[i - 1])
    }

    private func reaches(_ y: Double, _ level: Double, _ reach: Reach) -> Bool {
        switch reach {
        case .atLeast: return y >= level
        case .atMost: return y <= level
        }
    }
}
