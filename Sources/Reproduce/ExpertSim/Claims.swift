import ExpertSimCore
import Foundation
import Lab
import LabRun

// The claims of docs/papers/expertsim.md §5, computed from this run; the thresholds are the design's.

enum Claims {
    static func add(to report: Report, data: SimulatedData, test: TestReference, results: ModelResults,
                    references: ReferenceScores, router: RouterAnalysis, speed: SpeedResults) throws {
        let es = ModelResults.expertSim
        let esSeeds = results.seeds(es)
        let esWS = results.meanWS(es).mean

        // channel-masks: the 5 masks cover every pixel exactly once, and the channel sums add up to the photon sum.
        let coverage = (0..<ZDCSimulator.pixels).map { pixel in
            (0..<ZDCMetrics.channelCount).filter { ZDCMetrics.channelOfPixel[pixel] == $0 }.count
        }
        let uncovered = Double(coverage.filter { $0 != 1 }.count)
        let sumMismatch = zip(test.channelSums, test.photonSums).map { abs($0.reduce(0, +) - $1) }.max() ?? .nan
        try report.claim(Claim(
            id: "channel-masks", statement: "the 5 channel masks partition the image; channel sums add to photon_sum",
            measured: max(sumMismatch, uncovered), .equal(0), kind: .exact, seeds: [],
            note: "max over the \(test.photonSums.count) test events of |Σ_k ch_k − photon_sum|, and pixels not in exactly one mask"))

        // ws-metric: the equal-size W1 against Lab's CDF-integral W1 on random data, and W1(a, a + δ) = |δ|.
        var metricRNG = RNG(seed: UInt64(report.seed)).derived("ws-metric")
        var metricError = 0.0
        for trial in 0..<20 {
            let n = 50 + 10 * trial
            let a = (0..<n).map { _ in metricRNG.normal() * 3 }
            let b = (0..<n).map { _ in -log(1 - metricRNG.uniform()) * 2 }
            let shift = metricRNG.uniform(-5, 5)
            metricError = max(metricError, abs(ZDCMetrics.wasserstein1EqualSize(a, b) - Metrics.wasserstein1(a, b)),
                              abs(ZDCMetrics.wasserstein1EqualSize(a, a.map { $0 + shift }) - abs(shift)))
        }
        try report.claim(Claim(
            id: "ws-metric", statement: "W1 on sorted equal-size samples matches a brute-force CDF integral; W1(a, a+δ) = |δ|",
            measured: metricError, .atMost(1e-5), kind: .exact, seeds: [],
            note: "max abs error over 20 random pairs of 50-240 values"))

        // sim-heterogeneous: every regime is common, and contained showers are far brighter than misses.
        let regimes = data.train.regimes
        let minShare = Regime.allCases.map { r in Double(regimes.filter { $0 == r }.count) / Double(regimes.count) }.min()!
        let brightness = data.medianPhotonSum(.contained) / data.medianPhotonSum(.miss)
        try report.claim(Claim(
            id: "sim-heterogeneous", statement: "the simulator yields distinct regimes (miss, edge, contained)",
            measured: minShare, .atLeast(0.10),
            and: [Condition("median photon sum contained / miss", measured: brightness, .atLeast(100))],
            kind: .exact, seeds: [report.seed], note: "training events; min regime share; median photon-sum ratio"))

        try report.claim(Claim(
            id: "mc-cost-grows", statement: "MC cost grows with energy (photon by photon)",
            measured: speed.costGrowth, .atLeast(3), kind: .exact, seeds: [report.seed],
            note: "mean ms/event of the top over the bottom energy tercile, hits only, \(speed.mcEvents) fresh conditions, 1 thread"))

        let meanImageWS = Metrics.mean(references.meanImage)
        try report.claim(Claim(
            id: "beats-mean-image", statement: "trained ExpertSim beats the mean image",
            measured: esWS / meanImageWS, .atMost(0.5), seeds: esSeeds,
            note: "WS(ExpertSim) \(formatNumber(esWS)) / WS(mean-image) \(formatNumber(meanImageWS))"))

        for (id, statement, baseline, comparison) in [
            ("moe-beats-single-small", "the mixture beats a single generator of per-expert size", ModelResults.singleSmall, Comparison.atMost(0.90)),
            ("moe-beats-single-wide", "the mixture beats a single generator of equal total size", ModelResults.singleWide, Comparison.lessThan(1.0)),
            ("router-beats-random", "learned routing beats random routing", ModelResults.randomRouting, Comparison.atMost(0.90)),
        ] {
            let baselineWS = results.meanWS(baseline).mean
            try report.claim(Claim(
                id: id, statement: statement, measured: esWS / baselineWS, comparison, seeds: esSeeds,
                note: "WS(ExpertSim) \(formatNumber(esWS)) (seeds \(esSeeds)) / WS(\(baseline)) \(formatNumber(baselineWS)) (seeds \(results.seeds(baseline))), x \(results.runs(es)[0].draws.count) draws"))
        }

        try report.claim(Claim(
            id: "experts-specialise", statement: "experts take distinct intensity subsets, none starved",
            measured: router.meanMinimumKS, .atLeast(0.3),
            and: [Condition("min test load", measured: router.meanMinimumLoad, .atLeast(0.10))], seeds: esSeeds,
            note: "min pairwise KS of the real photon sums routed to each expert, and min test load; means over seeds"))

        let tail = Metrics.mean(results.draws(es).map(\.tailFraction))
        try report.claim(Claim(
            id: "tail-captured", statement: "ExpertSim reproduces the high-intensity tail",
            measured: tail, .inRange(0.05, 0.20), seeds: esSeeds,
            note: "share of generated photon sums above the real test P90 \(formatNumber(test.tailThreshold)), mean over seeds x draws"))

        let esBatch = speed.batchMany[es] ?? .nan
        try report.claim(Claim(
            id: "speedup", statement: "generation is much faster than MC (our simulator, a stand-in for Geant4)",
            measured: speed.mcMean / esBatch, .atLeast(10), seeds: [report.seed],
            note: "MC \(formatNumber(speed.mcMean)) ms/event (test mix) / ExpertSim \(formatNumber(esBatch)) ms/image at batch \(speed.largeBatch), 1 thread"))
    }
}

extension Claims {
    /// Why each failing claim fails, from this run's numbers (REPORT.md "Failing claims"). What several failures
    /// share (the collapsed experts, the side runs of docs/papers/expertsim.md §8) is said once, after the list.
    static func findings(report: Report, data: SimulatedData, test: TestReference, results: ModelResults,
                         router: RouterAnalysis, trainingSteps: Int) -> String {
        let failing = report.claims.filter { !$0.holds }
        guard !failing.isEmpty else { return "## Failing claims\n\nEvery claim holds in this run." }
        var lines = ["## Failing claims", ""]
        for claim in failing {
            switch claim.id {
            case "sim-heterogeneous":
                let implied = data.impliedContrast
                let missMedian = data.medianPhotonSum(.miss)
                let darkCounts = ZDCSimulator.darkCountRate * Double(ZDCSimulator.pixels)
                let detectedPerGeV = ZDCSimulator.photonYield * (ZDCSimulator.captureA + ZDCSimulator.captureB) / 2
                lines.append("- **sim-heterogeneous** (\(claim.measuredText)): the regime shares pass; the photon-sum "
                    + "contrast is \(formatNumber(data.medianPhotonSum(.contained))) (contained median) / "
                    + "\(formatNumber(missMedian)) (miss median). A miss has no shower: its sum is the dark counts "
                    + "(Poisson(\(formatNumber(ZDCSimulator.darkCountRate))) on \(ZDCSimulator.pixels) pixels = "
                    + "\(formatNumber(darkCounts)) on average) plus Poisson(0.01·E) border photons, so the claim needs a "
                    + "contained median of at least \(formatNumber(100 * missMedian)). We checked the simulator against "
                    + "docs/papers/expertsim.md §3.1: an independent "
                    + "count-only reading of the same design (Poisson thinning of every cluster by the mean capture and the "
                    + "analytic face mass, no photon loop; its mean agrees with the photon loop's for contained, edge and "
                    + "photon showers, test countOnlyPhotonSumsMatchThePhotonLoop) gives, over "
                    + "\(implied.populationEvents) fresh conditions, medians of \(formatNumber(implied.populationMedianMiss)) "
                    + "(miss) and \(formatNumber(implied.populationMedianContained)) (contained): a ratio of "
                    + "\(formatNumber(implied.populationRatio)). Over \(implied.trainingSetRatios.count) resampled "
                    + "training sets of this run's size the ratio is \(formatNumber(Metrics.mean(implied.trainingSetRatios))) "
                    + "± \(formatNumber(Metrics.std(implied.trainingSetRatios))) and reaches 100 in "
                    + "\(formatNumber(100 * implied.share(atLeast: 100)))% of them. The threshold of 100 sits at "
                    + "the edge of what the design's own parameters give (\(formatNumber(detectedPerGeV)) detected photons "
                    + "per visible GeV, log-uniform E, dark counts on every pixel); we keep the threshold and do not retune "
                    + "the simulator to pass.")
            case "tail-captured":
                lines.append("- **tail-captured** (\(claim.measuredText)): generated photon sums rarely exceed the real "
                    + "P90 (\(formatNumber(test.tailThreshold))): after \(trainingSteps) steps the generators under-produce the brightest "
                    + "showers (see fig-photonsum, the high-tercile column of table-regimes and the generated medians "
                    + "of table-router).")
            case "moe-beats-single-wide":
                let describe = { (name: String) -> String in
                    let (mean, std) = results.meanWS(name)
                    let spread = results.draws(name).count > 1 ? " ± \(formatNumber(std))" : ""
                    return "\(formatNumber(mean))\(spread) for \(name) (seeds \(results.seeds(name)))"
                }
                lines.append("- **moe-beats-single-wide** (\(claim.measuredText), needs \(claim.conditionText)): mean WS "
                    + "over seeds x draws is \(describe(ModelResults.singleWide)) and \(describe(ModelResults.expertSim)); "
                    + "per seed in table-training.")
            default:
                lines.append("- **\(claim.id)** (\(claim.measuredText), needs \(claim.conditionText)): see table-ws, "
                    + "table-regimes and table-router.")
            }
        }
        // Said once for every failing claim that is measured on ExpertSim's generated images.
        let generatedImageClaims: Set = ["beats-mean-image", "moe-beats-single-small", "moe-beats-single-wide",
                                         "router-beats-random", "tail-captured"]
        let failingOnImages = failing.map(\.id).filter(generatedImageClaims.contains)
        var shared: [String] = []
        if !failingOnImages.isEmpty && !router.collapsedExperts.isEmpty {
            shared.append("\(failingOnImages.joined(separator: ", ")) \(failingOnImages.count == 1 ? "is" : "are") "
                + "measured on ExpertSim's generated images, and \(router.collapsedExperts.count) of "
                + "\(router.seeds.count * router.experts) of its experts turn out nearly empty images: see "
                + "**Collapsed experts** under Router and expert specialisation.")
        }
        if failing.contains(where: { ["tail-captured", "moe-beats-single-wide"].contains($0.id) }) {
            shared.append("Side-run investigations of tail-captured and moe-beats-single-wide (other settings, not "
                + "recomputed here) are in docs/papers/expertsim.md §8.")
        }
        if !shared.isEmpty { lines += ["", shared.joined(separator: " ")] }
        return lines.joined(separator: "\n")
    }
}

enum Notes {
    /// What this run does differently from the paper; every number is the plan's, the configuration's or this
    /// run's own (`elapsedSeconds`: the run's wall time when the paragraph is written, after every section).
    static func deviations(plan: Plan, elapsedSeconds: Double) -> String {
        let width = ModelWidth.expert, config = plan.config
        /// A learning rate as the code writes it (5e-4).
        func scientific(_ value: Float) -> String {
            let exponent = Int((Foundation.log10(Double(value)) + 1e-6).rounded(.down))   // Float 1e-4 is 9.99999975e-5
            return "\(formatNumber(Double(value) / Foundation.pow(10, Double(exponent))))e\(exponent)"
        }
        let seedCount = { (n: Int) in n == 1 ? "1 seed" : "\(n) seeds" }
        let fits = elapsedSeconds <= plan.budgetSeconds
        let budgetText = "this run's wall time up to this paragraph (every section done) is "
            + "\(formatDuration(elapsedSeconds)), \(formatNumber(100 * elapsedSeconds / plan.budgetSeconds))% of the "
            + "\(formatDuration(plan.budgetSeconds)) budget of the \(plan.scale.rawValue) scale, so this plan "
            + (fits ? "fits the budget" : "does not fit the budget (over by \(formatDuration(elapsedSeconds - plan.budgetSeconds)))")
            + " on this machine (the Run table gives the total)"
        return """
            ## Deviations from the paper

            - **Data.** The simulator is our own parametric model (docs/papers/expertsim.md §3.1): photon-by-photon showers \
            with visible-fraction, punch-through and sub-cluster fluctuations, charged-particle bending that makes \
            misses and edge showers, checkerboard fibre colours, dark counts.
            - **Size and length.** Experts are small (Linear \(width.hidden), channels \(width.generatorChannels)/\
            \(width.generatorNarrowChannels); discriminator \(width.discriminatorChannels.0)/\(width.discriminatorChannels.1) \
            channels) and train for \(config.epochs) epochs on \(2 * plan.trainConditions) events \
            (\(plan.trainingSteps) steps at batch \(config.batchSize)); the paper's experts are larger and train for 150 epochs.
            - **Seeds and budget** (docs/papers/expertsim.md §2): ExpertSim and B1 train \(seedCount(plan.seeds.count)), \
            B2 and B3 \(seedCount(plan.baselineSeeds.count)), every model \(config.epochs) epochs, without the design's \
            cut rule; \(budgetText).
            - **Learning rates** are larger than the code's (G \(scientific(config.generatorRate)), \
            D \(scientific(config.discriminatorRate)), A \(scientific(config.auxiliaryRate)) vs \
            1e-4 / 1e-5 / 1e-4) for the short schedule; each expert's G and D rates are scaled by its routed batch \
            fraction, as in the code.
            - **Auxiliary regressor** is trained on real images each step with its own optimiser (the code steps it \
            with the generator's backward); its targets are the brightest-pixel position in [0, 1] with \
            λ_aux = \(formatNumber(Double(config.auxiliaryWeight))) (code: pixel units, 1e-3).
            - **Router loss.** The straight-through Gumbel term L_gan (per-sample generator loss: adversarial BCE + \
            intensity + auxiliary error) gives the router a gradient path; utilisation \
            (λ \(formatNumber(Double(config.utilisationWeight)))) and intensity-difference ED \
            (λ \(formatNumber(Double(config.intensityDifferenceWeight)))) terms are ours (code 0) against collapse at \
            this scale. L_diff (cosine similarity of the auxiliary features of different experts' images) is computed \
            and logged but has no gradient path, as in the code. ALB's exponent is capped at \
            \(formatNumber(Double(MixtureOfGenerators.balanceExponentCap))) so a starved expert gives a finite loss in Float32.
            - **Routed slices of fewer than 2 samples** skip that expert for the step (BatchNorm needs 2 samples).
            - **Baseline NN-retrieval** is not in the paper; it is context for how much a condition alone says.
            """
    }
}
