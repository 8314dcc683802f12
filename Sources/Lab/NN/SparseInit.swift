import CBLAS
import Foundation

/// A sparse weight and its static mask (same shape; 1 where the weight may train, 0 where it stays 0).
/// Weights outside the mask are exactly 0 at init; the mask may also hold zero-valued trainable entries
/// (conv "unfreeze zeros").
public struct MaskedWeight: Sendable {
    public let weight: Tensor
    public let mask: Tensor

    public init(weight: Tensor, mask: Tensor) {
        precondition(weight.shape == mask.shape, "MaskedWeight: weight \(weight.shape) and mask \(mask.shape) differ")
        self.weight = weight
        self.mask = mask
    }

    /// The mask of a weight's exact non-zeros: M = 1[W ≠ 0].
    public init(nonZerosOf weight: Tensor) {
        self.init(weight: weight, mask: Tensor(shape: weight.shape, data: weight.data.map { $0 != 0 ? 1 : 0 }))
    }

    /// Fraction of trainable entries (the mask's density).
    public var density: Double { nonZeroDensity(mask) }
}

/// The output of the EOI generator before scaling and casting.
public struct ExactOrthogonalMatrix: Sendable {
    /// [nOut, nIn], unscaled: A·Aᵀ = I if nOut <= nIn, else Aᵀ·A = I (exact up to Float64 rounding).
    public let matrix: Matrix
    /// Givens rotations composed into `matrix` (the rejected last one, if any, is not counted).
    public let rotations: Int
    /// Density after k rotations for k = 0, 1, …, every iterate computed (including a last one that was
    /// rejected as farther from the target); empty unless requested.
    public let densityTrace: [Double]

    /// Fraction of exactly non-zero entries of `matrix`.
    public var density: Double { Double(matrix.nonZeroCount) / Double(max(1, matrix.data.count)) }
}

/// Sparse initialisers of arXiv 2406.01755 (Exact Orthogonal Initialization) and its baselines. Every
/// method returns a `MaskedWeight`; linear weights are [nOut, nIn], conv kernels [cOut, cIn, k, k].
///
///     var rng = RNG(seed: 0)
///     let layer = try SparseInit.exactOrthogonal([128, 128], density: 1.0 / 8, gain: 1, rng: &rng)
///     // layer.weight is exactly orthogonal (in Float64, before the Float32 cast); layer.mask = 1[W ≠ 0]
public enum SparseInit {

    // MARK: EOI

    /// The EOI generator (the paper's algorithm). With n = min(nOut, nIn), m = max(nOut, nIn):
    /// start from A = [I_n | 0] ∈ R^{n x m} (density 1/m) and repeat: draw columns i ≠ j uniformly from
    /// 0..<m and α ~ U[0, 2π), and set
    ///
    ///     (A[:,i], A[:,j]) ← (cos α·A[:,i] + sin α·A[:,j], −sin α·A[:,i] + cos α·A[:,j])
    ///
    /// i.e. A ← A·G with G an m x m Givens rotation, so A·Aᵀ = I_n stays exact. The non-zero count is kept
    /// incrementally (only the two rotated columns are recounted). Stop at the first iterate whose density is
    /// >= `density`, and return the previous iterate instead if it is strictly closer to `density`. If
    /// density <= 1/m the start matrix is returned. The result is A if nOut <= nIn, else Aᵀ.
    ///
    /// Cost: O(n) per rotation. The columns of A are stored contiguously (as the rows of Aᵀ, m x n).
    public static func exactOrthogonalMatrix(outputs: Int, inputs: Int, density: Double,
                                             recordTrace: Bool = false, rng: inout RNG) throws -> ExactOrthogonalMatrix {
        guard outputs > 0, inputs > 0 else {
            throw LabError.invalidArgument("SparseInit.exactOrthogonalMatrix: sizes \(outputs) x \(inputs) must be positive")
        }
        try checkDensity(density, "exactOrthogonalMatrix")
        let n = min(outputs, inputs), m = max(outputs, inputs)
        let total = Double(n * m)
        // columns: m x n row-major; row c is column c of A (contiguous, length n).
        var columns = Matrix(rows: m, cols: n)
        for i in 0..<n { columns[i, i] = 1 }
        var columnNonZeros = [Int](repeating: 0, count: m)
        for i in 0..<n { columnNonZeros[i] = 1 }
        var nonZeros = n
        var trace: [Double] = recordTrace ? [Double(nonZeros) / total] : []
        var rotations = 0
        let target = density * total

        if Double(nonZeros) < target {
            var savedI = [Double](repeating: 0, count: n), savedJ = [Double](repeating: 0, count: n)
            columns.data.withUnsafeMutableBufferPointer { buffer in
                let base = buffer.baseAddress!
                while true {
                    let i = rng.int(below: m)
                    var j = rng.int(below: m - 1)
                    if j >= i { j += 1 }
                    let rotation = Givens(angle: rng.uniform(0, 2 * Double.pi))
                    let columnI = base + i * n, columnJ = base + j * n
                    savedI.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: columnI, count: n) }
                    savedJ.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: columnJ, count: n) }
                    rotation.apply(columnI, columnJ, count: n)
                    let countI = nonZeroCount(columnI, n), countJ = nonZeroCount(columnJ, n)
                    let newNonZeros = nonZeros - columnNonZeros[i] - columnNonZeros[j] + countI + countJ
                    if recordTrace { trace.append(Double(newNonZeros) / total) }
                    if Double(newNonZeros) >= target {
                        if target - Double(nonZeros) < Double(newNonZeros) - target {
                            savedI.withUnsafeBufferPointer { columnI.update(from: $0.baseAddress!, count: n) }
                            savedJ.withUnsafeBufferPointer { columnJ.update(from: $0.baseAddress!, count: n) }
                        } else {
                            rotations += 1
                        }
                        break
                    }
                    nonZeros = newNonZeros
                    columnNonZeros[i] = countI
                    columnNonZeros[j] = countJ
                    rotations += 1
                }
            }
        }
        let matrix = outputs <= inputs ? columns.transposed() : columns
        return ExactOrthogonalMatrix(matrix: matrix, rotations: rotations, densityTrace: trace)
    }

    /// EOI weight: W = gain·EOI(nOut, nIn, d) cast to Float32 with mask M = 1[W ≠ 0] (shape [nOut, nIn]);
    /// for a conv kernel [cOut, cIn, k, k], the delta form: the centre [:, :, k/2, k/2] = gain·EOI(cOut, cIn, d),
    /// every other weight 0, and the mask = the centre's non-zeros plus uniformly chosen other positions
    /// (trainable, initially 0) until the mask holds round(d·cOut·cIn·k²) entries ("unfreeze zeros").
    public static func exactOrthogonal(_ shape: [Int], density: Double, gain: Double = 1,
                                       rng: inout RNG) throws -> MaskedWeight {
        try checkWeightShape(shape, "exactOrthogonal")
        var centre = try exactOrthogonalMatrix(outputs: shape[0], inputs: shape[1], density: density, rng: &rng).matrix
        for k in 0..<centre.data.count { centre.data[k] *= gain }
        return try placed(centre, shape: shape, density: density, rng: &rng)
    }

    // MARK: SAO-style

    /// SAO-style exact sparse orthogonal matrix (a simple stand-in for Esguerra et al. 2023):
    /// W = gain·P·blockdiag(O_1, …, O_{n/c})·Q with P, Q uniformly random permutations, O_b Haar c x c
    /// orthogonal and c = d·n, so W is orthogonal with exactly c non-zeros in every row and column.
    /// Square only: [n, n], or a conv kernel [c, c, k, k] with this matrix at the centre and the mask
    /// filled as in `exactOrthogonal`. c = d·n must be an integer that divides n.
    public static func saoStyle(_ shape: [Int], density: Double, gain: Double = 1, rng: inout RNG) throws -> MaskedWeight {
        try checkWeightShape(shape, "saoStyle")
        try checkDensity(density, "saoStyle")
        let n = shape[0]
        guard shape[1] == n else {
            throw LabError.invalidArgument("SparseInit.saoStyle: needs a square layer, got \(shape[0]) x \(shape[1]); use exactOrthogonal for rectangular layers")
        }
        let degreeExact = density * Double(n), degree = Int(degreeExact.rounded())
        guard degree >= 1, abs(degreeExact - Double(degree)) < 1e-9, n % degree == 0 else {
            throw LabError.invalidArgument("SparseInit.saoStyle: degree d·n = \(degreeExact) (d = \(density), n = \(n)) must be an integer dividing n; use a power-of-two density")
        }
        let rowPermutation = rng.permutation(n), columnPermutation = rng.permutation(n)
        var w = Matrix(rows: n, cols: n)
        for block in 0..<(n / degree) {
            let o = try Init.haarMatrix(rows: degree, cols: degree, rng: &rng)
            for a in 0..<degree {
                for b in 0..<degree {
                    w[rowPermutation[block * degree + a], columnPermutation[block * degree + b]] = gain * o[a, b]
                }
            }
        }
        return try placed(w, shape: shape, density: density, rng: &rng)
    }

    // MARK: Baselines

    /// A uniformly random 0/1 mask with exactly round(d·count) ones.
    public static func uniformMask(_ shape: [Int], density: Double, rng: inout RNG) throws -> Tensor {
        guard density >= 0, density <= 1 else {
            throw LabError.invalidArgument("SparseInit.uniformMask: density \(density) must lie in [0, 1]")
        }
        let count = shape.reduce(1, *)
        var data = [Float](repeating: 0, count: count)
        for k in rng.choice(count, count: Int((density * Double(count)).rounded())) { data[k] = 1 }
        return Tensor(shape: shape, data: data)
    }

    /// Base-orth (the paper's "Base"): the dense orthogonal init (Haar for [nOut, nIn], delta-orthogonal for
    /// [cOut, cIn, k, k]) × gain, times a uniform mask with exactly round(d·count) ones, not rescaled.
    /// The mask is drawn first, so Base-standard with the same RNG state gets the same mask.
    public static func baseOrthogonal(_ shape: [Int], density: Double, gain: Double = 1, rng: inout RNG) throws -> MaskedWeight {
        try checkWeightShape(shape, "baseOrthogonal")
        try checkDensity(density, "baseOrthogonal")
        let mask = try uniformMask(shape, density: density, rng: &rng)
        let dense = shape.count == 4 ? try Init.deltaOrthogonal(shape, gain: gain, rng: &rng)
                                     : try Init.haarOrthogonal(shape, gain: gain, rng: &rng)
        return MaskedWeight(weight: Tensor(shape: shape, data: zip(dense.data, mask.data).map { $0 * $1 }), mask: mask)
    }

    /// Base-standard: a uniform mask with exactly round(d·count) ones and, on it, w ~ N(0, gain² / (d·fanIn))
    /// (variance-preserving sparse fan-in; fanIn = nIn, or cIn·k² for a conv). Zeros elsewhere.
    public static func baseStandard(_ shape: [Int], density: Double, gain: Double = 1, rng: inout RNG) throws -> MaskedWeight {
        try checkWeightShape(shape, "baseStandard")
        try checkDensity(density, "baseStandard")
        let fanIn = try Init.fans(shape).fanIn
        let mask = try uniformMask(shape, density: density, rng: &rng)
        let std = gain / (density * Double(fanIn)).squareRoot()
        var data = [Float](repeating: 0, count: mask.count)
        for k in 0..<data.count where mask.data[k] != 0 { data[k] = Float(std * rng.normal()) }
        return MaskedWeight(weight: Tensor(shape: shape, data: data), mask: mask)
    }

    // MARK: Approximate isometry

    /// AI (approximate isometry, Lee et al. 2020): Base-orth, then `steps` steps of masked gradient descent
    /// on L = ¼‖W·Wᵀ − gain²·I‖²_F (see `approximateIsometry(refining:gain:steps:learningRate:)`).
    public static func approximateIsometry(_ shape: [Int], density: Double, gain: Double = 1, steps: Int,
                                           rng: inout RNG) throws -> MaskedWeight {
        try approximateIsometry(refining: baseOrthogonal(shape, density: density, gain: gain, rng: &rng),
                                gain: gain, steps: steps)
    }

    /// Masked gradient descent towards isometry, in Float64, on the smaller Gram side. W (a conv kernel
    /// reshaped to cOut x (cIn·k²)) is r x c; if r <= c:
    ///
    ///     W ← W − η·M ⊙ ((W·Wᵀ − σ²·I)·W)        (the gradient of ¼‖W·Wᵀ − σ²·I‖²_F)
    ///
    /// else W ← W − η·M ⊙ (W·(Wᵀ·W − σ²·I)). η defaults to 0.1/σ². The mask is unchanged, so weights
    /// outside it stay exactly 0. Gram by cblas_dsyrk, product by cblas_dsymm.
    public static func approximateIsometry(refining start: MaskedWeight, gain: Double = 1, steps: Int,
                                           learningRate: Double? = nil) throws -> MaskedWeight {
        Parallel.prepareBLAS()
        guard steps >= 0 else { throw LabError.invalidArgument("SparseInit.approximateIsometry: steps \(steps) < 0") }
        var w = try Matrix(start.weight)
        let mask = start.mask.data.map(Double.init)
        let r = w.rows, c = w.cols, rowSide = r <= c, s = min(r, c)
        let sigmaSquared = gain * gain, eta = learningRate ?? 0.1 / sigmaSquared
        var gram = [Double](repeating: 0, count: s * s)
        var update = [Double](repeating: 0, count: r * c)
        for _ in 0..<steps {
            w.data.withUnsafeMutableBufferPointer { pw in
                gram.withUnsafeMutableBufferPointer { pg in
                    update.withUnsafeMutableBufferPointer { pu in
                        // G = W·Wᵀ (or Wᵀ·W), upper triangle, then G − σ²·I.
                        cblas_dsyrk(CblasRowMajor, CblasUpper, rowSide ? CblasNoTrans : CblasTrans,
                                    Int32(s), Int32(rowSide ? c : r), 1, pw.baseAddress, Int32(c),
                                    0, pg.baseAddress, Int32(s))
                        for i in 0..<s { pg[i * s + i] -= sigmaSquared }
                        // U = G·W (or W·G), G symmetric.
                        cblas_dsymm(CblasRowMajor, rowSide ? CblasLeft : CblasRight, CblasUpper,
                                    Int32(r), Int32(c), 1, pg.baseAddress, Int32(s),
                                    pw.baseAddress, Int32(c), 0, pu.baseAddress, Int32(c))
                        for k in 0..<(r * c) { pw[k] -= eta * mask[k] * pu[k] }
                    }
                }
            }
        }
        return MaskedWeight(weight: w.tensor(shape: start.weight.shape), mask: start.mask)
    }

    // MARK: Helpers

    /// A scaled [nOut, nIn] matrix as a linear MaskedWeight (mask = its Float32 non-zeros), or for a conv
    /// shape, as the centre of a delta kernel whose mask is filled with uniformly chosen other positions
    /// (value 0, trainable) up to round(d·cOut·cIn·k²) entries. If the centre alone already holds more,
    /// the mask is the centre's support.
    static func placed(_ centre: Matrix, shape: [Int], density: Double, rng: inout RNG) throws -> MaskedWeight {
        if shape.count == 2 { return MaskedWeight(nonZerosOf: centre.tensor(shape: shape)) }
        let kernel = Init.kernel(centre: centre, shape: shape)
        var mask = kernel.data.map { $0 != 0 ? Float(1) : 0 }
        let target = Int((density * Double(kernel.count)).rounded())
        let free = (0..<kernel.count).filter { mask[$0] == 0 }
        let extra = max(0, target - (kernel.count - free.count))
        for k in rng.choice(free.count, count: extra) { mask[free[k]] = 1 }
        return MaskedWeight(weight: kernel, mask: Tensor(shape: shape, data: mask))
    }

    @inline(__always)
    static func nonZeroCount(_ x: UnsafeMutablePointer<Double>, _ n: Int) -> Int {
        var count = 0
        for k in 0..<n { count &+= x[k] != 0 ? 1 : 0 }
        return count
    }

    static func checkDensity(_ density: Double, _ method: String) throws {
        guard density > 0, density <= 1 else {
            throw LabError.invalidArgument("SparseInit.\(method): density \(density) must lie in (0, 1]")
        }
    }

    static func checkWeightShape(_ shape: [Int], _ method: String) throws {
        guard (shape.count == 2 || shape.count == 4), shape.allSatisfy({ $0 > 0 }) else {
            throw LabError.invalidArgument("SparseInit.\(method): weight shape \(shape) must be [nOut, nIn] or [cOut, cIn, k, k] with positive sizes")
        }
    }
}
