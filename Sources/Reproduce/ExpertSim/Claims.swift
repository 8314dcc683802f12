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
            measured: esWS / meanImageWS, .atMost(0.5), kind: .exact, seeds: esSeeds,
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
        // Experts whose generator turns out images far dimmer than the real events routed to them (a collapse).
        let collapsed = router.seeds.flatMap { s in
            (0..<router.experts).filter { s.medianGeneratedPhotonSum[$0] < 0.1 * s.medianPhotonSum[$0] }.map { k in
                "seed \(s.seed) expert \(k) (median generated sum \(formatNumber(s.medianGeneratedPhotonSum[k])) vs "
                    + "routed real \(formatNumber(s.medianPhotonSum[k])))"
            }
        }
        let collapseText = collapsed.isEmpty ? "" : " Collapsed experts, whose images are nearly empty: "
            + collapsed.joined(separator: "; ") + ". Their final ReLU can zero the whole image, and then no gradient "
            + "reaches the generator; the intensity loss cannot pull it back."
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
                    + "of table-router)." + collapseText + " " + Notes.tailInvestigation)
            case "moe-beats-single-wide":
                lines.append("- **moe-beats-single-wide** (\(claim.measuredText), needs \(claim.conditionText)): "
                    + Notes.singleWideInvestigation + collapseText)
            default:
                lines.append("- **\(claim.id)** (\(claim.measuredText), needs \(claim.conditionText)): see table-ws, "
                    + "table-regimes and table-router." + collapseText)
            }
        }
        return lines.joined(separator: "\n")
    }
}

enum Notes {
    /// Reduced experiments behind the tail-captured finding (run by hand from this code with other settings; the
    /// numbers are quoted, not recomputed by this run).
    static let tailInvestigation = """
        Investigation (reduced runs: 500 training and 300 test conditions x 2 replicas, ExpertSim seed 0, \
        batch 64, 16 steps per epoch, scored after every 3 epochs on the 600 test events, real P90 2,421): \
        (1) the design's settings give a tail share of 0.01-0.02 at 192-288 steps; the bright expert's median generated \
        sum is 450-620 against 1,450-1,650 for the real events routed to it, and the expert that takes the misses \
        turns out empty images (median generated sum 0.7 against 6 real). The same happens in train mode \
        (batch statistics, dropout on) for B1 (WS 122-135 and tail share <= 0.007 in both modes), so BatchNorm's \
        running statistics are not the cause. (2) lr_G 2e-3 (4x) lowers WS at 192 steps from 94.7 to 81.6 and lifts \
        the bright expert to 830 of 1,556, but the tail share stays 0.013. (3) lr_G 2e-3 with lr_D 4e-4 (a stronger \
        discriminator) collapses every expert: at 96 steps their median generated sums are 113, 0.08 and 95 against \
        1,472, 7 and 415 real, at 144 steps 36, 0.4 and 8 (WS 147, tail share 0): the adversarial \
        signal pushes the generators towards dark, miss-like images, and once every pre-activation of the final \
        ReLU is negative no loss (adversarial or intensity) reaches the generator again. So the tail is lost to \
        too little training and to this dead-ReLU collapse; the intensity loss (λ_int = 1e-3, the authors' value) \
        is too weak at this length to pull the bright showers up. Full-scale side runs (seed-2 data, 3,000 \
        training and 1,000 test events, 2 noise draws, scored after epochs 4, 6 and 8; numbers quoted): (4) with \
        the design's settings ExpertSim seed 4 is collapsed by epoch 4 and stays so (WS 114.0, 111.6, 112.4; its \
        bright expert's median generated sum 5, 24, 30 against 1,046-1,186 real; tail share 0), and seed 2 does not \
        improve with length (WS 62.5, 64.3, 61.3; tail share 0.032, 0.035, 0.035): training 8 epochs instead of 6 \
        neither lifts the tail nor revives a dead expert. (5) The SDI term with a per-sample d, as the authors' \
        code computes it, changes nothing (seed 4: WS 113.5, 112.3, 113.8, tail 0). (6) Outside the paper's \
        method: a softplus output (no dead region) lets the bright expert reach the real level (median 1,089 \
        against 1,139 at epoch 8; tail share 0.078-0.093) but the dim experts can no longer turn out empty images \
        (medians 581 and 895 against 7 and 198 real), so WS gets worse (184, 157, 143); λ_int = 1e-2 (10x) \
        prevents the collapse (WS 59.8, 65.3, 69.5; tail share 0.063, 0.045, 0.034) but the router starves one \
        expert by epoch 8 (test load 0.00). This run keeps the design's ReLU, rates and λ_int.
        """

    /// Side runs behind the moe-beats-single-wide finding (numbers quoted, not recomputed by this run).
    static let singleWideInvestigation = """
        B2 trains one seed (the design's cut rule), so this ratio rests on one B2 run, and a single wide GAN's \
        score swings widely: with base seeds 0, 1 and 2 (6 epochs) B2 scored 98.9, 126.1 and 58.6, and in a side \
        run on the seed-2 data the same B2 run was collapsed at epoch 4 (WS 120.6, median generated sum 0) before \
        its 58.6 at epoch 6. On base seed 2 ExpertSim's seed 4 has a dead bright expert (WS 111.4 against 63.3 and \
        60.7 for seeds 2 and 3); without it ExpertSim would still be at 62.0, above that B2 run.
        """

    static let deviations = """
        ## Deviations from the paper

        - **Data.** The simulator is a stand-in for Geant4. All speed-ups are measured against this simulator, not \
        against Geant4. It is our own parametric model (docs/papers/expertsim.md §3.1): photon-by-photon showers with visible-fraction, \
        punch-through and sub-cluster fluctuations, charged-particle bending that makes misses and edge showers, \
        checkerboard fibre colours, dark counts.
        - **Size and length.** Experts are small (Linear 64, channels 16/4; discriminator 8/16 channels) and train \
        for 8 epochs on 3,000 events (376 steps at batch 64); the paper's experts are larger and train for 150 epochs.
        - **Cut rule, first step** (docs/papers/expertsim.md §2): one training step costs about 5 ms per image on this machine (the \
        design estimated 1 ms), so B2 and B3 train one seed instead of two; every model keeps the design's 8 epochs \
        (the rule's second step, 6 epochs, is not needed) and ExpertSim and B1 keep their 3 seeds.
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
