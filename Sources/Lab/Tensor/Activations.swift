import Foundation

// Activation functions. Each derivative is written next to its forward, in terms of the input x and output y.

extension Tensor {
    /// max(0, x).
    public func relu() -> Tensor { unary({ Swift.max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 }) }

    /// x for x > 0, slope·x otherwise.
    public func leakyRelu(slope: Float = 0.01) -> Tensor {
        unary({ $0 > 0 ? $0 : slope * $0 }, derivative: { x, _ in x > 0 ? 1 : slope })
    }

    /// x for x > 0, α(eˣ − 1) otherwise (Clevert et al. 2015, arXiv 1511.07289).
    public func elu(alpha: Float = 1) -> Tensor {
        unary({ $0 > 0 ? $0 : alpha * (fastExp($0) - 1) }, derivative: { x, y in x > 0 ? 1 : y + alpha })
    }

    /// The logistic sigmoid 1/(1 + e⁻ˣ).
    public func sigmoid() -> Tensor { unary(fastSigmoid, derivative: { _, y in y * (1 - y) }) }

    /// Hyperbolic tangent.
    public func tanh() -> Tensor { unary(fastTanh, derivative: { _, y in 1 - y * y }) }

    /// Hard tanh: clamp(x, −1, 1).
    public func hardTanh() -> Tensor { unary({ Swift.min(Swift.max($0, -1), 1) }, derivative: { x, _ in x > -1 && x < 1 ? 1 : 0 }) }

    /// SiLU / swish: x·σ(x) (Elfwing et al. 2017, arXiv 1702.03118).
    public func silu() -> Tensor {
        unary({ $0 * fastSigmoid($0) }, derivative: { x, _ in
            let s = fastSigmoid(x)
            return s * (1 + x * (1 - s))
        })
    }

    /// softplus log(1 + eˣ), computed stably as max(x, 0) + log1p(e^−|x|).
    public func softplus() -> Tensor {
        unary({ Swift.max($0, 0) + Foundation.log1p(fastExp(-Swift.abs($0))) }, derivative: { x, _ in fastSigmoid(x) })
    }

    /// GELU (Hendrycks & Gimpel 2016, arXiv 1606.08415). Exact: x·Φ(x) with the normal CDF via erf;
    /// `approximate: true` uses the tanh form 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))) as in GPT-2.
    public func gelu(approximate: Bool = false) -> Tensor {
        if approximate {
            let c: Float = 0.797_884_560_8  // √(2/π)
            return unary({ x in 0.5 * x * (1 + fastTanh(c * (x + 0.044715 * x * x * x))) }, derivative: { x, _ in
                let u = c * (x + 0.044715 * x * x * x)
                let t = fastTanh(u)
                return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
            })
        }
        return unary({ x in 0.5 * x * (1 + Foundation.erf(x * 0.707_106_781_2)) }, derivative: { x, _ in
            0.5 * (1 + Foundation.erf(x * 0.707_106_781_2)) + x * 0.398_942_280_4 * fastExp(-0.5 * x * x)
        })
    }

    /// sin(ω·x), the SIREN activation (Sitzmann et al. 2020, arXiv 2006.09661).
    public func sine(omega: Float = 1) -> Tensor {
        unary({ Foundation.sin(omega * $0) }, derivative: { x, _ in omega * Foundation.cos(omega * x) })
    }
}
