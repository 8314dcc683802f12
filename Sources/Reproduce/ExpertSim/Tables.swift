import ExpertSimCore
import Foundation
import Lab
import LabRun

// The tables of REPORT.md (docs/papers/expertsim.md §4): main WS table, per-regime WS, router, speed.

enum Tables {
    /// Rows: MC-vs-MC floor, mean-image, NN-retrieval, B1, B2, B3, ExpertSim; columns WS ch1..ch5, mean WS ± std,
    /// G params, MACs/image, ms/image (at the timing's large batch).
    static func wassersteinTable(results: ModelResults, references: ReferenceScores, speed: SpeedResults) -> Table {
        var table = Table(header: ["model", "WS ch1", "WS ch2", "WS ch3", "WS ch4", "WS ch5", "mean WS", "± std",
                                   "seeds x draws", "G params", "MACs/image", "ms/image"])
        func reference(_ name: String, _ ws: [Double], msPerImage: TableCell) {
            table.append([.text(name)] + ws.map { TableCell.number($0) }
                         + [.number(Metrics.mean(ws)), .text("-"), .text("1"), .text("-"), .text("-"), msPerImage])
        }
        reference("MC-vs-MC floor (2nd simulation)", references.floor, msPerImage: .number(speed.mcMean))
        reference("mean-image", references.meanImage, msPerImage: .text("-"))
        reference("NN-retrieval (not in paper)", references.nearestNeighbour, msPerImage: .text("-"))
        for name in ModelResults.names {
            let model = results.base(name).model
            let (mean, std) = results.meanWS(name)
            let macs = model.experts[0].generator.multiplyAccumulates + (model.router?.multiplyAccumulates ?? 0)
            let generatorParameters = model.experts.reduce(0) { $0 + $1.generator.parameterCount }
                + (model.router?.parameterCount ?? 0)
            table.append([.text(name)] + results.channelWS(name).map { TableCell.number($0) }
                         + [.number(mean), .number(std), .text("\(results.seeds(name).count) x \(results.runs(name)[0].draws.count)"),
                            .integer(generatorParameters), .integer(macs), .number(speed.batchMany[name] ?? .nan)])
        }
        return table
    }

    /// The main table in words: each model's mean WS against the references and the other models.
    static func wassersteinSummary(results: ModelResults, references: ReferenceScores) -> String {
        let describe = { (name: String) -> String in
            let (mean, std) = results.meanWS(name)
            return "\(name) \(formatNumber(mean)) ± \(formatNumber(std))"
        }
        let retrieval = Metrics.mean(references.nearestNeighbour), floor = Metrics.mean(references.floor)
        let best = ModelResults.names.min { results.meanWS($0).mean < results.meanWS($1).mean }!
        let bestWS = results.meanWS(best).mean
        let beaten = ModelResults.names.filter { results.meanWS($0).mean < retrieval }
        let retrievalText = beaten.isEmpty
            ? """
              No trained generator beats the NN-retrieval reference (a lookup of the training event with the closest \
              condition, not in the paper): the best, \(best), scores \(formatNumber(bestWS / retrieval))x its WS and \
              \(formatNumber(bestWS / floor))x the MC floor, so at this training length a lookup of the nearest \
              training condition reproduces the channel sums better than every generator.
              """
            : "\(beaten.joined(separator: ", ")) \(beaten.count == 1 ? "beats" : "beat") the NN-retrieval reference (not in the paper)."
        return """
            Mean WS (photons; lower is better): \(ModelResults.names.reversed().map(describe).joined(separator: ", ")). \
            References: MC-vs-MC floor \(formatNumber(floor)) (the spread between two \
            simulations of the same conditions), NN-retrieval \(formatNumber(retrieval)), \
            mean image \(formatNumber(Metrics.mean(references.meanImage))). \(retrievalText) The paper reports ExpertSim's WS \
            well below its single-generator baselines; here the comparison is on our simulator and at a far shorter \
            schedule (see the deviations below).
            """
    }

    /// Mean WS within each MC photon-sum tercile of the test events, for B1, B2, B3, ExpertSim.
    static func regimeTable(results: ModelResults) -> Table {
        var table = Table(header: ["model", "low tercile", "mid tercile", "high tercile", "all"])
        for name in ModelResults.names {
            let draws = results.draws(name)
            table.append([.text(name)] + (0..<3).map { t in TableCell.number(Metrics.mean(draws.map { $0.tercileWS[t] })) }
                         + [.number(results.meanWS(name).mean)])
        }
        return table
    }
}

extension RouterAnalysis {
    /// Per seed and expert: test load, median routed photon sum, KS to every other expert; then the
    /// per-seed tercile accuracy.
    func table() -> Table {
        var table = Table(header: ["seed", "expert", "test load", "median photon sum", "median generated sum",
                                   "live pre-activation share", "median pre-activation"]
                          + (0..<experts).map { "KS vs expert \($0)" } + ["tercile accuracy"])
        for s in seeds {
            for k in 0..<experts {
                table.append([.integer(s.seed), .integer(k), .number(s.load[k]), .number(s.medianPhotonSum[k]),
                              .number(s.medianGeneratedPhotonSum[k]), .number(s.liveShare[k]),
                              .number(s.medianPreActivation[k])]
                             + s.ks[k].map { TableCell.number($0) } + [.number(s.tercileAccuracy)])
            }
        }
        return table
    }
}

extension RouterAnalysis {
    /// Per seed: loads, smallest KS and tercile accuracy in words.
    func summary() -> String {
        let lines = seeds.map { s in
            "seed \(s.seed): loads \(s.load.map(formatNumber).joined(separator: " / ")), median routed photon sums "
                + "\(s.medianPhotonSum.map(formatNumber).joined(separator: " / ")) (generated: "
                + "\(s.medianGeneratedPhotonSum.map(formatNumber).joined(separator: " / "))), smallest pairwise KS "
                + "\(formatNumber(s.minimumKS)), intensity-tercile accuracy \(formatNumber(s.tercileAccuracy))"
        }
        return "The router at inference (argmax over the experts) on the test events: " + lines.joined(separator: "; ")
            + ". Specialisation shows as experts with different median photon sums and a large KS distance between them."
            + collapseSummary()
    }

    /// Experts whose generator turns out images far dimmer than the real events routed to them (median generated
    /// photon sum below a tenth of the routed real median): a collapse, said once here and referred to by the
    /// failing claims.
    var collapsedExperts: [(seed: Int, expert: Int, generated: Double, real: Double)] {
        seeds.flatMap { s in
            (0..<experts).filter { s.medianGeneratedPhotonSum[$0] < 0.1 * s.medianPhotonSum[$0] }
                .map { (s.seed, $0, s.medianGeneratedPhotonSum[$0], s.medianPhotonSum[$0]) }
        }
    }

    private func collapseSummary() -> String {
        let collapsed = collapsedExperts
        let shares = seeds.flatMap(\.liveShare).filter { !$0.isNaN }
        guard !collapsed.isEmpty else {
            let sharesText = shares.isEmpty ? ""
                : " The share of their final-layer pre-activations above 0 on the routed conditions (the "
                + "pixels the output ReLU passes, and through which a gradient flows back) is "
                + "\(formatNumber(shares.min()!))-\(formatNumber(shares.max()!)) (table-router)."
            return " No expert collapsed (every expert's median generated sum is at least a tenth of its routed real median)."
                + sharesText
        }
        let seedsWithCollapse = Set(collapsed.map(\.seed)).count
        let share = { (seed: Int, expert: Int) in self.seeds.first { $0.seed == seed }!.liveShare[expert] }
        let list = collapsed.map {
            "seed \($0.seed) expert \($0.expert) (median generated sum \(formatNumber($0.generated)) vs routed real "
                + "\(formatNumber($0.real)); live pre-activation share \(formatNumber(share($0.seed, $0.expert))))"
        }
        let collapsedShares = collapsed.map { share($0.seed, $0.expert) }
        let healthyShares = seeds.flatMap { s in
            (0..<experts).filter { k in !collapsed.contains { $0.seed == s.seed && $0.expert == k } }.map { s.liveShare[$0] }
        }.filter { !$0.isNaN }
        let range = { (values: [Double]) in
            "\(formatNumber(values.min()!))-\(formatNumber(values.max()!))"
        }
        let comparison = healthyShares.isEmpty ? ""
            : ", against \(range(healthyShares)) for the other \(healthyShares.count) experts"
        return """
             **Collapsed experts** (median generated photon sum below a tenth of the routed real median): \
            \(collapsed.count) of \(seeds.count * experts) experts, in \(seedsWithCollapse) of \(seeds.count) seeds: \
            \(list.joined(separator: "; ")). The mechanism, measured after training on the test conditions routed to \
            each expert (fresh noise, eval mode; columns "live pre-activation share" and "median pre-activation" of \
            table-router): the share of the final layer's pre-activations above 0 (the pixels the output ReLU passes, \
            the only ones through which any loss, the intensity loss included, sends a gradient back to the generator) \
            is \(range(collapsedShares)) for the collapsed experts\(comparison). An expert with a share near 0 is a \
            dead ReLU: its image is (almost) empty and (almost) no gradient reaches it. The experts that take the dim \
            (miss) events are expected to be dark; the bright ones are not.
            """
    }
}

extension SpeedResults {
    /// MC overall and per energy tercile; ExpertSim, B1, B2 (and B3) at batch 1 and the large batch; speed-up vs the MC.
    func table(results: ModelResults) -> Table {
        var table = Table(header: ["simulator", "batch", "ms per event/image", "speed-up vs our MC simulator (stand-in for Geant4)"])
        table.append([.text("MC simulator, test mix"), .text("1 event"), .number(mcMean), .number(1)])
        for (t, name) in ["low", "mid", "high"].enumerated() {
            table.append([.text("MC simulator, \(name) energy tercile"), .text("1 event"), .number(mcTerciles[t]),
                          .number(mcMean / mcTerciles[t])])
        }
        for name in [ModelResults.expertSim, ModelResults.singleSmall, ModelResults.singleWide, ModelResults.randomRouting] {
            for (batch, value) in [(1, batchOne[name] ?? .nan), (largeBatch, batchMany[name] ?? .nan)] {
                table.append([.text(name), .integer(batch), .number(value), .number(mcMean / value)])
            }
        }
        return table
    }
}
