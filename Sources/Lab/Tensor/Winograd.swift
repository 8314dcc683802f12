import CLabKernels

// 3×3 stride-1 convolutions by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2015, arXiv 1509.09308):
// each 2×2 output tile is Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A for its 4×4 input tile d, so the 36 multiplies per tile and
// input channel of a direct 3×3 convolution become 16, summed over channels by 16 GEMMs — 2.25x fewer
// multiply-adds, for a few adds per tile in the transforms (CLabKernels/winograd.c, which also states the
// matrices and the layouts).
//
// Dims as in Conv.swift, plus th×tw tiles per output plane and T = s·th·tw tiles in a chunk of s samples;
// ξ = 0..<16 the position in the 4×4 transformed tile.
//
// forward:   U [16, F, C] = kernel transform of W;  per chunk: V [16, C, T] = input transform of x chunk,
//            M_ξ [F, T] = U_ξ [F, C] · V_ξ [C, T],  y chunk = bias + output transform of M
// backward:  per chunk: dM [16, F, T] = adjoint output transform of g chunk;  V kept from the forward;
//            dU_ξ += dM_ξ · V_ξᵀ;  dV_ξ [C, T] = U_ξᵀ · dM_ξ;  dx chunk += adjoint input transform of dV;
//            after the batch: dW += adjoint kernel transform of dU (Gᵀ dU G)
// The backward is the exact adjoint of this forward, so the gradients are those of the function computed.
// Threads and chunks as in Conv.swift: per-thread runs of samples, each with its own scratch and its own
// dU partial (summed in run order), or one run whose kernels use every thread.

/// Target size of one chunk's transformed input and products, V and M (16·(C + F)·T floats): 2¹⁸ floats
/// (1 MiB, one core's L2), at least one sample. On the CNN benchmark (one sample a chunk) the epoch was as
/// fast as or faster than with 2¹⁹ or 2²⁰ (1.17–1.42 s vs 1.19–1.28 s and 1.21–1.28 s, 2 threads, loaded machine).
private let winogradChunkFloats = 1 << 18

/// The input channels from which a Winograd convolution beats im2col: the 16 GEMMs have K = C (forward) and
/// K = F (input gradient), too short below this for OpenBLAS's kernels to run near their peak.
let winogradMinimumChannels = 8

extension ConvGeometry {
    /// Whether F(2×2, 3×3) applies: a 3×3 kernel at stride 1 with the same padding on both axes.
    var winogradApplies: Bool {
        kernelH == 3 && kernelW == 3 && strideH == 1 && strideW == 1 && padH == padW
    }

    /// Tiles per sample, th·tw = ⌈Ho/2⌉·⌈Wo/2⌉.
    var winogradTiles: Int { ((outH + 1) / 2) * ((outW + 1) / 2) }
}

/// The 16 products C_ξ = op(A_ξ)·op(B_ξ) + beta·C_ξ of a Winograd chunk (operand ξ at base + ξ·stride):
/// `batchedSgemm` on every thread when `parallel`, else one OpenBLAS call after another on this thread.
private func winogradProducts(parallel: Bool, _ a: UnsafePointer<Float>, strideA: Int, _ b: UnsafePointer<Float>,
                              strideB: Int, _ c: UnsafeMutablePointer<Float>, strideC: Int, m: Int, n: Int, k: Int,
                              transA: Bool = false, transB: Bool = false, beta: Float = 0) {
    if parallel {
        batchedSgemm(a, strideA: strideA, b, strideB: strideB, c, strideC: strideC, count: 16, m: m, n: n, k: k,
                     transA: transA, transB: transB, beta: beta)
    } else {
        for xi in 0..<16 {
            blasSgemm(a + xi * strideA, lda: transA ? m : k, b + xi * strideB, ldb: transB ? k : n, c + xi * strideC,
                      ldc: n, m: m, n: n, k: k, transA: transA, transB: transB, alpha: 1, beta: beta)
        }
    }
}

extension Tensor {
    /// `conv2d` for a geometry where `winogradApplies`, by F(2×2, 3×3); the same function as the im2col path
    /// up to rounding (the transforms reorder the sums). weight: [F, C, 3, 3].
    func winogradConv2d(_ weight: Tensor, bias: Tensor?, geometry g: ConvGeometry, relu: Bool = false) -> Tensor {
        let x = self
        let (filters, channels) = (weight.shape[0], g.channels)
        let (tilesPerSample, pad) = (g.winogradTiles, g.padH)
        let sampleIn = channels * g.height * g.width, sampleOut = filters * g.positions
        let runs = g.sampleRuns(filters: filters)
        let parallel = runs.count == 1
        let perChunk = Swift.max(1, winogradChunkFloats / Swift.max(16 * (channels + filters) * tilesPerSample, 1))
        let runChunks = runs.map { run in
            stride(from: run.lowerBound, to: run.upperBound, by: perChunk).map { $0..<Swift.min(run.upperBound, $0 + perChunk) }
        }
        let chunkTiles = (runChunks.map { $0.first?.count ?? 0 }.max() ?? 0) * tilesPerSample
        let transformCost = 16 * tilesPerSample  // per plane, for Parallel's split
        // V and M scratch carry 8 floats of slack that the transforms may read (winograd.h).

        // U = G W Gᵀ, kept for the backward (16·F·C floats).
        let kernels = [Float](unsafeUninitializedCapacity: 16 * filters * channels) { u, count in
            weight.data.withUnsafeBufferPointer { lab_winograd_kernel_2x3($0.baseAddress!, filters * channels, u.baseAddress!) }
            count = 16 * filters * channels
        }
        // When the weight records a gradient, the forward's V of the whole batch stays on the tape for dU
        // (16·C·B·th·tw floats, about 4x the input) instead of a second input transform in the backward; a
        // chunk's V sits at sample offset · 16·C·th·tw.
        let keepsInput = Tensor.recording(x, weight) && weight.requiresGrad
        var kept = scratchFloats(keepsInput ? 16 * channels * g.batch * tilesPerSample + 8 : 0)
        let out = Tensor(shape: [g.batch, filters, g.outH, g.outW]) { o in
            guard let outputBase = o.baseAddress else { return }  // empty batch
            let ob = UncheckedSendable(outputBase)
            x.data.withUnsafeBufferPointer { xp in
            kernels.withUnsafeBufferPointer { up in
            kept.withUnsafeMutableBufferPointer { kp in
            bias.map { $0.data }.withUnsafeOptionalPointer { bp in
                let (xb, ub, biasBase) = (UncheckedSendable(xp.baseAddress!), up.baseAddress!, UncheckedSendable(bp))
                let keptBase = UncheckedSendable(kp.baseAddress)
                forEachSampleRun(runs) { run, _ in
                    var transformed = scratchFloats(keepsInput ? 0 : 16 * channels * chunkTiles + 8)
                    var products = scratchFloats(16 * filters * chunkTiles + 8)
                    transformed.withUnsafeMutableBufferPointer { vp in
                    products.withUnsafeMutableBufferPointer { mp in
                        let m = UncheckedSendable(mp.baseAddress!)
                        for chunk in runChunks[run] {
                            let tiles = chunk.count * tilesPerSample
                            let v = UncheckedSendable(keepsInput ? keptBase.value! + chunk.lowerBound * tilesPerSample * 16 * channels
                                                                 : vp.baseAddress!)
                            let xChunk = xb.value + chunk.lowerBound * sampleIn, yChunk = ob.value + chunk.lowerBound * sampleOut
                            let (xc, yc) = (UncheckedSendable(xChunk), UncheckedSendable(yChunk))
                            forChunks(parallel: parallel, chunk.count * channels, costPerItem: transformCost) { lo, hi in
                                lab_winograd_input_2x3(xc.value, channels, g.height, g.width, pad, lo, hi, tiles, v.value)
                            }
                            winogradProducts(parallel: parallel, ub, strideA: filters * channels, v.value, strideB: channels * tiles,
                                             m.value, strideC: filters * tiles, m: filters, n: tiles, k: channels)
                            forChunks(parallel: parallel, chunk.count * filters, costPerItem: transformCost) { lo, hi in
                                lab_winograd_output_2x3(m.value, filters, g.outH, g.outW, lo, hi, tiles, biasBase.value, yc.value)
                                if relu { reluInPlace(yc.value + lo * g.positions, count: (hi - lo) * g.positions) }
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
        let keptInput = kept
        return ConvolutionOp.record(out, input: x, weight: weight, bias: bias, filters: filters, relu: relu) { grad, gw, gx in
            guard g.batch > 0 else { return }  // empty batch: nothing to accumulate
            // One dU partial per run (16·F·C floats), summed in run order, then dW += Gᵀ dU G.
            var partials = [[Float]](repeating: [], count: runs.count)
            grad.data.withUnsafeBufferPointer { gp in
            x.data.withUnsafeBufferPointer { xp in
            kernels.withUnsafeBufferPointer { up in
            keptInput.withUnsafeBufferPointer { kp in
            withMutableData(gx) { gxp in
            partials.withUnsafeMutableBufferPointer { pp in
                let shared = UncheckedSendable((grad: gp.baseAddress!, x: xp.baseAddress!, inputGrad: gxp, partials: pp.baseAddress!,
                                                kept: keepsInput ? kp.baseAddress : nil))
                let ub = up.baseAddress!
                forEachSampleRun(runs) { run, _ in
                    let (gb, xb, inputGrad, partials, keptBase) = shared.value
                    var transformed = scratchFloats(16 * channels * chunkTiles + 8), products = scratchFloats(16 * filters * chunkTiles + 8)
                    var partial = gw == nil ? [] : [Float](repeating: 0, count: 16 * filters * channels)
                    transformed.withUnsafeMutableBufferPointer { vp in
                    products.withUnsafeMutableBufferPointer { mp in
                    partial.withUnsafeMutableBufferPointer { dup in
                        let (v, dm) = (UncheckedSendable(vp.baseAddress!), UncheckedSendable(mp.baseAddress!))
                        for chunk in runChunks[run] {
                            let tiles = chunk.count * tilesPerSample
                            let gc = UncheckedSendable(gb + chunk.lowerBound * sampleOut)
                            let xc = UncheckedSendable(xb + chunk.lowerBound * sampleIn)
                            forChunks(parallel: parallel, chunk.count * filters, costPerItem: transformCost) { lo, hi in
                                lab_winograd_output_adjoint_2x3(gc.value, filters, g.outH, g.outW, lo, hi, tiles, dm.value)
                            }
                            if gw != nil, let du = dup.baseAddress {  // (an empty array's buffer may have a base address)
                                let input: UnsafePointer<Float>
                                if let keptBase {
                                    input = keptBase + chunk.lowerBound * tilesPerSample * 16 * channels
                                } else {  // the weight did not record when the forward ran: transform the input again
                                    forChunks(parallel: parallel, chunk.count * channels, costPerItem: transformCost) { lo, hi in
                                        lab_winograd_input_2x3(xc.value, channels, g.height, g.width, pad, lo, hi, tiles, v.value)
                                    }
                                    input = UnsafePointer(v.value)
                                }
                                winogradProducts(parallel: parallel, dm.value, strideA: filters * tiles, input, strideB: channels * tiles,
                                                 du, strideC: filters * channels, m: filters, n: channels, k: tiles,
                                                 transB: true, beta: 1)
                            }
                            if let inputGrad {
                                winogradProducts(parallel: parallel, ub, strideA: filters * channels, dm.value, strideB: filters * tiles,
                                                 v.value, strideC: channels * tiles, m: channels, n: tiles, k: filters, transA: true)
                                let dxc = UncheckedSendable(inputGrad + chunk.lowerBound * sampleIn)
                                forChunks(parallel: parallel, chunk.count * channels, costPerItem: transformCost) { lo, hi in
                                    lab_winograd_input_adjoint_2x3(v.value, channels, g.height, g.width, pad, lo, hi, tiles, dxc.value)
                                }
                            }
                        }
                    }
                    }
                    }
                    partials[run] = partial
                }
            }
            }
            }
            }
            }
            }
            if let gw {
                var sum = partials[0]
                for partial in partials.dropFirst() { for i in 0..<sum.count { sum[i] += partial[i] } }
                sum.withUnsafeBufferPointer { sp in
                    gw.data.withUnsafeMutableBufferPointer { lab_winograd_kernel_adjoint_2x3(sp.baseAddress!, filters * channels, $0.baseAddress!) }
                }
            }
        }
    }
}
