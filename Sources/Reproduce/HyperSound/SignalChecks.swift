import Foundation
import HyperSoundCore
import Lab
import LabRun
import LabSignal

/// The exact claims about the signal plumbing: WAV round trip, resampler, metrics (docs/papers/hypersound.md §5).
enum SignalChecks {
    static func run(report: Report, sampleRate: Int, seed: Int) throws {
        var rng = RNG(seed: UInt64(seed)).derived("signal-checks")

        // A PCM16 WAV written and read back with libsndfile: the error is at most one quantisation step.
        let samples = (0..<HyperSoundClips.length).map { _ in Float(rng.uniform(-1, 1)) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hypersound-roundtrip-\(getpid()).wav").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try AudioFile.write(Audio(samples: samples, sampleRate: sampleRate), to: path)
        let read = try AudioFile.read(path)
        guard read.samples.count == samples.count, read.sampleRate == sampleRate else {
            throw LabError.corruptFile(path: path, reason: "read back \(read.samples.count) samples at \(read.sampleRate) Hz, wrote \(samples.count) at \(sampleRate) Hz")
        }
        let roundTripError = zip(samples, read.samples).map { Double(abs($0 - $1)) }.max() ?? .nan
        try report.claim(Claim(id: "wav-roundtrip", statement: "WAV write+read (libsndfile, PCM16) preserves samples",
                               measured: roundTripError, .atMost(1.0 / 32_768 + 1e-6), kind: .exact, seeds: []))

        // 16 → 8 kHz: a 1 kHz tone passes, a 6 kHz tone (which would alias to 2 kHz) is removed.
        let resampler = Resampler(from: 16_000, to: 8_000)
        let amplitudeError = abs(resampler.toneResponse(frequency: 1_000) - 1)
        let aliasLeak = 20 * log10(resampler.toneResponse(frequency: 6_000))
        try report.claim(Claim(id: "resample-sine", statement: "16→8 kHz resampler keeps a 1 kHz sine (and removes a 6 kHz one)",
                               measured: amplitudeError, .atMost(0.01),
                               and: [Condition("6 kHz tone: output energy re input (dB)", measured: aliasLeak, .atMost(-40))],
                               kind: .exact, seeds: []))

        // SI-SNR at a known SNR and its scale invariance; LSD of a signal with itself.
        let signal = (0..<HyperSoundClips.length).map { n in
            Float(sin(2 * Double.pi * 220 * Double(n) / Double(sampleRate)) + 0.5 * sin(2 * Double.pi * 910 * Double(n) / Double(sampleRate)))
        }
        var noise = (0..<signal.count).map { _ in Float(rng.normal()) }
        let signalEnergy = signal.reduce(0.0) { $0 + Double($1 * $1) }, noiseEnergy = noise.reduce(0.0) { $0 + Double($1 * $1) }
        let noiseScale = Float((signalEnergy / (10 * noiseEnergy)).squareRoot())   // Σx²/Σn² = 10, i.e. 10 dB
        noise = noise.map { $0 * noiseScale }
        let noisy = zip(signal, noise).map { $0 + $1 }
        let atTenDB = AudioMetrics.scaleInvariantSNR(reference: signal, estimate: noisy) ?? .nan
        let scaled = AudioMetrics.scaleInvariantSNR(reference: signal, estimate: noisy.map { 3 * $0 }) ?? .nan
        let selfDistance = AudioMetrics.logSpectralDistance(reference: signal, estimate: signal, sampleRate: sampleRate)
        try report.claim(Claim(
            id: "metric-sanity", statement: "SI-SNR is scale invariant and exact at a known SNR; LSD(x,x) = 0",
            measured: abs(atTenDB - 10), .atMost(0.3),
            and: [Condition("|SI-SNR(x, 3(x+n)) - SI-SNR(x, x+n)| (dB)", measured: abs(scaled - atTenDB), .atMost(1e-3)),
                         Condition("LSD(x, x)", measured: selfDistance, .equal(0))],
            kind: .exact, seeds: [],
            note: "Scale invariance is checked on x + n: the design's SI-SNR(x, 3x) - SI-SNR(x, x) is ∞ - ∞ (a perfect estimate has SI-SNR = +∞)."))
        report.text("""
            Signal checks: PCM16 round trip max error \(formatNumber(roundTripError)); resampler 1 kHz amplitude \
            error \(formatNumber(amplitudeError)), 6 kHz leak \(String(format: "%.1f", aliasLeak)) dB; SI-SNR at a \
            10 dB mix \(String(format: "%.3f", atTenDB)) dB.
            """)
    }
}
