import Foundation

// Reductions along one axis. A tensor is viewed as [outer, n, inner] around the reduced axis of extent n.

extension Tensor {
    /// (outer, n, inner) around `axis`.
    func split(around axis: Int) -> (outer: Int, n: Int, inner: Int) {
        let a = self.axis(axis, op: "reduce")
        let outer = shape[..<a].reduce(1, *)
        let inner = shape[(a + 1)...].reduce(1, *)
        return (outer, shape[a], inner)
    }

    func reducedShape(_ axis: Int, keepDims: Bool) -> [Int] {
        let a = self.axis(axis, op: "reduce")
        var s = shape
        if keepDims { s[a] = 1 } else { s.remove(at: a) }
        return s
    }

    // MARK: - Sum and mean

    /// Sum of all elements (accumulated in Float64), a 0-d tensor.
    public func sum() -> Tensor {
        var acc = 0.0
        data.withUnsafeBufferPointer { x in
            var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
            var i = 0
            // Blocks of 4 partial Float sums, each block flushed into the Double.
            while i + 4096 <= x.count {
                a0 = 0; a1 = 0; a2 = 0; a3 = 0
                var j = i
                while j < i + 4096 { a0 += x[j]; a1 += x[j + 1]; a2 += x[j + 2]; a3 += x[j + 3]; j += 4 }
                acc += Double(a0) + Double(a1) + Double(a2) + Double(a3)
                i += 4096
            }
            while i < x.count { acc += Double(x[i]); i += 1 }
        }
        let out = Tensor(Float(acc))
        let src = self
        return out.recorded(self) { g in src.accumulateGrad(Tensor.full(src.shape, g.item)) }
    }

    /// Sum along `axis`.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor {
        let (outer, n, inner) = split(around: axis)
        var out = [Float](repeating: 0, count: outer * inner)
        data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for b in 0..<outer {
                    let base = b * n * inner
                    if inner == 1 {
                        var acc: Float = 0
                        for k in 0..<n { acc += x[base + k] }
                        o[b] = acc
                    } else {
                        for k in 0..<n {
                            let row = base + k * inner
                            for j in 0..<inner { o[b * inner + j] += x[row + j] }
                        }
                    }
                }
            }
        }
        let result = Tensor(shape: reducedShape(axis, keepDims: keepDims), data: out)
        let src = self
        return result.recorded(self) { g in
            // Broadcast g back over the reduced axis.
            let gx = Tensor(shape: src.shape) { d in
                g.data.withUnsafeBufferPointer { gp in
                    for b in 0..<outer {
                        for k in 0..<n {
                            let row = (b * n + k) * inner
                            for j in 0..<inner { d[row + j] = gp[b * inner + j] }
                        }
                    }
                }
            }
            src.accumulateGrad(gx)
        }
    }

    /// Sum over several axes (in any order).
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        var t = self
        for a in axes.map({ axis($0) }).sorted(by: >) { t = t.sum(axis: a, keepDims: keepDims) }
        return t
    }

    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor {
        sum(axis: axis, keepDims: keepDims) * (1 / Float(shape[self.axis(axis)]))
    }
    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let n = axes.map { shape[axis($0)] }.reduce(1, *)
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(n))
    }

    /// Variance along `axis` (biased: divides by n; `unbiased: true` divides by n − 1).
    public func variance(axis: Int, unbiased: Bool = false, keepDims: Bool = false) -> Tensor {
        let n = shape[self.axis(axis)]
        let centred = self - mean(axis: axis, keepDims: true)
        return centred.square().sum(axis: axis, keepDims: keepDims) * (1 / Float(unbiased ? n - 1 : n))
    }

    /// Euclidean norm along `axis`.
    public func norm(axis: Int, keepDims: Bool = false) -> Tensor {
        square().sum(axis: axis, keepDims: keepDims).sqrt()
    }

    /// p-norm of all elements (p = 1 or 2 typical), as a Double (no gradient).
    public func normValue(p: Double = 2) -> Double {
        var acc = 0.0
        for v in data { acc += Foundation.pow(Double(Swift.abs(v)), p) }
        return Foundation.pow(acc, 1 / p)
    }

    // MARK: - Max / min

    /// Indices of the maximum along `axis` (first one on ties), shape of the reduced tensor, as Ints.
    public func argmax(axis: Int = -1) -> [Int] { argExtreme(axis: axis, greater: true) }
    /// Indices of the minimum along `axis` (first one on ties).
    public func argmin(axis: Int = -1) -> [Int] { argExtreme(axis: axis, greater: false) }

    func argExtreme(axis: Int, greater: Bool) -> [Int] {
        let (outer, n, inner) = split(around: axis)
        precondition(n > 0, "argmax/argmin: empty axis in shape \(shape)")
        var idx = [Int](repeating: 0, count: outer * inner)
        data.withUnsafeBufferPointer { x in
            for b in 0..<outer {
                for j in 0..<inner {
                    var best = x[b * n * inner + j], bi = 0
                    for k in 1..<n {
                        let v = x[(b * n + k) * inner + j]
                        if greater ? v > best : v < best { best = v; bi = k }
                    }
                    idx[b * inner + j] = bi
                }
            }
        }
        return idx
    }

    /// Maximum along `axis`; the gradient flows to the (first) maximal element.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { extreme(axis: axis, keepDims: keepDims, greater: true) }
    /// Minimum along `axis`; the gradient flows to the (first) minimal element.
    public func min(axis: Int, keepDims: Bool = false) -> Tensor { extreme(axis: axis, keepDims: keepDims, greater: false) }
    /// Largest element value (no gradient).
    public func maxValue() -> Float { data.max() ?? -.infinity }
    /// Smallest element value (no gradient).
    public func minValue() -> Float { data.min() ?? .infinity }

    func extreme(axis: Int, keepDims: Bool, greater: Bool) -> Tensor {
        let (outer, n, inner) = split(around: axis)
        let idx = argExtreme(axis: axis, greater: greater)
        var out = [Float](repeating: 0, count: outer * inner)
        for b in 0..<outer { for j in 0..<inner { out[b * inner + j] = data[(b * n + idx[b * inner + j]) * inner + j] } }
        let result = Tensor(shape: reducedShape(axis, keepDims: keepDims), data: out)
        let src = self
        return result.recorded(self) { g in
            var gx = [Float](repeating: 0, count: src.count)
            for b in 0..<outer { for j in 0..<inner { gx[(b * n + idx[b * inner + j]) * inner + j] = g.data[b * inner + j] } }
            src.accumulateGrad(gx)
        }
    }

    // MARK: - Softmax family

    /// log Σ exp along `axis`, computed stably (max subtracted).
    public func logsumexp(axis: Int = -1, keepDims: Bool = false) -> Tensor {
        let (outer, n, inner) = split(around: axis)
        var out = [Float](repeating: 0, count: outer * inner)
        data.withUnsafeBufferPointer { x in
            for b in 0..<outer {
                for j in 0..<inner {
                    var m = -Float.infinity
                    for k in 0..<n { m = Swift.max(m, x[(b * n + k) * inner + j]) }
                    var s: Float = 0
                    for k in 0..<n { s += fastExp(x[(b * n + k) * inner + j] - m) }
                    out[b * inner + j] = m + Foundation.log(s)
                }
            }
        }
        let result = Tensor(shape: reducedShape(axis, keepDims: keepDims), data: out)
        let src = self
        return result.recorded(self) { g in
            // d lse / dx_k = softmax_k
            let sm = src.softmaxValues(outer: outer, n: n, inner: inner)
            var gx = sm
            for b in 0..<outer { for k in 0..<n { for j in 0..<inner { gx[(b * n + k) * inner + j] *= g.data[b * inner + j] } } }
            src.accumulateGrad(gx)
        }
    }

    /// softmax values along the middle axis of an [outer, n, inner] view (no tape).
    func softmaxValues(outer: Int, n: Int, inner: Int) -> [Float] {
        var y = [Float](repeating: 0, count: count)
        data.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { yp in
                let (xb, yb) = (UncheckedSendable(x.baseAddress!), UncheckedSendable(yp.baseAddress!))
                if inner == 1 {
                    Parallel.forChunks(outer, costPerItem: n * 4) { lo, hi in
                        let x = xb.value, y = yb.value
                        for b in lo..<hi {
                            let row = b * n
                            var m = -Float.infinity
                            for k in 0..<n { m = Swift.max(m, x[row + k]) }
                            var s: Float = 0
                            for k in 0..<n { let e = fastExp(x[row + k] - m); y[row + k] = e; s += e }
                            let inv = 1 / s
                            for k in 0..<n { y[row + k] *= inv }
                        }
                    }
                } else {
                    let x = xb.value, y = yb.value
                    for b in 0..<outer {
                        for j in 0..<inner {
                            var m = -Float.infinity
                            for k in 0..<n { m = Swift.max(m, x[(b * n + k) * inner + j]) }
                            var s: Float = 0
                            for k in 0..<n { let e = fastExp(x[(b * n + k) * inner + j] - m); y[(b * n + k) * inner + j] = e; s += e }
                            for k in 0..<n { y[(b * n + k) * inner + j] /= s }
                        }
                    }
                }
            }
        }
        return y
    }

    /// softmax along `axis`: y_k = exp(x_k) / Σ_j exp(x_j).
    public func softmax(axis: Int = -1) -> Tensor {
        let (outer, n, inner) = split(around: axis)
        let out = Tensor(shape: shape, data: softmaxValues(outer: outer, n: n, inner: inner))
        let src = self
        return out.recorded(self) { [unowned out] g in
            // dx = y ⊙ (g − Σ_k g_k y_k)
            let gx = Tensor(shape: src.shape) { dx in
                out.data.withUnsafeBufferPointer { y in
                    g.data.withUnsafeBufferPointer { gp in
                        if inner == 1, let ys = y.baseAddress, let gs = gp.baseAddress, let ds = dx.baseAddress {
                            // Contiguous rows (the last axis): vectorised, in parallel over rows.
                            let (yb, gb, db) = (UncheckedSendable(ys), UncheckedSendable(gs), UncheckedSendable(ds))
                            Parallel.forChunks(outer, costPerItem: n * 3) { lo, hi in
                                for b in lo..<hi {
                                    let (yr, gr, dr) = (yb.value + b * n, gb.value + b * n, db.value + b * n)
                                    var dot: Float = 0
                                    for k in 0..<n { dot += gr[k] * yr[k] }
                                    for k in 0..<n { dr[k] = yr[k] * (gr[k] - dot) }
                                }
                            }
                            return
                        }
                        for b in 0..<outer {
                            for j in 0..<inner {
                                var dot: Float = 0
                                for k in 0..<n { let i = (b * n + k) * inner + j; dot += gp[i] * y[i] }
                                for k in 0..<n { let i = (b * n + k) * inner + j; dx[i] = y[i] * (gp[i] - dot) }
                            }
                        }
                    }
                }
            }
            src.accumulateGrad(gx)
        }
    }

    /// log-softmax along `axis`: x_k − logsumexp(x).
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let (outer, n, inner) = split(around: axis)
        // x − logsumexp(x): exact for tiny probabilities, unlike the log of a rounded softmax.
        let lse = noGrad { logsumexp(axis: axis, keepDims: true) }
        let out = Tensor.zipWith(self, lse, op: "logSoftmax", -)
        let src = self
        return out.recorded(self) { [unowned out] g in
            // dx = g − softmax · Σ g
            let sm = out.data.map(fastExp)
            var gx = [Float](repeating: 0, count: src.count)
            g.data.withUnsafeBufferPointer { gp in
                for b in 0..<outer {
                    for j in 0..<inner {
                        var s: Float = 0
                        for k in 0..<n { s += gp[(b * n + k) * inner + j] }
                        for k in 0..<n { let i = (b * n + k) * inner + j; gx[i] = gp[i] - sm[i] * s }
                    }
                }
            }
            src.accumulateGrad(gx)
        }
    }

    /// Cumulative sum along `axis`.
    public func cumsum(axis: Int) -> Tensor {
        let (outer, n, inner) = split(around: axis)
        let out = Tensor(shape: shape) { o in
            data.withUnsafeBufferPointer { x in
                for b in 0..<outer {
                    for j in 0..<inner {
                        var acc: Float = 0
                        for k in 0..<n { let i = (b * n + k) * inner + j; acc += x[i]; o[i] = acc }
                    }
                }
            }
        }
        let src = self
        return out.recorded(self) { g in
            // Adjoint: reverse cumulative sum.
            var gx = [Float](repeating: 0, count: src.count)
            for b in 0..<outer {
                for j in 0..<inner {
                    var acc: Float = 0
                    for k in stride(from: n - 1, through: 0, by: -1) { let i = (b * n + k) * inner + j; acc += g.data[i]; gx[i] = acc }
                }
            }
            src.accumulateGrad(gx)
        }
    }
}
