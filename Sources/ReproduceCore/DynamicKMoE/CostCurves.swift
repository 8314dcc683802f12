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
}

/// CE(a) − CE(b) at a budget, where "not reached" counts as a loss for that curve: +∞ when only a does not reach
/// the budget, −∞ when only b does not, NaN when neither does (no comparison; never holds).
public func crossEntropyDifference(_ a: CostCurve, _ b: CostCurve, atBudget budget: Double) -> Double {
    switch (a.crossEntropy(atBudget: budget), b.crossEntropy(atBudget: budget)) {
    case let (x?, y?): return x - y
    case (nil, _?): return .infinity
    case (_?, nil): return -.infinity
    case (nil, nil): return .nan
    }
}

/// The load of one sweep point across layers and tokens: max/min over layers of k̄_ℓ/E, and the mean over layers
/// of the standard deviation over tokens of k(x)/E (docs/papers/dynamic-k-moe.md §5, layer-load-varies).
public func layerLoadSpread(meanSelected: [Double], tokenFractions: [[Double]], experts: Int) -> (layerRatio: Double, tokenStd: Double) {
    let loads = meanSelected.map { $0 / Double(experts) }
    let ratio = (loads.max() ?? .nan) / (loads.min() ?? .nan)
    let stds = tokenFractions.map { meanAndVariation($0).std }
    return (ratio, stds.reduce(0, +) / Double(max(stds.count, 1)))
}
