import Foundation

/// Slaney-style mel filterbank, as `librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax)` with its defaults
/// htk=False and norm="slaney".
///
/// Mel scale (Slaney's Auditory Toolbox): linear below 1 kHz, logarithmic above,
///     mel(f) = f / (200/3)                              for f < 1000 Hz
///     mel(f) = 15 + ln(f / 1000) / (ln 6.4 / 27)        for f ≥ 1000 Hz
/// Filter m (m = 0 … M-1) is a triangle over the FFT bin frequencies f_k = k·sr/nFFT rising from edge m to m + 1 and
/// falling to m + 2, where the M + 2 edges are equally spaced in mel between fmin and fmax; each triangle is scaled
/// by 2 / (edge[m+2] - edge[m]) (Hz) so that every filter has roughly constant energy ("slaney" normalisation).
public struct MelFilterbank: Sendable {
    /// Number of mel bands M.
    public let melCount: Int
    /// Number of FFT bins K = nFFT/2 + 1.
    public let bins: Int
    /// Weights, [M, K] row-major.
    public let weights: [Float]
    /// Centre frequency of each band in Hz (edges 1 … M).
    public let centerFrequencies: [Double]
    /// The bins where each band's weight is non-zero (a triangle covers ~2K/M bins), so that applying the
    /// filterbank costs O(T·K) instead of O(T·K·M).
    let bandRanges: [Range<Int>]

    public init(sampleRate: Double, nFFT: Int, melCount: Int, minFrequency: Double = 0, maxFrequency: Double? = nil) {
        let top = maxFrequency ?? sampleRate / 2
        precondition(melCount >= 1 && nFFT >= 2 && top > minFrequency,
                     "MelFilterbank: needs melCount >= 1, nFFT >= 2 and fmax > fmin (got \(melCount), \(nFFT), \(minFrequency)...\(top))")
        self.melCount = melCount
        bins = nFFT / 2 + 1
        let lowMel = Self.hzToMel(minFrequency), highMel = Self.hzToMel(top)
        let edges = (0..<(melCount + 2)).map { Self.melToHz(lowMel + (highMel - lowMel) * Double($0) / Double(melCount + 1)) }
        let binFrequencies = (0..<bins).map { Double($0) * sampleRate / Double(nFFT) }
        var w = [Float](repeating: 0, count: melCount * bins)
        for m in 0..<melCount {
            let lowerWidth = edges[m + 1] - edges[m], upperWidth = edges[m + 2] - edges[m + 1]
            let norm = 2 / (edges[m + 2] - edges[m])
            for k in 0..<bins {
                let rising = (binFrequencies[k] - edges[m]) / lowerWidth
                let falling = (edges[m + 2] - binFrequencies[k]) / upperWidth
                w[m * bins + k] = Float(max(0, min(rising, falling)) * norm)
            }
        }
        weights = w
        let binCount = nFFT / 2 + 1
        bandRanges = (0..<melCount).map { m in
            let row = (0..<binCount).filter { w[m * binCount + $0] != 0 }
            guard let first = row.first, let last = row.last else { return 0..<0 }
            return first..<(last + 1)
        }
        centerFrequencies = Array(edges[1...melCount])
    }

    /// Hz → mel on the Slaney scale.
    public static func hzToMel(_ f: Double) -> Double {
        let linearStep = 200.0 / 3, breakHz = 1000.0, breakMel = breakHz / linearStep, logStep = log(6.4) / 27
        return f < breakHz ? f / linearStep : breakMel + log(f / breakHz) / logStep
    }

    /// mel → Hz on the Slaney scale.
    public static func melToHz(_ m: Double) -> Double {
        let linearStep = 200.0 / 3, breakHz = 1000.0, breakMel = breakHz / linearStep, logStep = log(6.4) / 27
        return m < breakMel ? m * linearStep : breakHz * exp(logStep * (m - breakMel))
    }

    /// Mel spectrogram: spectrogram [T, K] (magnitude or power) → [T, M], S_mel[t, m] = Σ_k W[m, k] · S[t, k].
    public func apply(_ spectrogram: [Float]) -> [Float] {
        precondition(spectrogram.count % bins == 0, "MelFilterbank.apply: \(spectrogram.count) values are not [T, \(bins)]")
        let frames = spectrogram.count / bins
        var out = [Float](repeating: 0, count: frames * melCount)
        for t in 0..<frames {
            for m in 0..<melCount {
                var s: Float = 0
                for k in bandRanges[m] { s += weights[m * bins + k] * spectrogram[t * bins + k] }
                out[t * melCount + m] = s
            }
        }
        return out
    }

    /// Log-mel spectrogram ln(max(S_mel, floor)), [T, M]; the floor keeps silence finite.
    public func logMel(_ spectrogram: [Float], floor: Float = 1e-5) -> [Float] {
        apply(spectrogram).map { log(max($0, floor)) }
    }
}
