import Foundation

/// Batch normalisation (Ioffe & Szegedy 2015, arXiv 1502.03167) over axis 1 of [B, C] or [B, C, H, W]:
/// y = γ·(x − μ)/√(σ² + ε) + β.
///
/// In train mode μ, σ² are the batch statistics (biased variance) and the running statistics are updated
/// with `momentum` (running = (1 − m)·running + m·batch, with the unbiased batch variance), as in PyTorch.
/// This also happens inside `noGrad` and on a frozen module (statistics update, no tape). In eval mode the
/// running statistics are used.
public final class BatchNorm: Module, Layer {
    public var weight: Tensor
    public var bias: Tensor
    public var runningMean: Tensor
    public var runningVar: Tensor
    public let momentum: Float
    public let epsilon: Float
    override public var bufferNames: Set<String> { ["runningMean", "runningVar"] }

    /// `features` = C; defaults momentum 0.1, ε = 1e-5 (PyTorch's).
    public init(features: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        weight = Tensor.ones([features], requiresGrad: true)
        bias = Tensor.zeros([features], requiresGrad: true)
        runningMean = Tensor.zeros([features])
        runningVar = Tensor.ones([features])
        self.momentum = momentum
        self.epsilon = epsilon
    }

    /// x: [B, C] or [B, C, H, W] → same shape.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 2 && x.shape[1] == weight.count,
                     "BatchNorm(\(weight.count)): input \(x.shape) does not have \(weight.count) channels on axis 1")
        let (b, c) = (x.shape[0], x.shape[1])
        let s = x.count / Swift.max(b * c, 1)   // spatial size
        let n = b * s
        var mean = [Float](repeating: 0, count: c), invStd = [Float](repeating: 0, count: c)
        if isTraining {
            precondition(n > 1, "BatchNorm: train mode needs more than one value per channel, got input \(x.shape)")
            x.data.withUnsafeBufferPointer { xp in
                for ch in 0..<c {
                    var sum = 0.0, sq = 0.0
                    for i in 0..<b {
                        let base = (i * c + ch) * s
                        var ps: Float = 0, pq: Float = 0
                        for j in 0..<s { let v = xp[base + j]; ps += v; pq += v * v }
                        sum += Double(ps); sq += Double(pq)
                    }
                    let mu = sum / Double(n)
                    let variance = Swift.max(sq / Double(n) - mu * mu, 0)
                    mean[ch] = Float(mu)
                    invStd[ch] = Float(1 / (variance + Double(epsilon)).squareRoot())
                    let m = Double(momentum)
                    runningMean.data[ch] = Float((1 - m) * Double(runningMean.data[ch]) + m * mu)
                    runningVar.data[ch] = Float((1 - m) * Double(runningVar.data[ch]) + m * variance * Double(n) / Double(n - 1))
                }
            }
        } else {
            for ch in 0..<c {
                mean[ch] = runningMean.data[ch]
                invStd[ch] = 1 / (runningVar.data[ch] + epsilon).squareRoot()
            }
        }
        let gamma = weight, beta = bias
        if !Tensor.recording(x, gamma, beta) {
            // No tape (evaluation): one affine pass y = γ·invstd·x + (β − γ·invstd·μ), no x̂ kept.
            return Tensor(shape: x.shape) { o in
                x.data.withUnsafeBufferPointer { xp in
                    for i in 0..<b {
                        for ch in 0..<c {
                            let base = (i * c + ch) * s
                            let scale = gamma.data[ch] * invStd[ch], shift = beta.data[ch] - scale * mean[ch]
                            for j in 0..<s { o[base + j] = scale * xp[base + j] + shift }
                        }
                    }
                }
            }
        }
        // x̂ is kept for the backward pass.
        let xhat = Tensor(shape: x.shape) { h in
            x.data.withUnsafeBufferPointer { xp in
                for i in 0..<b {
                    for ch in 0..<c {
                        let base = (i * c + ch) * s
                        let (mu, inv) = (mean[ch], invStd[ch])
                        for j in 0..<s { h[base + j] = (xp[base + j] - mu) * inv }
                    }
                }
            }
        }
        let out = Tensor(shape: x.shape) { o in
            xhat.data.withUnsafeBufferPointer { hp in
                for i in 0..<b {
                    for ch in 0..<c {
                        let base = (i * c + ch) * s
                        let (g, bb) = (gamma.data[ch], beta.data[ch])
                        for j in 0..<s { o[base + j] = g * hp[base + j] + bb }
                    }
                }
            }
        }
        let training = isTraining
        return out.recorded(x, gamma, beta) { g in
            var dGamma = [Float](repeating: 0, count: c), dBeta = [Float](repeating: 0, count: c)
            g.data.withUnsafeBufferPointer { gp in
                xhat.data.withUnsafeBufferPointer { hp in
                    for i in 0..<b {
                        for ch in 0..<c {
                            let base = (i * c + ch) * s
                            var sg: Float = 0, sgx: Float = 0
                            for j in 0..<s { sg += gp[base + j]; sgx += gp[base + j] * hp[base + j] }
                            dBeta[ch] += sg; dGamma[ch] += sgx
                        }
                    }
                    guard x.requiresGrad else { return }
                    let fn = Float(n)
                    let dx = Tensor(shape: x.shape) { d in
                        for i in 0..<b {
                            for ch in 0..<c {
                                let base = (i * c + ch) * s
                                let (gm, inv) = (gamma.data[ch], invStd[ch])
                                if training {
                                    // dx = (1/N)·invstd·(N·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂)), dx̂ = g·γ
                                    let (sumDxhat, sumDxhatXhat) = (dBeta[ch] * gm, dGamma[ch] * gm)
                                    let k = inv / fn
                                    for j in 0..<s {
                                        d[base + j] = k * (fn * gm * gp[base + j] - sumDxhat - hp[base + j] * sumDxhatXhat)
                                    }
                                } else {
                                    for j in 0..<s { d[base + j] = gp[base + j] * gm * inv }
                                }
                            }
                        }
                    }
                    x.accumulateGrad(dx)
                }
            }
            gamma.accumulateGrad(dGamma)
            beta.accumulateGrad(dBeta)
        }
    }
}

/// Layer normalisation (Ba et al. 2016, arXiv 1607.06450) over the last axis: y = γ·(x − μ)/√(σ² + ε) + β.
public final class LayerNorm: Module, Layer {
    public var weight: Tensor
    public var bias: Tensor?
    public let epsilon: Float

    public init(features: Int, epsilon: Float = 1e-5, bias: Bool = true) {
        weight = Tensor.ones([features], requiresGrad: true)
        self.bias = bias ? Tensor.zeros([features], requiresGrad: true) : nil
        self.epsilon = epsilon
    }

    /// x: [.., features] → same shape.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == weight.count, "LayerNorm(\(weight.count)): input \(x.shape)")
        return x.layerNormalized(weight: weight, bias: bias, epsilon: epsilon)
    }
}

/// RMS normalisation (Zhang & Sennrich 2019, arXiv 1910.07467) over the last axis: y = γ·x/√(mean(x²) + ε).
public final class RMSNorm: Module, Layer {
    public var weight: Tensor
    public let epsilon: Float

    public init(features: Int, epsilon: Float = 1e-5) {
        weight = Tensor.ones([features], requiresGrad: true)
        self.epsilon = epsilon
    }

    /// x: [.., features] → same shape.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == weight.count, "RMSNorm(\(weight.count)): input \(x.shape)")
        return x.rmsNormalized(weight: weight, epsilon: epsilon)
    }
}

extension Tensor {
    /// RMSNorm (Zhang & Sennrich 2019, arXiv 1910.07467) over the last axis as one fused op:
    /// y = x · r · w with r = 1/√(mean(x²) + ε) per row. self: [.., n], weight: [n] → same shape as self.
    /// Backward: dw = Σ_rows dy ⊙ x·r;  dx = r·(dy ⊙ w) − x · r³/n · Σ_k dy_k w_k x_k.
    /// Rows run in parallel; dw is summed over rows in order, per column block, so it does not depend on the
    /// thread count.
    public func rmsNormalized(weight: Tensor, epsilon: Float) -> Tensor {
        let n = shape.last ?? 0
        precondition(weight.shape == [n], "rmsNormalized: weight \(weight.shape) for input \(shape)")
        let rows = n == 0 ? 0 : count / n
        let x = self
        var inverseRMS = scratchFloats(rows)
        let out = Tensor(shape: shape) { y in
            guard rows > 0 else { return }
            x.data.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
            inverseRMS.withUnsafeMutableBufferPointer { rp in
                let shared = UncheckedSendable((x: xp.baseAddress!, w: wp.baseAddress!, r: rp.baseAddress!, y: y.baseAddress!))
                Parallel.forChunks(rows, costPerItem: 3 * n) { lo, hi in
                    let (xb, wb, rb, yb) = shared.value
                    for row in lo..<hi {
                        let xr = xb + row * n, yr = yb + row * n
                        let r = 1 / (RowKernels.dot(xr, xr, n) / Float(n) + epsilon).squareRoot()
                        rb[row] = r
                        for j in 0..<n { yr[j] = xr[j] * r * wb[j] }
                    }
                }
            }
            }
            }
        }
        guard Tensor.recording(x, weight) else { return out }
        return out.recorded(x, weight) { g in
            guard rows > 0 else { return }
            // Every element of each needed gradient is written below.
            let (dx, dw) = (scratchGradient(for: x), scratchGradient(for: weight))
            x.data.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
            inverseRMS.withUnsafeBufferPointer { rp in
            g.data.withUnsafeBufferPointer { gp in
            withMutableData(dx) { dxp in
            withMutableData(dw) { dwp in
                let shared = UncheckedSendable((x: xp.baseAddress!, w: wp.baseAddress!, r: rp.baseAddress!, g: gp.baseAddress!,
                                                dx: dxp, dw: dwp))
                if dx != nil {
                    Parallel.forChunks(rows, costPerItem: 5 * n) { lo, hi in
                        let (xb, wb, rb, gb, dxb, _) = shared.value
                        var gw = [Float](repeating: 0, count: n)
                        gw.withUnsafeMutableBufferPointer { gwp in
                            let gwb = gwp.baseAddress!
                            for row in lo..<hi {
                                let xr = xb + row * n, gr = gb + row * n, dr = dxb! + row * n
                                for j in 0..<n { gwb[j] = gr[j] * wb[j] }
                                let r = rb[row]
                                let c = RowKernels.dot(gwb, xr, n) * r * r * r / Float(n)
                                for j in 0..<n { dr[j] = r * gwb[j] - xr[j] * c }
                            }
                        }
                    }
                }
                if dw != nil {
                    Parallel.forChunks(n, costPerItem: 2 * rows) { lo, hi in
                        let (xb, _, rb, gb, _, dwb) = shared.value
                        var acc = [Float](repeating: 0, count: hi - lo)
                        acc.withUnsafeMutableBufferPointer { ap in
                            let a = ap.baseAddress!
                            for row in 0..<rows {
                                let xr = xb + row * n + lo, gr = gb + row * n + lo, r = rb[row]
                                for j in 0..<(hi - lo) { a[j] += gr[j] * xr[j] * r }
                            }
                        }
                        for j in lo..<hi { dwb![j] = acc[j - lo] }
                    }
                }
            }
            }
            }
            }
            }
            }
            if let dx { x.accumulateGrad(dx) }
            if let dw { weight.accumulateGrad(dw) }
        }
    }
}

extension Tensor {
    /// LayerNorm (Ba et al. 2016, arXiv 1607.06450) over the last axis as one fused op:
    /// x̂ = (x − μ)·r with μ = mean(x), r = 1/√(mean((x − μ)²) + ε) per row; y = x̂ ⊙ w (+ b).
    /// self: [.., n], weight: [n], bias: [n] or nil → same shape as self.
    /// Backward, with ĝ = dy ⊙ w: dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂));  dw = Σ_rows dy ⊙ x̂;  db = Σ_rows dy.
    /// Rows run in parallel; dw and db are summed over rows in order, per column block, so they do not depend
    /// on the thread count.
    public func layerNormalized(weight: Tensor, bias: Tensor?, epsilon: Float) -> Tensor {
        let n = shape.last ?? 0
        precondition(weight.shape == [n], "layerNormalized: weight \(weight.shape) for input \(shape)")
        if let bias { precondition(bias.shape == [n], "layerNormalized: bias \(bias.shape) for input \(shape)") }
        let rows = n == 0 ? 0 : count / n
        let x = self
        // Per row: the mean and r, kept for the backward pass.
        var statistics = scratchFloats(2 * rows)
        let zeros = [Float](repeating: 0, count: bias == nil ? n : 0)
        let out = Tensor(shape: shape) { y in
            guard rows > 0 else { return }
            x.data.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
            (bias?.data ?? zeros).withUnsafeBufferPointer { bp in
            statistics.withUnsafeMutableBufferPointer { sp in
                let shared = UncheckedSendable((x: xp.baseAddress!, w: wp.baseAddress!, b: bp.baseAddress!, s: sp.baseAddress!,
                                                y: y.baseAddress!))
                Parallel.forChunks(rows, costPerItem: 5 * n) { lo, hi in
                    let (xb, wb, bb, sb, yb) = shared.value
                    func normalize(_ row: Int, mean: Float, r: Float) {
                        let xr = xb + row * n, yr = yb + row * n
                        sb[2 * row] = mean; sb[2 * row + 1] = r
                        for j in 0..<n { yr[j] = (xr[j] - mean) * r * wb[j] + bb[j] }
                    }
                    // Four rows at a time, one per lane: each row's sums still add its elements one after the
                    // other (the same bits as the one-row loop below), but four independent chains run at once
                    // instead of one waiting on each add.
                    var row = lo
                    while row + 4 <= hi {
                        let rowsOf4 = FourRows(xb + row * n, stride: n)
                        var sum = SIMD4<Float>(repeating: 0)
                        for j in 0..<n { sum += rowsOf4[j] }
                        let mean = sum / Float(n)
                        var squares = SIMD4<Float>(repeating: 0)
                        for j in 0..<n { let c = rowsOf4[j] - mean; squares += c * c }
                        let r = 1 / (squares / Float(n) + epsilon).squareRoot()
                        for k in 0..<4 { normalize(row + k, mean: mean[k], r: r[k]) }
                        row += 4
                    }
                    for tailRow in row..<hi {
                        let xr = xb + tailRow * n
                        var sum: Float = 0
                        for j in 0..<n { sum += xr[j] }
                        let mean = sum / Float(n)
                        var squares: Float = 0
                        for j in 0..<n { let c = xr[j] - mean; squares += c * c }
                        normalize(tailRow, mean: mean, r: 1 / (squares / Float(n) + epsilon).squareRoot())
                    }
                }
            }
            }
            }
            }
        }
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return out.recorded(inputs: inputs) { g in
            guard rows > 0 else { return }
            // Every element of each needed gradient is written below.
            let (dx, dw) = (scratchGradient(for: x), scratchGradient(for: weight))
            let db = bias.flatMap { scratchGradient(for: $0) }
            x.data.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
            statistics.withUnsafeBufferPointer { sp in
            g.data.withUnsafeBufferPointer { gp in
            withMutableData(dx) { dxp in
            withMutableData(dw) { dwp in
            withMutableData(db) { dbp in
                let shared = UncheckedSendable((x: xp.baseAddress!, w: wp.baseAddress!, s: sp.baseAddress!, g: gp.baseAddress!,
                                                dx: dxp, dw: dwp, db: dbp))
                if dx != nil {
                    Parallel.forChunks(rows, costPerItem: 8 * n) { lo, hi in
                        let (xb, wb, sb, gb, dxb, _, _) = shared.value
                        func inputGradient(_ row: Int, sumG: Float, sumGX: Float) {
                            let xr = xb + row * n, gr = gb + row * n, dr = dxb! + row * n
                            let (mean, r) = (sb[2 * row], sb[2 * row + 1])
                            let (meanG, meanGX) = (sumG / Float(n), sumGX / Float(n))
                            for j in 0..<n { dr[j] = r * (gr[j] * wb[j] - meanG - (xr[j] - mean) * r * meanGX) }
                        }
                        // Four rows at a time, one per lane, as in the forward (the same bits as one row at a time).
                        var row = lo
                        while row + 4 <= hi {
                            let (x4, g4) = (FourRows(xb + row * n, stride: n), FourRows(gb + row * n, stride: n))
                            let mean = SIMD4(sb[2 * row], sb[2 * row + 2], sb[2 * row + 4], sb[2 * row + 6])
                            let r = SIMD4(sb[2 * row + 1], sb[2 * row + 3], sb[2 * row + 5], sb[2 * row + 7])
                            var sumG = SIMD4<Float>(repeating: 0), sumGX = sumG
                            for j in 0..<n {
                                let gw = g4[j] * wb[j]
                                sumG += gw; sumGX += gw * (x4[j] - mean) * r
                            }
                            for k in 0..<4 { inputGradient(row + k, sumG: sumG[k], sumGX: sumGX[k]) }
                            row += 4
                        }
                        for tailRow in row..<hi {
                            let xr = xb + tailRow * n, gr = gb + tailRow * n
                            let (mean, r) = (sb[2 * tailRow], sb[2 * tailRow + 1])
                            var sumG: Float = 0, sumGX: Float = 0
                            for j in 0..<n {
                                let gw = gr[j] * wb[j]
                                sumG += gw; sumGX += gw * (xr[j] - mean) * r
                            }
                            inputGradient(tailRow, sumG: sumG, sumGX: sumGX)
                        }
                    }
                }
                if dw != nil || db != nil {
                    Parallel.forChunks(n, costPerItem: 3 * rows) { lo, hi in
                        let (xb, _, sb, gb, _, dwb, dbb) = shared.value
                        var sums = [Float](repeating: 0, count: 2 * (hi - lo))
                        sums.withUnsafeMutableBufferPointer { sp in
                            let (weightSum, biasSum) = (sp.baseAddress!, sp.baseAddress! + (hi - lo))
                            for row in 0..<rows {
                                let xr = xb + row * n + lo, gr = gb + row * n + lo
                                let (mean, r) = (sb[2 * row], sb[2 * row + 1])
                                for j in 0..<(hi - lo) {
                                    weightSum[j] += gr[j] * (xr[j] - mean) * r
                                    biasSum[j] += gr[j]
                                }
                            }
                            if let dwb { (dwb + lo).update(from: weightSum, count: hi - lo) }
                            if let dbb { (dbb + lo).update(from: biasSum, count: hi - lo) }
                        }
                    }
                }
            }
            }
            }
            }
            }
            }
            }
            if let dx { x.accumulateGrad(dx) }
            if let dw { weight.accumulateGrad(dw) }
            if let db, let bias { bias.accumulateGrad(db) }
        }
    }
}

/// Four consecutive rows of a row-major matrix read one column at a time: `rows[j]` holds element j of each row,
/// one row per lane, so a row loop over four rows keeps four independent chains in one vector.
struct FourRows {
    let base: UnsafePointer<Float>
    let stride: Int

    init(_ base: UnsafePointer<Float>, stride: Int) { self.base = base; self.stride = stride }
    init(_ base: UnsafeMutablePointer<Float>, stride: Int) { self.init(UnsafePointer(base), stride: stride) }

    @inline(__always)
    subscript(_ j: Int) -> SIMD4<Float> {
        SIMD4(base[j], base[stride + j], base[2 * stride + j], base[3 * stride + j])
    }
}

/// Token embedding: row lookup in a [vocabulary, dimension] table, initialised N(0, std²).
public final class Embedding: Module {
    public var weight: Tensor

    public init(vocabularySize: Int, dimension: Int, std: Float = 1, rng: inout RNG) {
        weight = Tensor.randn([vocabularySize, dimension], std: std, rng: &rng, requiresGrad: true)
    }

    /// ids of shape `shape` (e.g. [B, T]) → [shape..., dimension].
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
        precondition(ids.count == shape.reduce(1, *), "Embedding: \(ids.count) ids for shape \(shape)")
        return weight.indexSelect(axis: 0, ids).reshaped(shape + [weight.shape[1]])
    }
}

/// Dropout (Srivastava et al. 2014): in train mode each element is zeroed with probability p and the rest
/// scaled by 1/(1 − p); identity in eval mode. The layer owns its seeded RNG, so runs are repeatable.
public final class Dropout: Module, Layer {
    public let probability: Double
    var rng: RNG

    public init(probability: Double, seed: UInt64 = 0) {
        precondition(probability >= 0 && probability < 1, "Dropout: probability \(probability) not in [0, 1)")
        self.probability = probability
        rng = RNG(seed: seed)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard isTraining, probability > 0 else { return x }
        let keep = Float(1 / (1 - probability))
        var mask = [Float](repeating: 0, count: x.count)
        for i in 0..<mask.count where rng.uniform() >= probability { mask[i] = keep }
        return x * Tensor(shape: x.shape, data: mask)
    }
}
