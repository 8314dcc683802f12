import Lab

/// The pointwise nonlinearities of the Jacobian study (docs/papers/exact-orthogonal-init.md §3, E2): φ and φ' exactly as Lab's ops define
/// them, so the closed-form Jacobian and autodiff agree at the kinks too (ReLU'(0) = 0, hard-tanh'(±1) = 0).
public enum Activation: String, CaseIterable, Sendable {
    case linear = "linear", tanh = "tanh", hardTanh = "hard-tanh", relu = "ReLU"

    /// y = φ(x), elementwise and differentiable.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .linear: return x
        case .tanh: return x.tanh()
        case .hardTanh: return x.hardTanh()
        case .relu: return x.relu()
        }
    }

    /// φ'(x) given the pre-activation x and the output y = φ(x) (tanh uses 1 − y², as Lab's backward does).
    public func derivative(preactivation x: Float, output y: Float) -> Double {
        switch self {
        case .linear: return 1
        case .tanh: return 1 - Double(y) * Double(y)
        case .hardTanh: return x > -1 && x < 1 ? 1 : 0
        case .relu: return x > 0 ? 1 : 0
        }
    }
}

/// A weight tensor of a model and its static 0/1 mask (same shape), for `Optimizer.setMask`.
public struct MaskedParameter {
    public let weight: Tensor
    public let mask: Tensor
}

/// A model trained with static masks: the sparse layers' weights and masks.
public protocol MaskedModel: Layer {
    /// Every masked weight; dense layers are not listed.
    var maskedParameters: [MaskedParameter] { get }
}

/// A multilayer perceptron whose first and last layers are dense orthogonal and whose hidden square layers
/// are sparse by one `InitMethod` at a uniform density (docs/papers/exact-orthogonal-init.md §3 "Layer densities", "Models").
///
///     MLP-7:    784 → 128 (dense), five 128 x 128 (sparse), 128 → 10 (dense)
///     deep MLP: 784 → 64 (dense), D sparse 64 x 64, 64 → 10 (dense); no residuals, no normalisation
///
/// x: [B, widths.first] → logits [B, widths.last]; φ after every layer but the last.
public final class SparseMLP: Module, MaskedModel {
    public let layers: [Linear]
    /// φ; changing it changes the function, not the weights (E2 probes one network under four φ).
    public var activation: Activation
    /// Layer index → its static mask; the dense first and last layers have none. (A dictionary, so that
    /// Module's reflection does not take the masks for parameters.)
    private let masks: [Int: Tensor]

    /// Builds the network. Layer i draws from `rng.derived(i)`, so for one seed the dense first and last
    /// layers are the same in every method, and Base-orth, Base-standard and AI share their masks; biases
    /// draw from `rng.derived("bias/i")`. `hiddenWeights`, if given, are the hidden layers' initial weights
    /// (copied): those `hiddenLayers` made earlier for the same seed, so that an expensive AI init is
    /// computed once and both probed (E2) and trained (E3).
    public init(widths: [Int], activation: Activation, method: InitMethod, density: Double, scale: InitScale,
                aiSteps: Int, rng: RNG, hiddenWeights: [MaskedWeight]? = nil) throws {
        let hidden = try hiddenWeights ?? SparseMLP.hiddenLayers(widths: widths, method: method, density: density,
                                                                 scale: scale, aiSteps: aiSteps, rng: rng)
        guard hidden.count == widths.count - 3,
              zip(hidden, 1...).allSatisfy({ $0.weight.shape == [widths[$1 + 1], widths[$1]] }) else {
            throw LabError.invalidArgument("SparseMLP: \(hidden.count) hidden weights do not fit widths \(widths)")
        }
        var layers: [Linear] = [], masks: [Int: Tensor] = [:]
        let last = widths.count - 2
        for i in 0...last {
            let weight: Tensor
            if i == 0 || i == last {
                var layerRNG = rng.derived(i)
                weight = try InitMethod.dense.weight([widths[i + 1], widths[i]], density: 1, gain: scale.weightGain,
                                                     aiSteps: 0, rng: &layerRNG).weight
            } else {
                weight = hidden[i - 1].weight.copy()
                if method != .dense { masks[i] = hidden[i - 1].mask }
            }
            var biasRNG = rng.derived("bias/\(i)")
            layers.append(Linear(weight: weight, bias: scale.bias(widths[i + 1], rng: &biasRNG)))
        }
        self.layers = layers
        self.masks = masks
        self.activation = activation
    }

    /// The initial weights of the hidden layers 1..L−2 (index i draws from `rng.derived(i)`): the
    /// method's sparse weight at `density`, or the dense orthogonal one for `.dense`.
    public static func hiddenLayers(widths: [Int], method: InitMethod, density: Double, scale: InitScale,
                                    aiSteps: Int, rng: RNG) throws -> [MaskedWeight] {
        guard widths.count >= 3, widths.allSatisfy({ $0 > 0 }) else {
            throw LabError.invalidArgument("SparseMLP: widths \(widths) need an input, at least one hidden and an output size")
        }
        return try (1..<(widths.count - 2)).map { i in
            var layerRNG = rng.derived(i)
            return try method.weight([widths[i + 1], widths[i]], density: density, gain: scale.weightGain,
                                     aiSteps: aiSteps, rng: &layerRNG)
        }
    }

    public var maskedParameters: [MaskedParameter] {
        layers.indices.compactMap { i in masks[i].map { MaskedParameter(weight: layers[i].weight, mask: $0) } }
    }

    /// The hidden (square, possibly sparse) layers' weights.
    public var hiddenWeights: [Tensor] { layers.dropFirst().dropLast().map(\.weight) }

    /// x: [B, in] → [B, out]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for (i, layer) in layers.enumerated() {
            h = layer(h)
            if i < layers.count - 1 { h = activation(h) }
        }
        return h
    }

    /// The pre-activations h_l = W_l·a_{l−1} + b_l and outputs a_l = φ(h_l) of every hidden layer l = 1..L−1
    /// (not the logits), off the tape. x: [B, in] → L−1 pairs of [B, width_l]
    public func hiddenActivations(_ x: Tensor) -> [(preactivation: Tensor, output: Tensor)] {
        noGrad {
            var h = x
            var out: [(Tensor, Tensor)] = []
            for layer in layers.dropLast() {
                let pre = layer(h)
                h = activation(pre)
                out.append((pre, h))
            }
            return out
        }
    }
}
