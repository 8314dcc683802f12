import Foundation
import Lab

/// One recording: where it came from, its label and its mono samples at the collection's rate.
public struct AudioClip: Sendable {
    public let path: String
    /// e.g. the speaker (see `AudioClips.LabelRule`).
    public let label: String
    public var samples: [Float]
}

/// Every WAV file under a folder, as mono clips at one sample rate, plus the clip preprocessing of HyperSound
/// (docs/papers/hypersound.md §2 "Preprocessing"): silence trimming, fixed-length windows (max-energy or random crop), peak normalisation.
///
///     let allison = try AudioClips(folder: "/usr/share/asterisk/sounds/en_US_f_Allison", sampleRate: 8_000)
///     let clip = AudioClips.peakNormalized(AudioClips.maxEnergyWindow(AudioClips.trimSilence(allison.clips[0].samples), length: 4_096))
public struct AudioClips: Sendable {
    /// How a clip's label is derived from its path.
    public enum LabelRule: Sendable {
        /// The name of the folder that holds the file (".../speaker/x.wav" → "speaker").
        case parentFolder
        /// The file name up to the first `separator` ("kal16_3.wav" → "kal16").
        case filePrefix(separator: Character)
        /// The same label for every file.
        case constant(String)
    }

    /// Clips in sorted path order.
    public let clips: [AudioClip]
    /// Sample rate of every clip.
    public let sampleRate: Int
    /// Distinct labels, sorted.
    public var labels: [String] { Array(Set(clips.map(\.label))).sorted() }

    /// Loads every `.wav` file (any case) under `folder`, recursively, in sorted path order; downmixes to mono and
    /// resamples to `sampleRate`. `sourceSampleRates` are the rates the files may have (see `AudioFile.read`): a file
    /// at any other rate is refused rather than silently resampled. Throws `LabError.missingFile` for a missing
    /// folder or a folder without WAV files, and the reader's typed error (naming the file) for an unreadable one.
    public init(folder: String, sampleRate: Int, sourceSampleRates: ClosedRange<Int> = AudioFile.plausibleSampleRates,
                label: LabelRule = .parentFolder) throws {
        guard sampleRate > 0 else { throw LabError.invalidArgument("AudioClips: sample rate \(sampleRate) Hz for \(folder) must be positive") }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw LabError.missingFile(path: folder, fix: "no such folder; fetch the audio with `make data`")
        }
        guard let walker = FileManager.default.enumerator(atPath: folder) else {
            throw LabError.io(path: folder, reason: "cannot list the folder")
        }
        var paths: [String] = []
        while let relative = walker.nextObject() as? String {
            if relative.lowercased().hasSuffix(".wav") { paths.append((folder as NSString).appendingPathComponent(relative)) }
        }
        paths.sort()
        guard !paths.isEmpty else {
            throw LabError.missingFile(path: folder, fix: "the folder holds no .wav files; fetch the audio with `make data`")
        }
        var loaded: [AudioClip] = []
        loaded.reserveCapacity(paths.count)
        var resamplers: [Int: Resampler] = [:]
        for path in paths {
            let audio = try AudioFile.read(path, sampleRates: sourceSampleRates)
            var samples = audio.samples
            if audio.sampleRate != sampleRate {
                let resampler = resamplers[audio.sampleRate] ?? Resampler(from: audio.sampleRate, to: sampleRate)
                resamplers[audio.sampleRate] = resampler
                samples = resampler.resample(samples)
            }
            loaded.append(AudioClip(path: path, label: Self.label(of: path, rule: label), samples: samples))
        }
        clips = loaded
        self.sampleRate = sampleRate
    }

    static func label(of path: String, rule: LabelRule) -> String {
        switch rule {
        case .parentFolder:
            return ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
        case let .filePrefix(separator):
            let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            return String(name.split(separator: separator, maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        case let .constant(value):
            return value
        }
    }

    /// Cuts leading and trailing silence: frames of `frameLength` samples (the last one may be shorter) whose RMS is
    /// below `threshold` × the file's peak |x| are dropped at both ends; inner silent frames stay. A file without any
    /// loud frame (e.g. all zeros) becomes empty.
    public static func trimSilence(_ x: [Float], frameLength: Int = 256, threshold: Float = 0.01) -> [Float] {
        let peak = x.reduce(Float(0)) { max($0, abs($1)) }
        let limit = Double(threshold * peak)
        let frameCount = (x.count + frameLength - 1) / frameLength
        func loud(_ f: Int) -> Bool {
            let lo = f * frameLength, hi = min(x.count, lo + frameLength)
            var s = 0.0
            for i in lo..<hi { s += Double(x[i]) * Double(x[i]) }
            return peak > 0 && (s / Double(hi - lo)).squareRoot() >= limit
        }
        guard let first = (0..<frameCount).first(where: loud), let last = (0..<frameCount).last(where: loud) else { return [] }
        return Array(x[(first * frameLength)..<min(x.count, (last + 1) * frameLength)])
    }

    /// The `length`-sample window with the most energy Σx² among starts 0, stride, 2·stride, …; a signal shorter than
    /// `length` is zero-padded at the end. Ties keep the earliest window.
    public static func maxEnergyWindow(_ x: [Float], length: Int, stride: Int = 256) -> [Float] {
        guard x.count > length else { return zeroPadded(x, length: length) }
        var prefix = [Double](repeating: 0, count: x.count + 1)
        for i in x.indices { prefix[i + 1] = prefix[i] + Double(x[i]) * Double(x[i]) }
        var bestStart = 0, bestEnergy = -1.0
        var start = 0
        while start + length <= x.count {
            let energy = prefix[start + length] - prefix[start]
            if energy > bestEnergy { bestEnergy = energy; bestStart = start }
            start += stride
        }
        return Array(x[bestStart..<(bestStart + length)])
    }

    /// A `length`-sample window at a uniformly random start (any sample offset); shorter signals are zero-padded.
    public static func randomCrop(_ x: [Float], length: Int, rng: inout RNG) -> [Float] {
        guard x.count > length else { return zeroPadded(x, length: length) }
        let start = rng.int(below: x.count - length + 1)
        return Array(x[start..<(start + length)])
    }

    /// x / max|x|; an all-zero signal stays zero.
    public static func peakNormalized(_ x: [Float]) -> [Float] {
        let peak = x.reduce(Float(0)) { max($0, abs($1)) }
        guard peak > 0 else { return x }
        return x.map { $0 / peak }
    }

    /// x followed by zeros up to `length` samples.
    public static func zeroPadded(_ x: [Float], length: Int) -> [Float] {
        x.count >= length ? x : x + [Float](repeating: 0, count: length - x.count)
    }
}
