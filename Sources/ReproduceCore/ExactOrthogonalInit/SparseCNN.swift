import Lab

/// The convolutional stand-in of docs/papers/exact-orthogonal-init.md §3 "Models": a dense conv 1 → c (3x3, stride 1), four sparse conv
/// c → c 3x3 with strides 2, 1, 2, 1 (padding 1), tanh after every conv, global average pooling and a dense
/// linear head c → 10. Conv weights start delta-orthogonal (Dense), or from one sparse `InitMethod`
/// (Base-orth is the masked delta-orthogonal kernel).
///
/// x: [B, 784] (or [B, 1, 28, 28]) → [B, 1, 28, 28] → [B, c, 28, 28] → [B, c, 14, 14] → [B, c, 14, 14]
///    → [B, c, 7, 7] → [B, c, 7, 7] → pool [B, c] → logits [B, 10]
public final class SparseCNN: Module, MaskedModel {
    /// Kernels [cOut, cIn, 3, 3] and biases [cOut] of the five convolutions.
    public let kernels: [Tensor]
    public let biases: [Tensor]
    public let head: Linear
    /// The geometry of each convolution (FLOP counts).
    public let geometry: [ConvGeometry]
    /// Layer index → static mask (the sparse convolutions 1...4 only); a dictionary, so that Module's
    /// reflection does not take the masks for parameters.
    private let masks: [Int: Tensor]

    /// Kernel k draws from `rng.derived(k)` (the head from `rng.derived(5)`, biases from
    /// `rng.derived("bias/k")`), so the dense first conv and the head are the same in every method of one
    /// seed. `hiddenKernels`, if given, are the four sparse kernels' initial values (copied).
    public init(channels: Int = 32, method: InitMethod, density: Double, scale: InitScale, aiSteps: Int, rng: RNG,
                hiddenKernels: [MaskedWeight]? = nil) throws {
        geometry = SparseCNN.geometry(channels: channels)
        let hidden = try hiddenKernels ?? SparseCNN.hiddenLayers(channels: channels, method: method, density: density,
                                                                 scale: scale, aiSteps: aiSteps, rng: rng)
        guard hidden.count == 4, hidden.allSatisfy({ $0.weight.shape == [channels, channels, 3, 3] }) else {
            throw LabError.invalidArgument("SparseCNN: \(hidden.count) sparse kernels do not fit 4 x [\(channels), \(channels), 3, 3]")
        }
        var firstRNG = rng.derived(0), headRNG = rng.derived(5)
        var kernels = [try InitMethod.dense.weight([channels, 1, 3, 3], density: 1, gain: scale.weightGain,
                                                   aiSteps: 0, rng: &firstRNG).weight]
        var masks: [Int: Tensor] = [:]
        for (k, layer) in hidden.enumerated() {
            kernels.append(layer.weight.copy())
            if method != .dense { masks[k + 1] = layer.mask }
        }
        for kernel in kernels { kernel.requiresGrad = true }
        self.kernels = kernels
        biases = (0..<5).map { k in
            var biasRNG = rng.derived("bias/\(k)")
            let b = scale.bias(channels, rng: &biasRNG)
            b.requiresGrad = true
            return b
        }
        var headBiasRNG = rng.derived("bias/5")
        head = Linear(weight: try Init.haarOrthogonal([10, channels], gain: scale.weightGain, rng: &headRNG),
                      bias: scale.bias(10, rng: &headBiasRNG))
        self.masks = masks
    }

    /// The five convolutions: 1 → c, then c → c with strides 2, 1, 2, 1; all 3x3 with padding 1.
    public static func geometry(channels: Int) -> [ConvGeometry] {
        [1, 2, 1, 2, 1].enumerated().map { k, stride in
            ConvGeometry(inputChannels: k == 0 ? 1 : channels, outputChannels: channels, kernel: 3, stride: stride, padding: 1)
        }
    }

    /// The initial kernels of the four sparse convolutions (kernel k draws from `rng.derived(k)`, k = 1...4).
    public static func hiddenLayers(channels: Int, method: InitMethod, density: Double, scale: InitScale,
                                    aiSteps: Int, rng: RNG) throws -> [MaskedWeight] {
        try (1...4).map { k in
            var layerRNG = rng.derived(k)
            return try method.weight([channels, channels, 3, 3], density: density, gain: scale.weightGain,
                                     aiSteps: aiSteps, rng: &layerRNG)
        }
    }

    public var maskedParameters: [MaskedParameter] {
        kernels.indices.compactMap { k in masks[k].map { MaskedParameter(weight: kernels[k], mask: $0) } }
    }

    /// x: [B, 784] or [B, 1, 28, 28] → [B, 10]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x.rank == 4 ? x : x.reshaped([x.shape[0], 1, 28, 28])
        for (k, layer) in geometry.enumerated() {
            h = h.conv2d(kernels[k], bias: biases[k], stride: layer.stride, padding: layer.padding).tanh()
        }
        return head(h.globalAvgPool())
    }
}
