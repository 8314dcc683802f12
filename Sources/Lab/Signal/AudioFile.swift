import CSndfile
import Foundation
import Lab

/// Mono Float32 audio with its sample rate.
public struct Audio: Sendable, Equatable {
    /// Samples, nominally in [-1, 1].
    public var samples: [Float]
    /// Samples per second.
    public var sampleRate: Int

    public init(samples: [Float], sampleRate: Int) {
        self.samples = samples
        self.sampleRate = sampleRate
    }

    /// Duration in seconds.
    public var duration: Double { Double(samples.count) / Double(sampleRate) }
}

/// Reading and writing audio files through libsndfile.
///
///     let audio = try AudioFile.read("/usr/share/asterisk/sounds/en_US_f_Allison/digits/1.wav")
///     try AudioFile.write(audio, to: "out/1.wav")                       // PCM16 WAV
///     try AudioFile.write(audio, to: "out/1.flac", encoding: .pcm16)   // container from the extension
public enum AudioFile {
    /// Sample encoding of a written file.
    public enum Encoding: Sendable {
        /// 16-bit integers: q = clamp(round(x·32768), -32768, 32767); read back as q / 32768, so the round trip
        /// error is at most 0.5/32768 inside [-1, 1) and 1/32768 at +1.
        case pcm16
        /// 32-bit IEEE float (WAV only; FLAC has no float encoding): exact.
        case float32
    }

    /// The sample rates a file may declare: 1 kHz to 384 kHz (the highest rate of studio converters). A header
    /// outside it is corrupt or not speech/music audio; refusing it also bounds what a resampler allocates
    /// (a 2^31 − 1 Hz header would otherwise ask `Resampler` for a 610 GB filter table).
    public static let plausibleSampleRates = 1_000...384_000

    /// Reads any file libsndfile knows (WAV, FLAC, AIFF, OGG ...) at any channel count and returns its mono downmix
    /// (the mean of the channels) as Float32 in [-1, 1].
    ///
    /// - Parameter sampleRates: the rates the caller accepts, e.g. `8_000...16_000` for a corpus known to hold
    ///   8 and 16 kHz speech; always narrowed to `plausibleSampleRates`.
    /// Throws `LabError.missingFile` when there is no file, `LabError.corruptFile` (naming the file and what is
    /// wrong) when it is not audio, declares a sample rate outside `sampleRates` or an impossible channel or frame
    /// count, is truncated, holds no frames, or holds a NaN or infinite sample (the first one's frame and channel
    /// are named). Samples are read in blocks, so a header that overstates the frame count allocates nothing. The
    /// file's SHA-256 goes to `DataProvenance` (run.json's `dataFiles`).
    public static func read(_ path: String, sampleRates: ClosedRange<Int> = plausibleSampleRates) throws -> Audio {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LabError.missingFile(path: path, fix: "check the path; fetched data comes from `make data`")
        }
        var info = SF_INFO()
        guard let file = sf_open(path, Int32(SFM_READ), &info) else {
            throw LabError.corruptFile(path: path, reason: "not a readable audio file (libsndfile: \(String(cString: sf_strerror(nil))))")
        }
        defer { sf_close(file) }
        DataProvenance.record(path)
        let channels = Int(info.channels), frames = Int(info.frames), rate = Int(info.samplerate)
        guard channels >= 1 else { throw LabError.corruptFile(path: path, reason: "header declares \(channels) channels") }
        guard plausibleSampleRates.contains(rate) else {
            throw LabError.corruptFile(path: path, reason: "header declares a sample rate of \(rate) Hz, outside the "
                                       + "plausible \(describe(plausibleSampleRates)) of audio (corrupt header?)")
        }
        let accepted = sampleRates.clamped(to: plausibleSampleRates)
        guard accepted.contains(rate) else {
            throw LabError.corruptFile(path: path, reason: "sample rate \(rate) Hz is outside the \(describe(accepted)) expected here")
        }
        guard frames > 0 else {
            throw LabError.corruptFile(path: path, reason: "the file holds no audio frames (empty or truncated)")
        }
        let (sampleCount, overflow) = frames.multipliedReportingOverflow(by: channels)
        guard !overflow else {
            throw LabError.corruptFile(path: path, reason: "header declares \(frames) frames of \(channels) channels: impossible")
        }
        if info.format & Int32(SF_FORMAT_TYPEMASK) == Int32(SF_FORMAT_WAV) {
            try checkWAVDataChunk(path: path)
        }
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int ?? 0
        var interleaved: [Float] = []
        interleaved.reserveCapacity(min(sampleCount, fileSize))
        let blockFrames = max(1, (1 << 16) / channels)
        var block = [Float](repeating: 0, count: blockFrames * channels)
        while interleaved.count < sampleCount {
            let wanted = min(blockFrames, (sampleCount - interleaved.count) / channels)
            let got = Int(block.withUnsafeMutableBufferPointer { sf_readf_float(file, $0.baseAddress, sf_count_t(wanted)) })
            if got <= 0 { break }
            interleaved.append(contentsOf: block[0..<(got * channels)])
        }
        guard interleaved.count == sampleCount else {
            throw LabError.corruptFile(
                path: path, reason: "truncated: header declares \(frames) frames, only \(interleaved.count / channels) could be read")
        }
        if let bad = interleaved.firstIndex(where: { !$0.isFinite }) {
            throw LabError.corruptFile(path: path, reason: "sample \(interleaved[bad]) at frame \(bad / channels)"
                                       + (channels > 1 ? ", channel \(bad % channels)" : "") + " is not finite")
        }
        guard channels > 1 else { return Audio(samples: interleaved, sampleRate: rate) }
        var mono = [Float](repeating: 0, count: frames)
        let scale = 1 / Float(channels)
        for f in 0..<frames {
            // Scaled before summing, so that finite float samples near Float.greatestFiniteMagnitude cannot add up
            // to infinity.
            var s: Float = 0
            for c in 0..<channels { s += interleaved[f * channels + c] * scale }
            mono[f] = s
        }
        return Audio(samples: mono, sampleRate: rate)
    }

    /// "8000...16000 Hz" or "16000 Hz".
    private static func describe(_ rates: ClosedRange<Int>) -> String {
        rates.lowerBound == rates.upperBound ? "\(rates.lowerBound) Hz" : "\(rates.lowerBound)...\(rates.upperBound) Hz"
    }

    /// libsndfile opens a WAV whose data chunk was cut short and quietly reports only the frames present. A cut file
    /// is corrupt data for us, so compare the data chunk's declared size with what the file holds.
    private static func checkWAVDataChunk(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path),
              let fileSize = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int else { return }
        defer { try? handle.close() }
        // The chunks before "data" (fmt, LIST, fact ...) sit in the first few kilobytes.
        guard let bytes = try? handle.read(upToCount: 1 << 16), bytes.count >= 12 else { return }
        func le32(_ at: Int) -> Int {
            Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
        }
        var offset = 12
        while offset + 8 <= bytes.count {
            let id = String(decoding: bytes[offset..<offset + 4], as: UTF8.self), size = le32(offset + 4)
            if id == "data" {
                let available = fileSize - offset - 8
                // 0 and 0xFFFFFFFF mark a header written while streaming (size unknown): nothing to compare.
                if size != 0, size != 0xFFFF_FFFF, available < size {
                    throw LabError.corruptFile(
                        path: path,
                        reason: "truncated: the data chunk declares \(size) bytes but only \(available) are present")
                }
                return
            }
            offset += 8 + size + (size & 1)
        }
    }

    /// Writes mono audio atomically (a temporary file in the same folder, then rename). The container follows the
    /// extension: `.wav` or `.flac`. Creates the parent folder when missing.
    public static func write(_ audio: Audio, to path: String, encoding: Encoding = .pcm16) throws {
        let ext = (path as NSString).pathExtension.lowercased()
        let container: Int32
        switch ext {
        case "wav": container = Int32(SF_FORMAT_WAV)
        case "flac": container = Int32(SF_FORMAT_FLAC)
        default: throw LabError.invalidArgument("AudioFile.write: unknown audio extension '.\(ext)' in \(path); use .wav or .flac")
        }
        if container == Int32(SF_FORMAT_FLAC), encoding == .float32 {
            throw LabError.invalidArgument("AudioFile.write: FLAC has no float encoding (\(path)); write .wav or use .pcm16")
        }
        guard audio.sampleRate > 0 else {
            throw LabError.invalidArgument("AudioFile.write: sample rate \(audio.sampleRate) for \(path) must be positive")
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw LabError.io(path: folder, reason: "cannot create the folder: \(error)")
            }
        }
        let temporary = path + ".tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))." + ext
        var info = SF_INFO()
        info.samplerate = Int32(audio.sampleRate)
        info.channels = 1
        info.format = container | Int32(encoding == .pcm16 ? SF_FORMAT_PCM_16 : SF_FORMAT_FLOAT)
        guard let file = sf_open(temporary, Int32(SFM_WRITE), &info) else {
            throw LabError.io(path: path, reason: "cannot open for writing (libsndfile: \(String(cString: sf_strerror(nil))))")
        }
        let frames = audio.samples.count
        let written: sf_count_t
        switch encoding {
        case .pcm16:
            // Quantised here, not by libsndfile (which scales by 32767 on write but 1/32768 on read).
            let quantised = audio.samples.map { Int16(max(-32768, min(32767, ($0 * 32768).rounded()))) }
            written = quantised.withUnsafeBufferPointer { sf_writef_short(file, $0.baseAddress, sf_count_t(frames)) }
        case .float32:
            written = audio.samples.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t(frames)) }
        }
        let closed = sf_close(file)
        guard Int(written) == frames, closed == 0 else {
            unlink(temporary)
            throw LabError.io(path: path, reason: "wrote \(written) of \(frames) frames (disk full?)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw LabError.io(path: path, reason: "cannot move the written file into place: \(reason)")
        }
        DataProvenance.noteWritten(path)
    }
}
