// Pooling and nearest-neighbour upsampling over the last two axes of [B, C, H, W] tensors.
// Every op works plane by plane (B·C planes of H×W), in parallel over planes.

extension Tensor {
    /// The (planes, H, W) view of a [B, C, H, W] tensor; traps naming the op otherwise.
    private func planes(_ op: String) -> (count: Int, height: Int, width: Int) {
        precondition(rank == 4, "\(op): input \(shape) is not [B, C, H, W]")
        return (shape[0] * shape[1], shape[2], shape[3])
    }

    /// Output extent of a window of `kernel` moved by `stride` over `extent` (floor mode, no padding).
    private static func pooledExtent(_ extent: Int, kernel: Int, stride: Int, op: String) -> Int {
        precondition(kernel >= 1 && stride >= 1, "\(op): kernel \(kernel) and stride \(stride) must be ≥ 1")
        precondition(kernel <= extent, "\(op): kernel \(kernel) larger than the input extent \(extent)")
        return (extent - kernel) / stride + 1
    }

    /// Max pooling (floor mode, no padding): y[b, c, oy, ox] = max_{i<kH, j<kW} x[b, c, oy·sH + i, ox·sW + j].
    /// The gradient goes to the first maximal element of each window (row-major scan order).
    ///
    ///     self: [B, C, H, W] → [B, C, ⌊(H − kH)/sH⌋ + 1, ⌊(W − kW)/sW⌋ + 1];  stride defaults to the kernel
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil) -> Tensor {
        let (planes, h, w) = planes("maxPool2d")
        let (kh, kw) = kernel, (sh, sw) = stride ?? kernel
        let ho = Tensor.pooledExtent(h, kernel: kh, stride: sh, op: "maxPool2d")
        let wo = Tensor.pooledExtent(w, kernel: kw, stride: sw, op: "maxPool2d")
        // argmax[o] = the flat index within its input plane of the element chosen for output o.
        var argmax = [Int32](repeating: 0, count: planes * ho * wo)
        let out = Tensor(shape: [shape[0], shape[1], ho, wo]) { o in
            data.withUnsafeBufferPointer { xb in
                argmax.withUnsafeMutableBufferPointer { ab in
                    guard let x = xb.baseAddress, let y = o.baseAddress, let a = ab.baseAddress else { return }  // empty batch
                    Parallel.forChunks(planes, costPerItem: ho * wo * kh * kw) { lo, hi in
                        for q in lo..<hi {
                            let plane = x + q * h * w
                            for oy in 0..<ho {
                                for ox in 0..<wo {
                                    var bestIndex = oy * sh * w + ox * sw
                                    var best = plane[bestIndex]
                                    for i in 0..<kh {
                                        let row = (oy * sh + i) * w + ox * sw
                                        for j in 0..<kw where plane[row + j] > best {
                                            best = plane[row + j]
                                            bestIndex = row + j
                                        }
                                    }
                                    let o = (q * ho + oy) * wo + ox
                                    y[o] = best
                                    a[o] = Int32(bestIndex)
                                }
                            }
                        }
                    }
                }
            }
        }
        let x = self, routes = argmax
        return out.recorded(self) { g in
            // dx[argmax[o]] += g[o]
            let gx = x.ensureGrad()
            gx.data.withUnsafeMutableBufferPointer { gxb in
                g.data.withUnsafeBufferPointer { gb in
                    for q in 0..<planes {
                        let base = q * h * w
                        for o in (q * ho * wo)..<((q + 1) * ho * wo) { gxb[base + Int(routes[o])] += gb[o] }
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
        let (planes, h, w) = planes("avgPool2d")
        let (kh, kw) = kernel, (sh, sw) = stride ?? kernel
        let ho = Tensor.pooledExtent(h, kernel: kh, stride: sh, op: "avgPool2d")
        let wo = Tensor.pooledExtent(w, kernel: kw, stride: sw, op: "avgPool2d")
        let scale = 1 / Float(kh * kw)
        let out = Tensor(shape: [shape[0], shape[1], ho, wo]) { o in
            data.withUnsafeBufferPointer { xb in
                guard let x = xb.baseAddress, let y = o.baseAddress else { return }  // empty batch
                Parallel.forChunks(planes, costPerItem: ho * wo * kh * kw) { lo, hi in
                    for q in lo..<hi {
                        let plane = x + q * h * w
                        for oy in 0..<ho {
                            for ox in 0..<wo {
                                var acc: Float = 0
                                for i in 0..<kh {
                                    let row = plane + (oy * sh + i) * w + ox * sw
                                    for j in 0..<kw { acc += row[j] }
                                }
                                y[(q * ho + oy) * wo + ox] = acc * scale
                            }
                        }
                    }
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
                    Parallel.forChunks(planes, costPerItem: ho * wo * kh * kw) { lo, hi in
                        for q in lo..<hi {
                            let plane = dx + q * h * w
                            for oy in 0..<ho {
                                for ox in 0..<wo {
                                    let v = dy[(q * ho + oy) * wo + ox] * scale
                                    for i in 0..<kh {
                                        let row = plane + (oy * sh + i) * w + ox * sw
                                        for j in 0..<kw { row[j] += v }
                                    }
                                }
                            }
                        }
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
