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
    /// Milliseconds per clip at batch 1 (warm), and trained parameters, per method.
    let milliseconds: [String: Double], trainedParameters: [String: Int]

    static let sets = ["Allison test", "Allison train", "flite (OOD)"]
    static let methods = ["zero", "unconditional INR", "NN-retrieval", "HyperSound-NeRF", "HyperSound-SIREN"]

    /// table-reconstruction: every set x method.
    func table() -> Table {
        var table = Table(header: ["set", "method", "MSE", "MAE", "SNR (dB)", "SI-SNR (dB)", "LSD", "ms/clip", "trained parameters"])
        for set in Self.sets {
            for method in Self.methods {
                let m = metrics[set]![method]!
                table.append([.text(set), .text(method), .number(m.meanSquaredError), .number(m.meanAbsoluteError),
                              .number(m.signalToNoise), m.scaleInvariantSNR.map { .number($0) } ?? "-",
                              .number(m.logSpectralDistance), .number(milliseconds[method]!), .integer(trainedParameters[method]!)])
            }
        }
        return table
    }
}

/// The paper's main table: HyperSound against a zero output, one unconditional INR (the mean generated θ over
/// the training clips) and the nearest training clip by log-mel distance (an oracle on the spectral envelope with no
/// phase information), on unseen recordings, training recordings and unseen speakers.
enum ReconstructionStudy {
    static func run(data: SpeechData, nerf: TrainedVariant, siren: TrainedVariant) -> ReconstructionResults {
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

        return ReconstructionResults(metrics: metrics, nerfTest: nerfTest, sirenTest: sirenTest,
                                     milliseconds: milliseconds, trainedParameters: trainedParameters)
    }
}
