// HyperSound: "Hypernetworks build Implicit Neural Representations of Sounds"
// Szatkowski, Piczak, Spurek, Tabor, Trzciński; ECML-PKDD 2023; arXiv 2302.04959 (github.com/WUT-AI/hypersound).
//
// An implicit neural representation (INR) of a recording is a small network T(t; θ) from a time coordinate to
// the sample value. HyperSound trains an encoder E and a hypernetwork H so that θ = H(E(x)) is, in one forward
// pass, the INR of a recording x never seen in training. The target INR is NeRF-style (fixed Fourier features and
// a ReLU MLP) or a SIREN; the loss is L1 on the samples plus a multi-resolution mel-STFT loss.
//
// Reproduced (docs/papers/hypersound.md): the main reconstruction table (zero, unconditional-INR and
// nearest-neighbour baselines vs HyperSound-NeRF and -SIREN on unseen recordings, training recordings and unseen
// speakers), reconstruction examples as spectrograms, waveforms and audio, HyperSound's θ as an initialisation of
// per-clip INR fits, the spectral-bias picture (error per frequency) and the STFT-loss ablation.
//
// Scaled down, to fit 8 minutes on 2 CPU cores instead of ~1.5M GPU steps on VCTK:
// - data: one real speaker (Debian's Asterisk prompts, Allison, 8 kHz) split by file 85/15, plus five flite
//   voices as unseen speakers; clips of 1,024 samples (0.128 s) instead of 32,768 at 22.05 kHz (the design's
//   4,096 were not learnt at this budget: docs/papers/hypersound.md §2 "Clip length");
// - models: a 5-conv encoder (128-d), a 128→256→256→|θ| hypernetwork and targets of 3 x 48 hidden units
//   (|θ| = 5,761 NeRF, 4,849 SIREN) instead of a SEANet encoder and 5 x 90 targets;
// - training: 2,000 steps of batch 8 per variant; per-clip fits of 500 steps on 8 clips.
// PESQ and CDPAM are not reproduced (ITU reference code and a learned model).
import Foundation
import HyperSoundCore
import Lab
import LabRun
import LabSignal

struct HyperSoundPaper: PaperCommand {
    static let paper = Paper(
        arXiv: "2302.04959", title: "Hypernetworks build Implicit Neural Representations of Sounds",
        command: "hypersound",
        reproduces: """
            The reconstruction table (HyperSound-NeRF and -SIREN vs zero, unconditional-INR and nearest-neighbour \
            baselines on unseen recordings, training recordings and unseen flite speakers), spectrogram, waveform \
            and audio examples, HyperSound as INR initialisation (fine-tuning curves), error per frequency and the \
            STFT-loss ablation. Scaled down: one 8 kHz speaker (Asterisk's Allison prompts), 0.128 s clips, \
            small encoder, hypernetwork and targets, 2,000 training steps.
            """)
    @OptionGroup var options: RunOptions

    func reproduce(in report: Report) throws {
        let plan = Plan(scale: options.scale)
        let seed = options.seed
        report.text("""
            HyperSound maps a recording to the weights of an implicit neural representation (INR) in one forward \
            pass. Every number below comes from this run (scale `\(options.scale)`, seed \(seed)); the design document \
            `docs/papers/hypersound.md` lists what is scaled down and why.
            """)

        // MARK: Data
        // Real speech: the 568 Asterisk prompts of one speaker, split by file; five synthetic flite voices are the
        // unseen speakers. Each evaluation clip is the loudest 1,024-window of the trimmed recording, peak-normalised.
        let data = try report.section("Data") { () throws -> SpeechData in
            let data = try SpeechData.load(plan)
            report.text("""
                Allison (Debian `asterisk-core-sounds-en-wav`): \(data.recordingCount) recordings read with libsndfile; \
                \(data.silentCount) silent prompts (peak below 1% of full scale, the `silence/` folder) are left \
                out, since peak normalisation would turn their dither into full-scale noise (a deviation from the \
                design's 568). Split by file (seed 1234): \(data.trainFiles.count) training recordings used, \
                \(data.testClips.count) test clips; \(data.trainEvaluationClips.count) training clips measure the \
                generalisation gap; \(data.fliteClips.count) flite clips (voices kal, kal16, awb, rms, slt; 16 kHz \
                ones resampled to 8 kHz) are unseen speakers. Clips: \(HyperSoundClips.length) samples \
                (\(formatNumber(Double(HyperSoundClips.length) / Double(plan.sampleRate))) s) at 8 kHz.
                """)
            return data
        }

        // MARK: Signal checks
        // The exact claims: libsndfile round trip, the resampler, the metrics.
        try report.section("Signal checks") {
            try SignalChecks.run(report: report, sampleRate: plan.sampleRate, seed: seed)
        }

        // MARK: Training (fig-training)
        // Three variants: the main NeRF model, a SIREN target, and NeRF trained with L1 only (the ablation). Two
        // train side by side, each on one core with single-threaded BLAS.
        // Full scale: every variant gets 2,000 steps (docs/papers/hypersound.md §2; the design first had 1,500 steps of
        // 4,096-sample clips, which the one-shot model did not learn).
        let variants = [
            Variant(name: "NeRF", kind: .nerf, spectralLoss: true, peakLearningRate: 5e-4, steps: plan.trainingSteps,
                    outputInitialisation: .aroundTargetInit(spread: 0.1)),
            Variant(name: "SIREN", kind: .siren, spectralLoss: true, peakLearningRate: 1e-4, steps: plan.trainingSteps,
                    outputInitialisation: .aroundTargetInit(spread: 0.1)),
            Variant(name: "NeRF-L1only", kind: .nerf, spectralLoss: false, peakLearningRate: 5e-4, steps: plan.trainingSteps,
                    outputInitialisation: .aroundTargetInit(spread: 0.1)),
        ]
        // A sanity check of the whole pipeline rides along: the NeRF model trained on four fixed training clips. If
        // the generated weights, the rendering, the loss and its gradients are right, it must fit them closely; then a
        // weak one-shot model on unseen clips is a matter of learning, not of a broken pipeline.
        let sanityClips = Array(data.trainPool.prefix(4))
        let sanityVariant = Variant(name: "NeRF-4clips", kind: .nerf, spectralLoss: true, peakLearningRate: 5e-4,
                                    steps: plan.sanitySteps, outputInitialisation: .aroundTargetInit(spread: 0.1))
        let (trained, sanity) = try report.section("Training") { () throws -> ([TrainedVariant], SanityFit) in
            let quiet = options.quiet
            let jobs = variants.map { variant in
                { @Sendable in
                    try train(variant, trainFiles: data.trainFiles, testClips: data.testClips, seed: seed, quiet: quiet)
                }
            } + [{ @Sendable in try train(sanityVariant, trainFiles: sanityClips, testClips: sanityClips, seed: seed, quiet: quiet) }]
            let results = try JobPool.run(jobs)
            let trained = Array(results.prefix(variants.count))
            try report.figure(Figures.training(trained), name: "fig-training", caption: """
                Left: each variant's own training objective (L1only is trained on L1 alone, so its curve sits lower). \
                Right: the L1 + MR-STFT loss of every variant on the Allison test clips, every 100 steps.
                """)
            report.text(Discussion.learningCurve(trained[0]))
            report.text(trained.map {
                "\($0.variant.name): \($0.variant.steps) steps, \(String(format: "%.0f", $0.secondsPerStep * 1_000)) ms per step wall, \(String(format: "%.0f", $0.cpuSecondsPerStep * 1_000)) ms CPU (one thread)."
            }.joined(separator: " "))
            let fit = SanityFit(clips: sanityClips, steps: sanityVariant.steps,
                                estimates: reconstruct(sanityClips, with: results.last!.model))
            report.text("""
                Sanity check: the same NeRF model and loop trained on \(fit.clips) fixed training clips (batch 8 drawn \
                from them, \(fit.steps) steps) reconstructs them at SI-SNR \(String(format: "%.1f", fit.scaleInvariantSNR)) dB \
                and MSE/MSE(zero) \(formatNumber(fit.mseRatio))\(fit.scaleInvariantSNR >= 10
                    ? ": the generated weights, the rendering and the gradients through them work"
                    : ", not a close fit (expected >= 10 dB): suspect the pipeline before the scale").
                """)
            return (trained, fit)
        }
        let nerf = trained[0], siren = trained[1], l1Only = trained[2]

        // MARK: Reconstruction (table-reconstruction)
        // HyperSound against three baselines on unseen recordings, training recordings and unseen speakers.
        let reconstruction = try report.section("Reconstruction") { () throws -> ReconstructionResults in
            let results = ReconstructionStudy.run(data: data, nerf: nerf, siren: siren)
            try report.table(results.table(), name: "reconstruction", caption: """
                Reconstruction of \(HyperSoundClips.length)-sample clips (mean over clips; SI-SNR is undefined for the zero output). The \
                unconditional INR renders the mean generated θ over the training clips (its parameter count is the \
                NeRF HyperSound's that produced it); NN-retrieval returns the training clip with the closest log-mel \
                spectrogram (excluding the clip's own recording on the train set). ms/clip: batch 1, warm, this machine.
                """)
            let test = results.metrics["Allison test"]!
            report.text("""
                Paper: HyperSound's reconstructions of unseen recordings are far from zero output but below dedicated \
                per-recording INRs. Here, on the Allison test clips, HyperSound-NeRF reaches MSE \
                \(formatNumber(test["HyperSound-NeRF"]!.meanSquaredError)) against \
                \(formatNumber(test["zero"]!.meanSquaredError)) for the zero output, and LSD \
                \(formatNumber(test["HyperSound-NeRF"]!.logSpectralDistance)) against \
                \(formatNumber(test["NN-retrieval"]!.logSpectralDistance)) for the nearest training clip.
                """)
            return results
        }

        // MARK: Per-clip INRs (fig-finetune, table-per-clip)
        // Dedicated INRs fitted to each of 8 test clips from a random init, and fine-tuned from HyperSound's θ.
        let fits = try report.section("Per-clip INRs") { () throws -> PerClipResults in
            let fits = try PerClipStudy.run(data: data, nerf: nerf, steps: plan.perClipSteps, clipCount: plan.perClipClips,
                                            seed: seed)
            let (figure, skipped) = Figures.finetune(fits)
            try report.figure(figure, name: "fig-finetune", caption: """
                Fitting one INR per clip with Adam from a random init vs from HyperSound's generated θ (the paper's use \
                of HyperSound as an initialisation). Step 0 is the init itself.
                """)
            if !skipped.isEmpty {
                report.text("Not drawn in fig-finetune (every clip's curve undefined, a constant INR output): \(skipped.joined(separator: "; ")).")
            }
            try report.table(fits.table(), name: "per-clip", caption: """
                The first \(fits.clips.count) Allison test clips: HyperSound's one-shot INR vs a dedicated INR fitted to each clip \
                (Adam, lr 1e-3, L1 + MR-STFT, K = \(fits.steps) steps) from a random init and from HyperSound's θ. ms/clip: \
                one forward pass (batch 1) vs the whole fit, single-threaded, two fits side by side.
                """)
            return fits
        }

        // MARK: Diagnostics (table-diagnostics)
        // Why the one-shot model learns (or not): head gradient norms over training, the scale of the generated weights
        // against a standard init and a per-clip INR, and how much the generated weights depend on the clip.
        try report.section("Diagnostics") {
            let diagnostics = Diagnostics.run(data: data, nerf: nerf, fits: fits, seed: seed)
            try report.table(diagnostics.table, name: "diagnostics", caption: """
                HyperSound-NeRF on the \(data.testClips.count) Allison test clips, per target layer: the gradient norm of \
                the head that emits it (before clipping) at three logged steps; the RMS of its weight W in a standard \
                init, in the per-clip INRs fitted directly (random init), and as generated; the generated W split into \
                the part shared by every clip and the part that varies across clips; the same ratio in fresh models \
                under the heads used here (around one target init) and under the authors' fan-in heads.
                """)
            report.text(Diagnostics.summary(diagnostics))
        }

        // MARK: Ablation and spectral bias (table-ablation, fig-band-error)
        let ablation = try report.section("Ablation and spectral bias") { () throws -> AblationResults in
            let ablation = AblationStudy.run(data: data, nerf: nerf, siren: siren, l1Only: l1Only, fits: fits)
            try report.table(ablation.table(), name: "ablation", caption: """
                Allison test set (\(ablation.clips) clips): the STFT loss term (NeRF trained with L1 + MR-STFT vs L1 only) \
                and the target type (NeRF vs SIREN). Band LSD uses the STFT bins whose centre lies in the band.
                """)
            try report.figure(Figures.bandError(ablation, clips: fits.clips.count), name: "fig-band-error", caption: """
                Mean absolute error of the log power spectrum (n_fft 256, hop 80) per frequency bin, 0-4 kHz. The paper \
                discusses spectral bias: INRs, and HyperSound's in particular, reconstruct high frequencies worse.
                """)
            return ablation
        }

        // MARK: Examples (fig-spectrograms, fig-waveforms, audio/)
        try report.section("Examples") {
            try Examples.run(data: data, nerf: nerf, siren: siren, fits: fits, sampleRate: plan.sampleRate, report: report)
        }

        // MARK: Claims
        try report.section("Checking the claims") {
            try PaperClaims.add(reconstruction: reconstruction, fits: fits, ablation: ablation, nerf: nerf, siren: siren,
                                data: data, report: report)
        }

        // MARK: Discussion
        // Every deviation, and what the run's measurements say about each failing paper claim.
        report.section("Discussion") {
            Discussion.write(report: report, trained: trained, sanity: sanity, reconstruction: reconstruction, fits: fits)
        }
    }
}

HyperSoundPaper.runMain()
