import Foundation
import Testing
@testable import Lab
@testable import LabSignal

/// Float64 references for the signal room: naive DFT, naive centred STFT magnitude and the MR-STFT loss built on
/// them, used to check values and gradients (by central finite differences).
private enum Reference {
    /// X[k] = Σ_n x[n] e^{-2πi kn/N}, in Float64.
    static func dft(real: [Double], imag: [Double]) -> (real: [Double], imag: [Double]) {
        let n = real.count
        var outRe = [Double](repeating: 0, count: n), outIm = outRe
        for k in 0..<n {
            for j in 0..<n {
                let angle = -2 * Double.pi * Double((k * j) % n) / Double(n)
                outRe[k] += real[j] * cos(angle) - imag[j] * sin(angle)
                outIm[k] += real[j] * sin(angle) + imag[j] * cos(angle)
            }
        }
        return (outRe, outIm)
    }

    /// Centred, reflect-padded, periodic-Hann STFT magnitude sqrt(max(p, 1e-8)) of one signal, [T, K], Float64.
    struct STFTMagnitude {
        let nFFT: Int, hop: Int
        let cosTable: [Double], sinTable: [Double], window: [Double]

        init(nFFT: Int, hop: Int) {
            self.nFFT = nFFT
            self.hop = hop
            cosTable = (0..<nFFT).map { cos(2 * Double.pi * Double($0) / Double(nFFT)) }
            sinTable = (0..<nFFT).map { sin(2 * Double.pi * Double($0) / Double(nFFT)) }
            window = (0..<nFFT).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(nFFT)) }
        }

        func callAsFunction(_ x: [Double]) -> [Double] {
            let n = x.count, pad = nFFT / 2
            let padded = (0..<(n + 2 * pad)).map { i -> Double in
                let j = i - pad
                return x[j < 0 ? -j : (j >= n ? 2 * (n - 1) - j : j)]
            }
            let frames = 1 + (padded.count - nFFT) / hop, bins = nFFT / 2 + 1
            var out = [Double](repeating: 0, count: frames * bins)
            for t in 0..<frames {
                for k in 0..<bins {
                    var re = 0.0, im = 0.0
                    for i in 0..<nFFT {
                        let v = padded[t * hop + i] * window[i], index = (k * i) % nFFT
                        re += v * cosTable[index]
                        im -= v * sinTable[index]
                    }
                    out[t * bins + k] = max(re * re + im * im, 1e-8).squareRoot()
                }
            }
            return out
        }
    }

    /// The MR-STFT loss of HyperSound on Float64 references; prediction and target are [B·N] rows of `samples`.
    static func multiResolutionLoss(_ prediction: [Double], _ target: [Double], samples: Int,
                                    resolutions: [(STFTMagnitude, MelFilterbank)]) -> Double {
        let batch = prediction.count / samples
        var total = 0.0
        for (stft, mel) in resolutions {
            var differences: [Double] = []
            for b in 0..<batch {
                let p = stft(Array(prediction[(b * samples)..<((b + 1) * samples)]))
                let q = stft(Array(target[(b * samples)..<((b + 1) * samples)]))
                let bins = mel.bins, frames = p.count / bins
                for t in 0..<frames {
                    for m in 0..<mel.melCount {
                        var d = 0.0
                        for k in 0..<bins { d += Double(mel.weights[m * bins + k]) * (p[t * bins + k] - q[t * bins + k]) }
                        differences.append(d)
                    }
                }
            }
            let count = Double(differences.count)
            total += differences.reduce(0) { $0 + abs($1) } / count
                + (differences.reduce(0) { $0 + $1 * $1 } / count).squareRoot()
        }
        return total / Double(resolutions.count)
    }

    /// Central differences of f at x for the listed coordinates, step h.
    static func gradient(_ f: ([Double]) -> Double, at x: [Double], coordinates: [Int], step h: Double = 1e-6) -> [Double] {
        coordinates.map { i in
            var plus = x, minus = x
            plus[i] += h
            minus[i] -= h
            return (f(plus) - f(minus)) / (2 * h)
        }
    }
}

private func maxAbs(_ values: [Float]) -> Float { values.reduce(0) { max($0, abs($1)) } }

private func temporaryFolder() -> String {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("lab-signal-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private func tone(_ frequency: Double, rate: Int, count: Int, amplitude: Double = 0.5) -> [Float] {
    (0..<count).map { Float(amplitude * sin(2 * Double.pi * frequency * Double($0) / Double(rate))) }
}

/// A PCM16 WAV file written byte by byte (independently of libsndfile), interleaved samples.
private func wavBytes(channels: Int, rate: Int, interleaved: [Int16]) -> Data {
    var d = Data()
    func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { d.append(contentsOf: $0) } }
    func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { d.append(contentsOf: $0) } }
    let dataBytes = interleaved.count * 2
    d.append(contentsOf: Array("RIFF".utf8)); u32(36 + dataBytes); d.append(contentsOf: Array("WAVE".utf8))
    d.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(channels); u32(rate)
    u32(rate * channels * 2); u16(channels * 2); u16(16)
    d.append(contentsOf: Array("data".utf8)); u32(dataBytes)
    for s in interleaved { withUnsafeBytes(of: s.littleEndian) { d.append(contentsOf: $0) } }
    return d
}

@Suite struct SignalTests {
    // MARK: FFT

    @Test func complexFFTMatchesNaiveDFT() {
        var rng = RNG(seed: 1)
        for n in [1, 2, 8, 64, 512, 3, 7, 12, 97, 100, 255] {
            let re = (0..<n).map { _ in Float(rng.normal()) }, im = (0..<n).map { _ in Float(rng.normal()) }
            let expected = Reference.dft(real: re.map(Double.init), imag: im.map(Double.init))
            var gotRe = re, gotIm = im
            let plan = FFTPlan.shared(count: n)
            plan.forward(real: &gotRe, imag: &gotIm)
            var error = 0.0, scale = 0.0
            for k in 0..<n {
                error = max(error, abs(Double(gotRe[k]) - expected.real[k]), abs(Double(gotIm[k]) - expected.imag[k]))
                scale = max(scale, abs(expected.real[k]), abs(expected.imag[k]))
            }
            #expect(error <= 2e-6 * scale * Double(max(1, Int(log2(Double(n))))), "length \(n): error \(error), scale \(scale)")
            plan.inverse(real: &gotRe, imag: &gotIm)
            let roundTrip = zip(gotRe + gotIm, re + im).map { abs($0 - $1) }.max()!
            #expect(roundTrip < 1e-5, "length \(n): inverse(forward(x)) off by \(roundTrip)")
        }
        #expect(FFTPlan.shared(count: 64) === FFTPlan.shared(count: 64), "plans of the same length are reused")
    }

    @Test func realFFTMatchesNaiveDFT() {
        var rng = RNG(seed: 2)
        for n in [2, 4, 8, 64, 256, 512, 6, 9, 15, 97] {
            let x = (0..<n).map { _ in Float(rng.normal()) }
            let expected = Reference.dft(real: x.map(Double.init), imag: [Double](repeating: 0, count: n))
            let plan = RealFFTPlan.shared(count: n)
            let (re, im) = plan.forward(x)
            #expect(re.count == n / 2 + 1)
            var error = 0.0
            for k in 0...(n / 2) {
                error = max(error, abs(Double(re[k]) - expected.real[k]), abs(Double(im[k]) - expected.imag[k]))
            }
            #expect(error < 1e-4, "length \(n): error \(error)")
            let back = plan.inverse(real: re, imag: im)
            #expect(maxAbs(zip(back, x).map { $0 - $1 }) < 1e-5, "length \(n): irfft(rfft(x)) != x")
        }
        #expect(RealFFTPlan.shared(count: 256) === RealFFTPlan.shared(count: 256))
    }

    // MARK: STFT and mel

    @Test func stftMatchesCentredDefinition() {
        var rng = RNG(seed: 3)
        let x = (0..<300).map { _ in Float(rng.normal()) }
        for (nFFT, hop) in [(64, 16), (50, 12)] {
            let stft = STFT(nFFT: nFFT, hop: hop)
            let got = stft.magnitude(x)
            let expected = Reference.STFTMagnitude(nFFT: nFFT, hop: hop)(x.map(Double.init))
            #expect(stft.frames(samples: 300) == 1 + (300 + 2 * (nFFT / 2) - nFFT) / hop)
            #expect(got.count == expected.count)
            let error = zip(got, expected).map { abs(Double($0) - $1) }.max()!
            #expect(error < 1e-4, "nFFT \(nFFT): |STFT| off by \(error)")
        }
    }

    @Test func stftInverseReconstructs() {
        var rng = RNG(seed: 4)
        let x = (0..<4096).map { _ in Float(rng.uniform(-1, 1)) }
        for (nFFT, hop) in [(512, 128), (64, 16), (256, 64)] {
            let stft = STFT(nFFT: nFFT, hop: hop)
            let (re, im) = stft.forward(x)
            let y = stft.inverse(real: re, imag: im, length: x.count)
            let error = maxAbs(zip(x, y).map { $0 - $1 })
            #expect(error < 1e-4, "nFFT \(nFFT) hop \(hop): reconstruction error \(error)")
        }
    }

    @Test func melFilterbankIsSlaneyShaped() {
        #expect(abs(MelFilterbank.hzToMel(1000) - 15) < 1e-12)
        #expect(abs(MelFilterbank.hzToMel(6400) - 42) < 1e-9)
        #expect(abs(MelFilterbank.melToHz(MelFilterbank.hzToMel(3123)) - 3123) < 1e-9)
        #expect(abs(MelFilterbank.hzToMel(500) - 7.5) < 1e-12)
        for (nFFT, melCount) in [(512, 64), (256, 32), (128, 16), (64, 8)] {
            let mel = MelFilterbank(sampleRate: 8000, nFFT: nFFT, melCount: melCount, minFrequency: 0, maxFrequency: 4000)
            let binWidth = 8000.0 / Double(nFFT)
            var previousPeak = -1
            for m in 0..<melCount {
                let row = Array(mel.weights[(m * mel.bins)..<((m + 1) * mel.bins)])
                #expect(row.reduce(0, +) > 0, "nFFT \(nFFT): mel band \(m) is empty")
                let peak = row.indices.max { row[$0] < row[$1] }!
                #expect(peak >= previousPeak, "nFFT \(nFFT): band \(m) peaks at bin \(peak) below band \(m - 1)")
                previousPeak = peak
                #expect(row.allSatisfy { $0 >= 0 })
            }
            // Slaney normalisation: a triangle's area ∫W df is 1, so Σ_k W[m, k]·Δf ≈ 1 for bands many bins wide.
            let last = Array(mel.weights[((melCount - 1) * mel.bins)...])
            let area = Double(last.reduce(0, +)) * binWidth
            #expect(abs(area - 1) < 0.1, "nFFT \(nFFT): top band's area \(area)")
        }
    }

    /// Values printed by librosa 0.11.0 (`librosa.filters.mel(sr=8000, n_fft=64, n_mels=8)`, and
    /// `abs(librosa.stft(x, n_fft=16, hop_length=4, center=True, pad_mode="reflect"))`), pinned here.
    @Test func melAndSTFTMatchLibrosa() {
        let mel = MelFilterbank(sampleRate: 8000, nFFT: 64, melCount: 8)
        let firstBand: [Float] = [0.00184241275, 0.0036848255, 0.00215112162, 0.000308708753]        // bins 1...4
        let lastBand: [Float] = [6.27285262e-05, 0.000271490164, 0.000480251794, 0.000689013395, 0.000897775055,
                                 0.00110653671, 0.00111709209, 0.000957507524, 0.000797922898, 0.00063833833,
                                 0.000478753762, 0.000319169165, 0.000159584582]                       // bins 19...31
        #expect(mel.bandRanges[0] == 1..<5 && mel.bandRanges[7] == 19..<32)
        let got = Array(mel.weights[1...4]) + Array(mel.weights[(7 * 33 + 19)...(7 * 33 + 31)])
        let error = zip(got, firstBand + lastBand).map { abs($0 - $1) / $1 }.max()!
        #expect(error < 1e-5, "mel weights differ from librosa by \(error) (relative)")
        let wide = MelFilterbank(sampleRate: 8000, nFFT: 512, melCount: 64)
        #expect(abs(wide.weights.reduce(0, +) - 4.094621658325195) < 1e-4)
        #expect(abs(wide.weights[(40 * 257)..<(41 * 257)].max()! - 0.015790296718478203) < 1e-7)

        let x = (0..<100).map { Float(sin(Double($0) * 0.3)) + 0.1 * Float(cos(Double($0) * 1.7)) }
        let stft = STFT(nFFT: 16, hop: 4)
        let magnitude = stft.magnitude(x)
        #expect(stft.frames(samples: 100) == 26)
        let frame0: [Float] = [4.511565, 1.127174, 1.695745, 0.6117002, 0.05580356, 0.0557334, 0.1422123, 0.1712068, 0.1472571]
        let frame12: [Float] = [5.219005, 4.063289, 1.267762, 0.04901806, 0.3915181, 0.2892956, 0.04060863, 0.01002786, 0.006663075]
        let stftError = zip(Array(magnitude[0..<9]) + Array(magnitude[(12 * 9)..<(13 * 9)]), frame0 + frame12)
            .map { abs($0 - $1) }.max()!
        #expect(stftError < 2e-5, "|STFT| differs from librosa by \(stftError)")
    }

    // MARK: Audio files

    @Test func wavRoundTrips() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var rng = RNG(seed: 5)
        let samples = [1, -1, 0.5, -0.25] + (0..<2000).map { _ in Float(rng.uniform(-1, 1)) }
        let audio = Audio(samples: samples, sampleRate: 16_000)
        for (name, encoding, tolerance) in [("a.wav", AudioFile.Encoding.pcm16, Float(1.0 / 32768 + 1e-6)),
                                             ("b.wav", .float32, 0), ("c.flac", .pcm16, Float(1.0 / 32768 + 1e-6))] {
            let path = (folder as NSString).appendingPathComponent("sub/\(name)")
            try AudioFile.write(audio, to: path, encoding: encoding)
            let back = try AudioFile.read(path)
            #expect(back.sampleRate == 16_000 && back.samples.count == samples.count)
            let error = maxAbs(zip(back.samples, samples).map { $0 - $1 })
            #expect(error <= tolerance, "\(name): round-trip error \(error)")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (folder as NSString).appendingPathComponent("sub"))
        #expect(leftovers.sorted() == ["a.wav", "b.wav", "c.flac"], "no temporary files are left behind")
    }

    @Test func stereoFilesAreDownmixed() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = (folder as NSString).appendingPathComponent("stereo.wav")
        // Left 0.5, right -0.25 (in units of 1/32768) alternating frames; the mono mean is (L + R) / 2.
        let interleaved: [Int16] = [16384, -8192, 1000, 3000, -32768, 32767]
        try wavBytes(channels: 2, rate: 44_100, interleaved: interleaved).write(to: URL(fileURLWithPath: path))
        let audio = try AudioFile.read(path)
        #expect(audio.sampleRate == 44_100)
        let expected: [Float] = [(16384 - 8192) / 2, (1000 + 3000) / 2, (-32768 + 32767) / 2].map { $0 / 32768 }
        #expect(audio.samples.count == 3)
        #expect(maxAbs(zip(audio.samples, expected).map { $0 - $1 }) < 1e-7)
    }

    @Test func badFilesGiveTypedErrors() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let missing = (folder as NSString).appendingPathComponent("nothing.wav")
        #expect(throws: LabError.self) { try AudioFile.read(missing) }
        do { _ = try AudioFile.read(missing) } catch let LabError.missingFile(path, _) {
            #expect(path == missing)
        }

        let truncated = (folder as NSString).appendingPathComponent("truncated.wav")
        let full = wavBytes(channels: 1, rate: 8000, interleaved: (0..<4000).map { Int16($0 % 300) })
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: truncated))
        let text = (folder as NSString).appendingPathComponent("notes.wav")
        try "these are not samples\n".write(toFile: text, atomically: true, encoding: .utf8)
        let headerOnly = (folder as NSString).appendingPathComponent("header.wav")
        try full.prefix(20).write(to: URL(fileURLWithPath: headerOnly))
        for path in [truncated, text, headerOnly] {
            do {
                _ = try AudioFile.read(path)
                Issue.record("\(path) was read without an error")
            } catch let error as LabError {
                guard case let .corruptFile(errorPath, reason) = error else {
                    Issue.record("\(path): expected corruptFile, got \(error)")
                    continue
                }
                #expect(errorPath == path && !reason.isEmpty)
                #expect(error.description.contains(path), "the message names the file: \(error)")
            }
        }
        #expect(throws: LabError.self) { try AudioFile.write(Audio(samples: [0], sampleRate: 8000), to: folder + "/x.mp3") }
    }

    // MARK: Resampling

    /// Amplitude of the `frequency` component of y (least squares on sin and cos), over the middle half.
    private func amplitude(_ y: [Float], frequency: Double, rate: Int) -> Double {
        var s = 0.0, c = 0.0, n = 0.0
        for i in (y.count / 4)..<(3 * y.count / 4) {
            let angle = 2 * Double.pi * frequency * Double(i) / Double(rate)
            s += Double(y[i]) * sin(angle)
            c += Double(y[i]) * cos(angle)
            n += 1
        }
        return 2 * (s * s + c * c).squareRoot() / n
    }

    private func energy(_ y: [Float]) -> Double {
        let middle = y[(y.count / 4)..<(3 * y.count / 4)]
        return middle.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(middle.count)
    }

    @Test func resamplerKeepsPassBandAndRemovesAliases() {
        let down = Resampler(from: 16_000, to: 8_000)
        #expect(down.up == 1 && down.down == 2)
        let x1k = tone(1000, rate: 16_000, count: 16_000)
        let y1k = down.resample(x1k)
        #expect(y1k.count == 8_000)
        let gain = amplitude(y1k, frequency: 1000, rate: 8_000) / 0.5
        #expect(abs(gain - 1) <= 0.01, "1 kHz amplitude ratio \(gain)")
        // 6 kHz lies above the new 4 kHz Nyquist: it would alias to 2 kHz.
        let x6k = tone(6000, rate: 16_000, count: 16_000)
        let attenuation = 10 * log10(energy(down.resample(x6k)) / energy(x6k))
        #expect(attenuation <= -40, "6 kHz tone after 16 -> 8 kHz: \(attenuation) dB")

        // A non-integer ratio (44.1 kHz -> 8 kHz) and upsampling (8 kHz -> 16 kHz) keep a 1 kHz tone.
        for (from, to) in [(44_100, 8_000), (8_000, 16_000), (22_050, 16_000)] {
            let resampler = Resampler(from: from, to: to)
            let y = resampler.resample(tone(1000, rate: from, count: from / 2))
            #expect(y.count == resampler.outputCount(from / 2))
            let ratio = amplitude(y, frequency: 1000, rate: to) / 0.5
            #expect(abs(ratio - 1) <= 0.01, "\(from) -> \(to): 1 kHz amplitude ratio \(ratio)")
        }
        let alias = Resampler(from: 44_100, to: 8_000).resample(tone(7000, rate: 44_100, count: 22_050))
        #expect(10 * log10(energy(alias) / 0.125) <= -40, "7 kHz at 44.1 -> 8 kHz must be removed")

        // The measurement behind HyperSound's `resample-sine` claim agrees with the fits above.
        #expect(abs(down.toneResponse(frequency: 1000) - 1) <= 0.01)
        #expect(20 * log10(down.toneResponse(frequency: 6000)) <= -40)
        #expect(20 * log10(Resampler(from: 16_000, to: 8_000, zeroCrossings: 2, beta: 0).toneResponse(frequency: 6000)) > -40,
                "a short unwindowed filter must fail the same test (the measurement can fail)")
    }

    // MARK: Differentiable STFT magnitude and MR-STFT loss

    @Test func stftMagnitudeGradientMatchesFiniteDifferences() {
        var rng = RNG(seed: 6)
        let batch = 2, samples = 256, nFFT = 64, hop = 16
        let x = Tensor.randn([batch, samples], rng: &rng)
        x.requiresGrad = true
        let magnitude = stftMagnitude(x, nFFT: nFFT, hop: hop)
        #expect(magnitude.shape == [batch, 1 + samples / hop, nFFT / 2 + 1])
        // L = Σ c ⊙ |X| with fixed random c: its gradient is the backward seeded with c.
        let weights = Tensor.randn(magnitude.shape, rng: &rng)
        magnitude.backward(seed: weights)
        let reference = Reference.STFTMagnitude(nFFT: nFFT, hop: hop)
        let c = weights.doubles, perRow = magnitude.count / batch
        func loss(_ flat: [Double]) -> Double {
            var total = 0.0
            for b in 0..<batch {
                let m = reference(Array(flat[(b * samples)..<((b + 1) * samples)]))
                for i in m.indices { total += c[b * perRow + i] * m[i] }
            }
            return total
        }
        let forward = (0..<batch).flatMap { b in reference(Array(x.doubles[(b * samples)..<((b + 1) * samples)])) }
        #expect(zip(magnitude.doubles, forward).map { abs($0 - $1) }.max()! < 1e-4)
        let numeric = Reference.gradient(loss, at: x.doubles, coordinates: Array(0..<(batch * samples)))
        let analytic = x.grad!.doubles
        let scale = numeric.map(abs).max()!
        let error = zip(analytic, numeric).map { abs($0 - $1) }.max()!
        #expect(error <= 1e-4 * scale, "stftMagnitude gradient error \(error) (scale \(scale))")
    }

    @Test func multiResolutionLossGradientMatchesFiniteDifferences() {
        var rng = RNG(seed: 7)
        for (fftSizes, batch, samples, checked) in [([64], 2, 256, 160), ([512, 256, 128, 64], 1, 512, 32)] {
            let lossFunction = MultiResolutionSTFTLoss(sampleRate: 8000, fftSizes: fftSizes)
            let prediction = Tensor.randn([batch, samples], std: 0.3, rng: &rng)
            let target = Tensor.randn([batch, samples], std: 0.3, rng: &rng)
            prediction.requiresGrad = true
            target.requiresGrad = true
            let loss = lossFunction(prediction: prediction, target: target)
            loss.backward()
            let resolutions = lossFunction.resolutions.map { (Reference.STFTMagnitude(nFFT: $0.stft.nFFT, hop: $0.stft.hop), $0.mel) }
            let p = prediction.doubles, q = target.doubles
            let value = Reference.multiResolutionLoss(p, q, samples: samples, resolutions: resolutions)
            #expect(abs(Double(loss.item) - value) <= 1e-4 * value, "sizes \(fftSizes): loss \(loss.item) vs reference \(value)")
            let coordinates = Array(rng.permutation(batch * samples).prefix(checked))
            for (input, other, isPrediction) in [(prediction, q, true), (target, p, false)] {
                let numeric = Reference.gradient({ v in
                    isPrediction ? Reference.multiResolutionLoss(v, other, samples: samples, resolutions: resolutions)
                                 : Reference.multiResolutionLoss(other, v, samples: samples, resolutions: resolutions)
                }, at: input.doubles, coordinates: coordinates)
                let analytic = coordinates.map { Double(input.grad!.data[$0]) }
                let scale = numeric.map(abs).max()!
                let error = zip(analytic, numeric).map { abs($0 - $1) }.max()!
                #expect(error <= 2e-3 * scale, "sizes \(fftSizes), \(isPrediction ? "prediction" : "target"): error \(error), scale \(scale)")
            }
        }
        // The default loss is HyperSound's: four resolutions at 8 kHz, n_mels = size/8.
        #expect(MultiResolutionSTFTLoss().resolutions.map { [$0.stft.nFFT, $0.stft.hop, $0.mel.melCount] }
                == [[512, 128, 64], [256, 64, 32], [128, 32, 16], [64, 16, 8]])
        let same = Tensor.randn([1, 4096], rng: &rng)
        #expect(multiResolutionSTFTLoss(prediction: same, target: same).item == 0)
    }

    // MARK: Metrics

    @Test func metricsMatchHandComputedValues() throws {
        let x: [Float] = [1, -1, 2, 0], y: [Float] = [0.5, -1, 1, 1]
        #expect(abs(AudioMetrics.meanSquaredError(reference: x, estimate: y) - 0.5625) < 1e-12)
        #expect(abs(AudioMetrics.meanAbsoluteError(reference: x, estimate: y) - 0.625) < 1e-12)
        #expect(abs(AudioMetrics.signalToNoiseRatio(reference: x, estimate: y) - 10 * log10(6 / 2.25)) < 1e-12)

        var rng = RNG(seed: 8)
        let clean = tone(440, rate: 8000, count: 4096).enumerated().map { $1 + 0.2 * Float(sin(Double($0) * 0.37)) }
        var noise = (0..<4096).map { _ in rng.normal() }
        // Make the noise zero-mean and orthogonal to the zero-mean signal, then scale it to exactly 10 dB below.
        let cleanMean = clean.reduce(0.0) { $0 + Double($1) } / 4096
        let centred = clean.map { Double($0) - cleanMean }
        let noiseMean = noise.reduce(0, +) / 4096
        noise = noise.map { $0 - noiseMean }
        let projection = zip(noise, centred).reduce(0.0) { $0 + $1.0 * $1.1 } / centred.reduce(0.0) { $0 + $1 * $1 }
        noise = zip(noise, centred).map { $0 - projection * $1 }
        let gain = (centred.reduce(0.0) { $0 + $1 * $1 } / 10 / noise.reduce(0.0) { $0 + $1 * $1 }).squareRoot()
        let noisy = zip(clean, noise).map { $0 + Float(gain * $1) }
        let siSNR = try #require(AudioMetrics.scaleInvariantSNR(reference: clean, estimate: noisy))
        #expect(abs(siSNR - 10) <= 0.3, "SI-SNR at a constructed 10 dB noise: \(siSNR)")
        let scaled = try #require(AudioMetrics.scaleInvariantSNR(reference: clean, estimate: noisy.map { 3 * $0 }))
        #expect(abs(scaled - siSNR) <= 1e-3, "SI-SNR is scale invariant: \(scaled) vs \(siSNR)")
        let perfect = try #require(AudioMetrics.scaleInvariantSNR(reference: clean, estimate: clean.map { 3 * $0 }))
        #expect(perfect > 100, "SI-SNR(x, 3x) is (numerically) unbounded: \(perfect)")
        #expect(AudioMetrics.scaleInvariantSNR(reference: clean, estimate: [Float](repeating: 0, count: 4096)) == nil)

        #expect(AudioMetrics.logSpectralDistance(reference: clean, estimate: clean, sampleRate: 8000) == 0)
        // Doubling the signal multiplies P by 4 wherever |X|² ≫ 1e-5: LSD = log10 4.
        let loud = (0..<4096).map { _ in Float(rng.normal(mean: 0, std: 0.5)) }
        let lsd = AudioMetrics.logSpectralDistance(reference: loud, estimate: loud.map { 2 * $0 }, sampleRate: 8000)
        #expect(abs(lsd - log10(4.0)) < 1e-3, "LSD(x, 2x) = \(lsd)")
        // An error only in 2.5-3.5 kHz shows in the 2-4 kHz band LSD and not in the 0-1 kHz one.
        let stft = STFT(nFFT: 256, hop: 80)
        var (re, im) = stft.forward(loud)
        for t in 0..<(re.count / stft.bins) {
            for k in 80...112 { re[t * stft.bins + k] *= 3; im[t * stft.bins + k] *= 3 }
        }
        let coloured = stft.inverse(real: re, imag: im, length: loud.count)
        let low = AudioMetrics.logSpectralDistance(reference: loud, estimate: coloured, sampleRate: 8000, band: 0...1000)
        let high = AudioMetrics.logSpectralDistance(reference: loud, estimate: coloured, sampleRate: 8000, band: 2000...4000)
        #expect(low < 0.05 && high > 0.3, "band LSD 0-1 kHz \(low), 2-4 kHz \(high)")
    }

    // MARK: Clip collections

    @Test func audioClipsLoadLabelAndCut() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try AudioFile.write(Audio(samples: tone(500, rate: 16_000, count: 3200), sampleRate: 16_000),
                            to: folder + "/speakerB/kal16_2.wav")
        try AudioFile.write(Audio(samples: tone(300, rate: 8_000, count: 1000), sampleRate: 8_000),
                            to: folder + "/speakerA/awb_1.WAV")
        try "not audio".write(toFile: folder + "/speakerA/readme.txt", atomically: true, encoding: .utf8)
        let clips = try AudioClips(folder: folder, sampleRate: 8_000)
        #expect(clips.clips.map { ($0.path as NSString).lastPathComponent } == ["awb_1.WAV", "kal16_2.wav"])
        #expect(clips.labels == ["speakerA", "speakerB"])
        #expect(clips.clips.map(\.samples.count) == [1000, 1600])
        let byPrefix = try AudioClips(folder: folder, sampleRate: 8_000, label: .filePrefix(separator: "_"))
        #expect(byPrefix.clips.map(\.label) == ["awb", "kal16"])
        #expect(throws: LabError.self) { try AudioClips(folder: folder + "/none", sampleRate: 8_000) }

        // Silence: 512 zeros, 1024 loud samples, 300 zeros → exactly the loud part (frames of 256).
        let burst = tone(700, rate: 8000, count: 1024)
        let padded = [Float](repeating: 0, count: 512) + burst + [Float](repeating: 0.001, count: 300)
        #expect(AudioClips.trimSilence(padded) == burst)
        #expect(AudioClips.trimSilence([Float](repeating: 0, count: 1000)).isEmpty)

        // The max-energy window starts at a multiple of 256 and holds the whole burst at 1000..<1500.
        var signal = [Float](repeating: 0, count: 8000)
        for i in 1000..<1500 { signal[i] = 1 }
        let window = AudioClips.maxEnergyWindow(signal, length: 1024)
        #expect(window.count == 1024 && window.reduce(0, +) == 500)
        #expect(window == Array(signal[512..<1536]), "earliest of the tied windows, start 512")
        #expect(AudioClips.maxEnergyWindow([1, 2, 3], length: 5) == [1, 2, 3, 0, 0])

        var cropRNG = RNG(seed: 9)
        let ramp = (0..<3000).map(Float.init)
        let crop = AudioClips.randomCrop(ramp, length: 512, rng: &cropRNG)
        #expect(crop.count == 512 && zip(crop.dropFirst(), crop).allSatisfy { $0 - $1 == 1 })
        var sameRNG = RNG(seed: 9)
        #expect(AudioClips.randomCrop(ramp, length: 512, rng: &sameRNG) == crop)
        #expect(AudioClips.randomCrop([1], length: 3, rng: &cropRNG) == [1, 0, 0])
        let normalized = AudioClips.peakNormalized([0.25, -0.5, 0.1])
        #expect(normalized == [0.5, -1, 0.2])
    }
}
