/// Central finite-difference gradient check, used by the tests of every differentiable op and layer.
///
/// The scalar checked is L = Σ_i w_i · f(inputs)_i with fixed random weights w (so every output element
/// matters), accumulated in Float64. For each input element, the numeric derivative
/// (L(x + ε) − L(x − ε)) / 2ε is compared with the autodiff gradient. Returns the largest error relative
/// to max(1, |gradient|) scale of that input, so a passing check reads `result.maxError < 1e-2`.
public struct GradientCheckResult: CustomStringConvertible {
    public let maxError: Double
    public let worstInput: Int
    public let worstIndex: Int
    public var description: String { "max error \(maxError) at input \(worstInput), element \(worstIndex)" }
}

public func gradientCheck(_ inputs: [Tensor], epsilon: Float = 1e-2, seed: UInt64 = 7,
                          maxElements: Int = 64, _ f: ([Tensor]) -> Tensor) -> GradientCheckResult {
    for x in inputs { x.requiresGrad = true; x.grad = nil }
    let probe = noGrad { f(inputs) }
    var rng = RNG(seed: seed)
    let weights = (0..<probe.count).map { _ in Float(rng.uniform(-1, 1)) }
    let w = Tensor(shape: probe.shape, data: weights)

    func scalar() -> Double {
        let y = noGrad { f(inputs) }
        var acc = 0.0
        for i in 0..<y.count { acc += Double(y.data[i]) * Double(weights[i]) }
        return acc
    }
    let loss = (f(inputs) * w).sum()
    loss.backward()

    var worst = GradientCheckResult(maxError: 0, worstInput: -1, worstIndex: -1)
    for (k, x) in inputs.enumerated() {
        let analytic = x.grad?.data ?? [Float](repeating: 0, count: x.count)
        let scale = max(1.0, analytic.map { abs(Double($0)) }.max() ?? 0)
        // Check every element of small inputs, an evenly spread subset of large ones.
        let stride = max(1, x.count / maxElements)
        for i in Swift.stride(from: 0, to: x.count, by: stride) {
            let saved = x.data[i]
            x.data[i] = saved + epsilon
            let up = scalar()
            x.data[i] = saved - epsilon
            let down = scalar()
            x.data[i] = saved
            let numeric = (up - down) / (2 * Double(epsilon))
            let err = abs(numeric - Double(analytic[i])) / scale
            if err > worst.maxError { worst = GradientCheckResult(maxError: err, worstInput: k, worstIndex: i) }
        }
    }
    return worst
}
