import ExactOrthogonalInitCore
import Lab
import LabPlot

/// One colour per method in every figure.
func color(of method: InitMethod) -> Color {
    switch method {
    case .dense: return .black
    case .baseOrthogonal: return Color(hex: 0xd62728)
    case .baseStandard: return Color(hex: 0xff7f0e)
    case .approximateIsometry: return Color(hex: 0x9467bd)
    case .saoStyle: return Color(hex: 0x2ca02c)
    case .exactOrthogonal: return Color(hex: 0x1f77b4)
    }
}

/// Paper Fig. 1: |W| of 64 x 64 weights side by side (white = 0). panels: (title, weight [64, 64])
func matricesFigure(_ panels: [(title: String, weight: Tensor)]) -> Figure {
    let figure = Figure(rows: 1, cols: panels.count, width: 2.3 * Double(panels.count), height: 2.8, dpi: 130)
    figure.suptitle = "|W| of 64 x 64 sparse orthogonal-family weights (darker = larger, white = exactly 0)"
    let largest = panels.flatMap { $0.weight.data.map { Double(abs($0)) } }.max() ?? 1
    for (k, panel) in panels.enumerated() {
        let ax = figure[0, k]
        ax.image(panel.weight.data.map { 1 - Double(abs($0)) / largest }, width: panel.weight.shape[1],
                 height: panel.weight.shape[0], colorMap: .grey, range: 0...1)
        ax.title = panel.title
    }
    return figure
}

/// The generator's cost: wall time vs n (square n x n) per density for EOI, SAO-style and dense QR; EOI's
/// rotation count vs n; and the density after each rotation of one 128 x 128 run.
func generatorFigure(_ study: GeneratorStudy, densities: [Double]) -> Figure {
    let figure = Figure(rows: 1, cols: 3, width: 15, height: 4.4, dpi: 120)
    let time = figure[0, 0], rotations = figure[0, 1], trace = figure[0, 2]
    let square = study.eoi.filter { $0.outputs == $0.inputs }
    let sides = Array(Set(square.map(\.outputs))).sorted().map(Double.init)
    for d in densities {
        let rows = square.filter { $0.density == d }.sorted { $0.outputs < $1.outputs }
        time.line(rows.map { Double($0.outputs) }, rows.map { $0.seconds * 1000 }, label: "EOI d = \(densityText(d))", marker: .circle)
        rotations.line(rows.map { Double($0.outputs) }, rows.map { Double($0.rotations) }, label: "d = \(densityText(d))", marker: .circle)
    }
    for d in [densities.min()!, 0.5] {
        let rows = study.sao.filter { $0.density == d }.sorted { $0.side < $1.side }
        if !rows.isEmpty {
            time.line(rows.map { Double($0.side) }, rows.map { $0.seconds * 1000 }, label: "SAO-style d = \(densityText(d))",
                      color: color(of: .saoStyle), dash: d == 0.5 ? .dashed : .dotted, marker: .square)
        }
    }
    let qr = study.dense.filter { $0.outputs == $0.inputs }.sorted { $0.outputs < $1.outputs }
    time.line(qr.map { Double($0.outputs) }, qr.map { $0.seconds * 1000 }, label: "dense QR (Haar)", color: .black,
              width: 2, marker: .diamond)
    time.xscale = .log2; time.yscale = .log10
    time.xticks(sides, labels: sides.map { String(Int($0)) })
    time.title = "Time to build an n x n weight (best of 3, 1 thread)"
    time.xlabel = "n (log2)"; time.ylabel = "time (ms, log)"
    rotations.xscale = .log2; rotations.yscale = .log10
    rotations.xticks(sides, labels: sides.map { String(Int($0)) })
    rotations.title = "EOI: Givens rotations until density d"
    rotations.xlabel = "n (log2)"; rotations.ylabel = "rotations (log)"
    if let run = square.filter({ $0.outputs == 128 && !$0.trace.isEmpty }).max(by: { $0.density < $1.density }) {
        trace.line(run.trace.indices.map(Double.init), run.trace, label: "128 x 128, target d = \(densityText(run.density))",
                   color: color(of: .exactOrthogonal))
        for d in densities { trace.horizontalLine(at: d, color: .grey, dash: .dotted) }
    }
    trace.title = "EOI: density after each rotation (never decreases)"
    trace.xlabel = "rotation"; trace.ylabel = "density (fraction of non-zeros)"
    return figure
}

/// Paper Fig. 2: mean and standard deviation of the Jacobian's singular values at init vs density, per
/// activation (columns); sparse methods as mean ± std over seeds, Dense as a horizontal line.
func jacobianFigure(_ networks: [JacobianNetwork], densities: [Double]) -> Figure {
    let figure = Figure(rows: 2, cols: 4, width: 17, height: 7.5, dpi: 115)
    figure.suptitle = "Input-output Jacobian of MLP-7 (width 128, σ_w = 1, σ_b = 0) at init: singular values over 32 test images"
    for (column, activation) in Activation.allCases.enumerated() {
        for (row, statistic) in ["mean", "std"].enumerated() {
            let ax = figure[row, column]
            func value(_ n: JacobianNetwork) -> Double {
                (statistic == "mean" ? n.meanSingularValue : n.stdSingularValue)[activation]!
            }
            let dense = networks.filter { $0.method == .dense }.map(value)
            ax.horizontalLine(at: Metrics.mean(dense, nonFinite: .skip), label: "Dense", color: .black)
            for method in InitMethod.sparse {
                let seeds = Array(Set(networks.map(\.seed))).sorted()
                let runs = seeds.map { seed in
                    densities.map { d in networks.first { $0.method == method && $0.density == d && $0.seed == seed }.map(value) ?? .nan }
                }
                ax.meanBand(densities, runs: runs, label: method.label, color: color(of: method), marker: .circle)
            }
            ax.xscale = .log2
            ax.xticks(densities, labels: densities.map(densityText))
            ax.title = "\(activation.rawValue): \(statistic) of singular values"
            ax.xlabel = "density d (log2)"
            ax.ylabel = "\(statistic) singular value"
            ax.legend = row == 0 && column == 0 ? .auto : .hidden
        }
    }
    return figure
}

/// Paper Fig. 3: test accuracy vs density (mean ± std over seeds), Dense as a horizontal line.
func accuracyFigure(_ runs: [TrainedRun], methods: [InitMethod], densities: [Double], seeds: [Int], title: String) -> Figure {
    let figure = Figure(width: 7.5, height: 4.8, dpi: 130)
    let ax = figure[0, 0]
    ax.horizontalLine(at: runs.matching(.dense).meanPercent, label: "Dense", color: .black)
    for method in methods {
        let perSeed = seeds.map { seed in
            densities.map { d in 100 * (runs.matching(method, density: d).first { $0.seed == seed }?.outcome.accuracy ?? .nan) }
        }
        ax.meanBand(densities, runs: perSeed, label: method.label, color: color(of: method), marker: .circle)
    }
    ax.xscale = .log2
    ax.xticks(densities, labels: densities.map(densityText))
    ax.title = title
    ax.xlabel = "density d of the hidden layers (log2)"
    ax.ylabel = "test accuracy (%)"
    ax.legend = .lowerRight
    return figure
}

/// Training loss vs step for one group of runs per method (mean over seeds of a moving average).
func lossCurvesFigure(_ groups: [(method: InitMethod, runs: [TrainedRun])], title: String, window: Int) -> Figure {
    let figure = Figure(width: 7.5, height: 4.8, dpi: 130)
    let ax = figure[0, 0]
    for (method, runs) in groups where !runs.isEmpty {
        let curves = runs.map { movingAverage($0.outcome.stepLosses, window: window) }
        let steps = curves.map(\.count).min() ?? 0
        guard steps > 0 else { continue }
        let meanCurve = (0..<steps).map { s in Metrics.mean(curves.map { $0[s] }, nonFinite: .skip) }
        ax.line((0..<steps).map { Double($0 + 1) }, meanCurve, label: method.label, color: color(of: method),
                dash: method == .dense ? .dashed : .solid)
    }
    ax.title = title
    ax.xlabel = "training step (batch of 64 images)"
    ax.ylabel = "training loss (cross-entropy, \(window)-step mean)"
    ax.legend = .upperRight
    return figure
}

/// The CNN's accuracy: grouped bars per density (mean over seeds, std as error bars), Dense as a line.
func cnnFigure(_ runs: [TrainedRun], densities: [Double]) -> Figure {
    let figure = Figure(width: 7.5, height: 4.8, dpi: 130)
    let ax = figure[0, 0]
    let series = cnnMethods.map { method in
        (label: method.label, values: densities.map { runs.matching(method, density: $0).meanPercent })
    }
    let errors = cnnMethods.map { method in densities.map { 100 * Metrics.std(runs.matching(method, density: $0).accuracies, nonFinite: .skip) } }
    ax.groupedBar(densities.map { "d = \(densityText($0))" }, series: series, errors: errors,
                  colors: cnnMethods.map(color(of:)))
    ax.horizontalLine(at: runs.matching(.dense).meanPercent, label: "Dense (delta-orthogonal)", color: .black)
    ax.title = "5-conv tanh CNN on Fashion-MNIST: test accuracy by density"
    ax.xlabel = "density of the four sparse 3x3 convolutions"
    ax.ylabel = "test accuracy (%)"
    ax.ylim = 0...100
    ax.legend = .upperLeft
    return figure
}
