import Foundation
import HyperSoundCore
import Lab
import LabRun
import LabSignal

/// Metrics of every method on every evaluation set, and the reconstructions later sections reuse.
struct ReconstructionResults {
    /// metrics[set][method]
    let metrics: [String: [String: MeanMetrics]]
    /// HyperSound-NeRF and -SIREN reconstructions of the test clips.
    let nerfTest: [[Float]], sirenTest: [[Float]]

    static let sets = ["Allison test", "Allison train", "flite (OOD)"]
    static let methods = ["zero", "unconditional INR", "NN-retrieval", "HyperSound-NeRF", "HyperSound-SIREN"]
}

/// The paper's main table: HyperSound against a zero output, one unconditional INR (the mean generated θ over
/// the training clips) and the nearest training clip by log-mel distance (an oracle on the spectral envelope with no
/// phase information), on unseen recordings, training recordings and unseen speakers.
enum ReconstructionStudy {
    static func run(data: SpeechData, nerf: TrainedVariant, siren: TrainedVariant, report: Report) throws -> ReconstructionResults {
        let length = HyperSoundClips.length
        // The unconditional INR: θ̄ = mean over the training pool of H(E(x)).
        let poolThetas = generatedParameters(data.trainPool, with: nerf.model)
        var meanTheta = [Float](repeating: 0, count: nerf.model.target.parameterCount)
        for theta in poolThetas { for j in meanTheta.indices { meanTheta[j] += theta[j] / Float(poolThetas.count) } }
        let unconditional = render([meanTheta], with: nerf.model)[0]
        let poolFeatures = data.trainPool.map { HyperSoundClips.logMelFeatures($0) }

        let sets: [(name: String, clips: [[Float]], isTrain: Bool)] = [
            ("Allison test", data.testClips, false), ("Allison train", data.trainEvaluationClips, true),
            ("flite (OOD)", data.fliteClips, false),
        ]
        var metrics: [String: [String: MeanMetrics]] = [:]
        var nerfTest: [[Float]] = [], sirenTest: [[Float]] = []
        for set in sets {
            let nerfOutput = reconstruct(set.clips, with: nerf.model), sirenOutput = reconstruct(set.clips, with: siren.model)
            if set.name == "Allison test" { nerfTest = nerfOutput; sirenTest = sirenOutput }
            // A training clip's own recording is not a candidate (pool index = its index).
            let retrieved = set.clips.enumerated().map { index, clip in
                data.trainPool[HyperSoundClips.nearestNeighbour(of: HyperSoundClips.logMelFeatures(clip), among: poolFeatures,
                                                                excluding: set.isTrain ? index : nil)]
            }
            let estimates: [String: [[Float]]] = [
                "zero": set.clips.map { _ in [Float](repeating: 0, count: length) },
                "unconditional INR": set.clips.map { _ in unconditional },
                "NN-retrieval": retrieved, "HyperSound-NeRF": nerfOutput, "HyperSound-SIREN": sirenOutput,
            ]
            metrics[set.name] = estimates.mapValues { MeanMetrics(references: set.clips, estimates: $0) }
        }

        // Time per clip at batch 1 after a warm-up call.
        let probe = Tensor(shape: [1, length], data: data.testClips[0])
        let thetaBar = Tensor(shape: [1, meanTheta.count], data: meanTheta)
        let milliseconds: [String: Double] = [
            "zero": 0,
            "unconditional INR": millisecondsPerCall(repetitions: 10) { _ = noGrad { nerf.model.render(thetaBar) } },
            "NN-retrieval": millisecondsPerCall(repetitions: 3) {
                _ = HyperSoundClips.nearestNeighbour(of: HyperSoundClips.logMelFeatures(data.testClips[0]), among: poolFeatures)
            },
            "HyperSound-NeRF": millisecondsPerCall(repetitions: 10) { _ = noGrad { nerf.model(probe) } },
            "HyperSound-SIREN": millisecondsPerCall(repetitions: 10) { _ = noGrad { siren.model(probe) } },
        ]
        let trainedParameters: [String: Int] = [
            "zero": 0, "unconditional INR": nerf.model.parameters.reduce(0) { $0 + $1.count }, "NN-retrieval": 0,
            "HyperSound-NeRF": nerf.model.parameters.reduce(0) { $0 + $1.count },
            "HyperSound-SIREN": siren.model.parameters.reduce(0) { $0 + $1.count },
        ]

        var table = Table(header: ["set", "method", "MSE", "MAE", "SNR (dB)", "SI-SNR (dB)", "LSD", "ms/clip", "trained parameters"])
        for set in ReconstructionResults.sets {
            for method in ReconstructionResults.methods {
                let m = metrics[set]![method]!
                table.append([.text(set), .text(method), .number(m.meanSquaredError), .number(m.meanAbsoluteError),
                              .number(m.signalToNoise), m.scaleInvariantSNR.map { .number($0) } ?? "-",
                              .number(m.logSpectralDistance), .number(milliseconds[method]!), .integer(trainedParameters[method]!)])
            }
        }
        try report.table(table, name: "reconstruction", caption: """
            Reconstruction of 4,096-sample clips (mean over clips; SI-SNR is undefined for the zero output). The \
            unconditional INR renders the mean generated θ over the training clips (its parameter count is the \
            NeRF HyperSound's that produced it); NN-retrieval returns the training clip with the closest log-mel \
            spectrogram (excluding the clip's own recording on the train set). ms/clip: batch 1, warm, this machine.
            """)
        report.text("""
            Paper: HyperSound's reconstructions of unseen recordings are far from zero output but below dedicated \
            per-recording INRs. Here, on the Allison test clips, HyperSound-NeRF reaches MSE \
            \(formatNumber(metrics["Allison test"]!["HyperSound-NeRF"]!.meanSquaredError)) against \
            \(formatNumber(metrics["Allison test"]!["zero"]!.meanSquaredError)) for the zero output, and LSD \
            \(formatNumber(metrics["Allison test"]!["HyperSound-NeRF"]!.logSpectralDistance)) against \
            \(formatNumber(metrics["Allison test"]!["NN-retrieval"]!.logSpectralDistance)) for the nearest training clip.
            """)
        return ReconstructionResults(metrics: metrics, nerfTest: nerfTest, sirenTest: sirenTest)
    }
}
