import Foundation

/// 2-d convolution layer over [B, C, H, W] (cross-correlation, as in PyTorch), weight [F, C, kH, kW],
/// bias [F]; PyTorch's default init U(±1/√(C·kH·kW)) for both (Kaiming-uniform with a = √5).
///
///     let conv = Conv2d(inputChannels: 1, outputChannels: 16, kernelSize: 3, padding: 1, rng: &rng)
///     let y = conv(x)      // [B, 1, 28, 28] → [B, 16, 28, 28]
public final class Conv2d: Module, Layer {
    public var weight: Tensor
    public var bias: Tensor?
    public let stride: (Int, Int), padding: (Int, Int)
    /// How the products are computed (`ConvAlgorithm`; default `.automatic`: Winograd where it pays, else im2col).
    public var algorithm: ConvAlgorithm
    /// Whether the layer returns max(conv, 0), the ReLU fused into the convolution (`conv2d(..., relu:)`): the
    /// numbers of a Conv2d followed by `relu()`, with one pass over the output (and one output tensor) fewer.
    public var relu: Bool

    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, algorithm: ConvAlgorithm = .automatic, relu: Bool = false, rng: inout RNG) {
        self.algorithm = algorithm
        self.relu = relu
        let bound = 1 / Float(inputChannels * kernelSize * kernelSize).squareRoot()
        weight = Tensor.rand([outputChannels, inputChannels, kernelSize, kernelSize], low: -bound, high: bound,
                             rng: &rng, requiresGrad: true)
        self.bias = bias ? Tensor.rand([outputChannels], low: -bound, high: bound, rng: &rng, requiresGrad: true) : nil
        self.stride = (stride, stride); self.padding = (padding, padding)
    }

    /// A layer with the given weight [F, C, kH, kW] and optional bias [F] (made trainable).
    public init(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0, algorithm: ConvAlgorithm = .automatic,
                relu: Bool = false) {
        self.algorithm = algorithm
        self.relu = relu
        weight.requiresGrad = true
        bias?.requiresGrad = true
        self.weight = weight; self.bias = bias
        self.stride = (stride, stride); self.padding = (padding, padding)
    }

    /// x: [B, C, H, W] → [B, F, Ho, Wo]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv2d(weight, bias: bias, stride: stride, padding: padding, algorithm: algorithm, relu: relu)
    }
}

/// Transposed 2-d convolution (the adjoint of Conv2d), weight [C, F, kH, kW] as in PyTorch.
public final class ConvTranspose2d: Module, Layer {
    public var weight: Tensor
    public var bias: Tensor?
    public let stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int)

    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, bias: Bool = true, rng: inout RNG) {
        let bound = 1 / Float(outputChannels * kernelSize * kernelSize).squareRoot()
        weight = Tensor.rand([inputChannels, outputChannels, kernelSize, kernelSize], low: -bound, high: bound,
                             rng: &rng, requiresGrad: true)
        self.bias = bias ? Tensor.rand([outputChannels], low: -bound, high: bound, rng: &rng, requiresGrad: true) : nil
        self.stride = (stride, stride); self.padding = (padding, padding); self.outputPadding = (outputPadding, outputPadding)
    }

    /// x: [B, C, H, W] → [B, F, (H − 1)·s − 2p + k + outputPadding, ...]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.convTranspose2d(weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding)
    }
}

/// 1-d convolution over [B, C, L], weight [F, C, k], bias [F]; PyTorch's default init.
public final class Conv1d: Module, Layer {
    public var weight: Tensor
    public var bias: Tensor?
    public let stride: Int, padding: Int

    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, rng: inout RNG) {
        let bound = 1 / Float(inputChannels * kernelSize).squareRoot()
        weight = Tensor.rand([outputChannels, inputChannels, kernelSize], low: -bound, high: bound, rng: &rng, requiresGrad: true)
        self.bias = bias ? Tensor.rand([outputChannels], low: -bound, high: bound, rng: &rng, requiresGrad: true) : nil
        self.stride = stride; self.padding = padding
    }

    /// x: [B, C, L] → [B, F, ⌊(L + 2p − k)/s⌋ + 1]
    public func callAsFunction(_ x: Tensor) -> Tensor { x.conv1d(weight, bias: bias, stride: stride, padding: padding) }
}

/// Max pooling over k x k windows (stride defaults to k).
public final class MaxPool2d: Module, Layer {
    public let kernel: Int, stride: Int
    public init(kernel: Int, stride: Int? = nil) { self.kernel = kernel; self.stride = stride ?? kernel }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.maxPool2d(kernel: kernel, stride: stride) }
}

/// Average pooling over k x k windows (stride defaults to k, floor mode).
public final class AvgPool2d: Module, Layer {
    public let kernel: Int, stride: Int
    public init(kernel: Int, stride: Int? = nil) { self.kernel = kernel; self.stride = stride ?? kernel }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.avgPool2d(kernel: kernel, stride: stride) }
}

/// Mixed pooling with a learnable mix (the internal-classifier pooling of SDN, Kaya et al. 2019, arXiv
/// 1810.07052, "standard_conv" ICs): y = α·MaxPool_k(x) + (1 − α)·AvgPool_k(x) over k × k windows (stride k,
/// floor), α one trainable scalar initialised U(0, 1). x: [B, C, H, W] → [B, C, ⌊H/k⌋, ⌊W/k⌋].
public final class MixedPool2d: Module, Layer {
    public let kernel: Int
    /// α, shape [1].
    public let alpha: Tensor

    public init(kernel: Int, rng: inout RNG) {
        self.kernel = kernel
        alpha = Tensor(shape: [1], data: [Float(rng.uniform())], requiresGrad: true)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        alpha * x.maxPool2d(kernel: kernel) + (1 - alpha) * x.avgPool2d(kernel: kernel)
    }
}

/// Global average pooling [B, C, H, W] → [B, C].
public final class GlobalAvgPool: Module, Layer {
    override public init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.globalAvgPool() }
}
