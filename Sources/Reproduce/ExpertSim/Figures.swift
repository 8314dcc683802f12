import ExpertSimCore
import Foundation
import Lab
import LabRun

// The figures of REPORT.md (docs/papers/expertsim.md §4). Images are shown as log(1 + photons) with the gnuplot colour map.

enum Figures {
    static let width = ZDCSimulator.width, height = ZDCSimulator.height
    static let colourbarLabel = "log(1 + photons)"

    static func logImage<C: Collection>(_ counts: C) -> [Double] where C.Element == Float {
        counts.map { Foundation.log1p(Double(max($0, 0))) }
    }

    static func image(_ images: [Float], _ event: Int) -> ArraySlice<Float> {
        images[(event * ZDCSimulator.pixels)..<((event + 1) * ZDCSimulator.pixels)]
    }

    /// fig-samples: rows = 2 test conditions per regime; columns MC, ExpertSim (routed expert), B1, B2.
    static func samples(results: ModelResults, data: SimulatedData) -> Figure {
        let regimes = data.test.regimes
        // Replica 0 of the first two test conditions of each regime.
        let events = Regime.allCases.reversed().flatMap { regime in
            stride(from: 0, to: data.test.count, by: data.test.replicas).filter { regimes[$0] == regime }.prefix(2)
        }
        let expertSim = results.base(ModelResults.expertSim)
        let columns: [(String, [Float])] = [
            ("ExpertSim", expertSim.sampleImages),
            ("B1 single-small", results.base(ModelResults.singleSmall).sampleImages),
            ("B2 single-wide", results.base(ModelResults.singleWide).sampleImages),
        ]
        let figure = Figure(rows: max(events.count, 1), cols: 4, width: 13, height: 3.4 * Double(max(events.count, 1)), dpi: 100)
        figure.suptitle = "Real (MC) vs generated ZDC responses for test conditions"
        for (row, event) in events.enumerated() {
            let condition = data.test.conditions[event]
            let panels = [logImage(data.test.image(event))] + columns.map { logImage(image($0.1, event)) }
            let high = max(panels.flatMap { $0 }.max() ?? 1, 1e-3)
            for (column, pixels) in panels.enumerated() {
                let ax = figure[row, column]
                ax.image(pixels, width: width, height: height, colorMap: .gnuplot, range: 0...high,
                         colorbar: column == 3, colorbarLabel: colourbarLabel)
                let total = Int(image(column == 0 ? data.test.images : columns[column - 1].1, event).reduce(0, +).rounded())
                switch column {
                case 0: ax.title = "MC \(regimes[event].name.split(separator: " ")[0]), \(Int(condition.energy)) GeV, Σ \(total)"
                case 1: ax.title = "ExpertSim (expert \(expertSim.routes[event])), Σ \(total)"
                default: ax.title = "\(columns[column - 1].0.split(separator: " ")[0]), Σ \(total)"
                }
            }
        }
        return figure
    }

    /// fig-expert-samples: per expert, 4 real routed test images above the expert's 4 generated ones.
    static func expertSamples(router: RouterAnalysis, results: ModelResults, data: SimulatedData) -> Figure {
        let expertSim = results.base(ModelResults.expertSim)
        let routes = router.base.routes
        let figure = Figure(rows: 1, cols: router.experts, width: 4 * Double(router.experts), height: 4.8, dpi: 110)
        figure.suptitle = "Per-expert samples: real routed test events (top row) vs generated (bottom row)"
        for k in 0..<router.experts {
            let ax = figure[0, k]
            let events = Array(routes.indices.filter { routes[$0] == k }.prefix(4))
            guard !events.isEmpty else {
                ax.title = "expert \(k): no test events routed"
                continue
            }
            let real = events.map { logImage(data.test.image($0)) }
            let generated = events.map { logImage(image(expertSim.sampleImages, $0)) }
            ax.imageGrid(real + generated, width: width, height: height, columns: events.count, colorMap: .gnuplot,
                         colorbar: true, colorbarLabel: colourbarLabel)
            let load = router.base.load[k]
            ax.title = "expert \(k) (\(Int((load * 100).rounded()))% of test events)"
        }
        return figure
    }

    /// fig-photonsum: log10(1 + photon sum), MC vs ExpertSim stacked by expert (left), MC vs B1 vs B2 (right).
    static func photonSums(results: ModelResults, test: TestReference) -> Figure {
        let expertSim = results.base(ModelResults.expertSim)
        let transform = { (sums: [Double]) in sums.map { Foundation.log10(1 + max($0, 0)) } }
        let real = transform(test.photonSums)
        let sums = { (run: TrainedModel) in transform(ZDCMetrics.channelSums(images: run.sampleImages).map { $0.reduce(0, +) }) }
        let es = sums(expertSim)
        let b1 = sums(results.base(ModelResults.singleSmall)), b2 = sums(results.base(ModelResults.singleWide))
        let all = real + es + b1 + b2
        let (low, high) = (all.min() ?? 0, max(all.max() ?? 1, (all.min() ?? 0) + 1e-3))
        let edges = (0...40).map { low + (high - low) * Double($0) / 40 }
        let experts = expertSim.spec.experts
        let byExpert = (0..<experts).map { k in es.indices.filter { expertSim.routes[$0] == k }.map { es[$0] } }

        let figure = Figure(rows: 1, cols: 2, width: 11, height: 4.2, dpi: 120)
        figure.suptitle = "Photon-sum distribution of the \(test.photonSums.count) test events"
        let left = figure[0, 0]
        left.histogram(byExpert, bins: .edges(edges), labels: (0..<experts).map { "ExpertSim expert \($0)" }, stacked: true)
        left.histogram(real, bins: .edges(edges), label: "MC (test)", color: .black, alpha: 0.3)
        left.title = "MC vs ExpertSim (stacked by routed expert)"
        let right = figure[0, 1]
        right.histogram([real, b1, b2], bins: .edges(edges), labels: ["MC (test)", "B1 single-small", "B2 single-wide"],
                        colors: [.black, Color.cycle[1], Color.cycle[2]], stacked: false)
        right.title = "MC vs single-generator baselines"
        for ax in [left, right] {
            ax.xlabel = "log10(1 + photon sum)"
            ax.ylabel = "events"
        }
        return figure
    }

    /// fig-channels: the 5 channel-sum distributions, MC vs ExpertSim, B1, B2.
    static func channels(results: ModelResults, test: TestReference) -> Figure {
        let runs = [ModelResults.expertSim, ModelResults.singleSmall, ModelResults.singleWide].map {
            ZDCMetrics.channelSums(images: results.base($0).sampleImages)
        }
        let figure = Figure(rows: 1, cols: 5, width: 17, height: 3.8, dpi: 110)
        figure.suptitle = "Channel-sum distributions (ch1-ch4: colour-A quadrants, ch5: colour B)"
        for k in 0..<ZDCMetrics.channelCount {
            let series = ([test.channelSums] + runs).map { sums in sums.map { Foundation.log10(1 + max($0[k], 0)) } }
            let all = series.flatMap { $0 }
            let (low, high) = (all.min() ?? 0, max(all.max() ?? 1, (all.min() ?? 0) + 1e-3))
            let ax = figure[0, k]
            ax.histogram(series, bins: .edges((0...30).map { low + (high - low) * Double($0) / 30 }),
                         labels: ["MC (test)", "ExpertSim", "B1 single-small", "B2 single-wide"],
                         colors: [.black, Color.cycle[0], Color.cycle[1], Color.cycle[2]], stacked: false)
            ax.title = "ch\(k + 1)"
            ax.xlabel = "log10(1 + channel sum)"
            ax.ylabel = "events"
            ax.legend = k == 0 ? .upperRight : .hidden
        }
        return figure
    }

    /// fig-specialisation: per-expert distributions of the routed test conditions and an expert x group map.
    static func specialisation(router: RouterAnalysis, data: SimulatedData, test: TestReference) -> Figure {
        let routes = router.base.routes
        let experts = router.experts
        let conditions = data.test.conditions
        let sums = data.test.photonSums
        let rows = (0..<experts).map { k in routes.indices.filter { routes[$0] == k } }
        let labels = (0..<experts).map { "expert \($0)" }
        let figure = Figure(rows: 2, cols: 3, width: 14, height: 8, dpi: 110)
        figure.suptitle = "What each ExpertSim expert receives (test events, seed \(router.baseSeed))"

        func histogram(_ ax: Axes, _ value: (Int) -> Double, xlabel: String, title: String) {
            let series = rows.map { $0.map(value) }
            ax.histogram(series, bins: .count(25), labels: labels, stacked: false)
            ax.xlabel = xlabel
            ax.ylabel = "events"
            ax.title = title
        }
        histogram(figure[0, 0], { log10(conditions[$0].energy) }, xlabel: "log10(E / GeV)", title: "energy")
        histogram(figure[0, 1], { conditions[$0].px / conditions[$0].pz * 1e3 }, xlabel: "Px/Pz (mrad)", title: "horizontal angle")
        let charges: [Double] = [-1, 0, 1]
        figure[0, 2].groupedBar(["q = −1", "q = 0", "q = +1"], series: rows.enumerated().map { k, events in
            (label: labels[k], values: charges.map { q in Double(events.filter { conditions[$0].charge == q }.count) })
        })
        figure[0, 2].title = "charge"
        figure[0, 2].ylabel = "events"
        histogram(figure[1, 0], { log10(1 + sums[$0]) }, xlabel: "log10(1 + photon sum)", title: "photon sum (MC)")

        let groups = test.events.intensityGroups
        let counts = (0..<experts).map { k in (0..<3).map { g in Double(rows[k].filter { groups[$0] == g }.count) } }
        figure[1, 1].heatmap(counts, colorMap: .viridis, rowLabels: labels, columnLabels: ["low", "mid", "high"],
                             annotationFormat: "%.0f", colorbarLabel: "test events")
        figure[1, 1].title = "expert x intensity group"
        figure[1, 1].xlabel = "intensity group (tercile of mean log photon sum)"

        let regimes = data.test.regimes
        figure[1, 2].groupedBar(Regime.allCases.map(\.name), series: rows.enumerated().map { k, events in
            (label: labels[k], values: Regime.allCases.map { r in Double(events.filter { regimes[$0] == r }.count) })
        })
        figure[1, 2].title = "regime of the routed events"
        figure[1, 2].ylabel = "events"
        return figure
    }

    /// fig-ws-training: test WS after each epoch, base seed of every model.
    static func trainingCurves(results: ModelResults, epochs: Int) -> Figure {
        let figure = Figure(width: 6.5, height: 4.2, dpi: 130)
        let ax = figure[0, 0]
        for name in [ModelResults.expertSim, ModelResults.singleSmall, ModelResults.singleWide, ModelResults.randomRouting] {
            let curve = results.base(name).curve
            ax.line((1...max(curve.count, 1)).prefix(curve.count).map(Double.init), curve, label: name, marker: .circle)
        }
        ax.title = "Test WS during training (seed \(results.baseSeed))"
        ax.xlabel = "epoch"
        ax.ylabel = "mean WS over 5 channels (photons)"
        ax.yscale = .log10
        return figure
    }

    /// fig-mc-cost: MC ms/event vs energy by regime (log-log), ExpertSim's ms/image at batch 1 and the large batch.
    static func mcCost(_ speed: SpeedResults) -> Figure {
        let figure = Figure(width: 7, height: 4.6, dpi: 130)
        let ax = figure[0, 0]
        for regime in Regime.allCases.reversed() {
            let rows = speed.mcRegimes.indices.filter { speed.mcRegimes[$0] == regime }
            guard !rows.isEmpty else { continue }
            ax.scatter(rows.map { speed.mcEnergies[$0] }, rows.map { max(speed.mcMilliseconds[$0], 1e-4) },
                       label: "MC, \(regime.name)", color: Color.cycle[regime.rawValue], size: 4)
        }
        let es = ModelResults.expertSim
        ax.horizontalLine(at: speed.batchOne[es] ?? .nan, label: "ExpertSim, batch 1", color: .red, dash: .dashed)
        ax.horizontalLine(at: speed.batchMany[es] ?? .nan, label: "ExpertSim, batch \(speed.largeBatch)", color: .red, dash: .dotted)
        ax.xscale = .log10
        ax.yscale = .log10
        ax.title = "Cost per event: our MC simulator (stand-in for Geant4) vs ExpertSim"
        ax.xlabel = "particle energy E (GeV)"
        ax.ylabel = "ms per event / image (1 thread)"
        return figure
    }
}
