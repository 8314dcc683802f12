import DynamicKMoECore
import Foundation
import Lab
import LabReport

/// Rounds for tables.
func rounded(_ x: Double, _ digits: Int = 4) -> Double {
    let scale = Foundation.pow(10, Double(digits))
    return (x * scale).rounded() / scale
}

/// A number, or "—" for not reached.
private func cell(_ x: Double?) -> TableCell { x.map { .number(rounded($0)) } ?? .text("—") }

func fineTuneTable(_ tuned: [Variant: FineTuned], plan: Plan) -> Table {
    var table = Table(header: ["model", "activation", "α", "final train loss (nats)", "test CE (nats/char)", "test acc", "mean density", "density CV"])
    for variant in Variant.allCases {
        let t = tuned[variant]!, d = t.density
        table.append([.text(variant.rawValue), .text(variant.activation.rawValue), .number(variant.alpha(plan)), .number(rounded(meanOfLast(t.losses, 10))),
                      .number(rounded(t.dense.stats.meanNLL)), .number(rounded(t.dense.stats.accuracy)), .number(rounded(d.mean)), .number(rounded(d.cv))])
    }
    return table
}

func routerTable(_ conversions: Conversions) -> Table {
    var table = Table(header: ["conversion", "objective", "loss at step 1", "final loss (mean of last 10)"])
    for (name, trained) in conversions.all {
        let last = trained.losses.suffix(10)
        table.append([.text(name), .text(trained.objective.rawValue), .number(rounded(trained.losses.first ?? .nan, 5)),
                      .number(rounded(last.reduce(0, +) / Double(max(last.count, 1)), 5))])
    }
    return table
}

func costLossTable(_ sweeps: Sweeps, dense: [CostPoint]) -> Table {
    var table = Table(header: ["method", "E", "τ or k", "FFN cost fraction", "model cost fraction", "CE (nats/char)", "acc"])
    for (name, point) in zip(["dense gelu-ref", "dense relu-mid"], dense) {
        table.append([.text(name), .text("—"), .text("dense"), .number(1), .number(1), .number(rounded(point.crossEntropy)), .number(rounded(point.accuracy))])
    }
    for curve in sweeps.allCurves {
        for point in curve.points {
            table.append([.text(curve.method), .integer(curve.experts), .text(point.parameter), .number(rounded(point.cost)),
                          .number(rounded(point.modelCost)), .number(rounded(point.crossEntropy)), .number(rounded(point.accuracy))])
        }
    }
    return table
}

func alphaTable(_ tuned: [Variant: FineTuned], _ sweeps: Sweeps, reference: Double, plan: Plan) -> Table {
    var table = Table(header: ["α", "model", "dense CE (nats/char)", "mean density", "density CV", "FFN cost to reach 1.02 × reference CE"])
    for (variant, curve) in [(Variant.relu0, sweeps.noEnforcementCurve), (.reluMid, sweeps.d2dmoeCurve), (.reluHigh, sweeps.highAlphaCurve)] {
        let t = tuned[variant]!, d = t.density
        table.append([.number(variant.alpha(plan)), .text(variant.rawValue), .number(rounded(t.dense.stats.meanNLL)), .number(rounded(d.mean)),
                      .number(rounded(d.cv)), cell(curve.cost(reaching: 1.02 * reference))])
    }
    return table
}

func budgetTable(_ sweeps: Sweeps, plan: Plan) -> Table {
    var table = Table(header: ["method", "E"] + plan.budgets.map { "CE at \(Int(100 * $0)) %" })
    for curve in sweeps.allCurves {
        table.append([.text(curve.method), .integer(curve.experts)] + plan.budgets.map { cell(curve.crossEntropy(atBudget: $0)) })
    }
    return table
}
