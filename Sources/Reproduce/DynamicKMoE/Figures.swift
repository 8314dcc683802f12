import DynamicKMoECore
import Foundation
import Lab
import LabPlot
import LabReport

private let d2dmoeColor = Color(hex: 0x1f77b4), moeficationColor = Color(hex: 0xff7f0e)

/// Draws one cost curve (cost in %) of CE or accuracy.
private func draw(_ ax: Axes, _ curve: CostCurve, label: String, color: Color, dash: Dash = .solid, marker: Marker = .circle,
                  accuracy: Bool = false) {
    let points = curve.points.sorted { $0.cost < $1.cost }
    ax.line(points.map { 100 * $0.cost }, points.map { accuracy ? $0.accuracy : $0.crossEntropy }, label: label, color: color, width: 1.8,
            dash: dash, marker: marker, markerSize: 4)
}

/// ≈ paper Fig. 2: histograms of per-token density (pooled over layers) of the ReLU models.
func densityFigure(_ tuned: [Variant: FineTuned], plan: Plan) -> Figure {
    let figure = Figure(width: 7.5, height: 4.4, dpi: 130)
    let ax = figure[0, 0]
    let variants: [Variant] = [.relu0, .reluMid, .reluHigh]
    ax.histogram(variants.map { tuned[$0]!.dense.densities.flatMap { $0 } }, bins: .edges((0...100).map { Double($0) / 100 }),
                 labels: variants.map { v in
                     let d = tuned[v]!.density
                     return "\(v.rawValue) (α = \(formatNumber(v.alpha(plan)))): mean \(String(format: "%.3f", d.mean)), CV \(String(format: "%.2f", d.cv))"
                 },
                 colors: [Color(hex: 0x7f7f7f), d2dmoeColor, Color(hex: 0x2ca02c)], stacked: false, alpha: 0.55)
    ax.title = "Per-token FFN activation density (test windows, all layers)"
    ax.xlabel = "density (fraction of the m neurons with a_i > 0)"
    ax.ylabel = "tokens × layers"
    ax.legend = .upperRight
    return figure
}

/// ≈ paper Fig. 3: CE (a) and accuracy (b) vs FFN cost for D2DMoE and MoEfication at the main E, dense markers.
func costLossFigure(_ sweeps: Sweeps, dense: [CostPoint], plan: Plan) -> Figure {
    let figure = Figure(rows: 1, cols: 2, width: 13, height: 4.8, dpi: 120)
    figure.suptitle = "Cost–quality trade-off, E = \(plan.mainExperts) experts of \(plan.config.ffnWidth / plan.mainExperts) neurons (routers counted)"
    for (column, accuracy) in [false, true].enumerated() {
        let ax = figure[0, column]
        draw(ax, sweeps.d2dmoeCurve, label: "D2DMoE (relu-mid, τ sweep)", color: d2dmoeColor, accuracy: accuracy)
        draw(ax, sweeps.moeficationCurve, label: "MoEfication (relu-0, top-k)", color: moeficationColor, marker: .square, accuracy: accuracy)
        ax.scatter([100], [accuracy ? dense[0].accuracy : dense[0].crossEntropy], label: "dense gelu-ref", color: .black, size: 9, marker: .diamond)
        ax.scatter([100], [accuracy ? dense[1].accuracy : dense[1].crossEntropy], label: "dense relu-mid", color: .red, size: 9, marker: .triangle)
        ax.title = accuracy ? "(b) next-character accuracy" : "(a) test cross-entropy"
        ax.xlabel = "FFN cost (% of the dense FFN FLOPs)"
        ax.ylabel = accuracy ? "accuracy" : "CE (nats/char)"
        ax.legend = accuracy ? .lowerRight : .upperRight
    }
    return figure
}

/// The ablation figure: D2DMoE, no enforcement, top-k and BCE router, CE vs cost.
func ablationFigure(_ sweeps: Sweeps, reference: Double, plan: Plan) -> Figure {
    let figure = Figure(width: 7.5, height: 4.8, dpi: 130)
    let ax = figure[0, 0]
    draw(ax, sweeps.d2dmoeCurve, label: "D2DMoE", color: d2dmoeColor)
    draw(ax, sweeps.noEnforcementCurve, label: "no enforcement (relu-0)", color: Color(hex: 0x7f7f7f), dash: .dashed, marker: .square)
    draw(ax, sweeps.topKCurve, label: "top-k (same norm router)", color: Color(hex: 0x2ca02c), dash: .dotted, marker: .triangle)
    draw(ax, sweeps.bceRouterCurve, label: "BCE router + dynamic-k", color: Color(hex: 0xd62728), dash: .dashDot, marker: .diamond)
    ax.horizontalLine(at: reference, label: "dense gelu-ref", dash: .dashed)
    ax.title = "Ablations at E = \(plan.mainExperts): each D2DMoE component removed"
    ax.xlabel = "FFN cost (% of the dense FFN FLOPs)"
    ax.ylabel = "CE (nats/char)"
    ax.legend = .upperRight
    return figure
}

/// The α figure: D2DMoE curves for α = 0, α_mid, α_high.
func alphaFigure(_ sweeps: Sweeps, reference: Double, plan: Plan) -> Figure {
    let figure = Figure(width: 7.5, height: 4.8, dpi: 130)
    let ax = figure[0, 0]
    draw(ax, sweeps.noEnforcementCurve, label: "α = 0 (relu-0)", color: Color(hex: 0x7f7f7f), marker: .square)
    draw(ax, sweeps.d2dmoeCurve, label: "α = \(formatNumber(plan.alphaMid)) (relu-mid)", color: d2dmoeColor)
    draw(ax, sweeps.highAlphaCurve, label: "α = \(formatNumber(plan.alphaHigh)) (relu-high)", color: Color(hex: 0x2ca02c), marker: .triangle)
    ax.horizontalLine(at: reference, label: "dense gelu-ref", dash: .dashed)
    ax.title = "D2DMoE for three Hoyer weights α (norm router, dynamic-k, E = \(plan.mainExperts))"
    ax.xlabel = "FFN cost (% of the dense FFN FLOPs)"
    ax.ylabel = "CE (nats/char)"
    ax.legend = .upperRight
    return figure
}

/// The expert-size figure: D2DMoE (solid) and MoEfication (dashed) per E.
func granularityFigure(_ sweeps: Sweeps, reference: Double, plan: Plan) -> Figure {
    let figure = Figure(width: 7.5, height: 4.8, dpi: 130)
    let ax = figure[0, 0]
    for (i, experts) in plan.expertCounts.enumerated() {
        let color = Color.cycle[i]
        draw(ax, sweeps.curve("D2DMoE", experts: experts, sweeps.d2dmoe[experts]!), label: "D2DMoE E = \(experts) (s = \(plan.config.ffnWidth / experts))",
             color: color)
        draw(ax, sweeps.curve("MoEfication", experts: experts, sweeps.moefication[experts]!), label: "MoEfication E = \(experts)",
             color: color, dash: .dashed, marker: .square)
    }
    ax.horizontalLine(at: reference, label: "dense gelu-ref", dash: .dotted)
    ax.title = "Expert size: E experts of s = m/E neurons"
    ax.xlabel = "FFN cost (% of the dense FFN FLOPs, routers counted)"
    ax.ylabel = "CE (nats/char)"
    ax.legend = .upperRight
    return figure
}

/// Per-layer load at the ≈ 50 % point: (a) mean k/E per layer, (b) histograms of per-token k/E per layer.
func layerLoadFigure(_ load: LoadPoint, experts: Int) -> Figure {
    let figure = Figure(rows: 1, cols: 2, width: 13, height: 4.6, dpi: 120)
    let evaluation = load.point.evaluation
    figure.suptitle = "D2DMoE load at \(load.point.point.parameter) (FFN cost \(formatPercent(load.point.point.cost)), E = \(experts))"
    let a = figure[0, 0]
    let layers = evaluation.meanSelected.indices.map { "layer \($0 + 1)" }
    a.bar(layers, evaluation.meanSelected.map { $0 / Double(experts) }, color: d2dmoeColor)
    a.title = "(a) mean fraction of experts run, per layer (max/min \(String(format: "%.2f", load.layerRatio)))"
    a.xlabel = "layer"
    a.ylabel = "k̄ / E"
    let b = figure[0, 1]
    let binCount = min(experts, 32)
    b.histogram(evaluation.tokenFractions, bins: .edges((0..<binCount).map { Double($0) / Double(binCount) } + [1.0001]),
                labels: layers, colors: Array(Color.cycle.prefix(layers.count)), stacked: false, alpha: 0.5)
    b.title = "(b) per-token fraction of experts run (mean std over tokens \(String(format: "%.3f", load.tokenStd)))"
    b.xlabel = "k(x) / E"
    b.ylabel = "tokens"
    b.legend = .upperRight
    return figure
}

/// Router training curves (mean loss over layers per step), one panel per objective (log scale).
func routerLossFigure(_ conversions: Conversions) -> Figure {
    let figure = Figure(rows: 1, cols: 2, width: 13, height: 4.4, dpi: 120)
    for (column, objective) in [RouterObjective.normRegression, .activationBCE].enumerated() {
        let ax = figure[0, column]
        for (i, entry) in conversions.all.filter({ $0.trained.objective == objective }).enumerated() {
            ax.line(entry.trained.losses, label: entry.name, color: Color.cycle[i % Color.cycle.count], width: 1.2)
        }
        ax.yscale = .log10
        ax.title = objective == .normRegression ? "(a) norm routers: MSE on expert output norms" : "(b) MoEfication routers: BCE on summed activations"
        ax.xlabel = "router training step"
        ax.ylabel = objective == .normRegression ? "MSE (mean over layers)" : "BCE (nats, mean over layers)"
        ax.legend = .upperRight
    }
    return figure
}
