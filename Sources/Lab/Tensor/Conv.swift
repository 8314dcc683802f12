// Convolutions by im2col + one GEMM over the whole batch.
//
// Dims: B batch, C input channels, H×W input plane, F output channels (filters), kH×kW kernel,
// Ho×Wo output plane, P = Ho·Wo output positions, K = C·kH·kW patch length, N = B·P columns.
//
// conv2d forward:   cols [K, N] = im2col(x)          (column b·P + p holds the patch under output p of sample b)
//                   Y [F, N] = W [F, K] · cols        (one GEMM: N = 65,536 for 32×32 batch 64)
//                   y [B, F, P] = Y permuted + bias
// conv2d backward:  dY [F, N] = g permuted
//                   dW += dY · colsᵀ,   db += Σ_{b,p} g,   dx += col2im(Wᵀ · dY)
// One GEMM over all samples beats B per-sample GEMMs on this CPU (measured in the report of branch `conv`):
// OpenBLAS splits a wide N well over its threads, and the two permutes cost little next to the GEMM.
// im2col, col2im and the permutes run on Lab's threads (Parallel.forChunks over samples or channels), never
// while OpenBLAS is running.

/// The geometry of one 2-d convolution: input [batch, channels, height, width], a kernelH × kernelW
/// window moved by (strideH, strideW) over the input zero-padded by (padH, padW) on each side.
struct ConvGeometry {
    let batch, channels, height, width: Int
    let kernelH, kernelW, strideH, strideW, padH, padW: Int

    /// Ho = ⌊(H + 2·padH − kH) / strideH⌋ + 1
    var outH: Int { (height + 2 * padH - kernelH) / strideH + 1 }
    /// Wo = ⌊(W + 2·padW − kW) / strideW⌋ + 1
    var outW: Int { (width + 2 * padW - kernelW) / strideW + 1 }
    /// P = Ho·Wo
    var positions: Int { outH * outW }
    /// K = C·kH·kW, the rows of the column matrix.
    var patch: Int { channels * kernelH * kernelW }
    /// N = B·P, the columns of the column matrix.
    var columns: Int { batch * positions }

    /// The output columns ox whose input column ox·strideW − padW + j lies inside 0..<W.
    @inline(__always)
    func validColumns(kernelColumn j: Int) -> Range<Int> {
        // ox·s − p + j ≥ 0  ⇔  ox ≥ ⌈(p − j)/s⌉;   ox·s − p + j ≤ W − 1  ⇔  ox ≤ ⌊(W − 1 + p − j)/s⌋
        let lo = Swift.max(0, ceilDiv(padW - j, strideW))
        let hi = Swift.min(outW, floorDiv(width - 1 + padW - j, strideW) + 1)
        return lo..<Swift.max(lo, hi)
    }
}

@inline(__always) private func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
@inline(__always) private func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }

/// cols[(c·kH + i)·kW + j, b·P + oy·Wo + ox] = x[b, c, oy·sH − pH + i, ox·sW − pW + j] (0 outside the input).
/// x: [B, C, H, W] → cols: [K, N]. Writes every element of cols (no zero-filling needed beforehand).
func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, into cols: UnsafeMutablePointer<Float>) {
    let (ho, wo, p, n) = (g.outH, g.outW, g.positions, g.columns)
    let (xs, cs) = (UncheckedSendable(x), UncheckedSendable(cols))
    Parallel.forChunks(g.batch, costPerItem: g.patch * p) { lo, hi in
        let (x, cols) = (xs.value, cs.value)
        for b in lo..<hi {
            for c in 0..<g.channels {
                let plane = x + (b * g.channels + c) * g.height * g.width
                for i in 0..<g.kernelH {
                    for j in 0..<g.kernelW {
                        let valid = g.validColumns(kernelColumn: j)
                        var dst = cols + ((c * g.kernelH + i) * g.kernelW + j) * n + b * p
                        for oy in 0..<ho {
                            let iy = oy * g.strideH - g.padH + i
                            if iy < 0 || iy >= g.height {
                                dst.update(repeating: 0, count: wo)
                            } else {
                                let row = plane + iy * g.width - g.padW + j
                                for ox in 0..<valid.lowerBound { dst[ox] = 0 }
                                if g.strideW == 1 {
                                    for ox in valid { dst[ox] = row[ox] }
                                } else {
                                    for ox in valid { dst[ox] = row[ox * g.strideW] }
                                }
                                for ox in valid.upperBound..<wo { dst[ox] = 0 }
                            }
                            dst += wo
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of im2col: x[b, c, oy·sH − pH + i, ox·sW − pW + j] += cols[(c·kH + i)·kW + j, b·P + oy·Wo + ox].
/// cols: [K, N] → x: [B, C, H, W] (accumulated; samples run in parallel and write disjoint planes).
func col2im(_ cols: UnsafePointer<Float>, _ g: ConvGeometry, addingInto x: UnsafeMutablePointer<Float>) {
    let (ho, wo, p, n) = (g.outH, g.outW, g.positions, g.columns)
    let (xs, cs) = (UncheckedSendable(x), UncheckedSendable(cols))
    Parallel.forChunks(g.batch, costPerItem: g.patch * p) { lo, hi in
        let (x, cols) = (xs.value, cs.value)
        for b in lo..<hi {
            for c in 0..<g.channels {
                let plane = x + (b * g.channels + c) * g.height * g.width
                for i in 0..<g.kernelH {
                    for j in 0..<g.kernelW {
                        let valid = g.validColumns(kernelColumn: j)
                        var src = cols + ((c * g.kernelH + i) * g.kernelW + j) * n + b * p
                        for oy in 0..<ho {
                            let iy = oy * g.strideH - g.padH + i
                            if iy >= 0 && iy < g.height {
                                let row = plane + iy * g.width - g.padW + j
                                if g.strideW == 1 {
                                    for ox in valid { row[ox] += src[ox] }
                                } else {
                                    for ox in valid { row[ox * g.strideW] += src[ox] }
                                }
                            }
                            src += wo
                        }
                    }
                }
            }
        }
    }
}

/// [B, C, P] → [C, B·P]: dst[c, b·P + p] = src[b, c, p].
func toChannelMajor(_ src: UnsafePointer<Float>, batch: Int, channels: Int, positions p: Int,
                    into dst: UnsafeMutablePointer<Float>) {
    let (ss, ds) = (UncheckedSendable(src), UncheckedSendable(dst))
    Parallel.forChunks(channels, costPerItem: batch * p) { lo, hi in
        for c in lo..<hi {
            for b in 0..<batch {
                (ds.value + (c * batch + b) * p).update(from: ss.value + (b * channels + c) * p, count: p)
            }
        }
    }
}

/// [C, B·P] → [B, C, P]: dst[b, c, p] (= or +=) src[c, b·P + p] (+ bias[c]).
func fromChannelMajor(_ src: UnsafePointer<Float>, batch: Int, channels: Int, positions p: Int,
                      bias: UnsafePointer<Float>?, accumulate: Bool, into dst: UnsafeMutablePointer<Float>) {
    let (ss, ds, bs) = (UncheckedSendable(src), UncheckedSendable(dst), UncheckedSendable(bias))
    Parallel.forChunks(channels, costPerItem: batch * p) { lo, hi in
        for c in lo..<hi {
            let beta = bs.value?[c] ?? 0
            for b in 0..<batch {
                let s = ss.value + (c * batch + b) * p, d = ds.value + (b * channels + c) * p
                if accumulate {
                    for k in 0..<p { d[k] += s[k] }
                } else {
                    for k in 0..<p { d[k] = s[k] + beta }
                }
            }
        }
    }
}

/// bias gradient: db[c] += Σ_{b,p} g[b, c, p] for g: [B, C, P].
func accumulateChannelSums(_ g: Tensor, channels: Int, into bias: Tensor) {
    let batch = g.shape[0], p = g.count / Swift.max(batch * channels, 1)
    let gb = bias.ensureGrad()
    g.data.withUnsafeBufferPointer { gp in
        for c in 0..<channels {
            var acc: Float = 0
            for b in 0..<batch {
                let row = gp.baseAddress! + (b * channels + c) * p
                for k in 0..<p { acc += row[k] }
            }
            gb.data[c] += acc
        }
    }
}

/// A buffer of n floats whose contents `body` writes in full (no zero-filling).
@inline(__always)
func uninitializedFloats(_ n: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: n) { buf, count in
        if n > 0 { body(buf.baseAddress!) }
        count = n
    }
}

extension Tensor {
    /// 2-d cross-correlation (PyTorch's `conv2d`, groups = 1) with zero padding:
    /// y[b, f, oy, ox] = bias[f] + Σ_{c,i,j} weight[f, c, i, j] · x[b, c, oy·sH − pH + i, ox·sW − pW + j].
    ///
    ///     self: [B, C, H, W], weight: [F, C, kH, kW], bias: [F] → [B, F, Ho, Wo],
    ///     Ho = ⌊(H + 2pH − kH)/sH⌋ + 1, Wo = ⌊(W + 2pW − kW)/sW⌋ + 1
    ///
    /// Computed as im2col over the whole batch and one GEMM; gradients for input, weight and bias.
    ///
    ///     let y = x.conv2d(w, bias: b, stride: (1, 1), padding: (1, 1))   // 3×3 "same"
    public func conv2d(_ weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                       padding: (Int, Int) = (0, 0)) -> Tensor {
        let x = self
        precondition(x.rank == 4 && weight.rank == 4 && weight.shape[1] == x.shape[1],
                     "conv2d: input \(x.shape) [B, C, H, W] and weight \(weight.shape) [F, C, kH, kW] do not fit")
        let filters = weight.shape[0]
        if let b = bias { precondition(b.shape == [filters], "conv2d: bias \(b.shape) for weight \(weight.shape), expected [\(filters)]") }
        precondition(stride.0 >= 1 && stride.1 >= 1 && padding.0 >= 0 && padding.1 >= 0,
                     "conv2d: stride \(stride) must be ≥ 1 and padding \(padding) ≥ 0")
        let g = ConvGeometry(batch: x.shape[0], channels: x.shape[1], height: x.shape[2], width: x.shape[3],
                             kernelH: weight.shape[2], kernelW: weight.shape[3],
                             strideH: stride.0, strideW: stride.1, padH: padding.0, padW: padding.1)
        precondition(g.outH >= 1 && g.outW >= 1,
                     "conv2d: kernel \(weight.shape[2])×\(weight.shape[3]) larger than padded input \(x.shape) (padding \(padding))")
        let (k, n, p) = (g.patch, g.columns, g.positions)

        // cols [K, N] = im2col(x); Y [F, N] = W · cols; y = Y permuted to [B, F, Ho, Wo] + bias.
        let cols = x.data.withUnsafeBufferPointer { xp in uninitializedFloats(k * n) { im2col(xp.baseAddress!, g, into: $0) } }
        let product = cols.withUnsafeBufferPointer { cp in
            weight.data.withUnsafeBufferPointer { wp in
                uninitializedFloats(filters * n) { sgemm(wp.baseAddress!, cp.baseAddress!, $0, m: filters, n: n, k: k) }
            }
        }
        let out = Tensor(shape: [g.batch, filters, g.outH, g.outW]) { o in
            product.withUnsafeBufferPointer { yp in
                if let b = bias {
                    b.data.withUnsafeBufferPointer { bp in
                        fromChannelMajor(yp.baseAddress!, batch: g.batch, channels: filters, positions: p,
                                         bias: bp.baseAddress!, accumulate: false, into: o.baseAddress!)
                    }
                } else {
                    fromChannelMajor(yp.baseAddress!, batch: g.batch, channels: filters, positions: p,
                                     bias: nil, accumulate: false, into: o.baseAddress!)
                }
            }
        }
        guard Tensor.recording(x, weight) || (bias.map { Tensor.recording($0) } ?? false) else { return out }
        // The columns are kept for dW only.
        let savedCols: [Float]? = weight.requiresGrad ? cols : nil
        return out.recorded(inputs: [x, weight] + (bias.map { [$0] } ?? [])) { grad in
            if let b = bias, b.requiresGrad { accumulateChannelSums(grad, channels: filters, into: b) }
            guard x.requiresGrad || weight.requiresGrad else { return }
            // dY [F, N] = g permuted.
            let dY = grad.data.withUnsafeBufferPointer { gp in
                uninitializedFloats(filters * n) {
                    toChannelMajor(gp.baseAddress!, batch: g.batch, channels: filters, positions: p, into: $0)
                }
            }
            dY.withUnsafeBufferPointer { dyp in
                if let cols = savedCols {
                    // dW [F, K] += dY [F, N] · colsᵀ
                    let gw = weight.ensureGrad()
                    cols.withUnsafeBufferPointer { cp in
                        gw.data.withUnsafeMutableBufferPointer { gwp in
                            sgemm(dyp.baseAddress!, cp.baseAddress!, gwp.baseAddress!, m: filters, n: k, k: n,
                                  transB: true, beta: 1)
                        }
                    }
                }
                if x.requiresGrad {
                    // dcols [K, N] = Wᵀ · dY;  dx += col2im(dcols)
                    let dcols = weight.data.withUnsafeBufferPointer { wp in
                        uninitializedFloats(k * n) {
                            sgemm(wp.baseAddress!, dyp.baseAddress!, $0, m: k, n: n, k: filters, transA: true)
                        }
                    }
                    let gx = x.ensureGrad()
                    dcols.withUnsafeBufferPointer { dp in
                        gx.data.withUnsafeMutableBufferPointer { col2im(dp.baseAddress!, g, addingInto: $0.baseAddress!) }
                    }
                }
            }
        }
    }

    /// `conv2d` with the same stride and padding on both axes.
    public func conv2d(_ weight: Tensor, bias: Tensor? = nil, stride: Int, padding: Int) -> Tensor {
        conv2d(weight, bias: bias, stride: (stride, stride), padding: (padding, padding))
    }

    /// Transposed convolution (PyTorch's `conv_transpose2d`, groups = 1): the adjoint of `conv2d` with the
    /// same weight, stride and padding, plus a bias. Each input pixel scatters weight[c, f, :, :]·x into
    /// the output window at (iy·sH − pH, ix·sW − pW):
    ///
    ///     self: [B, C, H, W], weight: [C, F, kH, kW], bias: [F] → [B, F, Ho, Wo],
    ///     Ho = (H − 1)·sH − 2pH + kH + outputPadding.h   (outputPadding < stride picks among the
    ///     input sizes that a stride-s conv maps to the same H)
    ///
    /// Forward = conv2d's input gradient: dcols [K, N] = Wᵀ · x permuted to [C, B·H·W], then col2im onto
    /// the output. Backward = conv2d's forward: cols = im2col(g), dx = W · cols, dW += x · colsᵀ.
    public func convTranspose2d(_ weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                                padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0)) -> Tensor {
        let x = self
        precondition(x.rank == 4 && weight.rank == 4 && weight.shape[0] == x.shape[1],
                     "convTranspose2d: input \(x.shape) [B, C, H, W] and weight \(weight.shape) [C, F, kH, kW] do not fit")
        precondition(stride.0 >= 1 && stride.1 >= 1 && padding.0 >= 0 && padding.1 >= 0,
                     "convTranspose2d: stride \(stride) must be ≥ 1 and padding \(padding) ≥ 0")
        precondition(outputPadding.0 >= 0 && outputPadding.0 < stride.0 && outputPadding.1 >= 0 && outputPadding.1 < stride.1,
                     "convTranspose2d: output padding \(outputPadding) must lie in 0..<stride \(stride)")
        let (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (filters, kh, kw) = (weight.shape[1], weight.shape[2], weight.shape[3])
        if let b = bias { precondition(b.shape == [filters], "convTranspose2d: bias \(b.shape) for weight \(weight.shape), expected [\(filters)]") }
        let outH = (height - 1) * stride.0 - 2 * padding.0 + kh + outputPadding.0
        let outW = (width - 1) * stride.1 - 2 * padding.1 + kw + outputPadding.1
        precondition(outH >= 1 && outW >= 1, "convTranspose2d: input \(x.shape) with kernel \(kh)×\(kw), stride \(stride), padding \(padding) gives an empty output")
        // The conv that this op is the adjoint of: output-sized input, F channels, producing [B, C, H, W].
        let g = ConvGeometry(batch: batch, channels: filters, height: outH, width: outW, kernelH: kh, kernelW: kw,
                             strideH: stride.0, strideW: stride.1, padH: padding.0, padW: padding.1)
        precondition(g.outH == height && g.outW == width, "convTranspose2d: geometry mismatch for \(x.shape)")
        let (k, n, p) = (g.patch, g.columns, g.positions)

        // xT [C, N] = x permuted; dcols [K, N] = Wᵀ · xT (weight viewed as [C, K]); y = col2im(dcols) + bias.
        let xT = x.data.withUnsafeBufferPointer { xp in
            uninitializedFloats(channels * n) {
                toChannelMajor(xp.baseAddress!, batch: batch, channels: channels, positions: p, into: $0)
            }
        }
        let dcols = xT.withUnsafeBufferPointer { tp in
            weight.data.withUnsafeBufferPointer { wp in
                uninitializedFloats(k * n) { sgemm(wp.baseAddress!, tp.baseAddress!, $0, m: k, n: n, k: channels, transA: true) }
            }
        }
        var y = [Float](repeating: 0, count: batch * filters * outH * outW)
        dcols.withUnsafeBufferPointer { dp in y.withUnsafeMutableBufferPointer { col2im(dp.baseAddress!, g, addingInto: $0.baseAddress!) } }
        if let b = bias {
            let plane = outH * outW
            for s in 0..<batch { for f in 0..<filters {
                let beta = b.data[f], base = (s * filters + f) * plane
                for q in 0..<plane { y[base + q] += beta }
            } }
        }
        let out = Tensor(shape: [batch, filters, outH, outW], data: y)
        guard Tensor.recording(x, weight) || (bias.map { Tensor.recording($0) } ?? false) else { return out }
        let savedXT: [Float]? = weight.requiresGrad ? xT : nil
        return out.recorded(inputs: [x, weight] + (bias.map { [$0] } ?? [])) { grad in
            if let b = bias, b.requiresGrad { accumulateChannelSums(grad, channels: filters, into: b) }
            guard x.requiresGrad || weight.requiresGrad else { return }
            let cols = grad.data.withUnsafeBufferPointer { gp in uninitializedFloats(k * n) { im2col(gp.baseAddress!, g, into: $0) } }
            cols.withUnsafeBufferPointer { cp in
                if let xT = savedXT {
                    // dW [C, K] += xT [C, N] · colsᵀ
                    let gw = weight.ensureGrad()
                    xT.withUnsafeBufferPointer { tp in
                        gw.data.withUnsafeMutableBufferPointer { gwp in
                            sgemm(tp.baseAddress!, cp.baseAddress!, gwp.baseAddress!, m: channels, n: k, k: n,
                                  transB: true, beta: 1)
                        }
                    }
                }
                if x.requiresGrad {
                    // dxT [C, N] = W [C, K] · cols;  dx += dxT permuted back to [B, C, H, W]
                    let dxT = weight.data.withUnsafeBufferPointer { wp in
                        uninitializedFloats(channels * n) { sgemm(wp.baseAddress!, cp.baseAddress!, $0, m: channels, n: n, k: k) }
                    }
                    let gx = x.ensureGrad()
                    dxT.withUnsafeBufferPointer { dp in
                        gx.data.withUnsafeMutableBufferPointer {
                            fromChannelMajor(dp.baseAddress!, batch: batch, channels: channels, positions: p,
                                             bias: nil, accumulate: true, into: $0.baseAddress!)
                        }
                    }
                }
            }
        }
    }

    /// `convTranspose2d` with the same stride, padding and output padding on both axes.
    public func convTranspose2d(_ weight: Tensor, bias: Tensor? = nil, stride: Int, padding: Int,
                                outputPadding: Int = 0) -> Tensor {
        convTranspose2d(weight, bias: bias, stride: (stride, stride), padding: (padding, padding),
                        outputPadding: (outputPadding, outputPadding))
    }

    /// 1-d cross-correlation: y[b, f, t] = bias[f] + Σ_{c,j} weight[f, c, j] · x[b, c, t·stride − padding + j].
    ///
    ///     self: [B, C, L], weight: [F, C, k], bias: [F] → [B, F, ⌊(L + 2·padding − k)/stride⌋ + 1]
    ///
    /// conv2d on a plane of height 1 (the reshapes share storage and pass gradients through).
    public func conv1d(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) -> Tensor {
        precondition(rank == 3 && weight.rank == 3 && weight.shape[1] == shape[1],
                     "conv1d: input \(shape) [B, C, L] and weight \(weight.shape) [F, C, k] do not fit")
        let y = unsqueezed(2).conv2d(weight.unsqueezed(2), bias: bias, stride: (1, stride), padding: (0, padding))
        return y.squeezed(2)
    }
}
