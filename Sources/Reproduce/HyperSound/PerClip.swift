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

    /// table-per-clip: the one-shot output against the per-clip fits.
    func table() -> Table {
        var table = Table(header: ["method", "SI-SNR (dB)", "LSD", "MSE", "ms/clip"])
        let rows: [(String, [[Float]], Double)] = [
            ("HyperSound-NeRF (one shot)", oneShot, oneShotMilliseconds),
            ("per-clip INR (random init, K = \(steps))", perClip, Self.meanMilliseconds(randomInit)),
            ("fine-tuned (HyperSound init, K = \(steps))", fineTuned, Self.meanMilliseconds(hyperInit)),
        ]
        for (method, estimates, milliseconds) in rows {
            let m = MeanMetrics(references: clips, estimates: estimates)
            table.append([.text(method), m.scaleInvariantSNR.map { .number($0) } ?? "-", .number(m.logSpectralDistance),
                          .number(m.meanSquaredError), .number(milliseconds)])
        }
        return table
    }

    private static func meanMilliseconds(_ fits: [INRFit]) -> Double { fits.reduce(0) { $0 + $1.seconds } * 1_000 / Double(fits.count) }

    /// Mean over clips of a logged curve.
    static func meanCurve(_ fits: [INRFit], _ values: (INRFit) -> [Double]) -> [Double] {
        let curves = fits.map(values)
        return (0..<curves[0].count).map { i in curves.reduce(0) { $0 + $1[i] } / Double(curves.count) }
    }
}

enum PerClipStudy {
    static func run(data: SpeechData, nerf: TrainedVariant, steps: Int, clipCount: Int, seed: Int) throws -> PerClipResults {
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
        return PerClipResults(
            clips: clips, names: names, randomInit: randomInit, hyperInit: hyperInit, flite: fits.last!, steps: steps,
            oneShot: reconstruct(clips, with: model), perClip: render(randomInit.map(\.theta), with: model),
            fineTuned: render(hyperInit.map(\.theta), with: model), fliteINR: render([fits.last!.theta], with: model)[0],
            oneShotMilliseconds: millisecondsPerCall(repetitions: 10) { _ = noGrad { model(probe) } })
    }
}
