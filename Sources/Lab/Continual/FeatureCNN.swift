import Lab

/// The small CNN of the Fashion-MNIST / MNIST continual-learning papers (stability-gap, teacher-adaptation):
/// three 3x3 convolutions (with bias), each with BatchNorm and ReLU, two max-pools and a global average pool,
/// giving a 64-d feature vector (about 23.5k parameters).
///
///     x: [B, 1, 28, 28] → conv(1→16) → [B, 16, 28, 28] → pool → [B, 16, 14, 14]
///                       → conv(16→32) → [B, 32, 14, 14] → pool → [B, 32, 7, 7]
///                       → conv(32→64, stride 2) → [B, 64, 4, 4] → global average → f: [B, 64]
///
/// Convolutions use PyTorch's default initialisation (Kaiming-uniform, a = √5); BatchNorm momentum 0.1,
/// ε = 1e-5. `batchNorm: false` builds the same convolutions (the same random draws) with no normalisation
/// at all (teacher-adaptation's no-BN control).
public final class FeatureCNN: Module, Layer {
    let conv1: Conv2d, norm1: BatchNorm?
    let conv2: Conv2d, norm2: BatchNorm?
    let conv3: Conv2d, norm3: BatchNorm?
    let pool = MaxPool2d(kernel: 2)

    /// Feature dimension of f.
    public static let featureSize = 64

    public init(batchNorm: Bool = true, rng: inout RNG) {
        conv1 = Conv2d(inputChannels: 1, outputChannels: 16, kernelSize: 3, padding: 1, rng: &rng)
        conv2 = Conv2d(inputChannels: 16, outputChannels: 32, kernelSize: 3, padding: 1, rng: &rng)
        conv3 = Conv2d(inputChannels: 32, outputChannels: 64, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
        norm1 = batchNorm ? BatchNorm(features: 16) : nil
        norm2 = batchNorm ? BatchNorm(features: 32) : nil
        norm3 = batchNorm ? BatchNorm(features: 64) : nil
    }

    /// Whether the convolutions are followed by BatchNorm.
    public var hasBatchNorm: Bool { norm1 != nil }

    /// x: [B, 1, 28, 28] → f: [B, 64]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        func normalized(_ h: Tensor, _ norm: BatchNorm?) -> Tensor { norm.map { $0(h) } ?? h }
        let h1 = pool(normalized(conv1(x), norm1).relu())
        let h2 = pool(normalized(conv2(h1), norm2).relu())
        return normalized(conv3(h2), norm3).relu().globalAvgPool()
    }

    /// Multiply-adds of one forward pass per image, counted as 2 FLOPs each (convolutions, the dominant cost):
    /// 2·(16·9·28² + 32·144·14² + 64·288·4²) ≈ 2.62 MFLOP.
    public static let forwardFLOPsPerImage: Double = 2 * (16 * 9 * 28 * 28 + 32 * 144 * 14 * 14 + 64 * 288 * 4 * 4)
}

/// The network of a class-incremental run: the backbone and a growing multi-head classifier on its 64-d
/// features (one `Linear(64 → classes of task t)` per task, added at the task's start; logits of heads 0..t
/// concatenated).
public final class IncrementalClassifier: Module {
    public let backbone: FeatureCNN
    public let classifier = MultiHeadClassifier(featureSize: FeatureCNN.featureSize)

    public init(batchNorm: Bool = true, rng: inout RNG) {
        backbone = FeatureCNN(batchNorm: batchNorm, rng: &rng)
    }
}
