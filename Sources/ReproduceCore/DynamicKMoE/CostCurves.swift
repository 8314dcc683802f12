import Foundation
import Lab

/// One measured point of a cost–quality trade-off: FFN cost fraction c (routers included), whole-model fraction,
/// test CE (nats/char) and next-character accuracy; `parameter` names the τ or k (or "dense").
public struct CostPoint: Sendable, Equatable {
    public let parameter: String
    public let cost: Double
    public let modelCost: Double
    public let crossEntropy: Double
    public let accuracy: Double

    public init(parameter: String, cost: Double, modelCost: Double, crossEntropy: Double, accuracy: Double) {
        self.parameter = parameter; self.cost = cost; self.modelCost = modelCost
        self.crossEntropy = crossEntropy; self.accuracy = accuracy
    }
}

/// A method's sweep (docs/papers/dynamic-k-moe.md §3, curve interpolation): the (c, CE) points sorted by c; CE at a
/// budget b is the linear interpolation, and a budget outside [min c, max c] is not reached (nil).
public struct CostCurve: Sendable {
    public let method: String
    public let experts: Int
    public let points: [CostPoint]

    public init(method: String, experts: Int, points: [CostPoint]) {
        precondition(!points.isEmpty, "CostCurve \(method): no points")
        self.method = method; self.experts = experts; self.points = points
    }

    public var crossEntropyCurve: PiecewiseLinearCurve {
        PiecewiseLinearCurve(xs: points.map(\.cost), ys: points.map(\.crossEntropy))
    }

    /// CE at FFN cost fraction `budget`, nil when not reached.
    public func crossEntropy(atBudget budget: Double) -> Double? { crossEntropyCurve.value(at: budget) }

    /// The smallest cost at which CE falls to `level` or below (walking along increasing cost), nil if never.
    public func cost(reaching level: Double) -> Double? { crossEntropyCurve.firstCrossing(of: level, .atMost) }

    /// CE at `budget`, or, when the curve does not reach it, CE at the curve's point nearest in cost (its cheapest
    /// point below the range, its dearest above): always finite, with `reached` saying which.
    public func clampedCrossEntropy(atBudget budget: Double) -> (value: Double, reached: Bool) {
        if let value = crossEntropy(atBudget: budget) { return (value, true) }
        let sorted = points.sorted { $0.cost < $1.cost }
        return ((budget < sorted.first!.cost ? sorted.first! : sorted.last!).crossEntropy, false)
    }
}

/// CE(a) − CE(b) at a budget, each curve's CE clamped to its nearest point when it does not reach the budget
/// (`CostCurve.clampedCrossEntropy`), and whether `a` reaches it. A comparison claim counts an unreached `a` as a
/// loss through a separate condition; an unreached `b` is compared at its nearest point (the design counts it as
/// a loss for `b`; this reading is stricter for `a` whenever that point beats `a`).
public func crossEntropyDifference(_ a: CostCurve, _ b: CostCurve, atBudget budget: Double) -> (difference: Double, firstReached: Bool) {
    let x = a.clampedCrossEntropy(atBudget: budget), y = b.clampedCrossEntropy(atBudget: budget)
    return (x.value - y.value, x.reached)
}

/// The load of one sweep point across layers and tokens: max/min over layers of k̄_ℓ/E, and the mean over layers
/// of the standard deviation over tokens of k(x)/E (docs/papers/dynamic-k-moe.md §5, layer-load-varies).
public func layerLoadSpread(meanSelected: [Double], tokenFractions: [[Double]], experts: Int) -> (layerRatio: Double, tokenStd: Double) {
    let loads = meanSelected.map { $0 / Double(experts) }
    let ratio = (loads.max() ?? .nan) / (loads.min() ?? .nan)
    let stds = tokenFractions.map { meanAndVariation($0).std }
    return (ratio, stds.reduce(0, +) / Double(max(stds.count, 1)))
}
