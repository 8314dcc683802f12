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
    /// Why each failing claim fails, from this run's numbers (REPORT.md "Failing claims").
    static func findings(report: Report, data: SimulatedData, test: TestReference, router: RouterAnalysis,
                         trainingSteps: Int) -> String {
        let failing = report.claims.filter { !$0.holds }
        guard !failing.isEmpty else { return "## Failing claims\n\nEvery claim holds in this run." }
        var lines = ["## Failing claims", ""]
        let collapseText = router.collapsedExperts.isEmpty ? ""
            : " See **Collapsed experts** under Router and expert specialisation: \(router.collapsedExperts.count) experts turn out nearly empty images."
        for claim in failing {
            switch claim.id {
            case "sim-heterogeneous":
                let implied = data.impliedContrast
                let missMedian = data.medianPhotonSum(.miss)
                let darkCounts = ZDCSimulator.darkCountRate * Double(ZDCSimulator.pixels)
                lines.append("- **sim-heterogeneous** (\(claim.measuredText)): the regime shares pass; the photon-sum "
                    + "contrast is \(formatNumber(data.medianPhotonSum(.contained))) (contained median) / "
                    + "\(formatNumber(missMedian)) (miss median). A miss has no shower: its sum is the dark counts "
                    + "(Poisson(\(formatNumber(ZDCSimulator.darkCountRate))) on \(ZDCSimulator.pixels) pixels = "
                    + "\(formatNumber(darkCounts)) on average) plus Poisson(0.01·E) border photons, so its median is only "
                    + "6-7 photons, and the claim needs a contained median of at least "
                    + "\(formatNumber(100 * missMedian)). We checked the simulator against docs/papers/expertsim.md §3.1: an independent "
                    + "count-only reading of the same design (Poisson thinning of every cluster by the mean capture and the "
                    + "analytic face mass, no photon loop; its mean agrees with the photon loop within 3 standard errors "
                    + "for contained, edge and photon showers, test countOnlyPhotonSumsMatchThePhotonLoop) gives, over "
                    + "\(implied.populationEvents) fresh conditions, medians of \(formatNumber(implied.populationMedianMiss)) "
                    + "(miss) and \(formatNumber(implied.populationMedianContained)) (contained): a ratio of "
                    + "\(formatNumber(implied.populationRatio)). Over \(implied.trainingSetRatios.count) resampled "
                    + "training sets of this run's size the ratio is \(formatNumber(Metrics.mean(implied.trainingSetRatios))) "
                    + "± \(formatNumber(Metrics.std(implied.trainingSetRatios))) and reaches 100 in "
                    + "\(formatNumber(100 * implied.share(atLeast: 100)))% of them. The threshold of 100 sits at "
                    + "the edge of what the design's own parameters give (3.3 detected photons per visible GeV, log-uniform "
                    + "E, dark counts on every pixel); we keep the threshold and do not retune the simulator to pass.")
            case "tail-captured":
                lines.append("- **tail-captured** (\(claim.measuredText)): generated photon sums rarely exceed the real "
                    + "P90 (\(formatNumber(test.tailThreshold))): after \(trainingSteps) steps the generators under-produce the brightest "
                    + "showers (see fig-photonsum, the high-tercile column of table-regimes and the generated medians "
                    + "of table-router)." + collapseText + Notes.sideRuns)
            case "moe-beats-single-wide":
                lines.append("- **moe-beats-single-wide** (\(claim.measuredText), needs \(claim.conditionText)): a single "
                    + "wide GAN's score swings widely from seed to seed (table-training)." + collapseText + Notes.sideRuns)
            default:
                lines.append("- **\(claim.id)** (\(claim.measuredText), needs \(claim.conditionText)): see table-ws, "
                    + "table-regimes and table-router." + collapseText)
            }
        }
        return lines.joined(separator: "\n")
    }
}

enum Notes {
    /// Where the hand-run investigations of earlier sessions are written down (their numbers are not recomputed by
    /// this run, so the report only points to them).
    static let sideRuns = " Side-run investigations of this failure (other settings, not recomputed here) are in docs/papers/expertsim.md §8."

    static let deviations = """
        ## Deviations from the paper

        - **Data.** The simulator is a stand-in for Geant4. All speed-ups are measured against this simulator, not \
        against Geant4. It is our own parametric model (docs/papers/expertsim.md §3.1): photon-by-photon showers with visible-fraction, \
        punch-through and sub-cluster fluctuations, charged-particle bending that makes misses and edge showers, \
        checkerboard fibre colours, dark counts.
        - **Size and length.** Experts are small (Linear 64, channels 16/4; discriminator 8/16 channels) and train \
        for 8 epochs on 3,000 events (376 steps at batch 64); the paper's experts are larger and train for 150 epochs.
        - **Seeds and budget** (docs/papers/expertsim.md §2): the design's plan runs without its cut rule: ExpertSim and \
        B1 train 3 seeds, B2 and B3 2 seeds, every model 8 epochs (the run's wall time is in the Run table).
        - **Learning rates** are larger than the code's (G 5e-4, D 1e-4, A 1e-3 vs 1e-4 / 1e-5 / 1e-4) for the short \
        schedule; each expert's G and D rates are scaled by its routed batch fraction, as in the code.
        - **Auxiliary regressor** is trained on real images each step with its own optimiser (the code steps it \
        with the generator's backward); its targets are the brightest-pixel position in [0, 1] with λ_aux = 1 \
        (code: pixel units, 1e-3).
        - **Router loss.** The straight-through Gumbel term L_gan (per-sample generator loss: adversarial BCE + \
        intensity + auxiliary error) gives the router a gradient path; utilisation (λ 0.1) and intensity-difference \
        ED (λ 0.1) terms are ours (code 0) against collapse at this scale. L_diff (cosine similarity of the \
        auxiliary features of different experts' images) is computed and logged but has no gradient path, as in \
        the code. ALB's exponent is capped at 80 so a starved expert gives a finite loss in Float32.
        - **Routed slices of fewer than 2 samples** skip that expert for the step (BatchNorm needs 2 samples).
        - **Baseline NN-retrieval** is not in the paper; it is context for how much a condition alone says.
        """
}
