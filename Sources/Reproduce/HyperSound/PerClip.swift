import Foundation
import HyperSoundCore
import Lab
import LabRun
import LabSignal

/// Per-clip INR fits on the first test clips: from a random init (the dedicated per-recording INR of the paper's
/// comparison) and from HyperSound's θ (fine-tuning), plus one random-init fit of the figure's flite clip.
struct PerClipResults {
    let clips: [[Float]], names: [String]
    let randomInit: [INRFit], hyperInit: [INRFit]
    let flite: INRFit
    let steps: Int
    /// One-shot HyperSound-NeRF reconstructions of `clips`, and per-clip INR renders (random init, K steps).
    let oneShot: [[Float]], perClip: [[Float]], fineTuned: [[Float]], fliteINR: [Float]
    let oneShotMilliseconds: Double

    /// Mean over clips of a logged curve.
    static func meanCurve(_ fits: [INRFit], _ values: (INRFit) -> [Double]) -> [Double] {
        let curves = fits.map(values)
        return (0..<curves[0].count).map { i in curves.reduce(0) { $0 + $1[i] } / Double(curves.count) }
    }
}

enum PerClipStudy {
    static func run(data: SpeechData, nerf: TrainedVariant, steps: Int, clipCount: Int, seed: Int, report: Report) throws -> PerClipResults {
        let model = nerf.model, network = model.target, features = model.features
        let clips = Array(data.testClips.prefix(clipCount)), names = Array(data.testNames.prefix(clipCount))
        let logSteps = Array(Set([0, 10, 25, 50, 100, 250, 500].filter { $0 <= steps } + [steps])).sorted()
        let generated = generatedParameters(clips + [data.fliteClips[0]], with: model)
        let root = RNG(seed: UInt64(seed)).derived("per-clip")
        let randomInits = (0...clips.count).map { index -> [Float] in
            var rng = root.derived(index)
            return network.initialParameters(rng: &rng)
        }
        // Jobs: random init for each clip, HyperSound init for each clip, then the flite clip from random init.
        var jobs: [@Sendable () throws -> INRFit] = []
        for (index, clip) in clips.enumerated() {
            let random = randomInits[index], hyper = generated[index]
            jobs.append { try fitINR(clip: clip, network: network, features: features, initial: random, steps: steps, logSteps: logSteps) }
            jobs.append { try fitINR(clip: clip, network: network, features: features, initial: hyper, steps: steps, logSteps: logSteps) }
        }
        let fliteClip = data.fliteClips[0], fliteInit = randomInits[clips.count]
        jobs.append { try fitINR(clip: fliteClip, network: network, features: features, initial: fliteInit, steps: steps, logSteps: logSteps) }
        let fits = try JobPool.run(jobs)
        let randomInit = stride(from: 0, to: 2 * clips.count, by: 2).map { fits[$0] }
        let hyperInit = stride(from: 1, to: 2 * clips.count, by: 2).map { fits[$0] }
        let probe = Tensor(shape: [1, HyperSoundClips.length], data: clips[0])
        let results = PerClipResults(
            clips: clips, names: names, randomInit: randomInit, hyperInit: hyperInit, flite: fits.last!, steps: steps,
            oneShot: reconstruct(clips, with: model), perClip: render(randomInit.map(\.theta), with: model),
            fineTuned: render(hyperInit.map(\.theta), with: model), fliteINR: render([fits.last!.theta], with: model)[0],
            oneShotMilliseconds: millisecondsPerCall(repetitions: 10) { _ = noGrad { model(probe) } })

        try figure(results, report: report)
        var table = Table(header: ["method", "SI-SNR (dB)", "LSD", "MSE", "ms/clip"])
        let rows: [(String, [[Float]], Double)] = [
            ("HyperSound-NeRF (one shot)", results.oneShot, results.oneShotMilliseconds),
            ("per-clip INR (random init, K = \(steps))", results.perClip, meanMilliseconds(randomInit)),
            ("fine-tuned (HyperSound init, K = \(steps))", results.fineTuned, meanMilliseconds(hyperInit)),
        ]
        for (method, estimates, milliseconds) in rows {
            let m = MeanMetrics(references: clips, estimates: estimates)
            table.append([.text(method), m.scaleInvariantSNR.map { .number($0) } ?? "-", .number(m.logSpectralDistance),
                          .number(m.meanSquaredError), .number(milliseconds)])
        }
        try report.table(table, name: "per-clip", caption: """
            The first \(clips.count) Allison test clips: HyperSound's one-shot INR vs a dedicated INR fitted to each clip \
            (Adam, lr 1e-3, L1 + MR-STFT, K = \(steps) steps) from a random init and from HyperSound's θ. ms/clip: \
            one forward pass (batch 1) vs the whole fit, single-threaded, two fits side by side.
            """)
        return results
    }

    private static func meanMilliseconds(_ fits: [INRFit]) -> Double { fits.reduce(0) { $0 + $1.seconds } * 1_000 / Double(fits.count) }

    /// fig-finetune: mean ± std over clips of the loss and SI-SNR vs step, random init vs HyperSound init.
    private static func figure(_ results: PerClipResults, report: Report) throws {
        let figure = Figure(rows: 1, cols: 2, width: 10, height: 4)
        figure.suptitle = "Per-clip INR fits: HyperSound's θ as initialisation (\(results.clips.count) test clips, mean ± std)"
        let x = results.randomInit[0].steps.map { Double($0 + 1) }
        var skipped: [String] = []
        for (axes, values, label) in [(figure[0], { (f: INRFit) in f.losses }, "L1 + MR-STFT loss"),
                                      (figure[1], { (f: INRFit) in f.scaleInvariantSNRs }, "SI-SNR (dB)")] {
            for (fits, name) in [(results.randomInit, "random init"), (results.hyperInit, "HyperSound init")] {
                // SI-SNR is undefined (-∞ here) for a constant output; such clips are left out of the band.
                let runs = fits.map(values).filter { $0.allSatisfy(\.isFinite) }
                if runs.isEmpty { skipped.append("\(name), \(label)"); continue }
                axes.meanBand(x, runs: runs, label: runs.count == fits.count ? name : "\(name) (\(runs.count) of \(fits.count) clips)")
            }
            axes.xscale = .log10
            axes.xlabel = "optimisation step + 1 (log scale)"
            axes.ylabel = label
            axes.title = label == "SI-SNR (dB)" ? "SI-SNR vs step (higher is better)" : "Loss vs step (lower is better)"
        }
        try report.figure(figure, name: "fig-finetune", caption: """
            Fitting one INR per clip with Adam from a random init vs from HyperSound's generated θ (the paper's use \
            of HyperSound as an initialisation). Step 0 is the init itself.
            """)
        if !skipped.isEmpty {
            report.text("Not drawn in fig-finetune (every clip's curve undefined, a constant INR output): \(skipped.joined(separator: "; ")).")
        }
    }
}
