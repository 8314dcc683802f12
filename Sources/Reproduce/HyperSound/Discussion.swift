import Foundation
import HyperSoundCore
import Lab
import LabRun

/// The closing prose of REPORT.md: every deviation from the design (docs/papers/hypersound.md) and the paper, and, for each paper claim that
/// fails in this run, what the run's own measurements say about why.
enum Discussion {
    static func write(report: Report, trained: [TrainedVariant], sanity: SanityFit, reconstruction: ReconstructionResults,
                      fits: PerClipResults) {
        report.text("""
            **Deviations from the design and the paper.**
            - Data: the 10 silent Allison prompts (`silence/`, dither of ±2 LSB) are left out before the split, since \
            peak normalisation turns them into full-scale noise; the split runs over the remaining recordings.
            - Training length: every variant trains for \(trained[0].variant.steps) steps, the design's full scale \
            (no cut was needed).
            - `metric-sanity`: scale invariance is checked as |SI-SNR(x, 3(x+n)) - SI-SNR(x, x+n)|, since the design's \
            SI-SNR(x, 3x) - SI-SNR(x, x) is ∞ - ∞.
            - fig-band-error uses the mean absolute log-power error per bin in dB (10·log10) on the per-clip study's \
            clips, where all three reconstructions exist.
            - The unconditional INR's "trained parameters" are those of the NeRF HyperSound whose outputs it averages.
            - Not reproduced: PESQ, CDPAM (ITU reference code, a learned model), STOI (optional in the design), the \
            paper's dequantisation and all-pass augmentations, VCTK at 22.05 kHz.
            """)

        let failing = report.claims.filter { $0.kind == .paper && !$0.holds }
        guard !failing.isEmpty else {
            report.text("Every paper claim holds in this run.")
            return
        }
        let nerf = trained[0]
        let test = reconstruction.metrics["Allison test"]!
        let curve = nerf.testLoss
        let middle = curve[curve.count / 2], last = curve.last!
        let stillFalling = (middle.loss - last.loss) / middle.loss
        let train = reconstruction.metrics["Allison train"]!
        var lines = ["**Paper claims that fail or are inconclusive, and what this run says about them.**"]
        let trainRatio = train["HyperSound-NeRF"]!.meanSquaredError / train["zero"]!.meanSquaredError
        let testRatio = test["HyperSound-NeRF"]!.meanSquaredError / test["zero"]!.meanSquaredError
        let sanityResult = "trained on \(sanity.clips) fixed clips for \(sanity.steps) steps, the same model reaches SI-SNR \(String(format: "%.1f", sanity.scaleInvariantSNR)) dB (MSE/MSE(zero) \(formatNumber(sanity.mseRatio))) on them"
        lines.append(sanity.scaleInvariantSNR >= 10 ? """
            - A bug? The pipeline fits what it is shown: \(sanityResult), and the batched renderer equals a plain module \
            (`hyper-target-equivalence`). The one-shot model underfits its own training recordings as much as the test \
            ones: MSE/MSE(zero) \(formatNumber(trainRatio)) on \(train["zero"]!.clips) training clips vs \(formatNumber(testRatio)) \
            on the test clips. What fails is learning one map from all the training recordings to INR weights in \
            \(nerf.variant.steps) steps, not the rendering or the gradients.
            """ : """
            - A bug? Not settled by this run: \(sanityResult), too short a fit to tell (full scale trains it 300 steps).
            """)
        lines.append("""
            - Training length: the NeRF test loss went from \(formatNumber(middle.loss)) at step \(middle.step) to \
            \(formatNumber(last.loss)) at step \(last.step) (\(String(format: "%.1f", 100 * stillFalling))% lower)\(stillFalling > 0 ? ", falling until" : ", flat before") \
            the OneCycle schedule annealed the learning rate to ~0 (fig-training); the paper trains \
            ~1.5M steps of batch 16, this run \(nerf.variant.steps) steps of batch 8 \
            (~\(String(format: "%.2f", Double(nerf.variant.steps * 8) / 24e6 * 100))% of the paper's clip presentations).
            """)
        lines.append("""
            - Learning rate and init (investigated in short runs outside this one, same data and loop): a peak learning \
            rate of 1e-3 (2x the design's) or more collapses every generated INR to a constant output (its ReLUs die) \
            within 600 steps; a last hypernetwork layer initialised 10x wider (0.1 → 1) learns no faster over 400 \
            steps. The design's 5e-4 and 0.1 stay.
            """)
        for claim in failing {
            switch claim.id {
            case "unseen-mse", "ood-voices":
                let set = claim.id == "unseen-mse" ? "Allison test" : "flite (OOD)"
                let metrics = reconstruction.metrics[set]!
                lines.append("""
                    - `\(claim.id)` (\(formatNumber(claim.measured))): MSE rewards phase-exact samples. On the \(set) clips the \
                    one-shot SI-SNR is \(metrics["HyperSound-NeRF"]!.scaleInvariantSNR.map { String(format: "%.2f", $0) } ?? "-") dB \
                    and the LSD \(formatNumber(metrics["HyperSound-NeRF"]!.logSpectralDistance)) (unconditional INR \
                    \(formatNumber(metrics["unconditional INR"]!.logSpectralDistance)), zero output \
                    \(formatNumber(metrics["zero"]!.logSpectralDistance))): the generated INRs carry a spectral envelope \
                    but hardly the clip's waveform (fig-waveforms), and depend only weakly on the input.
                    """)
            case "unseen-lsd-beats-retrieval":
                lines.append("""
                    - `\(claim.id)` (\(formatNumber(claim.measured))): the nearest training clip by log-mel distance is an \
                    oracle on the spectral envelope (same speaker, often the same words), and LSD ignores phase; the one-shot \
                    INR has to beat a real recording of the same voice on the metric that favours it.
                    """)
            case "per-clip-better", "hyper-init-faster":
                let random = PerClipResults.meanCurve(fits.randomInit, \.losses), hyper = PerClipResults.meanCurve(fits.hyperInit, \.losses)
                lines.append("""
                    - `\(claim.id)` (\(formatNumber(claim.measured))): mean per-clip loss at the logged steps \
                    \(fits.randomInit[0].steps.map(String.init).joined(separator: ", ")): random init \
                    \(random.map(formatNumber).joined(separator: ", ")); HyperSound init \
                    \(hyper.map(formatNumber).joined(separator: ", ")). HyperSound's θ is ahead of the random init at \
                    \(zip(hyper, random).filter { $0.0 < $0.1 }.count) of \(random.count) logged steps (same-step comparison), \
                    but the rule asks it to reach the random init's loss at K = \(fits.steps) by step \(fits.steps / 2), and \
                    a one-shot θ this far from the clip (its SI-SNR in table-per-clip) gives too small a head start for that.
                    """)
            case "hf-harder":
                let perClip = MeanMetrics(references: fits.clips, estimates: fits.perClip)
                let perClipRatio = perClip.highBandLSD / perClip.lowBandLSD
                let perClipReading = perClipRatio >= 1.2
                    ? "The per-clip INR, which does resolve the harmonics, shows the spectral bias: its ratio is \(formatNumber(perClipRatio))"
                    : "Even the per-clip INR, which resolves the harmonics (table-per-clip), has a ratio of only \(formatNumber(perClipRatio)) (0-1 kHz \(formatNumber(perClip.lowBandLSD)), 2-4 kHz \(formatNumber(perClip.highBandLSD))): on peak-normalised 8 kHz speech, whose 2-4 kHz band is quiet, this ratio does not show the spectral bias the paper describes at 22 kHz"
                lines.append("""
                    - `\(claim.id)` (\(formatNumber(claim.measured))): band LSD 0-1 kHz \(formatNumber(test["HyperSound-NeRF"]!.lowBandLSD)), \
                    2-4 kHz \(formatNumber(test["HyperSound-NeRF"]!.highBandLSD)). The one-shot model misses the low-band \
                    harmonics as much as the high band, so there is no low-band advantage to lose. \(perClipReading), on \
                    the \(fits.clips.count) per-clip clips.
                    """)
            case "generalisation-gap", "stft-lowers-lsd":
                lines.append("- `\(claim.id)` (\(formatNumber(claim.measured))): see table-reconstruction and table-ablation.")
            default:
                lines.append("- `\(claim.id)` (\(formatNumber(claim.measured))).")
            }
        }
        report.text(lines.joined(separator: "\n"))
    }
}
