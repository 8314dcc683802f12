import Foundation
import Lab

/// Reconstruction metrics of HyperSound (docs/papers/hypersound.md §3 "Metrics"), for one reference x and one estimate x̂ of equal length.
/// Sums run in Float64. Averaging over clips is the caller's.
public enum AudioMetrics {
    /// MSE = mean (x - x̂)².
    public static func meanSquaredError(reference: [Float], estimate: [Float]) -> Double {
        check(reference, estimate, "meanSquaredError")
        var s = 0.0
        for i in reference.indices { let d = Double(reference[i]) - Double(estimate[i]); s += d * d }
        return s / Double(reference.count)
    }

    /// MAE = mean |x - x̂|.
    public static func meanAbsoluteError(reference: [Float], estimate: [Float]) -> Double {
        check(reference, estimate, "meanAbsoluteError")
        var s = 0.0
        for i in reference.indices { s += abs(Double(reference[i]) - Double(estimate[i])) }
        return s / Double(reference.count)
    }

    /// SNR = 10 log10(Σ x² / Σ (x - x̂)²) in dB; +∞ for a perfect estimate.
    public static func signalToNoiseRatio(reference: [Float], estimate: [Float]) -> Double {
        check(reference, estimate, "signalToNoiseRatio")
        var signal = 0.0, noise = 0.0
        for i in reference.indices {
            let x = Double(reference[i]), d = x - Double(estimate[i])
            signal += x * x
            noise += d * d
        }
        return 10 * log10(signal / noise)
    }

    /// Scale-invariant SNR in dB: both signals made zero-mean, s = (<x̂, x>/||x||²)·x, e = x̂ - s,
    /// SI-SNR = 10 log10(||s||² / ||e||²). nil where it is undefined: a zero (or constant) estimate or reference.
    /// A perfect estimate (e = 0) gives +∞.
    public static func scaleInvariantSNR(reference: [Float], estimate: [Float]) -> Double? {
        check(reference, estimate, "scaleInvariantSNR")
        let n = Double(reference.count)
        let meanX = reference.reduce(0.0) { $0 + Double($1) } / n
        let meanY = estimate.reduce(0.0) { $0 + Double($1) } / n
        var dot = 0.0, energyX = 0.0, energyY = 0.0
        for i in reference.indices {
            let x = Double(reference[i]) - meanX, y = Double(estimate[i]) - meanY
            dot += x * y
            energyX += x * x
            energyY += y * y
        }
        guard energyX > 0, energyY > 0 else { return nil }
        let alpha = dot / energyX
        var target = 0.0, error = 0.0
        for i in reference.indices {
            let x = Double(reference[i]) - meanX, y = Double(estimate[i]) - meanY
            let s = alpha * x
            target += s * s
            error += (y - s) * (y - s)
        }
        return 10 * log10(target / error)
    }

    /// Log-spectral distance: STFT with nFFT 256, hop sampleRate/100 (80 at 8 kHz), periodic Hann window, centred
    /// frames; P = |X|² + 1e-5;
    ///     LSD = mean_t sqrt(mean_f (log10 P[t, f] - log10 P̂[t, f])²)
    /// over all bins, or over the bins whose centre frequency k·sr/nFFT lies in `band` (Hz), e.g. 0...1000 or
    /// 2000...4000 for the band LSDs.
    public static func logSpectralDistance(reference: [Float], estimate: [Float], sampleRate: Int,
                                           band: ClosedRange<Double>? = nil, nFFT: Int = 256) -> Double {
        check(reference, estimate, "logSpectralDistance")
        let stft = STFT(nFFT: nFFT, hop: max(1, sampleRate / 100))
        let p = stft.power(reference), q = stft.power(estimate)
        let bins = stft.bins, frames = p.count / bins
        let selected = (0..<bins).filter { k in
            guard let band else { return true }
            return band.contains(Double(k) * Double(sampleRate) / Double(nFFT))
        }
        precondition(!selected.isEmpty, "logSpectralDistance: band \(band!) Hz holds no bin of a \(nFFT)-point FFT at \(sampleRate) Hz")
        var total = 0.0
        for t in 0..<frames {
            var s = 0.0
            for k in selected {
                let d = log10(Double(p[t * bins + k]) + 1e-5) - log10(Double(q[t * bins + k]) + 1e-5)
                s += d * d
            }
            total += (s / Double(selected.count)).squareRoot()
        }
        return total / Double(frames)
    }

    private static func check(_ reference: [Float], _ estimate: [Float], _ name: String) {
        precondition(reference.count == estimate.count && !reference.isEmpty,
                     "AudioMetrics.\(name): reference has \(reference.count) samples, estimate \(estimate.count) (need equal, > 0)")
    }
}
