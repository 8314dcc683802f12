/// Training cost in floating-point operations (docs/papers/exact-orthogonal-init.md §3 "FLOPs"). Masked layers run as dense GEMMs, so
/// sparsity saves parameters, not FLOPs: forward 2 FLOPs per multiply-add, backward twice the forward,
/// i.e. 6 FLOPs per weight per example.

/// One epoch of an MLP: 6·N·Σ_l n_in·n_out for widths [n_0, n_1, …, n_L].
public func mlpTrainingFLOPsPerEpoch(widths: [Int], samples: Int) -> Double {
    6 * Double(samples) * zip(widths, widths.dropFirst()).reduce(0.0) { $0 + Double($1.0 * $1.1) }
}

/// A square-kernel 2-d convolution layer's geometry.
public struct ConvGeometry: Sendable, Equatable {
    public var inputChannels: Int
    public var outputChannels: Int
    public var kernel: Int
    public var stride: Int
    public var padding: Int

    public init(inputChannels: Int, outputChannels: Int, kernel: Int, stride: Int, padding: Int) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    /// Output side for an input side s: ⌊(s + 2p − k)/stride⌋ + 1.
    public func outputSide(_ s: Int) -> Int { (s + 2 * padding - kernel) / stride + 1 }
}

/// One epoch of a conv stack on square inputs of side `inputSide`: 6·N·Σ H_out·W_out·c_out·c_in·k².
public func convTrainingFLOPsPerEpoch(layers: [ConvGeometry], inputSide: Int, samples: Int) -> Double {
    var side = inputSide, total = 0.0
    for layer in layers {
        side = layer.outputSide(side)
        total += Double(side * side * layer.outputChannels * layer.inputChannels * layer.kernel * layer.kernel)
    }
    return 6 * Double(samples) * total
}
