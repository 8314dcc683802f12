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

    public static func read(_ path: String) throws -> [String: Tensor] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LabError.missingFile(path: path, fix: "save the model first (Module.save(to:))")
        }
        let blob = try Data(contentsOf: URL(fileURLWithPath: path))
        guard blob.count >= 8 else { throw LabError.corruptFile(path: path, reason: "shorter than the 8-byte header length") }
        let n = blob.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        guard n > 0, 8 + n <= blob.count else {
            throw LabError.corruptFile(path: path, reason: "header length \(n) exceeds the file size \(blob.count)")
        }
        guard let header = try? JSONSerialization.jsonObject(with: blob.subdata(in: 8..<(8 + n))) as? [String: Any] else {
            throw LabError.corruptFile(path: path, reason: "header is not a JSON object")
        }
        let base = 8 + n
        var out: [String: Tensor] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw LabError.corruptFile(path: path, reason: "entry \(name) lacks dtype/shape/data_offsets")
            }
            guard dtype == "F32" else { throw LabError.corruptFile(path: path, reason: "entry \(name) has dtype \(dtype); only F32 is supported") }
            let count = shape.reduce(1, *)
            guard offsets[1] - offsets[0] == 4 * count, base + offsets[1] <= blob.count, offsets[0] >= 0 else {
                throw LabError.corruptFile(path: path, reason: "entry \(name): offsets \(offsets) do not fit shape \(shape) and file size \(blob.count)")
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { dst in
                blob.copyBytes(to: dst.bindMemory(to: UInt8.self), from: (base + offsets[0])..<(base + offsets[1]))
            }
            out[name] = Tensor(shape: shape, data: values)
        }
        return out
    }
}
