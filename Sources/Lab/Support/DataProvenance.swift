import Foundation
import Synchronization

/// The data files this process read, with the SHA-256 of each: Lab's file readers (LabData's `DataFiles`,
/// LabSignal's `AudioFile.read`, LabLLM's `GGUFFile`) call `record` when they open a file, and `Report` writes
/// `checksums` into run.json (`dataFiles`), so a result names the exact bytes it came from.
///
/// `record` notes the file's size and modification time only; the hash is computed when `checksums` is read
/// (once per file), so opening a 100 MB model does not pay for hashing it. A file whose size or modification
/// time changed between `record` and `checksums` gets a digest that says so instead of a hash of other bytes.
/// A file this process wrote itself (`noteWritten`, e.g. a round-trip test's WAV) is output, not data, and is
/// not recorded.
public enum DataProvenance {
    private struct Entry {
        var size: Int
        var modified: Double
        var sha256: String?
    }

    private static let entries = Mutex<[String: Entry]>([:])
    private static let written = Mutex<Set<String>>([])

    /// Marks `path` as written by this process: a later `record` of it is ignored.
    public static func noteWritten(_ path: String) {
        _ = written.withLock { $0.insert(path) }
        _ = entries.withLock { $0.removeValue(forKey: path) }
    }

    private static func stat(_ path: String) -> (size: Int, modified: Double)? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attributes[.size] as? NSNumber)?.intValue,
              let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 else { return nil }
        return (size, modified)
    }

    /// Notes `path` (as given, e.g. "data/kjv/kjv.txt") with its size and modification time; a file already
    /// noted with the same ones is left as it is. A file that cannot be read is left out: the reader that
    /// called this reports the error itself.
    public static func record(_ path: String) {
        guard !written.withLock({ $0.contains(path) }), let (size, modified) = stat(path) else { return }
        entries.withLock { entries in
            if let known = entries[path], known.size == size, known.modified == modified { return }
            entries[path] = Entry(size: size, modified: modified, sha256: nil)
        }
    }

    /// Path → lowercase hex SHA-256 of every file recorded so far (hashed now if not yet), or "changed since it
    /// was read (...)" when the file's size or modification time is no longer the one `record` saw.
    public static var checksums: [String: String] {
        let pending = entries.withLock { $0.filter { $0.value.sha256 == nil } }
        for (path, entry) in pending {
            let digest: String
            if let now = stat(path), now.size == entry.size, now.modified == entry.modified,
               let hash = try? SHA256.hexDigest(ofFile: path) {
                digest = hash
            } else {
                digest = "changed since it was read (size \(entry.size) bytes, modified \(entry.modified))"
            }
            entries.withLock { entries in
                if let current = entries[path], current.size == entry.size, current.modified == entry.modified {
                    entries[path]?.sha256 = digest
                }
            }
        }
        return entries.withLock { $0.compactMapValues(\.sha256) }
    }
}

/// SHA-256 (FIPS 180-4), streaming: `update` with any number of byte chunks, then `finalize`.
public struct SHA256: Sendable {
    private var state: [UInt32] = [0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a,
                                   0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19]
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var start = 0
        if !pending.isEmpty {
            let take = min(64 - pending.count, bytes.count)
            pending += bytes[0..<take]
            start = take
            if pending.count == 64 {
                pending.withUnsafeBytes { compress($0.baseAddress!) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        while bytes.count - start >= 64 {
            compress(bytes.baseAddress! + start)
            start += 64
        }
        if start < bytes.count { pending += bytes[start...] }
    }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest as 64 lowercase hex digits. Padding: 0x80, zeros to 56 mod 64, the bit length big-endian.
    public mutating func finalize() -> String {
        let bits = length &* 8
        var tail: [UInt8] = [0x80] + [UInt8](repeating: 0, count: (119 - pending.count) % 64)
        tail += (0..<8).map { UInt8(truncatingIfNeeded: bits >> (56 - 8 * UInt64($0))) }
        update(tail)
        return state.map { word in
            let hex = String(word, radix: 16)
            return String(repeating: "0", count: 8 - hex.count) + hex
        }.joined()
    }

    /// One 64-byte block.
    private mutating func compress(_ block: UnsafeRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for i in 0..<16 { w[i] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
            for i in 16..<64 {
                let s0 = rotate(w[i - 15], 7) ^ rotate(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotate(w[i - 2], 17) ^ rotate(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, h) = (state[0], state[1], state[2], state[3], state[4], state[5], state[6], state[7])
            for i in 0..<64 {
                let t1 = h &+ (rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)) &+ ((e & f) ^ (~e & g)) &+ Self.k[i] &+ w[i]
                let t2 = (rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
                (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            state[0] &+= a; state[1] &+= b; state[2] &+= c; state[3] &+= d
            state[4] &+= e; state[5] &+= f; state[6] &+= g; state[7] &+= h
        }
    }

    private func rotate(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

    /// The SHA-256 of a whole file, read in 1 MiB chunks.
    public static func hexDigest(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw LabError.io(path: path, reason: "cannot open it to compute its SHA-256")
        }
        defer { try? handle.close() }
        var hash = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hash.update($0) }
        }
        return hash.finalize()
    }
}
