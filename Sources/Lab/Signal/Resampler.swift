import Foundation
import Lab

/// Band-limited resampling between any two integer rates by a Kaiser-windowed sinc, evaluated as a polyphase filter.
///
/// With the ratio reduced to up/down = outRate/inRate, output sample m sits at input time τ_m = m·down/up and
///     y[m] = Σ_n x[n] · h(τ_m - n),   h(τ) = 2f_c · sinc(2f_c·τ) · kaiser(τ / (Z / 2f_c), β)
/// where f_c = rolloff · min(inRate, outRate) / 2 / inRate (cycles per input sample) is the cutoff, Z the number of
/// sinc zero crossings kept on each side and β the Kaiser shape. τ_m - n takes only `up` distinct fractional parts,
/// so the taps are tabulated once per phase (each phase's taps normalised to sum 1, for unit DC gain).
/// Samples outside the signal are zero.
///
/// Defaults (rolloff 0.9, Z = 32, β = 9): ≈ 90 dB stop-band attenuation beyond the new Nyquist frequency and a
/// flat pass band to 0.85 of it; 16 kHz → 8 kHz keeps 0-3.4 kHz and removes 4-8 kHz.
///
///     let resampler = Resampler(from: 16_000, to: 8_000)
///     let y = resampler.resample(x)
public struct Resampler: Sendable {
    public let inputRate: Int
    public let outputRate: Int
    /// outputRate / inputRate = up / down in lowest terms.
    public let up: Int, down: Int
    /// Taps per phase (2·halfWidth + 1 input samples around τ_m).
    private let halfWidth: Int
    /// [up, 2·halfWidth + 1]: taps[p][j] multiplies x[⌊τ⌋ - halfWidth + j] when frac(τ) = p / up.
    private let taps: [Float]

    public init(from inputRate: Int, to outputRate: Int, rolloff: Double = 0.9, zeroCrossings: Int = 32, beta: Double = 9) {
        precondition(inputRate > 0 && outputRate > 0, "Resampler: rates must be positive, got \(inputRate) -> \(outputRate)")
        precondition(rolloff > 0 && rolloff <= 1 && zeroCrossings >= 1,
                     "Resampler: rolloff must be in (0, 1] and zeroCrossings >= 1, got \(rolloff), \(zeroCrossings)")
        self.inputRate = inputRate
        self.outputRate = outputRate
        let g = Self.gcd(inputRate, outputRate)
        up = outputRate / g
        down = inputRate / g
        let cutoff = rolloff * Double(min(inputRate, outputRate)) / 2 / Double(inputRate)
        let span = Double(zeroCrossings) / (2 * cutoff)      // window half-length in input samples
        halfWidth = Int(span.rounded(.up))
        let width = 2 * halfWidth + 1
        var table = [Float](repeating: 0, count: up * width)
        let i0Beta = Self.besselI0(beta)
        for p in 0..<up {
            let fraction = Double(p) / Double(up)
            var row = [Double](repeating: 0, count: width)
            for j in 0..<width {
                let tau = fraction + Double(halfWidth - j)    // τ - n for n = ⌊τ⌋ - halfWidth + j
                guard abs(tau) < span else { continue }
                let r = tau / span
                let kaiser = Self.besselI0(beta * (1 - r * r).squareRoot()) / i0Beta
                let arg = 2 * cutoff * tau
                let sinc = arg == 0 ? 1 : sin(Double.pi * arg) / (Double.pi * arg)
                row[j] = 2 * cutoff * sinc * kaiser
            }
            let total = row.reduce(0, +)
            for j in 0..<width { table[p * width + j] = Float(row[j] / total) }
        }
        taps = table
    }

    /// Number of output samples for `count` input samples, ⌈count · up / down⌉.
    public func outputCount(_ count: Int) -> Int { (count * up + down - 1) / down }

    /// Resamples `x` (at inputRate) to outputRate.
    public func resample(_ x: [Float]) -> [Float] {
        if up == down { return x }
        let n = x.count, width = 2 * halfWidth + 1
        let outCount = outputCount(n)
        var y = [Float](repeating: 0, count: outCount)
        x.withUnsafeBufferPointer { xp in
            taps.withUnsafeBufferPointer { tp in
                y.withUnsafeMutableBufferPointer { yp in
                    for m in 0..<outCount {
                        let position = m * down                 // τ_m · up
                        let base = position / up, phase = position % up
                        let first = base - halfWidth
                        let row = phase * width
                        var s: Float = 0
                        for j in max(0, -first)..<min(width, n - first) { s += tp[row + j] * xp[first + j] }
                        yp[m] = s
                    }
                }
            }
        }
        return y
    }

    /// Measured response to a pure tone: a `frequency`-Hz sine of `duration` seconds at inputRate is resampled and
    /// the RMS of the output's middle half is divided by the RMS of the input's middle half (edges excluded, where
    /// the filter runs off the signal). ≈ 1 in the pass band (the amplitude error is |r - 1|); 20·log10 r is the
    /// attenuation in dB of a tone above the new Nyquist frequency (HyperSound's `resample-sine` claim).
    public func toneResponse(frequency: Double, duration: Double = 1) -> Double {
        let count = Int(duration * Double(inputRate))
        let input = (0..<count).map { Float(0.5 * sin(2 * Double.pi * frequency * Double($0) / Double(inputRate))) }
        func middleRMS(_ x: [Float]) -> Double {
            let middle = x[(x.count / 4)..<(3 * x.count / 4)]
            return (middle.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(middle.count)).squareRoot()
        }
        return middleRMS(resample(input)) / middleRMS(input)
    }

    /// Resamples audio to `rate` (unchanged when it is already at that rate).
    public static func resample(_ audio: Audio, to rate: Int) -> Audio {
        if audio.sampleRate == rate { return audio }
        return Audio(samples: Resampler(from: audio.sampleRate, to: rate).resample(audio.samples), sampleRate: rate)
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    /// Modified Bessel function of the first kind, order 0: I0(x) = Σ_k ((x/2)^k / k!)², summed to convergence.
    static func besselI0(_ x: Double) -> Double {
        var term = 1.0, sum = 1.0, k = 1.0
        let quarter = x * x / 4
        while term > 1e-17 * sum {
            term *= quarter / (k * k)
            sum += term
            k += 1
        }
        return sum
    }
}
