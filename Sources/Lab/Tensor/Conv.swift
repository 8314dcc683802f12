// Convolutions by im2col + GEMM, over chunks of the batch.
//
// Dims: B batch, C input channels, H×W input plane, F output channels (filters), kH×kW kernel,
// Ho×Wo output plane, P = Ho·Wo output positions, K = C·kH·kW patch length; a chunk of s samples has
// n = s·P columns.
//
// conv2d forward:              y [B, F, P] = bias;  per chunk: cols [K, n] = im2col(x chunk)  (column b·P + p:
//                              the patch under output p of sample b);  y_b [F, P] += W [F, K] · cols[:, b·P ..< (b+1)·P]
// conv2d backward, per chunk:  dY [F, n] = g chunk permuted;  cols recomputed
//                              dW += dY · colsᵀ,   dx chunk += col2im(Wᵀ · dY);   db += Σ_{b,p} g
// A chunk's column matrix is about 1 MiB, so the GEMM reads what im2col just wrote from cache, and the
// scratch stays small (the whole-batch column matrix of the 32→64 benchmark layer is 75 MB). Several samples
// per chunk keep the backward GEMMs wide for shallow layers (3→32: 10 samples, N = 9,000).
// Threads: a batch with at least one sample per thread is split into `Parallel.threads` runs of samples
// that are processed side by side, each with single-threaded kernels and its own scratch (the weight
// gradient: one partial per run, summed in run order), so the threads never wait on each other inside a
// layer. A smaller batch is one run whose kernels (im2col, GEMM, col2im) each use every thread.
// Everything runs on Lab's threads (OpenBLAS is single-threaded, see `Parallel`).

import CLabKernels

/// How `conv2d` computes its products.
/// - `.automatic` (the default): Winograd F(2×2, 3×3) for 3×3 stride-1 kernels over at least
///   `winogradMinimumChannels` input channels (2.25× fewer multiplications; the bench's CNN epoch ≈ 0.72× the
///   im2col time), im2col + GEMM elsewhere. Both are deterministic (the same bits on any x86-64 machine).
/// - `.im2col`: im2col + GEMM everywhere (the arithmetic of the committed results before 2026-12-06; Winograd
///   sums in another order, so a trained model moves in its last digits and further).
/// - `.winograd`: Winograd wherever it applies (any channel count), im2col elsewhere (tests compare the two).
public enum ConvAlgorithm: String, Sendable { case im2col, automatic, winograd }

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
    /// N = B·P, the columns of the column matrix of all `batch` samples.
    var columns: Int { batch * positions }

    /// The same convolution over `batch` samples (a chunk of the batch).
    func with(batch: Int) -> ConvGeometry {
        ConvGeometry(batch: batch, channels: channels, height: height, width: width, kernelH: kernelH, kernelW: kernelW,
                     strideH: strideH, strideW: strideW, padH: padH, padW: padW)
    }

    /// The batch split into equal runs of samples whose column matrix [K, samples·P] holds about
    /// `ConvGeometry.chunkFloats` floats (at least one sample per run): im2col writes a chunk, the GEMM
    /// reads it back while it is still in cache.
    func sampleChunks() -> [Range<Int>] {
        let perChunk = Swift.max(1, Swift.min(batch, ConvGeometry.chunkFloats / Swift.max(patch * positions, 1)))
        return stride(from: 0, to: batch, by: perChunk).map { $0..<Swift.min(batch, $0 + perChunk) }
    }

    /// Target size of one chunk's column matrix: 2¹⁸ floats (1 MiB, inside one core's 2 MiB L2, so im2col's
    /// stores stay in cache until the GEMM reads them). With the forward's per-sample GEMMs, the CNN benchmark
    /// epoch took 11% less CPU time than with 2²⁰ (6.8 and 7.1 s vs 8.0 and 7.8 s, 2 threads, loaded machine).
    static let chunkFloats = 1 << 18

    /// The batch as runs of contiguous samples for the threads: `Parallel.threads` runs when the batch splits
    /// into runs of at least one sample whose sizes differ by at most a quarter (a 3-sample batch on 2 threads
    /// stays whole) and the layer has at least 2²⁰ multiply-adds; else the whole batch as one run.
    /// `filters` is F, the output channels.
    func sampleRuns(filters: Int) -> [Range<Int>] {
        let t = Parallel.threads
        let balanced = batch % t == 0 || batch >= 4 * t
        guard t > 1, batch >= t, balanced, filters * patch * columns >= gemmSplitWork else { return [0..<batch] }
        return (0..<t).map { r in batch * r / t ..< batch * (r + 1) / t }
    }

    /// The output columns ox whose input column ox·strideW − padW + j lies inside 0..<W.
    @inline(__always)
    func validColumns(kernelColumn j: Int) -> Range<Int> {
        // ox·s − p + j ≥ 0  ⇔  ox ≥ ⌈(p − j)/s⌉;   ox·s − p + j ≤ W − 1  ⇔  ox ≤ ⌊(W − 1 + p − j)/s⌋
        // Clamped to 0...Wo: with padding as wide as the kernel, a kernel column can miss the input entirely.
        let lo = Swift.min(outW, Swift.max(0, ceilDiv(padW - j, strideW)))
        let hi = Swift.min(outW, floorDiv(width - 1 + padW - j, strideW) + 1)
        return lo..<Swift.max(lo, hi)
    }
}

@inline(__always) private func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
@inline(__always) private func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }

/// Calls `body(run, samples)` for each run of `ConvGeometry.sampleRuns`: several runs side by side on Lab's
/// threads (one run per thread), a single run on the calling thread.
func forEachSampleRun(_ runs: [Range<Int>], _ body: (_ run: Int, _ samples: Range<Int>) -> Void) {
    if runs.count == 1 { body(0, runs[0]); return }
    Parallel.forChunks(runs.count, costPerItem: 1 << 20) { lo, hi in
        for r in lo..<hi { body(r, runs[r]) }
    }
}

/// `Parallel.forChunks` when `parallel`, else `body(0, n)` on the calling thread (the kernels below run
/// inside a per-thread sample run with `parallel` false).
@inline(__always)
func forChunks(parallel: Bool, _ n: Int, costPerItem: Int, _ body: (Int, Int) -> Void) {
    if parallel { Parallel.forChunks(n, costPerItem: costPerItem, body) } else { body(0, n) }
}

/// `sgemm` (split over Lab's threads) when `parallel`, else one single-threaded OpenBLAS call.
@inline(__always)
func convGemm(parallel: Bool, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
              m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false, beta: Float = 0) {
    if parallel {
        sgemm(a, b, c, m: m, n: n, k: k, transA: transA, transB: transB, beta: beta)
    } else {
        blasSgemm(a, lda: transA ? m : k, b, ldb: transB ? k : n, c, ldc: n, m: m, n: n, k: k,
                  transA: transA, transB: transB, alpha: 1, beta: beta)
    }
}

/// cols[(c·kH + i)·kW + j, b·P + oy·Wo + ox] = x[b, c, oy·sH − pH + i, ox·sW − pW + j] (0 outside the input).
/// x: [B, C, H, W] → cols: [K, N]. Writes every element of cols (no zero-filling needed beforehand).
/// Runs in parallel over the B·C input planes when `parallel`.
/// With column stride 1 (and `useAVX2`, the default where the CPU has it) each plane runs through CLabKernels'
/// `lab_im2col_plane_stride1`: the same copies and zeros, 8 lanes at a time.
func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, into cols: UnsafeMutablePointer<Float>, parallel: Bool = true,
            useAVX2: Bool = hasAVX2Kernels) {
    let (ho, wo, p, n) = (g.outH, g.outW, g.positions, g.columns)
    forChunks(parallel: parallel, g.batch * g.channels, costPerItem: g.kernelH * g.kernelW * p) { lo, hi in
        for q in lo..<hi {
            let (b, c) = q.quotientAndRemainder(dividingBy: g.channels)
            let plane = x + q * g.height * g.width
            if useAVX2 && g.strideW == 1 {
                lab_im2col_plane_stride1(plane, g.height, g.width, g.kernelH, g.kernelW, g.strideH, g.padH, g.padW, ho, wo,
                                         n, cols + c * g.kernelH * g.kernelW * n + b * p)
                continue
            }
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

/// The adjoint of im2col: x[b, c, oy·sH − pH + i, ox·sW − pW + j] += cols[(c·kH + i)·kW + j, b·P + oy·Wo + ox].
/// cols: [K, N] → x: [B, C, H, W] (accumulated). Runs in parallel over the B·C planes, which are disjoint,
/// when `parallel`.
/// With column stride 1 (and `useAVX2`) each plane runs through CLabKernels' `lab_col2im_plane_stride1`: the
/// same additions in the same order, 8 lanes at a time.
func col2im(_ cols: UnsafePointer<Float>, _ g: ConvGeometry, addingInto x: UnsafeMutablePointer<Float>,
            parallel: Bool = true, useAVX2: Bool = hasAVX2Kernels) {
    let (ho, wo, p, n) = (g.outH, g.outW, g.positions, g.columns)
    forChunks(parallel: parallel, g.batch * g.channels, costPerItem: g.kernelH * g.kernelW * p) { lo, hi in
        for q in lo..<hi {
            let (b, c) = q.quotientAndRemainder(dividingBy: g.channels)
            let plane = x + q * g.height * g.width
            if useAVX2 && g.strideW == 1 {
                lab_col2im_plane_stride1(cols + c * g.kernelH * g.kernelW * n + b * p, g.height, g.width, g.kernelH, g.kernelW,
                                         g.strideH, g.padH, g.padW, ho, wo, n, plane)
                continue
            }
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

/// [B, C, P] → [C, B·P]: dst[c, b·P + p] = src[b, c, p].
func toChannelMajor(_ src: UnsafePointer<Float>, batch: Int, channels: Int, positions p: Int,
                    into dst: UnsafeMutablePointer<Float>, parallel: Bool = true) {
    forChunks(parallel: parallel, channels, costPerItem: batch * p) { lo, hi in
        for c in lo..<hi {
            for b in 0..<batch {
                (dst + (c * batch + b) * p).update(from: src + (b * channels + c) * p, count: p)
            }
        }
    }
}

/// [C, B·P] → [B, C, P], accumulated: dst[b, c, p] += src[c, b·P + p].
func addFromChannelMajor(_ src: UnsafePointer<Float>, batch: Int, channels: Int, positions p: Int,
                         into dst: UnsafeMutablePointer<Float>) {
    Parallel.forChunks(channels, costPerItem: batch * p) { lo, hi in
        for c in lo..<hi {
            for b in 0..<batch {
                let s = src + (c * batch + b) * p, d = dst + (b * channels + c) * p
                for k in 0..<p { d[k] += s[k] }
            }
        }
    }
}

/// y[b, c, p] = bias[c] (0 without a bias) for y: [B, C, P]: the starting value of a convolution's output,
/// which its GEMMs (beta = 1) or col2im then add to.
func fillChannels(_ y: UnsafeMutableBufferPointer<Float>, channels: Int, positions p: Int, bias: Tensor?) {
    guard let base = y.baseAddress else { return }  // empty batch
    let planes = y.count / Swift.max(p, 1)
    bias.map { $0.data }.withUnsafeOptionalPointer { bp in
        Parallel.forChunks(planes, costPerItem: p) { lo, hi in
            for q in lo..<hi { (base + q * p).update(repeating: bp?[q % channels] ?? 0, count: p) }
        }
    }
}

/// The shared argument checks and tape entry of conv2d and convTranspose2d.
enum ConvolutionOp {
    /// Traps naming `op` unless stride ≥ 1, padding ≥ 0 and the bias (if any) is [filters].
    static func check(_ op: String, weight: Tensor, bias: Tensor?, filters: Int, stride: (Int, Int), padding: (Int, Int)) {
        if let b = bias { precondition(b.shape == [filters], "\(op): bias \(b.shape) for weight \(weight.shape), expected [\(filters)]") }
        precondition(stride.0 >= 1 && stride.1 >= 1 && padding.0 >= 0 && padding.1 >= 0,
                     "\(op): stride \(stride) must be ≥ 1 and padding \(padding) ≥ 0")
    }

    /// Records the backward of a convolution whose output `out` has `filters` channels: the bias gradient
    /// (channel sums of g), then `body(g, dW, dx)` with the weight and input gradient buffers to accumulate
    /// into (nil for inputs that need none). Returns `out` untouched when no input records the tape.
    /// With `relu` (`out` = max(conv, 0), fused) g is first masked as `relu()`'s backward masks it: g where
    /// out > 0 (exactly where conv > 0), else 0.
    static func record(_ out: Tensor, input x: Tensor, weight: Tensor, bias: Tensor?, filters: Int, relu: Bool = false,
                       _ body: @escaping (_ grad: Tensor, _ weightGrad: Tensor?, _ inputGrad: Tensor?) -> Void) -> Tensor {
        guard Tensor.recording(x, weight) || (bias.map { Tensor.recording($0) } ?? false) else { return out }
        return out.recorded(inputs: [x, weight] + (bias.map { [$0] } ?? [])) { outputGrad in
            let grad = relu ? reluBackward(out, outputGrad) : outputGrad
            if let b = bias, b.requiresGrad { accumulateChannelSums(grad, channels: filters, into: b) }
            guard x.requiresGrad || weight.requiresGrad else { return }
            body(grad, weight.requiresGrad ? weight.ensureGrad() : nil, x.requiresGrad ? x.ensureGrad() : nil)
        }
    }
}

/// max(y, 0) in place over y[0..<n], as `relu()` computes it (`reluValue`).
@inline(__always)
func reluInPlace(_ y: UnsafeMutablePointer<Float>, count n: Int) {
    for i in 0..<n { y[i] = reluValue(y[i]) }
}

/// bias gradient: db[c] += Σ_{b,p} g[b, c, p] for g: [B, C, P] (in parallel over channels).
func accumulateChannelSums(_ g: Tensor, channels: Int, into bias: Tensor) {
    let batch = g.shape[0], p = g.count / Swift.max(batch * channels, 1)
    let gb = bias.ensureGrad()
    guard g.count > 0 else { return }  // empty batch
    g.data.withUnsafeBufferPointer { gp in
        gb.data.withUnsafeMutableBufferPointer { db in
            let (src, dst) = (gp.baseAddress!, db.baseAddress!)
            Parallel.forChunks(channels, costPerItem: batch * p) { lo, hi in
                for c in lo..<hi {
                    // Eight running sums in a fixed order (vectorises, same result on every run).
                    var lanes = SIMD8<Float>()
                    var tail: Float = 0
                    for b in 0..<batch {
                        let row = src + (b * channels + c) * p
                        var k = 0
                        while k + 8 <= p {
                            lanes += UnsafeRawPointer(row + k).loadUnaligned(as: SIMD8<Float>.self)
                            k += 8
                        }
                        while k < p { tail += row[k]; k += 1 }
                    }
                    dst[c] += lanes.sum() + tail
                }
            }
        }
    }
}

extension Optional where Wrapped == [Float] {
    /// Calls `body` with a pointer to the array's elements, or nil when there is no array.
    @inline(__always)
    func withUnsafeOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let array = self else { return body(nil) }
        return array.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}

/// Calls `body` with a pointer to the tensor's elements (nil without a tensor), so that several threads can
/// write disjoint parts of it through one access.
@inline(__always)
func withMutableData<R>(_ t: Tensor?, _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
    guard let t else { return body(nil) }
    return t.data.withUnsafeMutableBufferPointer { body($0.baseAddress) }
}

/// A scratch buffer of n floats with unspecified contents (every user writes before it reads).
func scratchFloats(_ n: Int) -> [Float] { [Float](unsafeUninitializedCapacity: n) { _, count in count = n } }

/// A gradient buffer for `t` with unspecified contents when `t` requires gradients, else nil: for fused
/// backwards that write every element of each gradient they need (pass it to `withMutableData`).
func scratchGradient(for t: Tensor) -> Tensor? {
    t.requiresGrad ? Tensor(shape: t.shape, data: scratchFloats(t.count)) : nil
}

extension Tensor {
    /// 2-d cross-correlation (PyTorch's `conv2d`, groups = 1) with zero padding:
    /// y[b, f, oy, ox] = bias[f] + Σ_{c,i,j} weight[f, c, i, j] · x[b, c, oy·sH − pH + i, ox·sW − pW + j].
    ///
    ///     self: [B, C, H, W], weight: [F, C, kH, kW], bias: [F] → [B, F, Ho, Wo],
    ///     Ho = ⌊(H + 2pH − kH)/sH⌋ + 1, Wo = ⌊(W + 2pW − kW)/sW⌋ + 1
    ///
    /// Computed by `ConvAlgorithm.automatic`: Winograd's F(2×2, 3×3) for 3×3 stride-1 kernels over at least
    /// `winogradMinimumChannels` input channels (Winograd.swift), im2col + GEMM over chunks of the batch elsewhere
    /// (the overload with `algorithm:` picks); gradients for input, weight and bias.
    ///
    ///     let y = x.conv2d(w, bias: b, stride: (1, 1), padding: (1, 1))   // 3×3 "same"
    public func conv2d(_ weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                       padding: (Int, Int) = (0, 0)) -> Tensor {
        conv2d(weight, bias: bias, stride: stride, padding: padding, algorithm: .automatic)
    }

    /// `conv2d` by the given algorithm (`ConvAlgorithm`; Winograd falls back to im2col where it does not apply).
    /// `relu: true` returns max(conv2d, 0) with the ReLU fused into the convolution (applied to each chunk of the
    /// output while it is in cache, and its mask applied to the incoming gradient): the same numbers and gradients
    /// as `.conv2d(...).relu()`, without its separate pass over the output (and its output tensor) in the forward.
    public func conv2d(_ weight: Tensor, bias: Tensor?, stride: (Int, Int), padding: (Int, Int),
                       algorithm: ConvAlgorithm, relu: Bool = false) -> Tensor {
        let x = self
        precondition(x.rank == 4 && weight.rank == 4 && weight.shape[1] == x.shape[1],
                     "conv2d: input \(x.shape) [B, C, H, W] and weight \(weight.shape) [F, C, kH, kW] do not fit")
        let filters = weight.shape[0]
        ConvolutionOp.check("conv2d", weight: weight, bias: bias, filters: filters, stride: stride, padding: padding)
        let g = ConvGeometry(batch: x.shape[0], channels: x.shape[1], height: x.shape[2], width: x.shape[3],
                             kernelH: weight.shape[2], kernelW: weight.shape[3],
                             strideH: stride.0, strideW: stride.1, padH: padding.0, padW: padding.1)
        precondition(g.outH >= 1 && g.outW >= 1,
                     "conv2d: kernel \(weight.shape[2])×\(weight.shape[3]) larger than padded input \(x.shape) (padding \(padding))")
        if g.winogradApplies && (algorithm == .winograd || (algorithm == .automatic && g.channels >= winogradMinimumChannels)) {
            return winogradConv2d(weight, bias: bias, geometry: g, relu: relu)
        }
        let (k, p) = (g.patch, g.positions)
        let sampleIn = g.channels * g.height * g.width, sampleOut = filters * p
        let runs = g.sampleRuns(filters: filters)
        let parallelKernels = runs.count == 1
        // Each run's chunks of samples and the column count of its largest chunk (its scratch size).
        let runChunks = runs.map { run in g.with(batch: run.count).sampleChunks().map { ($0.lowerBound + run.lowerBound)..<($0.upperBound + run.lowerBound) } }
        let chunkColumns = runChunks.map { ($0.first?.count ?? 0) * p }.max() ?? 0

        // y = bias; per run of samples (one per thread), per chunk: cols [K, n] = im2col(x chunk); per sample b,
        // y_b [F, P] += W [F, K] · cols[:, b·P ..< (b+1)·P] straight into the output (GEMM beta = 1: no permute,
        // no zero-filled product). Scratch for one chunk per run, reused by the run's chunks; the backward
        // allocates its own, so nothing this size stays alive on the tape between forward and backward.
        // One run fills the whole output with the bias first; several runs fill each sample's y_b just before its
        // GEMM adds to it, while it is in the run's cache (the same values either way).
        let biasValues = bias?.data
        let out = Tensor(shape: [g.batch, filters, g.outH, g.outW]) { o in
            if parallelKernels { fillChannels(o, channels: filters, positions: p, bias: bias) }
            guard let outputBase = o.baseAddress else { return }  // empty batch
            let ob = UncheckedSendable(outputBase)
            x.data.withUnsafeBufferPointer { xp in
                weight.data.withUnsafeBufferPointer { wp in
                    let (xb, wb) = (xp.baseAddress!, wp.baseAddress!)
                    forEachSampleRun(runs) { run, _ in
                        var cols = scratchFloats(k * chunkColumns)
                        cols.withUnsafeMutableBufferPointer { cp in
                            for chunk in runChunks[run] {
                                let gc = g.with(batch: chunk.count)
                                im2col(xb + chunk.lowerBound * sampleIn, gc, into: cp.baseAddress!, parallel: parallelKernels)
                                let y = ob.value + chunk.lowerBound * sampleOut
                                if parallelKernels {
                                    batchedSgemm(wb, strideA: 0, cp.baseAddress!, strideB: p, y, strideC: sampleOut,
                                                 count: chunk.count, m: filters, n: p, k: k, beta: 1, ldb: gc.columns)
                                    if relu {
                                        let yc = UncheckedSendable(y)
                                        Parallel.forChunks(chunk.count * filters, costPerItem: p) { lo, hi in
                                            reluInPlace(yc.value + lo * p, count: (hi - lo) * p)
                                        }
                                    }
                                } else {
                                    for b in 0..<chunk.count {
                                        for f in 0..<filters {
                                            (y + b * sampleOut + f * p).update(repeating: biasValues?[f] ?? 0, count: p)
                                        }
                                        blasSgemm(wb, lda: k, cp.baseAddress! + b * p, ldb: gc.columns, y + b * sampleOut,
                                                  ldc: p, m: filters, n: p, k: k, transA: false, transB: false, alpha: 1, beta: 1)
                                        if relu { reluInPlace(y + b * sampleOut, count: sampleOut) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return ConvolutionOp.record(out, input: x, weight: weight, bias: bias, filters: filters, relu: relu) { grad, gw, gx in
            // Per run (one per thread), per chunk: dY [F, n] = g chunk permuted; dW_run += dY · colsᵀ (cols
            // recomputed, cache-hot); dcols [K, n] = Wᵀ · dY; dx chunk += col2im(dcols). Run 0 accumulates into
            // dW itself, every other run into a partial of its own, added to dW in run order afterwards.
            guard g.batch > 0 else { return }  // empty batch: nothing to accumulate
            var partials = [[Float]](repeating: [], count: runs.count)
            grad.data.withUnsafeBufferPointer { gp in
            x.data.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
            withMutableData(gw) { gwp in
            withMutableData(gx) { gxp in
            partials.withUnsafeMutableBufferPointer { pp in
                let (gb, xb, wb) = (gp.baseAddress!, xp.baseAddress!, wp.baseAddress!)
                let shared = UncheckedSendable((weightGrad: gwp, inputGrad: gxp, partials: pp.baseAddress!))
                forEachSampleRun(runs) { run, _ in
                    let (weightGrad, inputGrad, partials) = shared.value
                    var cols = scratchFloats(k * chunkColumns), product = scratchFloats(filters * chunkColumns)
                    var partial = run == 0 || weightGrad == nil ? [] : [Float](repeating: 0, count: filters * k)
                    cols.withUnsafeMutableBufferPointer { cp in
                    product.withUnsafeMutableBufferPointer { dyp in
                    partial.withUnsafeMutableBufferPointer { ownPartial in
                        let columns = cp.baseAddress!
                        for chunk in runChunks[run] {
                            let gc = g.with(batch: chunk.count)
                            // One sample's [F, P] is already channel-major: the GEMMs read it in place.
                            let dY: UnsafePointer<Float>
                            if chunk.count == 1 {
                                dY = gb + chunk.lowerBound * sampleOut
                            } else {
                                toChannelMajor(gb + chunk.lowerBound * sampleOut, batch: chunk.count, channels: filters,
                                               positions: p, into: dyp.baseAddress!, parallel: parallelKernels)
                                dY = UnsafePointer(dyp.baseAddress!)
                            }
                            if let weightGrad {
                                im2col(xb + chunk.lowerBound * sampleIn, gc, into: columns, parallel: parallelKernels)
                                convGemm(parallel: parallelKernels, dY, columns, run == 0 ? weightGrad : ownPartial.baseAddress!,
                                         m: filters, n: k, k: gc.columns, transB: true, beta: 1)
                            }
                            if let inputGrad {
                                convGemm(parallel: parallelKernels, wb, dY, columns, m: k, n: gc.columns, k: filters, transA: true)
                                col2im(columns, gc, addingInto: inputGrad + chunk.lowerBound * sampleIn, parallel: parallelKernels)
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
                gw.data.withUnsafeMutableBufferPointer { d in
                    for partial in partials.dropFirst() where !partial.isEmpty {
                        for i in 0..<d.count { d[i] += partial[i] }
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
        precondition(outputPadding.0 >= 0 && outputPadding.0 < stride.0 && outputPadding.1 >= 0 && outputPadding.1 < stride.1,
                     "convTranspose2d: output padding \(outputPadding) must lie in 0..<stride \(stride)")
        let (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (filters, kh, kw) = (weight.shape[1], weight.shape[2], weight.shape[3])
        ConvolutionOp.check("convTranspose2d", weight: weight, bias: bias, filters: filters, stride: stride, padding: padding)
        let outH = (height - 1) * stride.0 - 2 * padding.0 + kh + outputPadding.0
        let outW = (width - 1) * stride.1 - 2 * padding.1 + kw + outputPadding.1
        precondition(outH >= 1 && outW >= 1, "convTranspose2d: input \(x.shape) with kernel \(kh)×\(kw), stride \(stride), padding \(padding) gives an empty output")
        // The conv that this op is the adjoint of: output-sized input, F channels, producing [B, C, H, W].
        let g = ConvGeometry(batch: batch, channels: filters, height: outH, width: outW, kernelH: kh, kernelW: kw,
                             strideH: stride.0, strideW: stride.1, padH: padding.0, padW: padding.1)
        precondition(g.outH == height && g.outW == width, "convTranspose2d: geometry mismatch for \(x.shape)")
        let (k, p) = (g.patch, g.positions)
        let chunks = g.sampleChunks()
        let chunkColumns = chunks.first.map { $0.count * p } ?? 0
        let sampleIn = channels * p, sampleOut = filters * outH * outW

        // y = bias; per chunk of samples: xT [C, n] = x chunk permuted; dcols [K, n] = Wᵀ · xT (weight viewed
        // as [C, K]); y chunk += col2im(dcols).
        // Scratch for one chunk, reused by every chunk (the backward allocates its own).
        var columns = scratchFloats(channels * chunkColumns)
        var patches = scratchFloats(k * chunkColumns)
        var y = scratchFloats(batch * sampleOut)
        y.withUnsafeMutableBufferPointer { fillChannels($0, channels: filters, positions: outH * outW, bias: bias) }
        x.data.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
                columns.withUnsafeMutableBufferPointer { tp in
                    patches.withUnsafeMutableBufferPointer { cp in
                        y.withUnsafeMutableBufferPointer { yp in
                            for chunk in chunks {
                                let gc = g.with(batch: chunk.count)
                                toChannelMajor(xp.baseAddress! + chunk.lowerBound * sampleIn, batch: chunk.count,
                                               channels: channels, positions: p, into: tp.baseAddress!)
                                sgemm(wp.baseAddress!, tp.baseAddress!, cp.baseAddress!, m: k, n: gc.columns, k: channels, transA: true)
                                col2im(cp.baseAddress!, gc, addingInto: yp.baseAddress! + chunk.lowerBound * sampleOut)
                            }
                        }
                    }
                }
            }
        }
        let out = Tensor(shape: [batch, filters, outH, outW], data: y)
        return ConvolutionOp.record(out, input: x, weight: weight, bias: bias, filters: filters) { grad, gw, gx in
            var columns = scratchFloats(channels * chunkColumns), patches = scratchFloats(k * chunkColumns)
            // Per chunk: cols [K, n] = im2col(g chunk); dW [C, K] += xT · colsᵀ (xT recomputed);
            // dxT [C, n] = W · cols; dx chunk += dxT permuted back.
            grad.data.withUnsafeBufferPointer { gp in
                x.data.withUnsafeBufferPointer { xp in
                    weight.data.withUnsafeBufferPointer { wp in
                        columns.withUnsafeMutableBufferPointer { tp in
                            patches.withUnsafeMutableBufferPointer { cp in
                                for chunk in chunks {
                                    let gc = g.with(batch: chunk.count)
                                    im2col(gp.baseAddress! + chunk.lowerBound * sampleOut, gc, into: cp.baseAddress!)
                                    if let gw {
                                        toChannelMajor(xp.baseAddress! + chunk.lowerBound * sampleIn, batch: chunk.count,
                                                       channels: channels, positions: p, into: tp.baseAddress!)
                                        gw.data.withUnsafeMutableBufferPointer { gwp in
                                            sgemm(tp.baseAddress!, cp.baseAddress!, gwp.baseAddress!, m: channels, n: k,
                                                  k: gc.columns, transB: true, beta: 1)
                                        }
                                    }
                                    if let gx {
                                        sgemm(wp.baseAddress!, cp.baseAddress!, tp.baseAddress!, m: channels, n: gc.columns, k: k)
                                        gx.data.withUnsafeMutableBufferPointer { gxp in
                                            addFromChannelMajor(tp.baseAddress!, batch: chunk.count, channels: channels,
                                                                positions: p, into: gxp.baseAddress! + chunk.lowerBound * sampleIn)
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
