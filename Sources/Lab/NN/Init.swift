import Foundation

/// Weight initialisers (dense). Every one returns a new Float32 `Tensor` and draws from the `rng` it is
/// given, so the same seed gives the same weights. Shapes follow PyTorch: Linear [out, in],
/// Conv2d [cOut, cIn, k, k]; fanIn = in·(receptive field), fanOut = out·(receptive field).
///
///     var rng = RNG(seed: 0)
///     let w = try Init.kaimingUniform([128, 784], rng: &rng)      // PyTorch's nn.Linear default
///     let q = try Init.haarOrthogonal([128, 128], gain: 1.0247, rng: &rng)
public enum Init {
    /// Fan-in and fan-out of a weight of rank >= 2: (shape[1]·r, shape[0]·r) with r = product of shape[2...].
    public static func fans(_ shape: [Int]) throws -> (fanIn: Int, fanOut: Int) {
        guard shape.count >= 2, shape.allSatisfy({ $0 > 0 }) else {
            throw LabError.invalidArgument("Init: weight shape \(shape) needs rank >= 2 and positive sizes ([out, in] or [cOut, cIn, k, k])")
        }
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// The gain of a leaky ReLU with negative slope a: √(2 / (1 + a²)). PyTorch's default for Linear and
    /// Conv weights is a = √5, i.e. gain √(1/3), which makes kaimingUniform bound = 1/√fanIn.
    public static func leakyReLUGain(negativeSlope a: Double) -> Double { (2 / (1 + a * a)).squareRoot() }

    /// PyTorch's default gain for nn.Linear / nn.Conv2d weights: leakyReLUGain(√5) = √(1/3).
    public static let pytorchLayerGain = leakyReLUGain(negativeSlope: 5.0.squareRoot())

    /// Every entry equal to `value`.
    public static func constant(_ shape: [Int], value: Float) -> Tensor { Tensor.full(shape, value) }

    /// U(−bound, bound) entries.
    public static func uniform(_ shape: [Int], bound: Double, rng: inout RNG) -> Tensor {
        Tensor(shape: shape, unsafeUninitialized: { p in
            for i in 0..<p.count { p[i] = Float(rng.uniform(-bound, bound)) }
        })
    }

    /// N(0, std²) entries.
    public static func normal(_ shape: [Int], std: Double, rng: inout RNG) -> Tensor {
        Tensor(shape: shape, unsafeUninitialized: { p in
            for i in 0..<p.count { p[i] = Float(std * rng.normal()) }
        })
    }

    /// Kaiming (He et al. 2015) uniform, fan-in mode: U(−b, b) with b = gain·√(3 / fanIn).
    /// The default gain is PyTorch's layer default √(1/3) (a = √5), so b = 1/√fanIn; use
    /// `leakyReLUGain(negativeSlope: 0)` = √2 for ReLU networks.
    public static func kaimingUniform(_ shape: [Int], gain: Double = pytorchLayerGain, rng: inout RNG) throws -> Tensor {
        let fanIn = try fans(shape).fanIn
        return uniform(shape, bound: gain * (3 / Double(fanIn)).squareRoot(), rng: &rng)
    }

    /// Kaiming normal, fan-in mode: N(0, gain² / fanIn).
    public static func kaimingNormal(_ shape: [Int], gain: Double = pytorchLayerGain, rng: inout RNG) throws -> Tensor {
        let fanIn = try fans(shape).fanIn
        return normal(shape, std: gain / Double(fanIn).squareRoot(), rng: &rng)
    }

    /// Xavier/Glorot (2010) uniform: U(−b, b) with b = gain·√(6 / (fanIn + fanOut)).
    public static func xavierUniform(_ shape: [Int], gain: Double = 1, rng: inout RNG) throws -> Tensor {
        let f = try fans(shape)
        return uniform(shape, bound: gain * (6 / Double(f.fanIn + f.fanOut)).squareRoot(), rng: &rng)
    }

    /// Xavier/Glorot normal: N(0, gain²·2 / (fanIn + fanOut)).
    public static func xavierNormal(_ shape: [Int], gain: Double = 1, rng: inout RNG) throws -> Tensor {
        let f = try fans(shape)
        return normal(shape, std: gain * (2 / Double(f.fanIn + f.fanOut)).squareRoot(), rng: &rng)
    }

    /// A Haar-distributed (uniform on the orthogonal group / Stiefel manifold) r x c matrix in Float64:
    /// QR of an N(0, 1) matrix of the tall orientation, with Q's columns multiplied by sign(diag R) so the
    /// distribution is exactly Haar (Mezzadri 2007). Rows are orthonormal if r <= c, else columns.
    public static func haarMatrix(rows: Int, cols: Int, rng: inout RNG) throws -> Matrix {
        let tall = max(rows, cols), short = min(rows, cols)
        let (q, r) = try qr(Matrix.gaussian(rows: tall, cols: short, rng: &rng))
        var fixed = q
        for j in 0..<short where r[j, j] < 0 {
            for i in 0..<tall { fixed[i, j] = -fixed[i, j] }
        }
        return rows >= cols ? fixed : fixed.transposed()
    }

    /// Haar orthogonal weight × gain (Saxe et al. 2014), rectangular allowed: a weight of rank >= 2 is
    /// flattened to [shape[0], product of the rest] (as PyTorch's orthogonal_), so W·Wᵀ = gain²·I on the
    /// short side.
    public static func haarOrthogonal(_ shape: [Int], gain: Double = 1, rng: inout RNG) throws -> Tensor {
        _ = try fans(shape)
        let rows = shape[0], cols = shape.dropFirst().reduce(1, *)
        var m = try haarMatrix(rows: rows, cols: cols, rng: &rng)
        for i in 0..<m.data.count { m.data[i] *= gain }
        return m.tensor(shape: shape)
    }

    /// Delta-orthogonal conv kernel (Xiao et al. 2018): zero everywhere except the spatial centre
    /// [:, :, k/2, k/2], which is a Haar orthogonal cOut x cIn matrix × gain. A conv with this kernel is a
    /// norm-preserving 1x1 map at init. shape: [cOut, cIn, kH, kW]
    public static func deltaOrthogonal(_ shape: [Int], gain: Double = 1, rng: inout RNG) throws -> Tensor {
        guard shape.count == 4 else {
            throw LabError.invalidArgument("Init.deltaOrthogonal: kernel shape \(shape) must be [cOut, cIn, kH, kW]")
        }
        _ = try fans(shape)
        var centre = try haarMatrix(rows: shape[0], cols: shape[1], rng: &rng)
        for i in 0..<centre.data.count { centre.data[i] *= gain }
        return kernel(centre: centre, shape: shape)
    }

    /// A [cOut, cIn, kH, kW] kernel that is zero except its spatial centre [:, :, kH/2, kW/2] = centre.
    static func kernel(centre: Matrix, shape: [Int]) -> Tensor {
        let cOut = shape[0], cIn = shape[1], kH = shape[2], kW = shape[3]
        let centreOffset = (kH / 2) * kW + kW / 2
        var data = [Float](repeating: 0, count: cOut * cIn * kH * kW)
        for o in 0..<cOut {
            for i in 0..<cIn { data[(o * cIn + i) * kH * kW + centreOffset] = Float(centre[o, i]) }
        }
        return Tensor(shape: shape, data: data)
    }
}
