// TEMPORARY: the members of the statistics kit (SortedSample, Curve) that EarlyExitCurve uses, until that kit
// lands on main; deleted by the merge that brings it.
public struct SortedSample: Sendable, Equatable {
    public let values: [Double]
    public init(_ values: [Double]) { self.values = values.sorted() }
    public func quantile(_ q: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let position = q * Double(values.count - 1)
        let lower = Int(position.rounded(.down)), upper = min(lower + 1, values.count - 1)
        return values[lower] + (values[upper] - values[lower]) * (position - Double(lower))
    }
    public func quantiles(_ qs: [Double]) -> [Double] { qs.map(quantile) }
}

public struct Curve: Sendable, Equatable {
    public let xs: [Double]
    public let ys: [Double]
    public enum Reach: Sendable { case atLeast, atMost }
    public init(xs: [Double], ys: [Double]) {
        let order = xs.indices.sorted { xs[$0] < xs[$1] }
        self.xs = order.map { xs[$0] }
        self.ys = order.map { ys[$0] }
    }
    public func stepValue(atMost x0: Double) -> Double? {
        var low = 0, high = xs.count
        while low < high {
            let middle = (low + high) / 2
            if xs[middle] > x0 { high = middle } else { low = middle + 1 }
        }
        return low == 0 ? nil : ys[low - 1]
    }
    public func firstPoint(reaching level: Double, _ reach: Reach) -> (x: Double, y: Double)? {
        guard let i = ys.firstIndex(where: { reach == .atLeast ? $0 >= level : $0 <= level }) else { return nil }
        return (xs[i], ys[i])
    }
}
