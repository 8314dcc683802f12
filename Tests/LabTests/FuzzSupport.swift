import Foundation
import Testing
@testable import Lab

// Shared by the hostile-file cases (FuzzHostileFilesTests) and the seeded fuzz suite (FuzzReadersTests):
// small valid seed files built here byte by byte, the mutations applied to them, and the check that a reader
// either loads a file or throws a typed error naming it.

/// A fresh folder under the system temporary folder; the caller removes it.
func fuzzFolder(_ name: String) -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("labfuzz-\(name)-\(getpid())-\(UInt64.random(in: 0...UInt64.max))").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Writes `bytes` to `folder/name` and returns the path.
func writeFile(_ bytes: [UInt8], _ folder: String, _ name: String) throws -> String {
    let path = (folder as NSString).appendingPathComponent(name)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

/// What reading a file gave: the error of a refused file, nil when it loaded.
/// Records an issue when the error is not a `LabError` or its message does not name the file.
func refusal(of path: String, _ read: () throws -> Void) -> LabError? {
    do {
        try read()
        return nil
    } catch let error as LabError {
        #expect(error.description.contains(path), "the message names the file: \(error)")
        #expect(!error.description.contains("\n"), "a one-line message: \(error)")
        return error
    } catch {
        Issue.record("\(path): untyped error \(error)")
        return nil
    }
}

/// The reason of a `corruptFile` error for `path`, or "" (with a recorded issue) for anything else.
func corruptReason(_ path: String, _ read: () throws -> Void) -> String {
    switch refusal(of: path, read) {
    case let .corruptFile(errorPath, reason)?:
        #expect(errorPath == path)
        return reason
    case let other?:
        Issue.record("\(path): expected corruptFile, got \(other)")
    case nil:
        Issue.record("\(path) was read without an error")
    }
    return ""
}

// MARK: - Byte helpers

func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

/// An integer field inside a seed file: where it is, how wide, and its byte order (for the "inflated length
/// field" mutations).
struct LengthField {
    var offset: Int
    var width: Int
    var bigEndian: Bool
}

// MARK: - Seed files

/// An IDX file of unsigned bytes (magic 0 0 8 rank, big-endian UInt32 extents, then the elements).
func idxBytes(shape: [Int], values: [UInt8]) -> [UInt8] {
    [0, 0, 0x08, UInt8(shape.count)] + shape.flatMap { bigEndian(UInt32($0)) } + values
}

/// The extents of an IDX file of `rank`.
func idxLengthFields(rank: Int) -> [LengthField] {
    (0..<rank).map { LengthField(offset: 4 + 4 * $0, width: 4, bigEndian: true) }
}

/// A canonical WAV (44-byte header) of 16-bit PCM samples (format 1).
func wavFileBytes(rate: Int, channels: Int, pcm16 interleaved: [Int16]) -> [UInt8] {
    wavFileBytes(rate: rate, channels: channels, format: 1, bitsPerSample: 16, data: interleaved.flatMap(littleEndian))
}

/// A canonical WAV (44-byte header) of 32-bit IEEE float samples (format 3).
func wavFileBytes(rate: Int, channels: Int, float32 interleaved: [Float]) -> [UInt8] {
    wavFileBytes(rate: rate, channels: channels, format: 3, bitsPerSample: 32,
             data: interleaved.flatMap { littleEndian($0.bitPattern) })
}

private func wavFileBytes(rate: Int, channels: Int, format: UInt16, bitsPerSample: Int, data: [UInt8]) -> [UInt8] {
    let blockAlign = channels * bitsPerSample / 8
    var bytes = Array("RIFF".utf8) + littleEndian(UInt32(36 + data.count)) + Array("WAVE".utf8)
    bytes += Array("fmt ".utf8) + littleEndian(UInt32(16)) + littleEndian(format) + littleEndian(UInt16(channels))
    bytes += littleEndian(UInt32(rate)) + littleEndian(UInt32(rate * blockAlign)) + littleEndian(UInt16(blockAlign))
    bytes += littleEndian(UInt16(bitsPerSample))
    return bytes + Array("data".utf8) + littleEndian(UInt32(data.count)) + data
}

/// The integer fields of the canonical WAV header: RIFF size, fmt size, format, channels, rate, byte rate,
/// block align, bits per sample, data size.
let wavLengthFields: [LengthField] = [(4, 4), (16, 4), (20, 2), (22, 2), (24, 4), (28, 4), (32, 2), (34, 2), (40, 4)]
    .map { LengthField(offset: $0.0, width: $0.1, bigEndian: false) }

/// A pixel CSV of `rows` rows of `pixelsPerRow` pixels in 0...maxPixel and a label below `classCount`.
func pixelCSVBytes(rows: Int, pixelsPerRow: Int, maxPixel: Int, classCount: Int, rng: inout RNG) -> [UInt8] {
    var text = ""
    for _ in 0..<rows {
        let pixels = (0..<pixelsPerRow).map { _ in String(rng.int(below: maxPixel + 1)) }
        text += (pixels + [String(rng.int(below: classCount))]).joined(separator: ",") + "\n"
    }
    return Array(text.utf8)
}

/// A safetensors file written by `Safetensors.write` (the format's only producer in Lab).
func safetensorsBytes(_ tensors: [String: Tensor], folder: String) throws -> [UInt8] {
    let path = (folder as NSString).appendingPathComponent("seed-\(UInt64.random(in: 0...UInt64.max)).safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Safetensors.write(tensors, to: path, metadata: ["source": "fuzz seed"])
    return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// A safetensors file from a hand-written JSON header (padded with spaces to 8 bytes) and data section.
func safetensorsBytes(header: String, data: [UInt8]) -> [UInt8] {
    var json = Array(header.utf8)
    while json.count % 8 != 0 { json.append(0x20) }
    return littleEndian(UInt64(json.count)) + json + data
}

/// `bytes` as a gzip file of stored (uncompressed) deflate blocks, with the CRC-32 and size trailer (RFC 1952):
/// a valid gzip stream without a compressor, so the readers' gzip path is fuzzed too.
func gzipStored(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
    var start = 0
    repeat {
        let end = min(bytes.count, start + 65_535)
        out.append(end == bytes.count ? 1 : 0)   // BFINAL, BTYPE = 00 (stored)
        out += littleEndian(UInt16(end - start)) + littleEndian(~UInt16(end - start))
        out += bytes[start..<end]
        start = end
    } while start < bytes.count
    return out + littleEndian(crc32(bytes)) + littleEndian(UInt32(truncatingIfNeeded: bytes.count))
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), bit by bit: seed files are small.
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

// MARK: - Mutations

/// Seeded mutations of a valid file: bit flips, byte overwrites with 0x00 / 0xFF / random, truncation at a random
/// point, inflated or zeroed length fields, spliced or appended garbage, and (for text formats) hostile tokens.
struct Mutator {
    var rng: RNG

    /// Hostile values for an integer field of `width` bytes.
    private mutating func hostileValue(width: Int, original: UInt64) -> UInt64 {
        let maximum: UInt64 = width == 8 ? .max : (1 << (8 * UInt64(width))) - 1
        let candidates: [UInt64] = [0, 1, maximum, maximum - 1, maximum / 2, maximum / 2 + 1,
                                    original &* 2, original &+ 1, original &- 1, original &* 1000, rng.next()]
        return candidates[rng.int(below: candidates.count)] & maximum
    }

    private mutating func setField(_ bytes: inout [UInt8], _ field: LengthField) {
        guard field.offset + field.width <= bytes.count else { return }
        var original: UInt64 = 0
        for i in 0..<field.width {
            let byte = bytes[field.offset + (field.bigEndian ? i : field.width - 1 - i)]
            original = original << 8 | UInt64(byte)
        }
        var value = hostileValue(width: field.width, original: original)
        for i in 0..<field.width {
            bytes[field.offset + (field.bigEndian ? field.width - 1 - i : i)] = UInt8(value & 0xFF)
            value >>= 8
        }
    }

    /// Numbers written into text: huge, negative, fractional, exponent, empty.
    private static let hostileTokens = ["-1", "0", "256", "999999", "18446744073709551615", "9223372036854775807",
                                        "-9223372036854775808", "1e300", "1.5", "NaN", "", ",", "\n", "\"", "[", "]",
                                        "{", "}", "x", " ", "\r\n", ",,", "4294967296"]

    /// One mutant of `seed`: 1 to 3 mutations; `fields` are the seed's integer header fields, `text` enables
    /// token mutations (digits replaced by hostile numbers, delimiters inserted).
    mutating func mutate(_ seed: [UInt8], fields: [LengthField] = [], text: Bool = false) -> [UInt8] {
        var bytes = seed
        for _ in 0..<(1 + rng.int(below: 3)) {
            guard !bytes.isEmpty else { break }
            switch rng.int(below: text ? 9 : 8) {
            case 0:  // flip 1-4 bits
                for _ in 0..<(1 + rng.int(below: 4)) { bytes[rng.int(below: bytes.count)] ^= 1 << UInt8(rng.int(below: 8)) }
            case 1:  // overwrite 1-4 bytes with 0x00, 0xFF or random
                let value: UInt8 = [0x00, 0xFF, UInt8(truncatingIfNeeded: rng.next())][rng.int(below: 3)]
                let start = rng.int(below: bytes.count)
                for i in start..<min(bytes.count, start + 1 + rng.int(below: 4)) { bytes[i] = value }
            case 2:  // truncate at a random point
                bytes.removeLast(bytes.count - rng.int(below: bytes.count))
            case 3, 4:  // an inflated, zeroed or maximal length field (a random 4-byte word when none is known)
                if let field = fields.isEmpty ? nil : fields[rng.int(below: fields.count)] {
                    setField(&bytes, field)
                } else if bytes.count >= 4 {
                    setField(&bytes, LengthField(offset: rng.int(below: bytes.count - 3), width: 4, bigEndian: rng.int(below: 2) == 0))
                }
            case 5:  // copy a slice elsewhere (duplicated chunks, shifted headers)
                let start = rng.int(below: bytes.count), length = 1 + rng.int(below: min(64, bytes.count - start))
                let slice = Array(bytes[start..<(start + length)])
                bytes.insert(contentsOf: slice, at: rng.int(below: bytes.count + 1))
            case 6:  // delete a slice
                let start = rng.int(below: bytes.count)
                bytes.removeSubrange(start..<min(bytes.count, start + 1 + rng.int(below: 16)))
            case 7:  // append garbage
                bytes += (0..<(1 + rng.int(below: 32))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            default:  // text: replace a run of digits (or insert at a random place) with a hostile token
                let token = Array(Self.hostileTokens[rng.int(below: Self.hostileTokens.count)].utf8)
                var start = rng.int(below: bytes.count)
                let isDigit = { (b: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }
                if let digit = bytes[start...].firstIndex(where: isDigit) {
                    start = digit
                    let end = bytes[digit...].firstIndex { !isDigit($0) } ?? bytes.count
                    bytes.replaceSubrange(start..<end, with: token)
                } else {
                    bytes.insert(contentsOf: token, at: start)
                }
            }
        }
        return bytes
    }
}

/// How a reader met its mutants.
struct FuzzOutcome: CustomStringConvertible {
    var loaded = 0, refused = 0
    var total: Int { loaded + refused }
    var description: String { "\(total) inputs: \(loaded) loaded and validated, \(refused) refused with a typed error" }
}

/// Writes `count` mutants of the seeds (cycled) one at a time to a temporary folder and reads each with `read`,
/// which must throw a `LabError` naming the file or return normally after validating what it loaded. A crash
/// (trap, overflow, huge allocation) ends the test process and leaves the mutant that caused it in
/// $TMPDIR/labfuzz-<reader>-<pid>-*/ for a post-mortem.
func fuzz(_ reader: String, seeds: [(bytes: [UInt8], fields: [LengthField], name: String)], count: Int, text: Bool = false,
          seed: UInt64, read: (String) throws -> Void) throws -> FuzzOutcome {
    let folder = fuzzFolder(reader)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var mutator = Mutator(rng: RNG(seed: seed).derived(reader))
    var outcome = FuzzOutcome()
    for index in 0..<count {
        let chosen = seeds[index % seeds.count]
        let mutant = mutator.mutate(chosen.bytes, fields: chosen.fields, text: text)
        let path = try writeFile(mutant, folder, "\(index)-\(chosen.name)")
        if refusal(of: path, { try read(path) }) == nil { outcome.loaded += 1 } else { outcome.refused += 1 }
        try? FileManager.default.removeItem(atPath: path)
    }
    return outcome
}
