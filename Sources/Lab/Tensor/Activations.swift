import CLabKernels
import Foundation

// Activation functions. Each derivative is written next to its forward, in terms of the input x and output y.

extension Tensor {
    /// max(0, x); the gradient is g where x > 0, else 0. Written as chunk kernels (not `unary`) so both
    /// directions vectorise: it sits after every hidden layer of the MLP and CNN benchmarks.
    public func relu() -> Tensor {
        let x = self
        let out = Tensor.mapChunks(x, costPerItem: 2) { src, dst, range in
            for i in range { dst[i] = reluValue(src[i]) }
        }
        guard Tensor.recording(x) else { return out }
        return out.recorded(x) { g in x.accumulateGrad(reluBackward(x, g)) }
    }

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
    /// Chunk kernels (like relu), so both directions vectorise: it sits in every SwiGLU FFN.
    public func silu() -> Tensor {
        let x = self
        let out = Tensor.mapChunks(x, costPerItem: 12) { src, dst, range in
            siluForward(src + range.lowerBound, up: nil, dst + range.lowerBound, count: range.count)
        }
        guard Tensor.recording(x) else { return out }
        return out.recorded(x) { g in
            x.accumulateGrad(Tensor.zipChunks(x, g, costPerItem: 14) { src, grad, dst, range in
                siluBackward(src + range.lowerBound, grad + range.lowerBound, dst + range.lowerBound, count: range.count)
            })
        }
    }

    /// softplus log(1 + eˣ), computed stably as max(x, 0) + log1p(e^−|x|).
    public func softplus() -> Tensor {
        unary({ Swift.max($0, 0) + Foundation.log1p(fastExp(-Swift.abs($0))) }, derivative: { x, _ in fastSigmoid(x) })
    }

    /// GELU (Hendrycks & Gimpel 2016, arXiv 1606.08415). Exact: x·Φ(x) with the normal CDF via erf;
    /// `approximate: true` uses the tanh form 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))) as in GPT-2.
    public func gelu(approximate: Bool = false) -> Tensor {
        let x = self
        if approximate {
            // Tanh form as chunk kernels (like silu), so both directions vectorise: it sits in every GPT-2 FFN.
            // u = c(x + 0.044715x³), t = tanh u;  dy/dx = ½(1 + t) + ½x(1 − t²)·c(1 + 3·0.044715x²).
            let c: Float = 0.797_884_560_8  // √(2/π)
            let out = Tensor.mapChunks(x, costPerItem: 14) { src, dst, range in
                for i in range {
                    let v = src[i]
                    dst[i] = 0.5 * v * (1 + fastTanh(c * (v + 0.044715 * v * v * v)))
                }
            }
            guard Tensor.recording(x) else { return out }
            return out.recorded(x) { g in
                x.accumulateGrad(Tensor.zipChunks(x, g, costPerItem: 20) { src, grad, dst, range in
                    for i in range {
                        let v = src[i]
                        let t = fastTanh(c * (v + 0.044715 * v * v * v))
                        dst[i] = grad[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * 0.044715 * v * v))
                    }
                })
            }
        }
        // Exact form: y = x·Φ(x), Φ(x) = ½(1 + erf(x/√2));  dy/dx = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π).
        // When the tape records, the forward also writes dy/dx (its erf is the forward's), so the backward is one
        // multiply instead of an erf and an exp per element.
        let recording = Tensor.recording(x)
        var slope = recording ? scratchFloats(x.count) : []
        let out = Tensor(shape: x.shape) { y in
            x.data.withUnsafeBufferPointer { xp in
            slope.withUnsafeMutableBufferPointer { sp in
                guard let xb = xp.baseAddress, let yb = y.baseAddress else { return }  // empty tensor
                let shared = UncheckedSendable((x: xb, y: yb, slope: sp.isEmpty ? nil : sp.baseAddress))  // empty: no tape
                Parallel.forChunks(y.count, costPerItem: 24) { lo, hi in
                    let (xb, yb, sb) = shared.value
                    geluExact(xb + lo, yb + lo, slope: sb.map { $0 + lo }, count: hi - lo)
                }
            }
            }
        }
        guard recording else { return out }
        return out.recorded(x) { g in
            x.accumulateGrad(Tensor(shape: x.shape) { dx in
                g.data.withUnsafeBufferPointer { gp in
                slope.withUnsafeBufferPointer { sp in
                    guard let gb = gp.baseAddress, let dxb = dx.baseAddress else { return }
                    let shared = UncheckedSendable((g: gb, slope: sp.baseAddress!, dx: dxb))
                    Parallel.forChunks(dx.count, costPerItem: 2) { lo, hi in
                        let (gb, sb, db) = shared.value
                        for i in lo..<hi { db[i] = gb[i] * sb[i] }
                    }
                }
                }
            })
        }
    }

    /// sin(ω·x), the SIREN activation (Sitzmann et al. 2020, arXiv 2006.09661).
    public func sine(omega: Float = 1) -> Tensor {
        unary({ Foundation.sin(omega * $0) }, derivative: { x, _ in omega * Foundation.cos(omega * x) })
    }
}

/// Whether the AVX2 kernels of CLabKernels may run on this CPU (they give the same bits as the Swift loops).
let hasAVX2Kernels = lab_has_avx2() != 0

/// SwiGLU over `count` elements: y = SiLU(x) ⊙ up = x·σ(x)·up, σ(x) = 1/(1 + fastExp(−x)); plain SiLU when `up` is
/// nil. y may be x. (The kernel behind `silu()`, for callers on raw buffers such as LabLLM's FFN.)
public func swiGLU(_ x: UnsafePointer<Float>, up: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, count: Int) {
    siluForward(x, up: up, y, count: count)
}

/// `swiGLU`: the AVX2 kernel (CLabKernels) performs the Swift loop's operations in its order, 8 lanes at a time, so
/// both paths give the same bits (`useAVX2: false` forces the Swift loop, for the test that says so).
@inline(__always)
func siluForward(_ x: UnsafePointer<Float>, up: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, count: Int,
                 useAVX2: Bool = hasAVX2Kernels) {
    if useAVX2 {
        lab_silu_avx2(x, up, y, count)
    } else if let up {
        for i in 0..<count { y[i] = x[i] * fastSigmoid(x[i]) * up[i] }
    } else {
        for i in 0..<count { y[i] = x[i] * fastSigmoid(x[i]) }
    }
}

/// SiLU's backward over `count` elements: dx = g·(σ·(1 + x·(1 − σ))), σ = σ(x); AVX2 or the Swift loop, same bits.
@inline(__always)
func siluBackward(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, count: Int,
                  useAVX2: Bool = hasAVX2Kernels) {
    if useAVX2 {
        lab_silu_backward_avx2(x, g, dx, count)
        return
    }
    for i in 0..<count {
        let s = fastSigmoid(x[i])
        dx[i] = g[i] * (s * (1 + x[i] * (1 - s)))
    }
}

/// Exact GELU over `count` elements: y = ½x(1 + erf(x/√2)) and, when `slope` is given, dy/dx = ½(1 + erf(x/√2))
/// + x·e^(−x²/2)/√(2π). The AVX2 kernel (CLabKernels) performs these operations in this order, 8 lanes at a time,
/// so both paths give the same bits (`useAVX2: false` forces the Swift loop, for the test that says so).
@inline(__always)
func geluExact(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, slope: UnsafeMutablePointer<Float>?, count: Int,
               useAVX2: Bool = hasAVX2Kernels) {
    if useAVX2 {
        lab_gelu_avx2(x, y, slope, count)
        return
    }
    for i in 0..<count { y[i] = 0.5 * x[i] * (1 + fastErf(x[i] * 0.707_106_781_2)) }
    guard let slope else { return }
    for i in 0..<count {
        let v = x[i]
        let cdf = 0.5 * (1 + fastErf(v * 0.707_106_781_2))
        slope[i] = cdf + v * 0.398_942_280_4 * fastExp(-0.5 * v * v)
    }
}

/// max(x, 0), the one expression of ReLU's forward (`relu()` and the fused `conv2d(..., relu:)` both use it).
@inline(__always)
func reluValue(_ x: Float) -> Float { Swift.max(x, 0) }

/// The backward of ReLU: g where x > 0, else 0. x may be the ReLU's input or its output max(x, 0) (positive exactly
/// where the input is: a NaN input gives a NaN output, and neither passes), so a fused ReLU (`conv2d(..., relu:)`)
/// masks with its output.
func reluBackward(_ x: Tensor, _ g: Tensor) -> Tensor {
    Tensor.zipChunks(x, g, costPerItem: 2) { src, grad, dst, range in
        for i in range {
            let gi = grad[i]  // loaded unconditionally: a select, not a branch on the sign of x
            dst[i] = src[i] > 0 ? gi : 0
        }
    }
}
