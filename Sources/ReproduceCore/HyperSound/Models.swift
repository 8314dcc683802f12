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
///     x: [B, 4096] → [B, 1, 4096] → Conv 1→16 k7 (same) → ELU            [B, 16, 4096]
///       → Conv 16→32 k8 s4 p2 → ELU → Conv 32→64 k8 s4 p2 → ELU            [B, 64, 256]
///       → Conv 64→64 k8 s4 p2 → ELU                                         [B, 64, 64]
///       → Conv 64→8 k3 (same) → flatten → LayerNorm                         [B, 512]
public final class WaveformEncoder: Module {
    public let input: Conv1d
    public let downsampling: [Conv1d]
    public let projection: Conv1d
    public let norm: LayerNorm
    public let samples: Int

    public init(samples: Int = 4_096, rng: inout RNG) {
        self.samples = samples
        input = Conv1d(inputChannels: 1, outputChannels: 16, kernelSize: 7, padding: 3, rng: &rng)
        downsampling = [(16, 32), (32, 64), (64, 64)].map { channels in
            Conv1d(inputChannels: channels.0, outputChannels: channels.1, kernelSize: 8, stride: 4, padding: 2, rng: &rng)
        }
        projection = Conv1d(inputChannels: 64, outputChannels: 8, kernelSize: 3, padding: 1, rng: &rng)
        norm = LayerNorm(features: 8 * samples / 64)
    }

    /// Size of the embedding: 8 channels × N/64 positions (512 for N = 4,096).
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
///     e: [B, 512] → Linear 512→256 → ELU → Linear 256→256 → ELU → Linear 256→|θ|  → θ: [B, |θ|]
///
/// Last-layer init (our choice): its bias is one standard target init θ0, so an untrained H already renders a
/// valid INR; its weights are N(0, (0.1·s_j)²/256), where s_j is the init std of target parameter j, so the
/// embedding moves θ around θ0 by about a tenth of the init scale.
public final class HyperNetwork: Module {
    public let hidden: [Linear]
    public let output: Linear

    public init(embeddingSize: Int, target: TargetNetwork, hiddenSize: Int = 256, rng: inout RNG) {
        hidden = [Linear(inputSize: embeddingSize, outputSize: hiddenSize, rng: &rng),
                  Linear(inputSize: hiddenSize, outputSize: hiddenSize, rng: &rng)]
        let deviations = target.initStandardDeviations()
        let scale = 0.1 / Double(hiddenSize).squareRoot()   // 0.1·s_j / √256 (see above)
        var weight = [Float](repeating: 0, count: target.parameterCount * hiddenSize)
        for j in 0..<target.parameterCount {
            for i in 0..<hiddenSize { weight[j * hiddenSize + i] = Float(rng.normal(mean: 0, std: scale * Double(deviations[j]))) }
        }
        let bias = target.initialParameters(rng: &rng)
        output = Linear(weight: Tensor(shape: [target.parameterCount, hiddenSize], data: weight, requiresGrad: true),
                        bias: Tensor(shape: [target.parameterCount], data: bias, requiresGrad: true))
    }

    /// e: [B, 512] → θ: [B, |θ|].
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

    public init(target: TargetNetwork, samples: Int = 4_096, rng: inout RNG) {
        self.target = target
        encoder = WaveformEncoder(samples: samples, rng: &rng)
        hypernetwork = HyperNetwork(embeddingSize: encoder.embeddingSize, target: target, rng: &rng)
        features = target.inputFeatures(coordinates: TargetNetwork.coordinates(count: samples))
    }

    /// x: [B, N] → θ: [B, |θ|].
    public func theta(for x: Tensor) -> Tensor { hypernetwork(encoder(x)) }

    /// x: [B, N] → x̂: [B, N].
    public func callAsFunction(_ x: Tensor) -> Tensor { target.render(theta(for: x), features: features) }

    /// Renders given θ [B, |θ|] → [B, N].
    public func render(_ theta: Tensor) -> Tensor { target.render(theta, features: features) }
}
