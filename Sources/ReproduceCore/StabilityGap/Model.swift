import Lab
import LabContinual

/// The backbone of every run: three 3x3 convolutions with BatchNorm and ReLU, two max-pools and a global
/// average pool, giving a 64-d feature vector (about 23.5k parameters).
///
///     x: [B, 1, 28, 28] → conv(1→16) → [B, 16, 28, 28] → pool → [B, 16, 14, 14]
///                       → conv(16→32) → [B, 32, 14, 14] → pool → [B, 32, 7, 7]
///                       → conv(32→64, stride 2) → [B, 64, 4, 4] → global average → f: [B, 64]
///
/// Convolutions use PyTorch's default initialisation (Kaiming-uniform, a = √5); BatchNorm momentum 0.1,
/// ε = 1e-5.
public final class FeatureCNN: Module, Layer {
    let conv1: Conv2d, norm1 = BatchNorm(features: 16)
    let conv2: Conv2d, norm2 = BatchNorm(features: 32)
    let conv3: Conv2d, norm3 = BatchNorm(features: 64)
    let pool = MaxPool2d(kernel: 2)

    /// Feature dimension of f.
    public static let featureSize = 64

    public init(rng: inout RNG) {
        conv1 = Conv2d(inputChannels: 1, outputChannels: 16, kernelSize: 3, padding: 1, rng: &rng)
        conv2 = Conv2d(inputChannels: 16, outputChannels: 32, kernelSize: 3, padding: 1, rng: &rng)
        conv3 = Conv2d(inputChannels: 32, outputChannels: 64, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
    }

    /// x: [B, 1, 28, 28] → f: [B, 64]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h1 = pool(norm1(conv1(x)).relu())
        let h2 = pool(norm2(conv2(h1)).relu())
        return norm3(conv3(h2)).relu().globalAvgPool()
    }

    /// Multiply-adds of one forward pass per image, counted as 2 FLOPs each (convolutions, the dominant cost):
    /// 2·(16·9·28² + 32·144·14² + 64·288·4²) ≈ 2.62 MFLOP.
    public static let forwardFLOPsPerImage: Double = 2 * (16 * 9 * 28 * 28 + 32 * 144 * 14 * 14 + 64 * 288 * 4 * 4)
}

/// The network of every run: the backbone and a growing multi-head classifier on its 64-d features (one
/// `Linear(64 → classes of task t)` per task, added at the task's start; logits of heads 0..t concatenated).
public final class IncrementalClassifier: Module {
    public let backbone: FeatureCNN
    public let classifier = MultiHeadClassifier(featureSize: FeatureCNN.featureSize)

    public init(rng: inout RNG) {
        backbone = FeatureCNN(rng: &rng)
    }
}
