import Foundation
import Lab

/// A target INR as an ordinary module: one `Linear` per layer, loaded from a flat θ. It is the reference that
/// `TargetNetwork.render` (sliced θ, batched matmuls) must agree with (claim `hyper-target-equivalence`).
public final class PlainTargetINR: Module {
    public let network: TargetNetwork
    public let layers: [Linear]

    /// θ: [P] in `TargetNetwork`'s layout; each W_ℓ [in, out] becomes a Linear weight [out, in].
    public init(network: TargetNetwork, theta: [Float]) {
        precondition(theta.count == network.parameterCount,
                     "PlainTargetINR: θ has \(theta.count) entries, the \(network.kind) target needs \(network.parameterCount)")
        self.network = network
        layers = network.layers.map { layer in
            var weight = [Float](repeating: 0, count: layer.inputs * layer.outputs)
            for i in 0..<layer.inputs {
                for o in 0..<layer.outputs { weight[o * layer.inputs + i] = theta[layer.weightOffset + i * layer.outputs + o] }
            }
            return Linear(weight: Tensor(shape: [layer.outputs, layer.inputs], data: weight),
                          bias: Tensor(shape: [layer.outputs], data: Array(theta[layer.biasOffset..<layer.end])))
        }
    }

    /// features: [N, in] → x̂: [N].
    public func callAsFunction(_ features: Tensor) -> Tensor {
        var hidden = features
        for (index, layer) in layers.enumerated() {
            let affine = layer(hidden)
            if index == layers.count - 1 { hidden = affine; break }
            switch network.kind {
            case .nerf: hidden = affine.relu()
            case .siren: hidden = affine.sine(omega: index == 0 ? network.firstOmega : network.omega)
            }
        }
        return hidden.reshaped([features.shape[0]])
    }
}

/// Raw-waveform encoder, a small SEANet-like stack (docs/papers/hypersound.md §3 "Encoder"; the paper's is a 4-block causal SEANet):
///
///     x: [B, N] → [B, 1, N] → Conv 1→16 k7 (same) → ELU                   [B, 16, N]
///       → Conv 16→32 k8 s4 p2 → ELU → Conv 32→64 k8 s4 p2 → ELU            [B, 64, N/16]
///       → Conv 64→64 k8 s4 p2 → ELU                                         [B, 64, N/64]
///       → Conv 64→8 k3 (same) → flatten → LayerNorm                         [B, 8·N/64]
/// (N = 1,024: a 128-d embedding.)
public final class WaveformEncoder: Module {
    public let input: Conv1d
    public let downsampling: [Conv1d]
    public let projection: Conv1d
    public let norm: LayerNorm
    public let samples: Int

    public init(samples: Int = HyperSoundClips.length, rng: inout RNG) {
        self.samples = samples
        input = Conv1d(inputChannels: 1, outputChannels: 16, kernelSize: 7, padding: 3, rng: &rng)
        downsampling = [(16, 32), (32, 64), (64, 64)].map { channels in
            Conv1d(inputChannels: channels.0, outputChannels: channels.1, kernelSize: 8, stride: 4, padding: 2, rng: &rng)
        }
        projection = Conv1d(inputChannels: 64, outputChannels: 8, kernelSize: 3, padding: 1, rng: &rng)
        norm = LayerNorm(features: 8 * samples / 64)
    }

    /// Size of the embedding: 8 channels × N/64 positions (128 for N = 1,024).
    public var embeddingSize: Int { 8 * samples / 64 }

    /// x: [B, N] → e: [B, 8·N/64].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let batch = x.shape[0]
        var h = input(x.reshaped([batch, 1, samples])).elu()
        for layer in downsampling { h = layer(h).elu() }
        return norm(projection(h).reshaped([batch, embeddingSize]))
    }
}

/// The hypernetwork H: an ELU MLP from the embedding to θ (docs/papers/hypersound.md §3; the paper's is 3296→400→768x4→400→|θ|):
///
///     e: [B, E] → Linear E→256 → ELU → Linear 256→256 → ELU → Linear 256→|θ|  → θ: [B, |θ|]
public final class HyperNetwork: Module {
    /// How the last layer (the heads that emit θ) starts.
    public enum OutputInitialisation: Sendable {
        /// Bias = one standard target init θ0, weights N(0, (spread·s_j)²/H) (s_j: init std of target parameter j,
        /// H: hidden width): θ starts at θ0 and the embedding moves it by about `spread` of the init scale.
        case aroundTargetInit(spread: Double)
        /// The authors' (hypnettorch's) fan-in rule: bias 0, the rows of target layer ℓ's weights
        /// U(±√(3/(fanIn_ℓ·H))), of its bias U(±√(3/H)): with unit-variance hidden features every generated
        /// weight has variance 1/fanIn_ℓ and θ is wholly a function of the embedding.
        case fanIn
    }

    public let hidden: [Linear]
    public let output: Linear

    public init(embeddingSize: Int, target: TargetNetwork, hiddenSize: Int = 256,
                outputInitialisation: OutputInitialisation = .aroundTargetInit(spread: 0.1), rng: inout RNG) {
        hidden = [Linear(inputSize: embeddingSize, outputSize: hiddenSize, rng: &rng),
                  Linear(inputSize: hiddenSize, outputSize: hiddenSize, rng: &rng)]
        var weight = [Float](repeating: 0, count: target.parameterCount * hiddenSize)
        var bias = [Float](repeating: 0, count: target.parameterCount)
        switch outputInitialisation {
        case .aroundTargetInit(let spread):
            let deviations = target.initStandardDeviations()
            let scale = spread / Double(hiddenSize).squareRoot()
            for j in 0..<target.parameterCount {
                for i in 0..<hiddenSize { weight[j * hiddenSize + i] = Float(rng.normal(mean: 0, std: scale * Double(deviations[j]))) }
            }
            bias = target.initialParameters(rng: &rng)
        case .fanIn:
            for layer in target.layers {
                let weightBound = (3 / Double(layer.inputs * hiddenSize)).squareRoot()
                let biasBound = (3 / Double(hiddenSize)).squareRoot()
                for j in layer.weightOffset..<layer.end {
                    let bound = j < layer.biasOffset ? weightBound : biasBound
                    for i in 0..<hiddenSize { weight[j * hiddenSize + i] = Float(rng.uniform(-bound, bound)) }
                }
            }
        }
        output = Linear(weight: Tensor(shape: [target.parameterCount, hiddenSize], data: weight, requiresGrad: true),
                        bias: Tensor(shape: [target.parameterCount], data: bias, requiresGrad: true))
    }

    /// e: [B, E] → θ: [B, |θ|].
    public func callAsFunction(_ embedding: Tensor) -> Tensor {
        var h = embedding
        for layer in hidden { h = layer(h).elu() }
        return output(h)
    }
}

/// HyperSound: encoder + hypernetwork + target INR. θ_b = H(E(x_b)); x̂_b(t_n) = T(t_n; θ_b).
public final class HyperSound: Module {
    public let encoder: WaveformEncoder
    public let hypernetwork: HyperNetwork
    public let target: TargetNetwork
    /// Fixed target inputs for the clip's coordinates, [N, in]: state, not a trained parameter.
    public let features: Tensor
    override public var bufferNames: Set<String> { ["features"] }

    public init(target: TargetNetwork, samples: Int = HyperSoundClips.length,
                outputInitialisation: HyperNetwork.OutputInitialisation = .aroundTargetInit(spread: 0.1), rng: inout RNG) {
        self.target = target
        encoder = WaveformEncoder(samples: samples, rng: &rng)
        hypernetwork = HyperNetwork(embeddingSize: encoder.embeddingSize, target: target,
                                    outputInitialisation: outputInitialisation, rng: &rng)
        features = target.inputFeatures(coordinates: TargetNetwork.coordinates(count: samples))
    }

    /// x: [B, N] → θ: [B, |θ|].
    public func theta(for x: Tensor) -> Tensor { hypernetwork(encoder(x)) }

    /// x: [B, N] → x̂: [B, N].
    public func callAsFunction(_ x: Tensor) -> Tensor { target.render(theta(for: x), features: features) }

    /// Renders given θ [B, |θ|] → [B, N].
    public func render(_ theta: Tensor) -> Tensor { target.render(theta, features: features) }
}
