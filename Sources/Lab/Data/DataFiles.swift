import CZlib
import Foundation
import Lab

/// Where the datasets of `make data` live and how a missing one is fetched.
///
/// Every reader of LabData turns a missing file into `LabError.missingFile(path:fix:)` whose `fix` names the
/// `make data-…` target that produces it, found from the dataset folder in the path:
///
///     try IDX.read("data/fashion-mnist/train-images-idx3-ubyte.gz")
///     // missing file data/fashion-mnist/train-images-idx3-ubyte.gz: run `make data-fashion-mnist`
public enum DataFiles {
    /// Dataset folder under data/ -> the make target that fills it (data/README.md lists them).
    public static let makeTargets: [String: String] = [
        "fashion-mnist": "data-fashion-mnist", "mnist5k": "data-mnist5k", "digits": "data-digits",
        "speech": "data-speech", "voices": "data-voices", "hypersound": "data-voices", "kjv": "data-kjv",
        "fortunes": "data-fortunes", "smollm2": "data-smollm2", "prompts": "data-prompts",
    ]

    /// The advice for a missing `path`: the make target when the path lies in a dataset folder
    /// (the component after `data/`, or any component that names a dataset), else a generic hint.
    public static func fix(forMissing path: String) -> String {
        let components = path.split(separator: "/").map(String.init)
        var candidates: [String] = []
        if let dataIndex = components.lastIndex(of: "data"), dataIndex + 1 < components.count {
            candidates.append(components[dataIndex + 1])
        }
        candidates += components
        for component in candidates {
            if let target = makeTargets[component] { return "run `make \(target)`" }
        }
        return "check the path (datasets come from `make data`, see data/README.md)"
    }

    /// Throws `missingFile` (naming the make target) unless `path` is an existing regular file.
    public static func requireFile(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LabError.missingFile(path: path, fix: fix(forMissing: path))
        }
        if isDirectory.boolValue {
            throw LabError.corruptFile(path: path, reason: "is a folder, expected a file")
        }
    }

    /// The bytes of a file, gunzipped when it is gzip'd (zlib's gzread passes plain files through unchanged).
    /// A truncated or corrupt gzip stream is a `corruptFile` error naming zlib's reason. The file's SHA-256 goes
    /// to `DataProvenance` (run.json's `dataFiles`).
    public static func readBytes(_ path: String) throws -> [UInt8] {
        try requireFile(path)
        DataProvenance.record(path)
        guard let file = gzopen(path, "rb") else {
            throw LabError.io(path: path, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { gzclose(file) }
        gzbuffer(file, 1 << 17)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(uncompressedSizeHint(path))
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let got = buffer.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32(chunk)) }
            if got < 0 || (got == 0 && gzeof(file) == 0) {
                var code: Int32 = 0
                let message = gzerror(file, &code).map { String(cString: $0) } ?? "unknown zlib error"
                throw LabError.corruptFile(path: path, reason: "gzip stream is corrupt or truncated (zlib: \(message))")
            }
            if got == 0 { break }
            bytes.append(contentsOf: buffer[0..<Int(got)])
        }
        // gzread stops quietly at a truncated stream's end; gzerror still reports it.
        var code: Int32 = 0
        let message = gzerror(file, &code).map { String(cString: $0) } ?? ""
        if code != Z_OK && code != Z_STREAM_END {
            throw LabError.corruptFile(path: path, reason: "gzip stream is corrupt or truncated (zlib: \(message))")
        }
        return bytes
    }

    /// The size of the data to expect: a gzip file's ISIZE trailer (size mod 2^32, little-endian), else the
    /// file size. Only a capacity hint, never trusted: a hostile trailer cannot make it exceed deflate's largest
    /// expansion (1032:1) of the bytes actually present.
    private static func uncompressedSizeHint(_ path: String) -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { return 0 }
        defer { try? handle.close() }
        let head = handle.readData(ofLength: 2)
        let size = Int(handle.seekToEndOfFile())
        guard head == Data([0x1F, 0x8B]), size >= 18 else { return size }
        handle.seek(toFileOffset: UInt64(size - 4))
        let trailer = [UInt8](handle.readData(ofLength: 4))
        guard trailer.count == 4 else { return size }
        let hint = trailer.reversed().reduce(0) { $0 << 8 | Int($1) }
        return min(hint, 1032 * size, 1 << 31)
    }

    /// A whole text file (gzip'd or plain) as UTF-8; invalid UTF-8 is a `corruptFile` error with the byte offset.
    public static func readText(_ path: String) throws -> String {
        let bytes = try readBytes(path)
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var offset = 0
        while case .scalarValue(let scalar) = decoder.decode(&iterator) { offset += UTF8.width(scalar) }
        throw LabError.corruptFile(path: path, reason: "invalid UTF-8 at byte \(offset)")
    }

    /// The lines of a text file without their terminators ("\n" or "\r\n"); a final empty line is dropped.
    public static func readLines(_ path: String) throws -> [String] {
        // Split on the UTF-8 byte of "\n" (always a scalar boundary): much faster than Character splitting.
        var lines = try readText(path).utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { line in String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line[...], as: UTF8.self) }
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}
