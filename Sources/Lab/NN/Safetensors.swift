import Foundation

/// Reader and writer of the safetensors format (Hugging Face): an 8-byte little-endian header length N,
/// N bytes of JSON `{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}`,
/// then the raw little-endian tensor bytes. Only F32 is written; F32 is read.
public enum Safetensors {
    public static func write(_ tensors: [String: Tensor], to path: String, metadata: [String: String] = [:]) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]] as [String: Any]
            offset += 4 * t.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces so the data is 8-byte aligned
        var blob = Data()
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { blob.append(contentsOf: $0) }
        blob.append(json)
        for name in names { tensors[name]!.data.withUnsafeBytes { blob.append(contentsOf: $0) } }
        try AtomicFile.write(blob, to: path)
    }

    /// The largest header accepted (the limit of Hugging Face's reader): a larger length field is corrupt.
    public static let maximumHeaderSize = 100_000_000

    /// Reads every F32 tensor of a safetensors file. The file is checked before any tensor is built: the header
    /// length fits the file and `maximumHeaderSize`; the header is a JSON object whose entries each have a dtype,
    /// a shape of non-negative extents and two data offsets; the entries' byte ranges tile the data section
    /// exactly (no gap, no overlap, nothing out of range or left over); each range holds 4 × (product of the
    /// shape) bytes. Anything else is a `corruptFile` error naming the file, the entry and what is wrong.
    public static func read(_ path: String) throws -> [String: Tensor] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LabError.missingFile(path: path, fix: "save the model first (Module.save(to:))")
        }
        let blob: Data
        do { blob = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw LabError.io(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        func corrupt(_ reason: String) -> LabError { .corruptFile(path: path, reason: "safetensors: \(reason)") }
        guard blob.count >= 8 else { throw corrupt("\(blob.count) bytes, shorter than the 8-byte header length") }
        let declared = blob.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard declared > 0, declared <= UInt64(blob.count - 8) else {
            throw corrupt("header length \(declared) does not fit the \(blob.count - 8) bytes after it: truncated or not a safetensors file")
        }
        guard declared <= UInt64(maximumHeaderSize) else {
            throw corrupt("header length \(declared) exceeds the limit of \(maximumHeaderSize) bytes")
        }
        let headerSize = Int(declared), base = 8 + headerSize, dataSize = blob.count - base
        guard let header = (try? JSONSerialization.jsonObject(with: blob.subdata(in: 8..<base))) as? [String: Any] else {
            throw corrupt("the \(headerSize)-byte header is not a JSON object")
        }
        struct Entry { let name: String, shape: [Int], begin: Int, end: Int }
        var entries: [Entry] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = integers(info["shape"]), let offsets = integers(info["data_offsets"]), offsets.count == 2 else {
                throw corrupt("entry \(quoted(name)) lacks a dtype, an integer shape or two integer data_offsets")
            }
            guard dtype == "F32" else { throw corrupt("entry \(quoted(name)) has dtype \(quoted(dtype)); only F32 is supported") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw corrupt("entry \(quoted(name)) has a negative extent in shape \(shape)") }
            let (begin, end) = (offsets[0], offsets[1])
            guard 0 <= begin, begin <= end, end <= dataSize else {
                throw corrupt("entry \(quoted(name)): data_offsets [\(begin), \(end)] lie outside the \(dataSize)-byte data section")
            }
            // Extents come from the file, so their product may overflow: it is checked (over the non-zero extents,
            // so an absurd extent beside a 0 is refused too) and compared with the bytes present.
            var nonZeroProduct: Int? = 1
            for extent in shape where extent != 0 {
                nonZeroProduct = nonZeroProduct.flatMap { p in
                    let (next, overflow) = p.multipliedReportingOverflow(by: extent)
                    return overflow ? nil : next
                }
            }
            guard let nonZeroProduct else { throw corrupt("entry \(quoted(name)): shape \(shape) overflows (more than 2^63 elements)") }
            let count = shape.contains(0) ? 0 : nonZeroProduct
            guard count <= dataSize / 4 else {
                throw corrupt("entry \(quoted(name)): shape \(shape) needs more than the \(dataSize) data bytes")
            }
            guard end - begin == 4 * count else {
                throw corrupt("entry \(quoted(name)): shape \(shape) of F32 needs \(4 * count) bytes, data_offsets [\(begin), \(end)] hold \(end - begin)")
            }
            entries.append(Entry(name: name, shape: shape, begin: begin, end: end))
        }
        // The entries must tile the data section: sorted by offset, each begins where the previous one ended.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        for entry in entries {
            guard entry.begin == covered else {
                throw corrupt(entry.begin < covered
                    ? "entry \(quoted(entry.name)) at [\(entry.begin), \(entry.end)] overlaps the tensor before it (which ends at \(covered))"
                    : "\(entry.begin - covered) unused data bytes before entry \(quoted(entry.name)) at offset \(entry.begin)")
            }
            covered = entry.end
        }
        guard covered == dataSize else {
            throw corrupt("\(dataSize - covered) data bytes after the last tensor (the entries cover \(covered) of \(dataSize))")
        }
        var out: [String: Tensor] = [:]
        for entry in entries {
            var values = [Float](repeating: 0, count: (entry.end - entry.begin) / 4)
            values.withUnsafeMutableBytes { dst in
                blob.copyBytes(to: dst.bindMemory(to: UInt8.self), from: (base + entry.begin)..<(base + entry.end))
            }
            out[entry.name] = Tensor(shape: entry.shape, data: values)
        }
        return out
    }

    /// A name from the file as a quoted one-line Swift literal ("a\nb" escaped), at most 80 characters, so that
    /// binary garbage is never echoed raw to the terminal.
    private static func quoted(_ text: String) -> String {
        let literal = String(reflecting: text)
        return literal.count <= 80 ? literal : literal.prefix(76) + "...\""
    }

    /// A JSON array of integers, else nil (Foundation's bridging refuses 1.5, 1e300 and 2^64 as Int).
    private static func integers(_ json: Any?) -> [Int]? {
        guard let array = json as? [Any] else { return nil }
        var result: [Int] = []
        for element in array {
            guard let value = element as? Int else { return nil }
            result.append(value)
        }
        return result
    }
}
