import Foundation
import Lab

/// Smallest power inside the magnitude's square root: |X| = sqrt(max(re² + im², 1e-8)) keeps the gradient finite
/// at silent bins (as HyperSound's and auraloss's STFT losses do).
let magnitudePowerFloor: Float = 1e-8

/// A batch of complex spectra and their magnitudes, [B, T, K] each, kept from the forward pass for the backward.
struct MagnitudeSpectra {
    var real: [Float], imag: [Float], magnitude: [Float]
}

extension STFT {
    /// Batched forward: x [B, N] → spectra [B, T, K], with magnitude sqrt(max(re² + im², 1e-8)).
    func magnitudeSpectra(_ x: [Float], batch: Int, samples: Int) -> MagnitudeSpectra {
        let frameCount = frames(samples: samples), k = bins, perRow = frameCount * k
        var out = MagnitudeSpectra(real: [Float](repeating: 0, count: batch * perRow),
                                   imag: [Float](repeating: 0, count: batch * perRow),
                                   magnitude: [Float](repeating: 0, count: batch * perRow))
        x.withUnsafeBufferPointer { xp in
            out.real.withUnsafeMutableBufferPointer { re in
                out.imag.withUnsafeMutableBufferPointer { im in
                    out.magnitude.withUnsafeMutableBufferPointer { mag in
                        let buffers = UncheckedSendable((xp.baseAddress!, re.baseAddress!, im.baseAddress!, mag.baseAddress!))
                        Parallel.forChunks(batch, costPerItem: perRow * 16) { lo, hi in
                            let (x, re, im, mag) = buffers.value
                            let plan = RealFFTPlan.shared(count: nFFT)
                            let scratchCount = nFFT % 2 == 0 ? k : nFFT
                            var frame = [Float](repeating: 0, count: nFFT)
                            var padded = [Float](repeating: 0, count: samples + 2 * padding)
                            var scratchRe = [Float](repeating: 0, count: scratchCount), scratchIm = scratchRe
                            for b in lo..<hi {
                                padded.withUnsafeMutableBufferPointer { reflectPad(x + b * samples, samples: samples, into: $0.baseAddress!) }
                                for t in 0..<frameCount {
                                    for i in 0..<nFFT { frame[i] = padded[t * hop + i] * window[i] }
                                    plan.forward(input: frame, real: &scratchRe, imag: &scratchIm)
                                    let base = (b * frameCount + t) * k
                                    for j in 0..<k {
                                        let r = scratchRe[j], m = scratchIm[j]
                                        re[base + j] = r; im[base + j] = m
                                        mag[base + j] = max(r * r + m * m, magnitudePowerFloor).squareRoot()
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Batched backward of `magnitudeSpectra`: accumulates ∂L/∂x [B, N] into `gradInput` given ∂L/∂|X| [B, T, K].
    ///
    /// ∂|X|/∂re = re/|X|, ∂|X|/∂im = im/|X| where re² + im² > 1e-8 (0 on the floor). With G_k = ∂L/∂re_k + i·∂L/∂im_k,
    /// re_k = Σ_n f[n] cos θ_kn and im_k = -Σ_n f[n] sin θ_kn (θ_kn = 2πkn/nFFT, f the windowed frame), so
    ///     ∂L/∂f[n] = Σ_{k=0}^{nFFT/2} Re(G_k · e^{+iθ_kn})
    /// an inverse real DFT of the half spectrum with bins 0 and nFFT/2 weighted nFFT and the others nFFT/2.
    /// Then ∂L/∂x_pad[t·hop + n] += w[n]·∂L/∂f[n], and the reflect padding folds back onto the samples it copied.
    func magnitudeBackward(_ gradMagnitude: [Float], spectra: MagnitudeSpectra, batch: Int, samples: Int,
                           into gradInput: inout [Float]) {
        let frameCount = frames(samples: samples), k = bins, perRow = frameCount * k
        let nyquistBin = nFFT % 2 == 0 ? nFFT / 2 : -1
        gradMagnitude.withUnsafeBufferPointer { gp in
            spectra.real.withUnsafeBufferPointer { re in
                spectra.imag.withUnsafeBufferPointer { im in
                    spectra.magnitude.withUnsafeBufferPointer { mag in
                        gradInput.withUnsafeMutableBufferPointer { dx in
                            let buffers = UncheckedSendable((gp.baseAddress!, re.baseAddress!, im.baseAddress!,
                                                             mag.baseAddress!, dx.baseAddress!))
                            Parallel.forChunks(batch, costPerItem: perRow * 16) { lo, hi in
                                let (g, re, im, mag, dx) = buffers.value
                                let plan = RealFFTPlan.shared(count: nFFT)
                                let scratchCount = nFFT % 2 == 0 ? k : nFFT
                                var frameGrad = [Float](repeating: 0, count: nFFT)
                                var gradPadded = [Float](repeating: 0, count: samples + 2 * padding)
                                var specRe = [Float](repeating: 0, count: scratchCount), specIm = specRe
                                let full = Float(nFFT), half = Float(nFFT) / 2
                                for b in lo..<hi {
                                    for i in gradPadded.indices { gradPadded[i] = 0 }
                                    for t in 0..<frameCount {
                                        let base = (b * frameCount + t) * k
                                        for j in 0..<k {
                                            let r = re[base + j], m = im[base + j]
                                            let onFloor = r * r + m * m <= magnitudePowerFloor
                                            let scale = onFloor ? 0 : g[base + j] / mag[base + j]
                                            let weight = (j == 0 || j == nyquistBin) ? full : half
                                            specRe[j] = scale * r * weight
                                            specIm[j] = scale * m * weight
                                        }
                                        plan.inverse(real: &specRe, imag: &specIm, output: &frameGrad)
                                        for i in 0..<nFFT { gradPadded[t * hop + i] += frameGrad[i] * window[i] }
                                    }
                                    gradPadded.withUnsafeBufferPointer { foldPadding($0.baseAddress!, samples: samples, into: dx + b * samples) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Differentiable STFT magnitude of a batch of signals.
///
///     x: [B, N] → |STFT(x)|: [B, T, K],  T = 1 + N/hop (centred, reflect padding), K = nFFT/2 + 1
///     |X| = sqrt(max(re² + im², 1e-8))
/// The backward is the exact adjoint of the framed, windowed DFT (see `STFT.magnitudeBackward`).
public func stftMagnitude(_ x: Tensor, nFFT: Int, hop: Int) -> Tensor {
    precondition(x.rank == 2, "stftMagnitude: x must be [B, N], got \(x.shape)")
    let batch = x.shape[0], samples = x.shape[1]
    let stft = STFT(nFFT: nFFT, hop: hop)
    precondition(samples > stft.padding, "stftMagnitude: N = \(samples) must exceed nFFT/2 = \(stft.padding) for reflect padding")
    let spectra = stft.magnitudeSpectra(x.data, batch: batch, samples: samples)
    let out = Tensor(shape: [batch, stft.frames(samples: samples), stft.bins], data: spectra.magnitude)
    guard Tensor.recording(x) else { return out }
    return out.recorded(x) { g in
        var gradInput = [Float](repeating: 0, count: batch * samples)
        stft.magnitudeBackward(g.data, spectra: spectra, batch: batch, samples: samples, into: &gradInput)
        x.accumulateGrad(gradInput)
    }
}

/// Multi-resolution mel-STFT loss of HyperSound (docs/papers/hypersound.md §3 "Loss"):
///
///     for each FFT size s:  M = mel_s(|STFT_s(x̂)|), M̂ = mel_s(|STFT_s(x)|)   [B, T_s, s/8]
///                           L_s = mean|M - M̂| + sqrt(mean (M - M̂)²)
///     L = (1/R) Σ_s L_s
/// with hop s/4, periodic Hann, centred reflect-padded frames, Slaney mel filters with s/8 bands over
/// [minFrequency, maxFrequency]. Forward and backward are fused on raw buffers (one tape entry).
///
///     let loss = MultiResolutionSTFTLoss(sampleRate: 8_000)
///     let l = loss(prediction: xHat, target: x)   // scalar Tensor; l.backward()
public struct MultiResolutionSTFTLoss: Sendable {
    /// One resolution: its STFT and mel filterbank.
    public struct Resolution: Sendable {
        public let stft: STFT
        public let mel: MelFilterbank
    }

    public let resolutions: [Resolution]

    /// fftSizes: the FFT sizes (hop = size/4, n_mels = size/8); defaults as HyperSound at 8 kHz: [512, 256, 128, 64], 0-4 kHz.
    public init(sampleRate: Double = 8_000, fftSizes: [Int] = [512, 256, 128, 64],
                minFrequency: Double = 0, maxFrequency: Double? = nil) {
        precondition(!fftSizes.isEmpty && fftSizes.allSatisfy { $0 >= 8 },
                     "MultiResolutionSTFTLoss: FFT sizes must be >= 8 (n_mels = size/8), got \(fftSizes)")
        resolutions = fftSizes.map { size in
            Resolution(stft: STFT(nFFT: size, hop: size / 4),
                       mel: MelFilterbank(sampleRate: sampleRate, nFFT: size, melCount: size / 8,
                                          minFrequency: minFrequency, maxFrequency: maxFrequency ?? sampleRate / 2))
        }
    }

    /// prediction, target: [B, N] (or [N], one signal) → scalar loss. Gradients flow to whichever input requires them.
    public func callAsFunction(prediction: Tensor, target: Tensor) -> Tensor {
        precondition(prediction.shape == target.shape && (prediction.rank == 1 || prediction.rank == 2),
                     "MultiResolutionSTFTLoss: prediction \(prediction.shape) and target \(target.shape) must both be [B, N] or [N]")
        let samples = prediction.shape.last!, batch = prediction.count / max(samples, 1)
        for r in resolutions {
            precondition(samples > r.stft.padding,
                         "MultiResolutionSTFTLoss: N = \(samples) must exceed nFFT/2 = \(r.stft.padding) (reflect padding)")
        }
        let recording = Tensor.recording(prediction, target)
        var total = 0.0
        // Per resolution: the spectra of both inputs and ∂L/∂M (for the prediction; the target's is its negative).
        var saved: [(predicted: MagnitudeSpectra, reference: MagnitudeSpectra, gradMel: [Float])] = []
        for r in resolutions {
            let predicted = r.stft.magnitudeSpectra(prediction.data, batch: batch, samples: samples)
            let reference = r.stft.magnitudeSpectra(target.data, batch: batch, samples: samples)
            let melPredicted = r.mel.apply(predicted.magnitude), melReference = r.mel.apply(reference.magnitude)
            let count = melPredicted.count
            var absoluteSum = 0.0, squareSum = 0.0
            for i in 0..<count {
                let d = Double(melPredicted[i] - melReference[i])
                absoluteSum += abs(d)
                squareSum += d * d
            }
            let rootMeanSquare = (squareSum / Double(count)).squareRoot()
            total += absoluteSum / Double(count) + rootMeanSquare
            guard recording else { continue }
            // ∂L_s/∂D = sign(D)/count + D/(count · rms), then the 1/R of the average.
            let scale = 1 / Double(resolutions.count * count)
            let gradMel = (0..<count).map { i -> Float in
                let d = Double(melPredicted[i] - melReference[i])
                let sign: Double = d > 0 ? 1 : (d < 0 ? -1 : 0)
                return Float(scale * (sign + (rootMeanSquare > 0 ? d / rootMeanSquare : 0)))
            }
            saved.append((predicted, reference, gradMel))
        }
        let out = Tensor(shape: [], data: [Float(total / Double(resolutions.count))])
        guard recording else { return out }
        return out.recorded(prediction, target) { g in
            let upstream = g.data[0]
            var gradPrediction = [Float](repeating: 0, count: prediction.count)
            var gradTarget = [Float](repeating: 0, count: target.requiresGrad ? target.count : 0)
            for (r, s) in zip(resolutions, saved) {
                // ∂L/∂|X|[t, k] = Σ_m ∂L/∂M[t, m] · W[m, k]
                let gradMagnitude = r.mel.transposeApply(s.gradMel, scale: upstream)
                if prediction.requiresGrad {
                    r.stft.magnitudeBackward(gradMagnitude, spectra: s.predicted, batch: batch, samples: samples,
                                             into: &gradPrediction)
                }
                if target.requiresGrad {
                    r.stft.magnitudeBackward(gradMagnitude.map { -$0 }, spectra: s.reference, batch: batch,
                                             samples: samples, into: &gradTarget)
                }
            }
            prediction.accumulateGrad(gradPrediction)
            if target.requiresGrad { target.accumulateGrad(gradTarget) }
        }
    }
}

extension MelFilterbank {
    /// Adjoint of `apply`: [T, M] → [T, K], out[t, k] = scale · Σ_m W[m, k] · in[t, m].
    func transposeApply(_ melValues: [Float], scale: Float) -> [Float] {
        let frames = melValues.count / melCount
        var out = [Float](repeating: 0, count: frames * bins)
        for t in 0..<frames {
            for m in 0..<melCount {
                let v = melValues[t * melCount + m] * scale
                if v == 0 { continue }
                for k in bandRanges[m] { out[t * bins + k] += v * weights[m * bins + k] }
            }
        }
        return out
    }
}

/// HyperSound's default MR-STFT loss at 8 kHz (sizes [512, 256, 128, 64], 0-4 kHz), built once.
private let hyperSoundLoss = MultiResolutionSTFTLoss()

/// `MultiResolutionSTFTLoss()(prediction:target:)` with HyperSound's defaults (8 kHz; FFT sizes 512, 256, 128, 64;
/// hop size/4; size/8 mel bands over 0-4 kHz). prediction, target: [B, N] → scalar.
public func multiResolutionSTFTLoss(prediction: Tensor, target: Tensor) -> Tensor {
    hyperSoundLoss(prediction: prediction, target: target)
}
