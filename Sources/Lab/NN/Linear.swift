import Foundation

extension Tensor {
    /// Affine map y = x·Wᵀ + b in one GEMM (the bias is written into the output first, GEMM adds to it).
    /// x: [.., in], weight: [out, in], bias: [out] → [.., out].
    public func linear(weight: Tensor, bias: Tensor?) -> Tensor {
        let x = self
        let (nOut, nIn) = (weight.shape[0], weight.shape[1])
        precondition(weight.rank == 2 && x.shape.last == nIn,
                     "linear: input \(x.shape) does not end in \(nIn) (weight \(weight.shape))")
        if let b = bias { precondition(b.shape == [nOut], "linear: bias \(b.shape) for weight \(weight.shape)") }
        let rows = x.count / Swift.max(nIn, 1)
        let outShape = Array(x.shape.dropLast()) + [nOut]
        let out = Tensor(shape: outShape) { o in
            if let b = bias {
                b.data.withUnsafeBufferPointer { bp in
                    let shared = UncheckedSendable((b: bp.baseAddress!, o: o.baseAddress!))
                    Parallel.forChunks(rows, costPerItem: nOut) { lo, hi in
                        for r in lo..<hi { (shared.value.o + r * nOut).update(from: shared.value.b, count: nOut) }
                    }
                }
            }
            x.data.withUnsafeBufferPointer { xp in
                weight.data.withUnsafeBufferPointer { wp in
                    sgemm(xp.baseAddress!, wp.baseAddress!, o.baseAddress!, m: rows, n: nOut, k: nIn,
                          transB: true, beta: bias == nil ? 0 : 1)
                }
            }
        }
        var inputs = [x, weight]
        if let b = bias { inputs.append(b) }
        return out.recorded(inputs: inputs) { g in
            g.data.withUnsafeBufferPointer { gp in
                if x.requiresGrad {  // dx = g·W
                    x.accumulateGEMMGrad { dx, beta in
                        weight.data.withUnsafeBufferPointer { wp in
                            sgemm(gp.baseAddress!, wp.baseAddress!, dx, m: rows, n: nIn, k: nOut, beta: beta)
                        }
                    }
                }
                if weight.requiresGrad {  // dW = gᵀ·x
                    weight.accumulateGEMMGrad { dw, beta in
                        x.data.withUnsafeBufferPointer { xp in
                            sgemm(gp.baseAddress!, xp.baseAddress!, dw, m: nOut, n: nIn, k: rows, transA: true, beta: beta)
                        }
                    }
                }
                if let b = bias, b.requiresGrad {  // db = Σ_rows g, each column summed over the rows in order
                    b.ensureGrad().data.withUnsafeMutableBufferPointer { db in
                        let shared = UncheckedSendable((g: gp.baseAddress!, db: db.baseAddress!))
                        Parallel.forChunks(nOut, costPerItem: rows) { lo, hi in
                            let (gb, dbb) = shared.value
                            RowKernels.addRows(gb + lo, rows: rows, stride: nOut, hi - lo, into: dbb + lo)
                        }
                    }
                }
            }
        }
    }
}

/// Fully connected layer y = x·Wᵀ + b.
///
/// Weight [outputSize, inputSize] and bias [outputSize] are initialised as in PyTorch:
/// U(−1/√inputSize, 1/√inputSize) (Kaiming-uniform with a = √5).
///
///     let fc = Linear(inputSize: 784, outputSize: 512, rng: &rng)
///     let y = fc(x)          // x: [B, 784] → [B, 512]
public final class Linear: Module, Layer {
    public var weight: Tensor
    public var bias: Tensor?

    public init(inputSize: Int, outputSize: Int, bias: Bool = true, rng: inout RNG) {
        let bound = 1 / Float(inputSize).squareRoot()
        weight = Tensor.rand([outputSize, inputSize], low: -bound, high: bound, rng: &rng, requiresGrad: true)
        self.bias = bias ? Tensor.rand([outputSize], low: -bound, high: bound, rng: &rng, requiresGrad: true) : nil
    }

    /// A layer with the given weight [out, in] and optional bias [out] (made trainable).
    public init(weight: Tensor, bias: Tensor? = nil) {
        weight.requiresGrad = true
        bias?.requiresGrad = true
        self.weight = weight
        self.bias = bias
    }

    public var inputSize: Int { weight.shape[1] }
    public var outputSize: Int { weight.shape[0] }

    /// x: [.., inputSize] → [.., outputSize]
    public func callAsFunction(_ x: Tensor) -> Tensor { x.linear(weight: weight, bias: bias) }
}
