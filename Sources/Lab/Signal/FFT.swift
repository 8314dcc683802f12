import Foundation

/// A discrete Fourier transform of one length, planned once and reused (twiddles, bit reversal, Bluestein chirp).
///
/// Forward:  X[k] = Σ_n x[n] · e^{-2πi·kn/N}
/// Inverse:  x[n] = (1/N) Σ_k X[k] · e^{+2πi·kn/N}      (normalised, as numpy.fft.ifft)
///
/// Powers of two run an iterative radix-2 transform; any other length runs Bluestein's chirp-z algorithm on top of
/// a power-of-two transform of length M ≥ 2N - 1. Data are Float32 in split real/imaginary arrays; the twiddles are
/// computed in Float64 (directly, never by recurrence) and then rounded, so their error does not grow with N.
/// A plan is immutable and thread-safe; get one from `FFTPlan.shared(count:)`, which caches plans by length
/// (the MR-STFT loss asks for sizes 64-512 thousands of times per training step).
///
///     let plan = FFTPlan.shared(count: 12)
///     plan.forward(real: &re, imag: &im)
public final class FFTPlan: Sendable {
    /// Transform length N.
    public let count: Int
    private let kind: Kind

    private enum Kind: Sendable {
        /// N = 2^k: cos/sin of 2πj/N for j < N/2, and the bit-reversal permutation.
        case radix2(cos: [Float], sin: [Float], bitReversed: [Int32])
        /// Other N: chirp w[n] = e^{-iπ n²/N}, the inner power-of-two plan of length M, and the FFT of the
        /// wrapped conjugate chirp (the convolution kernel).
        case bluestein(chirpCos: [Float], chirpSin: [Float], inner: FFTPlan, kernelReal: [Float], kernelImag: [Float])
    }

    /// Plans a transform of `count` ≥ 1 points. Prefer `shared(count:)`, which reuses plans.
    public init(count: Int) {
        precondition(count >= 1, "FFTPlan: length must be >= 1, got \(count)")
        self.count = count
        if count & (count - 1) == 0 {
            let half = max(count / 2, 1)
            var cosTable = [Float](repeating: 1, count: half), sinTable = [Float](repeating: 0, count: half)
            for j in 0..<half {
                let angle = 2 * Double.pi * Double(j) / Double(count)
                cosTable[j] = Float(Foundation.cos(angle))
                sinTable[j] = Float(Foundation.sin(angle))
            }
            var bits = 0
            while 1 << bits < count { bits += 1 }
            var reversed = [Int32](repeating: 0, count: count)
            for i in 0..<count {
                var r = 0
                for b in 0..<bits where i & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
                reversed[i] = Int32(r)
            }
            kind = .radix2(cos: cosTable, sin: sinTable, bitReversed: reversed)
        } else {
            var m = 1
            while m < 2 * count - 1 { m <<= 1 }
            // n² mod 2N keeps the chirp's angle exact for large n (n² would lose bits as a Double angle).
            var chirpCos = [Float](repeating: 0, count: count), chirpSin = [Float](repeating: 0, count: count)
            for n in 0..<count {
                let angle = Double.pi * Double((n * n) % (2 * count)) / Double(count)
                chirpCos[n] = Float(Foundation.cos(angle))
                chirpSin[n] = Float(-Foundation.sin(angle))
            }
            // Kernel b[n] = conj(w[n]) at n and at M - n (the negative lags of the linear convolution).
            var kernelReal = [Float](repeating: 0, count: m), kernelImag = [Float](repeating: 0, count: m)
            for n in 0..<count {
                kernelReal[n] = chirpCos[n]; kernelImag[n] = -chirpSin[n]
                if n > 0 { kernelReal[m - n] = chirpCos[n]; kernelImag[m - n] = -chirpSin[n] }
            }
            let inner = FFTPlan.shared(count: m)
            inner.forward(real: &kernelReal, imag: &kernelImag)
            kind = .bluestein(chirpCos: chirpCos, chirpSin: chirpSin, inner: inner,
                              kernelReal: kernelReal, kernelImag: kernelImag)
        }
    }

    /// The cached plan for `count` points (created on first use; thread-safe).
    public static func shared(count: Int) -> FFTPlan { planCache.plan(count) }

    /// In-place forward DFT of `count` complex points.
    public func forward(real: inout [Float], imag: inout [Float]) {
        precondition(real.count >= count && imag.count >= count,
                     "FFTPlan.forward: buffers of \(real.count)/\(imag.count) for a \(count)-point transform")
        real.withUnsafeMutableBufferPointer { r in
            imag.withUnsafeMutableBufferPointer { i in forward(real: r.baseAddress!, imag: i.baseAddress!) }
        }
    }

    /// In-place normalised inverse DFT of `count` complex points.
    public func inverse(real: inout [Float], imag: inout [Float]) {
        precondition(real.count >= count && imag.count >= count,
                     "FFTPlan.inverse: buffers of \(real.count)/\(imag.count) for a \(count)-point transform")
        real.withUnsafeMutableBufferPointer { r in
            imag.withUnsafeMutableBufferPointer { i in inverse(real: r.baseAddress!, imag: i.baseAddress!) }
        }
    }

    /// In-place forward DFT on raw buffers of `count` elements each.
    public func forward(real: UnsafeMutablePointer<Float>, imag: UnsafeMutablePointer<Float>) {
        switch kind {
        case let .radix2(cosTable, sinTable, bitReversed):
            Self.radix2(real, imag, count, cosTable, sinTable, bitReversed)
        case let .bluestein(chirpCos, chirpSin, inner, kernelReal, kernelImag):
            bluestein(real, imag, chirpCos, chirpSin, inner, kernelReal, kernelImag)
        }
    }

    /// In-place normalised inverse DFT on raw buffers: x = conj(DFT(conj(X))) / N.
    public func inverse(real: UnsafeMutablePointer<Float>, imag: UnsafeMutablePointer<Float>) {
        for i in 0..<count { imag[i] = -imag[i] }
        forward(real: real, imag: imag)
        let scale = 1 / Float(count)
        for i in 0..<count {
            real[i] *= scale
            imag[i] = -imag[i] * scale
        }
    }

    /// Iterative decimation-in-time radix-2: bit-reverse, then log2(N) butterfly stages.
    private static func radix2(_ re: UnsafeMutablePointer<Float>, _ im: UnsafeMutablePointer<Float>, _ n: Int,
                               _ cosTable: [Float], _ sinTable: [Float], _ bitReversed: [Int32]) {
        if n == 1 { return }
        bitReversed.withUnsafeBufferPointer { rev in
            for i in 0..<n {
                let j = Int(rev[i])
                if j > i {
                    swap(&re[i], &re[j])
                    swap(&im[i], &im[j])
                }
            }
        }
        // Stages of size 2 and 4 have twiddles 1 and -i only: no multiplications, and no inner loop overhead.
        var start = 0
        while start < n {
            let r0 = re[start], i0 = im[start], r1 = re[start + 1], i1 = im[start + 1]
            re[start] = r0 + r1; im[start] = i0 + i1
            re[start + 1] = r0 - r1; im[start + 1] = i0 - i1
            start += 2
        }
        if n == 2 { return }
        start = 0
        while start < n {
            // (a0, a1, b0, b1) → (a0 + b0, a1 - i·b1, a0 - b0, a1 + i·b1)
            let r0 = re[start], i0 = im[start], r1 = re[start + 1], i1 = im[start + 1]
            let r2 = re[start + 2], i2 = im[start + 2], r3 = re[start + 3], i3 = im[start + 3]
            re[start] = r0 + r2; im[start] = i0 + i2
            re[start + 2] = r0 - r2; im[start + 2] = i0 - i2
            re[start + 1] = r1 + i3; im[start + 1] = i1 - r3
            re[start + 3] = r1 - i3; im[start + 3] = i1 + r3
            start += 4
        }
        cosTable.withUnsafeBufferPointer { c in
            sinTable.withUnsafeBufferPointer { s in
                var size = 8
                while size <= n {
                    let half = size / 2, stride = n / size
                    var start = 0
                    while start < n {
                        for j in 0..<half {
                            // w = e^{-2πi·j/size} = cos - i·sin of the table angle j·stride·2π/N.
                            let wr = c[j * stride], wi = -s[j * stride]
                            let a = start + j, b = a + half
                            let tr = re[b] * wr - im[b] * wi
                            let ti = re[b] * wi + im[b] * wr
                            re[b] = re[a] - tr; im[b] = im[a] - ti
                            re[a] += tr; im[a] += ti
                        }
                        start += size
                    }
                    size <<= 1
                }
            }
        }
    }

    /// Bluestein: X[k] = w[k] · Σ_n (x[n] w[n]) · conj(w[k - n]), with w[n] = e^{-iπn²/N}; the sum is a linear
    /// convolution done as a cyclic one of length M by two power-of-two FFTs.
    private func bluestein(_ re: UnsafeMutablePointer<Float>, _ im: UnsafeMutablePointer<Float>,
                           _ chirpCos: [Float], _ chirpSin: [Float], _ inner: FFTPlan,
                           _ kernelReal: [Float], _ kernelImag: [Float]) {
        let m = inner.count
        var aRe = [Float](repeating: 0, count: m), aIm = [Float](repeating: 0, count: m)
        for n in 0..<count {
            aRe[n] = re[n] * chirpCos[n] - im[n] * chirpSin[n]
            aIm[n] = re[n] * chirpSin[n] + im[n] * chirpCos[n]
        }
        inner.forward(real: &aRe, imag: &aIm)
        for k in 0..<m {
            let r = aRe[k] * kernelReal[k] - aIm[k] * kernelImag[k]
            aIm[k] = aRe[k] * kernelImag[k] + aIm[k] * kernelReal[k]
            aRe[k] = r
        }
        inner.inverse(real: &aRe, imag: &aIm)
        for k in 0..<count {
            re[k] = aRe[k] * chirpCos[k] - aIm[k] * chirpSin[k]
            im[k] = aRe[k] * chirpSin[k] + aIm[k] * chirpCos[k]
        }
    }
}

/// A DFT of real input, N points in, N/2 + 1 complex bins out (bins above N/2 are the conjugate mirror).
///
/// Even N packs the input into N/2 complex points z[m] = x[2m] + i·x[2m+1], runs one N/2-point complex FFT and
/// untangles: X[k] = E[k] + e^{-2πik/N} · O[k], with E, O the spectra of the even and odd samples. Odd N runs the
/// N-point complex transform. Plans are cached by length (`RealFFTPlan.shared(count:)`) and thread-safe.
public final class RealFFTPlan: Sendable {
    /// Input length N.
    public let count: Int
    /// Output bins N/2 + 1.
    public var bins: Int { count / 2 + 1 }
    private let complexPlan: FFTPlan
    /// e^{-2πik/N} for k ≤ N/2 (even N only).
    private let twiddleCos: [Float], twiddleSin: [Float]

    public init(count: Int) {
        precondition(count >= 1, "RealFFTPlan: length must be >= 1, got \(count)")
        self.count = count
        let even = count % 2 == 0 && count >= 2
        complexPlan = FFTPlan.shared(count: even ? count / 2 : count)
        if even {
            let bins = count / 2 + 1
            twiddleCos = (0..<bins).map { Float(Foundation.cos(2 * Double.pi * Double($0) / Double(count))) }
            twiddleSin = (0..<bins).map { Float(-Foundation.sin(2 * Double.pi * Double($0) / Double(count))) }
        } else {
            twiddleCos = []; twiddleSin = []
        }
    }

    /// The cached plan for `count` points.
    public static func shared(count: Int) -> RealFFTPlan { planCache.realPlan(count) }

    /// Forward transform of `input` (N values) into `real`/`imag` (N/2 + 1 bins each; for even N the buffers need
    /// N/2 + 1 elements, for odd N they need N elements of scratch).
    public func forward(input: UnsafePointer<Float>, real: UnsafeMutablePointer<Float>, imag: UnsafeMutablePointer<Float>) {
        let n = count
        guard n % 2 == 0 && n >= 2 else {
            for i in 0..<n { real[i] = input[i]; imag[i] = 0 }
            complexPlan.forward(real: real, imag: imag)
            return
        }
        let half = n / 2
        for m in 0..<half { real[m] = input[2 * m]; imag[m] = input[2 * m + 1] }
        complexPlan.forward(real: real, imag: imag)
        // Z[k] = E[k] + i·O[k]; E[k] = (Z[k] + conj Z[h-k]) / 2, O[k] = (Z[k] - conj Z[h-k]) / (2i), h = N/2.
        // Bins k and h - k are computed together, so the update is in place.
        let z0r = real[0], z0i = imag[0]
        real[0] = z0r + z0i; imag[0] = 0
        real[half] = z0r - z0i; imag[half] = 0
        var k = 1
        while k <= half - k {
            let j = half - k
            let ar = real[k], ai = imag[k], br = real[j], bi = imag[j]
            // Bin k.
            let ekR = 0.5 * (ar + br), ekI = 0.5 * (ai - bi)
            let okR = 0.5 * (ai + bi), okI = -0.5 * (ar - br)
            // Bin j = h - k uses Z[j] and conj Z[k].
            let ejR = 0.5 * (br + ar), ejI = 0.5 * (bi - ai)
            let ojR = 0.5 * (bi + ai), ojI = -0.5 * (br - ar)
            let ck = twiddleCos[k], sk = twiddleSin[k], cj = twiddleCos[j], sj = twiddleSin[j]
            real[k] = ekR + ck * okR - sk * okI
            imag[k] = ekI + ck * okI + sk * okR
            real[j] = ejR + cj * ojR - sj * ojI
            imag[j] = ejI + cj * ojI + sj * ojR
            k += 1
        }
    }

    /// Inverse of `forward`: N/2 + 1 bins (Hermitian-extended; the imaginary parts of bin 0 and, for even N, bin N/2
    /// are ignored) into N real samples, x[n] = (1/N) Σ_{k<N} X[k] e^{2πikn/N}. `real`/`imag` are overwritten
    /// (scratch; N elements each for odd N).
    public func inverse(real: UnsafeMutablePointer<Float>, imag: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let n = count
        guard n % 2 == 0 && n >= 2 else {
            imag[0] = 0
            var k = n / 2 + 1
            while k < n { real[k] = real[n - k]; imag[k] = -imag[n - k]; k += 1 }
            complexPlan.inverse(real: real, imag: imag)
            for i in 0..<n { output[i] = real[i] }
            return
        }
        let half = n / 2
        // Re-tangle: Z[k] = E[k] + i·O[k], E[k] = (X[k] + conj X[h-k]) / 2, O[k] = (X[k] - conj X[h-k]) · e^{+2πik/N} / 2.
        let x0 = real[0], xh = real[half]
        real[0] = 0.5 * (x0 + xh); imag[0] = 0.5 * (x0 - xh)
        var k = 1
        while k <= half - k {
            let j = half - k
            let ar = real[k], ai = imag[k], br = real[j], bi = imag[j]
            let ck = twiddleCos[k], sk = -twiddleSin[k], cj = twiddleCos[j], sj = -twiddleSin[j]
            let ekR = 0.5 * (ar + br), ekI = 0.5 * (ai - bi)
            let dkR = 0.5 * (ar - br), dkI = 0.5 * (ai + bi)
            let okR = dkR * ck - dkI * sk, okI = dkR * sk + dkI * ck
            let ejR = 0.5 * (br + ar), ejI = 0.5 * (bi - ai)
            let djR = 0.5 * (br - ar), djI = 0.5 * (bi + ai)
            let ojR = djR * cj - djI * sj, ojI = djR * sj + djI * cj
            real[k] = ekR - okI; imag[k] = ekI + okR
            real[j] = ejR - ojI; imag[j] = ejI + ojR
            k += 1
        }
        complexPlan.inverse(real: real, imag: imag)
        for m in 0..<half { output[2 * m] = real[m]; output[2 * m + 1] = imag[m] }
    }

    /// Forward transform of an array; returns (real, imag), N/2 + 1 bins each.
    public func forward(_ input: [Float]) -> (real: [Float], imag: [Float]) {
        precondition(input.count == count, "RealFFTPlan.forward: \(input.count) samples for a \(count)-point plan")
        let scratch = count % 2 == 0 ? bins : count
        var re = [Float](repeating: 0, count: scratch), im = [Float](repeating: 0, count: scratch)
        input.withUnsafeBufferPointer { x in
            re.withUnsafeMutableBufferPointer { r in
                im.withUnsafeMutableBufferPointer { i in forward(input: x.baseAddress!, real: r.baseAddress!, imag: i.baseAddress!) }
            }
        }
        return (Array(re.prefix(bins)), Array(im.prefix(bins)))
    }

    /// Inverse transform of N/2 + 1 bins into N real samples.
    public func inverse(real: [Float], imag: [Float]) -> [Float] {
        precondition(real.count == bins && imag.count == bins,
                     "RealFFTPlan.inverse: \(real.count)/\(imag.count) bins for a \(count)-point plan (needs \(bins))")
        let scratch = count % 2 == 0 ? bins : count
        var re = real + [Float](repeating: 0, count: scratch - bins)
        var im = imag + [Float](repeating: 0, count: scratch - bins)
        var out = [Float](repeating: 0, count: count)
        re.withUnsafeMutableBufferPointer { r in
            im.withUnsafeMutableBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in inverse(real: r.baseAddress!, imag: i.baseAddress!, output: o.baseAddress!) }
            }
        }
        return out
    }
}

/// Process-wide plan cache, keyed by length; guarded by a lock so that concurrent training jobs share plans.
private final class PlanCache: @unchecked Sendable {
    private let lock = NSLock()
    private var complexPlans: [Int: FFTPlan] = [:]
    private var realPlans: [Int: RealFFTPlan] = [:]

    func plan(_ n: Int) -> FFTPlan {
        lock.lock()
        if let p = complexPlans[n] { lock.unlock(); return p }
        lock.unlock()
        // Built outside the lock: a Bluestein plan asks the cache for its inner power-of-two plan.
        let p = FFTPlan(count: n)
        lock.lock(); defer { lock.unlock() }
        if let existing = complexPlans[n] { return existing }
        complexPlans[n] = p
        return p
    }

    func realPlan(_ n: Int) -> RealFFTPlan {
        lock.lock()
        if let p = realPlans[n] { lock.unlock(); return p }
        lock.unlock()
        let p = RealFFTPlan(count: n)
        lock.lock(); defer { lock.unlock() }
        if let existing = realPlans[n] { return existing }
        realPlans[n] = p
        return p
    }
}

private let planCache = PlanCache()
