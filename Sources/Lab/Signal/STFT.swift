import Foundation
import Lab

/// Window functions for spectral analysis.
public enum Window {
    /// Periodic Hann window of length N: w[n] = 0.5 - 0.5·cos(2πn/N) (as torch.hann_window(N, periodic=True) and
    /// scipy.signal.get_window("hann", N)); the right STFT window because its shifts by N/4 sum to a constant.
    public static func hann(_ count: Int) -> [Float] {
        (0..<count).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(count))) }
    }
}

/// Short-time Fourier transform with a periodic Hann window and centred frames, as
/// `torch.stft(x, nFFT, hop, window=hann_window(nFFT), center=True, pad_mode="reflect", return_complex=True)`:
///
///     x_pad = reflect-pad(x, nFFT/2) on both sides,  frames T = 1 + ⌊(N + 2·⌊nFFT/2⌋ - nFFT) / hop⌋
///     X[t, k] = Σ_{n<nFFT} x_pad[t·hop + n] · w[n] · e^{-2πi·kn/nFFT},   k = 0 … nFFT/2   (K = nFFT/2 + 1 bins)
///
/// Spectra are stored frame-major: `real[t·K + k]`. Reflect padding needs N > nFFT/2.
public struct STFT: Sendable {
    /// Frame (FFT) length.
    public let nFFT: Int
    /// Samples between frame starts.
    public let hop: Int
    /// Analysis window, periodic Hann of length nFFT.
    public let window: [Float]
    /// Frequency bins K = nFFT/2 + 1.
    public var bins: Int { nFFT / 2 + 1 }
    /// Padding on each side, ⌊nFFT/2⌋.
    public var padding: Int { nFFT / 2 }

    public init(nFFT: Int, hop: Int) {
        precondition(nFFT >= 2 && hop >= 1, "STFT: nFFT must be >= 2 and hop >= 1, got nFFT \(nFFT), hop \(hop)")
        self.nFFT = nFFT
        self.hop = hop
        window = Window.hann(nFFT)
    }

    /// Number of frames T for a signal of `samples` samples.
    public func frames(samples: Int) -> Int { 1 + (samples + 2 * padding - nFFT) / hop }

    /// Writes x (N samples) reflect-padded by nFFT/2 on both sides into `padded` (N + 2·⌊nFFT/2⌋ samples):
    /// x_pad[p - j] = x[j] and x_pad[p + N - 1 + j] = x[N - 1 - j] for j = 1 … p, p = ⌊nFFT/2⌋.
    func reflectPad(_ x: UnsafePointer<Float>, samples n: Int, into padded: UnsafeMutablePointer<Float>) {
        let p = padding
        for j in 1...p { padded[p - j] = x[j]; padded[p + n - 1 + j] = x[n - 1 - j] }
        (padded + p).update(from: x, count: n)
    }

    /// Adjoint of `reflectPad`: adds the gradient of the padded signal onto the samples each position copied.
    func foldPadding(_ gradPadded: UnsafePointer<Float>, samples n: Int, into gradInput: UnsafeMutablePointer<Float>) {
        let p = padding
        for i in 0..<n { gradInput[i] += gradPadded[p + i] }
        for j in 1...p {
            gradInput[j] += gradPadded[p - j]
            gradInput[n - 1 - j] += gradPadded[p + n - 1 + j]
        }
    }

    /// Complex spectrum of `x` (N > nFFT/2 samples). Returns real and imaginary parts, [T, K] each.
    public func forward(_ x: [Float]) -> (real: [Float], imag: [Float]) {
        precondition(x.count > padding, "STFT.forward: reflect padding of \(padding) needs more than \(padding) samples, got \(x.count)")
        let spectra = magnitudeSpectra(x, batch: 1, samples: x.count)
        return (spectra.real, spectra.imag)
    }

    /// Magnitude |X[t, k]|, [T, K].
    public func magnitude(_ x: [Float]) -> [Float] {
        let (re, im) = forward(x)
        return zip(re, im).map { ($0 * $0 + $1 * $1).squareRoot() }
    }

    /// Power |X[t, k]|², [T, K].
    public func power(_ x: [Float]) -> [Float] {
        let (re, im) = forward(x)
        return zip(re, im).map { $0 * $0 + $1 * $1 }
    }

    /// Inverse STFT by weighted overlap-add, as torch.istft(center=True): each frame's inverse DFT is multiplied
    /// by the window, summed at its offset, divided by Σ_t w²[n - t·hop] and the padding is cut.
    /// `real`/`imag` are [T, K]; `length` is the output length (default: (T - 1)·hop, the centred length).
    public func inverse(real: [Float], imag: [Float], length: Int? = nil) -> [Float] {
        let k = bins
        precondition(real.count == imag.count && real.count % k == 0,
                     "STFT.inverse: spectra of \(real.count)/\(imag.count) values are not [T, \(k)]")
        let frameCount = real.count / k
        let outLength = length ?? (frameCount - 1) * hop
        let padded = (frameCount - 1) * hop + nFFT
        var sum = [Double](repeating: 0, count: padded), envelope = [Double](repeating: 0, count: padded)
        let plan = RealFFTPlan.shared(count: nFFT)
        let scratchCount = nFFT % 2 == 0 ? k : nFFT
        var scratchRe = [Float](repeating: 0, count: scratchCount), scratchIm = scratchRe
        var frame = [Float](repeating: 0, count: nFFT)
        for t in 0..<frameCount {
            for b in 0..<k { scratchRe[b] = real[t * k + b]; scratchIm[b] = imag[t * k + b] }
            plan.inverse(real: &scratchRe, imag: &scratchIm, output: &frame)
            for i in 0..<nFFT {
                sum[t * hop + i] += Double(frame[i] * window[i])
                envelope[t * hop + i] += Double(window[i] * window[i])
            }
        }
        return (0..<outLength).map { i in
            let p = i + padding
            guard p < padded, envelope[p] > 1e-11 else { return 0 }
            return Float(sum[p] / envelope[p])
        }
    }
}

extension RealFFTPlan {
    /// Array-buffer form of the raw forward transform, for loops that reuse scratch arrays.
    func forward(input: [Float], real: inout [Float], imag: inout [Float]) {
        input.withUnsafeBufferPointer { x in
            real.withUnsafeMutableBufferPointer { r in
                imag.withUnsafeMutableBufferPointer { i in forward(input: x.baseAddress!, real: r.baseAddress!, imag: i.baseAddress!) }
            }
        }
    }

    /// Array-buffer form of the raw inverse transform.
    func inverse(real: inout [Float], imag: inout [Float], output: inout [Float]) {
        real.withUnsafeMutableBufferPointer { r in
            imag.withUnsafeMutableBufferPointer { i in
                output.withUnsafeMutableBufferPointer { o in inverse(real: r.baseAddress!, imag: i.baseAddress!, output: o.baseAddress!) }
            }
        }
    }
}
