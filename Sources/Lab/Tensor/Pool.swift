// Pooling and nearest-neighbour upsampling over the last two axes of [B, C, H, W] tensors.
// Every op works plane by plane (B·C planes of H×W), in parallel over planes.

/// The windows of a 2-d pooling over the planes of a [B, C, H, W] tensor: kH×kW windows moved by
/// (sH, sW), floor mode, no padding. Output [B, C, Ho, Wo] with Ho = ⌊(H − kH)/sH⌋ + 1, Wo = ⌊(W − kW)/sW⌋ + 1.
/// Shared by max and average pooling (forward and backward): the shape checks and the window arithmetic.
struct PoolWindows {
    let batch, channels, height, width, kernelH, kernelW, strideH, strideW, outH, outW: Int

    /// Checks `x` is [B, C, H, W] and the kernel fits; traps naming `op` otherwise. Stride defaults to the kernel.
    init(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int)?, op: String) {
        precondition(x.rank == 4, "\(op): input \(x.shape) is not [B, C, H, W]")
        (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        (kernelH, kernelW) = kernel
        (strideH, strideW) = stride ?? kernel
        precondition(kernelH >= 1 && kernelW >= 1 && strideH >= 1 && strideW >= 1,
                     "\(op): kernel \(kernel) and stride \((strideH, strideW)) must be ≥ 1")
        precondition(kernelH <= height && kernelW <= width,
                     "\(op): kernel \(kernel) larger than the input plane \(height)×\(width) of \(x.shape)")
        outH = (height - kernelH) / strideH + 1
        outW = (width - kernelW) / strideW + 1
    }

    var planes: Int { batch * channels }
    var outputShape: [Int] { [batch, channels, outH, outW] }

    /// Calls `body(window, plane, output)` for every window, in parallel over planes (disjoint, so bodies may
    /// write into their plane): `plane` is the flat offset of the input plane, `window` that of the window's
    /// top-left element within it (its rows are `width` apart), `output` the window's flat output index.
    @inline(__always)
    func forEachWindow(_ body: (_ window: Int, _ plane: Int, _ output: Int) -> Void) {
        let (planeSize, outPlane) = (height * width, outH * outW)
        Parallel.forChunks(planes, costPerItem: outPlane * kernelH * kernelW) { lo, hi in
            for q in lo..<hi {
                for oy in 0..<outH {
                    for ox in 0..<outW {
                        body(oy * strideH * width + ox * strideW, q * planeSize, (q * outH + oy) * outW + ox)
                    }
                }
            }
        }
    }
}

/// maxPool2d's 2×2 stride-2 forward, eight windows at a time: the window's four elements in row-major order
/// (r0[2ox], r0[2ox + 1], r1[2ox], r1[2ox + 1]) are the even/odd lanes of two rows; the first strict maximum
/// wins, as in the general loop. y and argmax: [planes, outH, outW].
private func maxPool2x2(_ x: UnsafePointer<Float>, _ p: PoolWindows, into y: UnsafeMutablePointer<Float>,
                        argmax a: UnsafeMutablePointer<Int32>) {
    let (w, outH, outW, planeSize) = (p.width, p.outH, p.outW, p.height * p.width)
    let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
    Parallel.forChunks(p.planes, costPerItem: outH * outW * 4) { lo, hi in
        for q in lo..<hi {
            let plane = x + q * planeSize
            for oy in 0..<outH {
                let top = 2 * oy * w  // flat index of the window row pair within the plane
                let (r0, r1) = (plane + top, plane + top + w)
                let (yRow, aRow) = (y + (q * outH + oy) * outW, a + (q * outH + oy) * outW)
                var ox = 0
                while ox + 8 <= outW {
                    let upper = UnsafeRawPointer(r0 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
                    let lower = UnsafeRawPointer(r1 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
                    let first = SIMD8<Int32>(repeating: Int32(top + 2 * ox)) &+ lanes
                    var best = upper.evenHalf, index = first
                    @inline(__always) func consider(_ candidate: SIMD8<Float>, offset: Int32) {
                        let better = candidate .> best
                        best.replace(with: candidate, where: better)
                        index.replace(with: first &+ offset, where: better)
                    }
                    consider(upper.oddHalf, offset: 1)
                    consider(lower.evenHalf, offset: Int32(w))
                    consider(lower.oddHalf, offset: Int32(w + 1))
                    UnsafeMutableRawPointer(yRow + ox).storeBytes(of: best, as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(aRow + ox).storeBytes(of: index, as: SIMD8<Int32>.self)
                    ox += 8
                }
                while ox < outW {
                    let first = top + 2 * ox
                    var bestIndex = first, best = plane[first]
                    @inline(__always) func consider(_ index: Int) {
                        if plane[index] > best { (best, bestIndex) = (plane[index], index) }
                    }
                    consider(first + 1)
                    consider(first + w)
                    consider(first + w + 1)
                    yRow[ox] = best
                    aRow[ox] = Int32(bestIndex)
                    ox += 1
                }
            }
        }
    }
}

extension Tensor {
    /// The (planes, H, W) view of a [B, C, H, W] tensor; traps naming the op otherwise.
    private func planes(_ op: String) -> (count: Int, height: Int, width: Int) {
        precondition(rank == 4, "\(op): input \(shape) is not [B, C, H, W]")
        return (shape[0] * shape[1], shape[2], shape[3])
    }

    /// Max pooling (floor mode, no padding): y[b, c, oy, ox] = max_{i<kH, j<kW} x[b, c, oy·sH + i, ox·sW + j].
    /// The gradient goes to the first maximal element of each window (row-major scan order).
    ///
    ///     self: [B, C, H, W] → [B, C, ⌊(H − kH)/sH⌋ + 1, ⌊(W − kW)/sW⌋ + 1];  stride defaults to the kernel
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil) -> Tensor {
        let p = PoolWindows(self, kernel: kernel, stride: stride, op: "maxPool2d")
        let (kh, kw, w) = (p.kernelH, p.kernelW, p.width)
        // argmax[o] = the flat index within its input plane of the element chosen for output o.
        var argmax = [Int32](repeating: 0, count: p.planes * p.outH * p.outW)
        let out = Tensor(shape: p.outputShape) { o in
            data.withUnsafeBufferPointer { xb in
                argmax.withUnsafeMutableBufferPointer { ab in
                    guard let x = xb.baseAddress, let y = o.baseAddress, let a = ab.baseAddress else { return }  // empty batch
                    if (kh, kw, p.strideH, p.strideW) == (2, 2, 2, 2) {
                        maxPool2x2(x, p, into: y, argmax: a)
                        return
                    }
                    p.forEachWindow { window, plane, output in
                        let src = x + plane
                        var bestIndex = window, best = src[window]
                        for i in 0..<kh {
                            for j in 0..<kw {
                                // Branch-free select: the first strict maximum wins, as in a row-major scan.
                                let index = window + i * w + j, v = src[index]
                                let better = v > best
                                best = better ? v : best
                                bestIndex = better ? index : bestIndex
                            }
                        }
                        y[output] = best
                        a[output] = Int32(bestIndex)
                    }
                }
            }
        }
        let x = self, routes = argmax
        let (planeSize, outPlane) = (p.height * p.width, p.outH * p.outW)
        return out.recorded(self) { g in
            // dx[argmax[o]] += g[o], in parallel over planes (each plane's routes stay inside it).
            let gx = x.ensureGrad()
            gx.data.withUnsafeMutableBufferPointer { gxb in
                g.data.withUnsafeBufferPointer { gb in
                    guard let dx = gxb.baseAddress, let dy = gb.baseAddress else { return }  // empty batch
                    Parallel.forChunks(p.planes, costPerItem: outPlane) { lo, hi in
                        for q in lo..<hi {
                            let plane = dx + q * planeSize
                            for o in (q * outPlane)..<((q + 1) * outPlane) { plane[Int(routes[o])] += dy[o] }
                        }
                    }
                }
            }
        }
    }

    /// `maxPool2d` with a square kernel and stride (stride defaults to the kernel).
    public func maxPool2d(kernel: Int, stride: Int? = nil) -> Tensor {
        maxPool2d(kernel: (kernel, kernel), stride: stride.map { ($0, $0) })
    }

    /// Average pooling (floor mode, no padding): y[b, c, oy, ox] = (1/(kH·kW)) Σ_{i,j} x[b, c, oy·sH + i, ox·sW + j].
    ///
    ///     self: [B, C, H, W] → [B, C, ⌊(H − kH)/sH⌋ + 1, ⌊(W − kW)/sW⌋ + 1];  stride defaults to the kernel
    public func avgPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil) -> Tensor {
        let p = PoolWindows(self, kernel: kernel, stride: stride, op: "avgPool2d")
        let (kh, kw, w) = (p.kernelH, p.kernelW, p.width)
        let scale = 1 / Float(kh * kw)
        let out = Tensor(shape: p.outputShape) { o in
            data.withUnsafeBufferPointer { xb in
                guard let x = xb.baseAddress, let y = o.baseAddress else { return }  // empty batch
                p.forEachWindow { window, plane, output in
                    let src = x + plane + window
                    var acc: Float = 0
                    for i in 0..<kh { for j in 0..<kw { acc += src[i * w + j] } }
                    y[output] = acc * scale
                }
            }
        }
        let x = self
        return out.recorded(self) { g in
            // dx[window of o] += g[o] / (kH·kW)
            let gx = x.ensureGrad()
            gx.data.withUnsafeMutableBufferPointer { gxb in
                g.data.withUnsafeBufferPointer { gb in
                    guard let dx = gxb.baseAddress, let dy = gb.baseAddress else { return }  // empty batch
                    p.forEachWindow { window, plane, output in
                        let dst = dx + plane + window, v = dy[output] * scale
                        for i in 0..<kh { for j in 0..<kw { dst[i * w + j] += v } }
                    }
                }
            }
        }
    }

    /// `avgPool2d` with a square kernel and stride (stride defaults to the kernel).
    public func avgPool2d(kernel: Int, stride: Int? = nil) -> Tensor {
        avgPool2d(kernel: (kernel, kernel), stride: stride.map { ($0, $0) })
    }

    /// Global average pooling: y[b, c] = (1/(H·W)) Σ_{y,x} x[b, c, y, x].
    ///
    ///     self: [B, C, H, W] → [B, C]
    public func globalAvgPool() -> Tensor {
        let (planes, h, w) = planes("globalAvgPool")
        let area = h * w
        let scale = 1 / Float(Swift.max(area, 1))
        let out = Tensor(shape: [shape[0], shape[1]]) { o in
            data.withUnsafeBufferPointer { xb in
                for q in 0..<planes {
                    let plane = xb.baseAddress! + q * area
                    var acc: Float = 0
                    for k in 0..<area { acc += plane[k] }
                    o[q] = acc * scale
                }
            }
        }
        let x = self
        return out.recorded(self) { g in
            // dx[b, c, :, :] += g[b, c] / (H·W)
            let gx = x.ensureGrad()
            gx.data.withUnsafeMutableBufferPointer { gxb in
                for q in 0..<planes {
                    let v = g.data[q] * scale
                    for k in (q * area)..<((q + 1) * area) { gxb[k] += v }
                }
            }
        }
    }

    /// Nearest-neighbour upsampling by integer factors per axis: y[b, c, y, x] = x[b, c, ⌊y/fH⌋, ⌊x/fW⌋].
    /// The gradient of an input pixel is the sum over its fH × fW block.
    ///
    ///     self: [B, C, H, W] → [B, C, H·fH, W·fW]
    public func upsampleNearest(factors: (Int, Int)) -> Tensor {
        let (planes, h, w) = planes("upsampleNearest")
        let (fh, fw) = factors
        precondition(fh >= 1 && fw >= 1, "upsampleNearest: factors \(factors) must be ≥ 1")
        let (oh, ow) = (h * fh, w * fw)
        let out = Tensor(shape: [shape[0], shape[1], oh, ow]) { o in
            data.withUnsafeBufferPointer { xb in
                guard let x = xb.baseAddress, let y = o.baseAddress else { return }  // empty batch
                Parallel.forChunks(planes, costPerItem: oh * ow) { lo, hi in
                    for q in lo..<hi {
                        for r in 0..<h {
                            let src = x + (q * h + r) * w
                            let first = y + (q * oh + r * fh) * ow
                            for c in 0..<w { for k in 0..<fw { first[c * fw + k] = src[c] } }
                            for k in 1..<fh { (first + k * ow).update(from: first, count: ow) }
                        }
                    }
                }
            }
        }
        let x = self
        return out.recorded(self) { g in
            // dx[b, c, r, c'] += Σ_{i<fH, j<fW} g[b, c, r·fH + i, c'·fW + j]
            let gx = x.ensureGrad()
            gx.data.withUnsafeMutableBufferPointer { gxb in
                g.data.withUnsafeBufferPointer { gb in
                    guard let dx = gxb.baseAddress, let dy = gb.baseAddress else { return }  // empty batch
                    Parallel.forChunks(planes, costPerItem: oh * ow) { lo, hi in
                        for q in lo..<hi {
                            for r in 0..<h {
                                let dst = dx + (q * h + r) * w
                                for i in 0..<fh {
                                    let src = dy + (q * oh + r * fh + i) * ow
                                    for c in 0..<w {
                                        var acc: Float = 0
                                        for j in 0..<fw { acc += src[c * fw + j] }
                                        dst[c] += acc
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `upsampleNearest` by the same factor on both axes.
    public func upsampleNearest(scale: Int) -> Tensor { upsampleNearest(factors: (scale, scale)) }
}
