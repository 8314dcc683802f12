import Lab

/// The initialisations that arXiv 2406.01755 compares (docs/papers/exact-orthogonal-init.md §3 "Methods"). Every sparse method returns a
/// weight and its static 0/1 mask; `dense` returns the dense orthogonal weight and an all-ones mask.
public enum InitMethod: String, CaseIterable, Sendable, Codable {
    /// Haar orthogonal (QR of a Gaussian, sign-fixed) × σ_w; delta-orthogonal for conv kernels.
    case dense = "Dense"
    /// The paper's "Base": the dense orthogonal init times a uniform mask, not rescaled.
    case baseOrthogonal = "Base-orth"
    /// The same uniform mask with N(0, σ_w² / (d·fanIn)) on it (variance-preserving sparse fan-in).
    case baseStandard = "Base-standard"
    /// Approximate isometry (Lee et al. 2020): Base-orth refined by T steps of masked descent on ¼‖WWᵀ − σ²I‖².
    case approximateIsometry = "AI"
    /// σ_w·P·blockdiag(O_1, …)·Q with Haar blocks of size d·n: exactly orthogonal and d·n-regular (square only).
    case saoStyle = "SAO-style"
    /// Exact Orthogonal Initialization: Givens rotations composed from the identity until density d.
    case exactOrthogonal = "EOI"

    /// The five sparse methods, in the order the figures and tables list them.
    public static let sparse: [InitMethod] = [.baseOrthogonal, .baseStandard, .approximateIsometry, .saoStyle, .exactOrthogonal]

    /// The name used in figures, tables and claims.
    public var label: String { rawValue }

    /// A weight of `shape` ([nOut, nIn] or a conv kernel [cOut, cIn, k, k]) at `density`, scaled by
    /// `gain` (σ_w), with its static mask. `aiSteps` is T for `approximateIsometry` (ignored otherwise).
    /// Base-orth, Base-standard and AI draw the mask first, so one RNG state gives them the same mask.
    public func weight(_ shape: [Int], density: Double, gain: Double, aiSteps: Int, rng: inout RNG) throws -> MaskedWeight {
        switch self {
        case .dense:
            let w = shape.count == 4 ? try Init.deltaOrthogonal(shape, gain: gain, rng: &rng)
                                     : try Init.haarOrthogonal(shape, gain: gain, rng: &rng)
            return MaskedWeight(weight: w, mask: Tensor.ones(shape))
        case .baseOrthogonal:
            return try SparseInit.baseOrthogonal(shape, density: density, gain: gain, rng: &rng)
        case .baseStandard:
            return try SparseInit.baseStandard(shape, density: density, gain: gain, rng: &rng)
        case .approximateIsometry:
            return try SparseInit.approximateIsometry(shape, density: density, gain: gain, steps: aiSteps, rng: &rng)
        case .saoStyle:
            return try SparseInit.saoStyle(shape, density: density, gain: gain, rng: &rng)
        case .exactOrthogonal:
            return try SparseInit.exactOrthogonal(shape, density: density, gain: gain, rng: &rng)
        }
    }
}

/// The initialisation scales of docs/papers/exact-orthogonal-init.md §3: σ_w for weights, σ_b for biases ~ N(0, σ_b²).
public struct InitScale: Sendable, Equatable {
    public var weightGain: Double
    public var biasStd: Double

    public init(weightGain: Double, biasStd: Double) {
        self.weightGain = weightGain
        self.biasStd = biasStd
    }

    /// σ_w = 1, σ_b = 0: the paper's 7-layer MLP (E2, E3).
    public static let unit = InitScale(weightGain: 1, biasStd: 0)
    /// σ_w = 1.0247, σ_b = 0.00448: the tanh critical point the paper uses for deep and convolutional nets (E4, E5).
    public static let tanhCritical = InitScale(weightGain: 1.0247, biasStd: 0.00448)

    /// A bias of `count` entries ~ N(0, σ_b²) (exact zeros when σ_b = 0).
    public func bias(_ count: Int, rng: inout RNG) -> Tensor {
        biasStd == 0 ? Tensor.zeros([count]) : Init.normal([count], std: biasStd, rng: &rng)
    }
}
