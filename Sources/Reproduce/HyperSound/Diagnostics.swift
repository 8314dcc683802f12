import Foundation
import HyperSoundCore
import Lab
import LabRun

/// What the trained NeRF hypernetwork does with its input (docs/papers/hypersound.md §2 "Why the first design did not
/// learn"): per target layer, the gradient norm of the head that emits it over training, the scale of the generated
/// weights against a standard init and a per-clip INR fitted directly, and how much of the generated weights depends
/// on the clip; the same split for the encoder's embedding and H's last hidden features. "At init" columns come from
/// fresh models (this run's seed) under the two head initialisations: heads around one target init (used here) and
/// the authors' fan-in rule.
struct DiagnosticsResults {
    let table: Table
    /// Spread across the test clips of the embedding and of H's last hidden features: trained, and at init.
    let embedding: ClipSpread, hidden: ClipSpread, embeddingAtInit: ClipSpread, hiddenAtInit: ClipSpread
    /// acrossClips/shared of each layer's generated W: trained, at init (around θ0, the heads used), at init (fan-in).
    let dependence: [Double], dependenceAtInit: [Double], dependenceFanInInit: [Double]
}

enum Diagnostics {
    static func run(data: SpeechData, nerf: TrainedVariant, fits: PerClipResults, seed: Int) -> DiagnosticsResults {
        let network = nerf.model.target, clips = data.testClips
        let trained = ClipSpread.perLayer(generatedParameters(clips, with: nerf.model), network: network)
        let fitted = ClipSpread.perLayer(fits.randomInit.map(\.theta), network: network)
        let standardDeviations = network.initStandardDeviations()
        let root = RNG(seed: UInt64(seed)).derived("diagnostics")
        func fresh(_ initialisation: HyperNetwork.OutputInitialisation, _ label: String) -> HyperSound {
            var rng = root.derived(label)
            return HyperSound(target: network, outputInitialisation: initialisation, rng: &rng)
        }
        let around = fresh(.aroundTargetInit(spread: 0.1), "around"), fanIn = fresh(.fanIn, "fan-in")
        let atInit = ClipSpread.perLayer(generatedParameters(clips, with: around), network: network)
        let fanInInit = ClipSpread.perLayer(generatedParameters(clips, with: fanIn), network: network)
        let (embedding, hidden) = features(clips, model: nerf.model)
        let (embeddingAtInit, hiddenAtInit) = features(clips, model: around)

        let logged = nerf.headGradientNorms
        let picked = Array(Set([0, logged.count / 2, logged.count - 1])).sorted().map { logged[$0] }
        var table = Table(header: ["target layer", "fan-in"] + picked.map { "‖∂L/∂head‖, step \($0.step)" }
                          + ["W RMS, standard init", "W RMS, per-clip INR (K = \(fits.steps))", "generated W RMS",
                             "shared", "across clips", "across/shared", "across/shared at init",
                             "across/shared at init (authors' fan-in heads)"])
        for (index, layer) in network.layers.enumerated() {
            table.append([.text("\(index + 1) (\(layer.inputs)→\(layer.outputs))"), .integer(layer.inputs)]
                         + picked.map { .number($0.norms[index]) }
                         + [.number(Double(standardDeviations[layer.weightOffset])), .number(fitted[index].rootMeanSquare),
                            .number(trained[index].rootMeanSquare), .number(trained[index].shared),
                            .number(trained[index].acrossClips), .number(trained[index].dependence),
                            .number(atInit[index].dependence), .number(fanInInit[index].dependence)])
        }
        return DiagnosticsResults(table: table, embedding: embedding, hidden: hidden, embeddingAtInit: embeddingAtInit,
                                  hiddenAtInit: hiddenAtInit, dependence: trained.map(\.dependence),
                                  dependenceAtInit: atInit.map(\.dependence), dependenceFanInInit: fanInInit.map(\.dependence))
    }

    /// The prose under table-diagnostics: every number from `results`.
    static func summary(_ results: DiagnosticsResults) -> String {
        func list(_ values: [Double]) -> String { values.map(formatNumber).joined(separator: ", ") }
        return """
            How much the generated weights depend on the clip (across-clip RMS / shared RMS of W, layers 1-\(results.dependence.count)): \
            \(list(results.dependence)) after training, from \(list(results.dependenceAtInit)) at init, where every clip \
            starts from nearly the same INR (the authors' fan-in heads start at \(list(results.dependenceFanInInit))). \
            The encoder's embedding: across/shared \
            \(formatNumber(results.embedding.dependence)) after training (\(formatNumber(results.embeddingAtInit.dependence)) at \
            init); H's last hidden features: \(formatNumber(results.hidden.dependence)) \
            (\(formatNumber(results.hiddenAtInit.dependence)) at init). An encoder that stops telling clips apart (ratio \
            falling towards 0) yields one INR for every clip: the failure of the first design on 4,096-sample clips, \
            described in docs/papers/hypersound.md §2.
            """
    }

    /// Spread across clips of the encoder's embedding E(x) and of H's last hidden features, in chunks of 16, no tape.
    private static func features(_ clips: [[Float]], model: HyperSound) -> (embedding: ClipSpread, hidden: ClipSpread) {
        var embeddings: [[Float]] = [], hiddens: [[Float]] = []
        for chunk in chunks(clips) {
            noGrad {
                let embedding = model.encoder(Tensor(shape: [chunk.count, HyperSoundClips.length], data: chunk.flatMap { $0 }))
                var hidden = embedding
                for layer in model.hypernetwork.hidden { hidden = layer(hidden).elu() }
                embeddings += rows(of: embedding)
                hiddens += rows(of: hidden)
            }
        }
        return (ClipSpread(embeddings, columns: 0..<embeddings[0].count), ClipSpread(hiddens, columns: 0..<hiddens[0].count))
    }
}
