import Lab

/// The input-output Jacobian of a `SparseMLP` at initialisation (docs/papers/exact-orthogonal-init.md §3 "Jacobian (E2)").
///
/// For an example x, with pre-activations h_l and D_l = diag(φ'(h_l)),
///
///     J(x) = W_L · D_{L−1} · W_{L−1} ··· D_1 · W_1  ∈ R^{out x in}
///
/// computed right to left from W_L (so every product is a thin out x width GEMM) in Float64 from the stored
/// Float32 weights. The pre-activations come from the model's own Float32 forward pass, so D_l is exactly
/// the diagonal that autodiff multiplies by.
public struct JacobianProbe {
    /// W_l in Float64, [width_l, width_{l−1}], l = 1..L.
    private let weights: [Matrix]
    private let model: SparseMLP

    public init(_ model: SparseMLP) throws {
        self.model = model
        weights = try model.layers.map { try Matrix($0.weight) }
    }

    /// J(x_b) for every row b of x. x: [B, in] → B matrices [out, in]
    public func jacobians(_ x: Tensor) -> [Matrix] {
        let hidden = model.hiddenActivations(x)
        let batch = x.shape[0]
        return (0..<batch).map { b in
            var j = weights[weights.count - 1]
            for l in stride(from: hidden.count - 1, through: 0, by: -1) {
                let (pre, out) = hidden[l]
                let width = pre.shape[1]
                // J ← J · D_l: scale column k by φ'(h_l[b, k]).
                for k in 0..<width {
                    let d = model.activation.derivative(preactivation: pre.data[b * width + k], output: out.data[b * width + k])
                    if d == 1 { continue }
                    for r in 0..<j.rows { j.data[r * width + k] *= d }
                }
                j = j * weights[l]
            }
            return j
        }
    }

    /// The same Jacobian by reverse-mode autodiff: one backward pass per output unit (row k of J is the
    /// gradient of output k with respect to the input). x: [in] → [out, in]
    public func autodiffJacobian(_ x: [Float]) -> Matrix {
        let outputs = weights[weights.count - 1].rows
        var rows: [Double] = []
        for k in 0..<outputs {
            let input = Tensor(shape: [1, x.count], data: x, requiresGrad: true)
            var seed = [Float](repeating: 0, count: outputs)
            seed[k] = 1
            model(input).backward(seed: Tensor(shape: [1, outputs], data: seed))
            rows += input.grad!.doubles
        }
        model.zeroGrad()
        return Matrix(rows: outputs, cols: x.count, data: rows)
    }
}

/// Singular values of J as the square roots of the eigenvalues of J·Jᵀ (out x out, Float64), descending.
public func jacobianSingularValues(_ j: Matrix) throws -> [Double] {
    try symmetricEigen(j.gram(rowSide: true)).values.map { max($0, 0).squareRoot() }.reversed()
}

/// max |a − b| / max |a|: the relative difference of two matrices of the same shape.
public func maxRelativeDifference(_ a: Matrix, _ b: Matrix) -> Double {
    precondition(a.rows == b.rows && a.cols == b.cols, "maxRelativeDifference: \(a.rows)x\(a.cols) vs \(b.rows)x\(b.cols)")
    var diff = 0.0
    for k in 0..<a.data.count { diff = max(diff, abs(a.data[k] - b.data[k])) }
    return diff / max(a.maxAbs, .leastNormalMagnitude)
}
