import Foundation
import Lab
#if canImport(Glibc)
import Glibc
#endif

/// One metadata value of a GGUF file (the 13 value types of the GGUF spec, arrays nested).
public enum GGUFValue: Equatable, Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), array([GGUFValue])
    case uint64(UInt64), int64(Int64), float64(Double)

    /// The value as an integer, for any integer type (nil for floats, strings, arrays).
    public var integer: Int? {
        switch self {
        case let .uint8(v): return Int(v)
        case let .int8(v): return Int(v)
        case let .uint16(v): return Int(v)
        case let .int16(v): return Int(v)
        case let .uint32(v): return Int(v)
        case let .int32(v): return Int(v)
        case let .uint64(v): return v <= UInt64(Int.max) ? Int(v) : nil
        case let .int64(v): return Int(v)
        default: return nil
        }
    }

    /// The value as a floating-point number, for float and integer types.
    public var double: Double? {
        switch self {
        case let .float32(v): return Double(v)
        case let .float64(v): return v
        default: return integer.map(Double.init)
        }
    }

    public var string: String? { if case let .string(s) = self { return s } else { return nil } }
    public var array: [GGUFValue]? { if case let .array(a) = self { return a } else { return nil } }
}

/// The ggml tensor element types this reader can dequantise.
public enum GGMLType: UInt32, Sendable {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q8_0 = 8, bf16 = 30

    /// Weights per block and bytes per block (a block is the unit of quantisation).
    public var blockSize: Int { switch self { case .f32, .f16, .bf16: return 1; default: return 32 } }
    public var bytesPerBlock: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 18  // fp16 d + 16 bytes of nibbles
        case .q4_1: return 20  // fp16 d + fp16 m + 16 bytes of nibbles
        case .q8_0: return 34  // fp16 d + 32 int8
        }
    }
}

/// A tensor's entry in the GGUF tensor table. `dimensions` are ggml's, fastest-varying first: dims (576, 1536)
/// is a row-major [1536][576] matrix.
public struct GGUFTensorInfo: Sendable {
    public let name: String
    public let dimensions: [Int]
    public let type: GGMLType
    /// Byte offset of the data relative to the start of the tensor-data section.
    public let offset: Int
    public var elementCount: Int { dimensions.reduce(1, *) }
    public var byteCount: Int { elementCount / type.blockSize * type.bytesPerBlock }
    /// Row-major shape, slowest first (ggml dims reversed).
    public var shape: [Int] { dimensions.reversed() }
}

/// A memory-mapped GGUF file (versions 2 and 3): metadata, tensor table and tensor data.
///
/// Layout: magic "GGUF", u32 version, u64 tensor count, u64 metadata count, the metadata key/values
/// (string = u64 length + UTF-8 bytes; array = u32 element type + u64 count + elements), the tensor infos
/// (name, u32 rank, u64 dims, u32 type, u64 offset), then the data section at the header end rounded up to
/// `general.alignment` (default 32). Every count, length and offset is checked against the file length, so a
/// truncated or corrupt file throws `LabError.corruptFile` naming the file and the problem. Arrays nest at most
/// `maximumArrayDepth` deep (a deeper file would otherwise recurse until the stack overflows), and keys and
/// tensor names quoted in a message pass through `printable` (a corrupt name is raw binary).
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: Int
    public let metadata: [String: GGUFValue]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    /// Absolute file offset of the tensor-data section.
    public let dataOffset: Int
    public let alignment: Int
    public let fileSize: Int
    private let base: UnsafeRawPointer
    private var mapped: Bool

    /// How deep arrays of arrays may nest (the GGUF files this reader knows use depth 1).
    public static let maximumArrayDepth = 8

    /// `text` as it may appear in a one-line message: printable ASCII as is, anything else (control bytes, the
    /// U+FFFD of undecodable bytes, non-ASCII) as `\u{…}`, cut to `limit` characters with "…" and the length.
    public static func printable(_ text: String, limit: Int = 64) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit { return out + "… (\(text.unicodeScalars.count) characters)" }
            out += (0x20..<0x7F).contains(scalar.value) && scalar != "\\" ? String(scalar)
                : "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            count += 1
        }
        return out
    }

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw LabError.missingFile(path: path, fix: "run `make data-smollm2` (or check the path)")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw LabError.io(path: path, reason: "fstat failed (errno \(errno))") }
        fileSize = Int(st.st_size)
        guard fileSize >= 24 else {
            throw LabError.corruptFile(path: path, reason: "file is \(fileSize) bytes, shorter than the 24-byte GGUF header")
        }
        guard let m = mmap(nil, fileSize, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
            throw LabError.io(path: path, reason: "mmap of \(fileSize) bytes failed (errno \(errno))")
        }
        base = UnsafeRawPointer(m)
        mapped = true
        DataProvenance.record(path)
        var cursor = GGUFCursor(base: base, size: fileSize, path: path)
        do {
            let magic = try cursor.read(UInt32.self)
            guard magic == 0x4655_4747 else {  // "GGUF" little-endian
                throw LabError.corruptFile(path: path, reason: String(format: "bad magic 0x%08x (expected \"GGUF\")", magic))
            }
            let v = try cursor.read(UInt32.self)
            guard v == 2 || v == 3 else {
                throw LabError.corruptFile(path: path, reason: "unsupported GGUF version \(v) (this reader handles 2 and 3)")
            }
            version = Int(v)
            let tensorCount = try cursor.count("tensor count", minimumBytesEach: 24)
            let kvCount = try cursor.count("metadata count", minimumBytesEach: 12)
            var meta: [String: GGUFValue] = [:]
            meta.reserveCapacity(kvCount)
            for _ in 0..<kvCount {
                let key = try cursor.string()
                let type = try cursor.read(UInt32.self)
                meta[key] = try cursor.value(type: type, key: GGUFFile.printable(key), depth: 0)
            }
            metadata = meta
            var infos: [GGUFTensorInfo] = []
            infos.reserveCapacity(tensorCount)
            for _ in 0..<tensorCount {
                let name = try cursor.string()
                let quoted = GGUFFile.printable(name)
                let rank = try cursor.read(UInt32.self)
                guard (1...4).contains(rank) else {
                    throw LabError.corruptFile(path: path, reason: "tensor \(quoted) has rank \(rank) (expected 1...4)")
                }
                var dims: [Int] = []
                var elements = 1
                for _ in 0..<rank {
                    let d = try cursor.read(UInt64.self)
                    guard d >= 1, d < 1 << 32 else {
                        throw LabError.corruptFile(path: path, reason: "tensor \(quoted) has dimension \(d)")
                    }
                    dims.append(Int(d))
                    let (p, overflow) = elements.multipliedReportingOverflow(by: Int(d))
                    guard !overflow, p < 1 << 40 else {
                        throw LabError.corruptFile(path: path, reason: "tensor \(quoted) has an absurd element count")
                    }
                    elements = p
                }
                let rawType = try cursor.read(UInt32.self)
                guard let type = GGMLType(rawValue: rawType) else {
                    throw LabError.corruptFile(path: path, reason: "tensor \(quoted) has ggml type \(rawType), which this reader cannot dequantise (F32, F16, BF16, Q8_0, Q4_0, Q4_1)")
                }
                guard dims[0] % type.blockSize == 0 else {
                    throw LabError.corruptFile(path: path, reason: "tensor \(quoted): row length \(dims[0]) is not a multiple of the \(type) block size \(type.blockSize)")
                }
                let offset = try cursor.read(UInt64.self)
                guard offset < UInt64(fileSize) else {
                    throw LabError.corruptFile(path: path, reason: "tensor \(quoted) offset \(offset) is past the end of the file")
                }
                infos.append(GGUFTensorInfo(name: name, dimensions: dims, type: type, offset: Int(offset)))
            }
            tensors = infos
            let align = meta["general.alignment"]?.integer ?? 32
            guard align > 0, align & (align - 1) == 0 else {
                throw LabError.corruptFile(path: path, reason: "general.alignment \(align) is not a power of two")
            }
            alignment = align
            dataOffset = (cursor.position + align - 1) / align * align
            for t in infos {
                guard t.offset % align == 0 else {
                    throw LabError.corruptFile(path: path, reason: "tensor \(GGUFFile.printable(t.name)) offset \(t.offset) is not aligned to \(align)")
                }
                let end = dataOffset + t.offset + t.byteCount
                guard end <= fileSize else {
                    throw LabError.corruptFile(path: path, reason: "tensor \(GGUFFile.printable(t.name)) (\(t.type), \(t.byteCount) bytes at data offset \(t.offset)) ends at byte \(end), past the file end \(fileSize): the file is truncated")
                }
            }
        } catch {
            munmap(UnsafeMutableRawPointer(mutating: base), fileSize)
            mapped = false
            throw error
        }
    }

    deinit { if mapped { munmap(UnsafeMutableRawPointer(mutating: base), fileSize) } }

    /// The tensor info named `name`.
    public func tensor(_ name: String) throws -> GGUFTensorInfo {
        guard let t = tensors.first(where: { $0.name == name }) else {
            throw LabError.corruptFile(path: path, reason: "tensor \(GGUFFile.printable(name)) is missing")
        }
        return t
    }

    /// Raw bytes of a tensor (valid while this file object lives).
    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawPointer {
        base + dataOffset + tensor.offset
    }

    /// Dequantises a whole tensor to Float32 in row-major order (shape = `tensor.shape`).
    public func floats(_ tensor: GGUFTensorInfo) -> [Float] {
        [Float](unsafeUninitializedCapacity: tensor.elementCount) { buffer, initialized in
            dequantize(tensor, into: buffer.baseAddress!)
            initialized = tensor.elementCount
        }
    }

    /// Releases the file pages this process touched (after dequantising, the mapping is no longer read).
    public func dropPageCache() {
        _ = madvise(UnsafeMutableRawPointer(mutating: base), fileSize, Int32(MADV_DONTNEED))
    }

    // Typed metadata accessors: each throws a corruptFile error naming the missing or mistyped key.
    public func integer(_ key: String) throws -> Int {
        guard let v = metadata[key]?.integer else { throw missingKey(key, "an integer") }
        return v
    }
    public func double(_ key: String) throws -> Double {
        guard let v = metadata[key]?.double else { throw missingKey(key, "a number") }
        return v
    }
    public func string(_ key: String) throws -> String {
        guard let v = metadata[key]?.string else { throw missingKey(key, "a string") }
        return v
    }
    public func strings(_ key: String) throws -> [String] {
        guard let a = metadata[key]?.array else { throw missingKey(key, "a string array") }
        return try a.map { guard let s = $0.string else { throw missingKey(key, "a string array") }; return s }
    }
    private func missingKey(_ key: String, _ kind: String) -> LabError {
        .corruptFile(path: path, reason: "metadata key \(GGUFFile.printable(key)) is missing or not \(kind)")
    }
}

/// Bounds-checked little-endian reader over the mapped header.
struct GGUFCursor {
    let base: UnsafeRawPointer
    let size: Int
    let path: String
    var position = 0

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let n = MemoryLayout<T>.size
        guard size - position >= n else { throw truncated("a \(n)-byte field") }
        let v = base.loadUnaligned(fromByteOffset: position, as: T.self)
        position += n
        return T(littleEndian: v)
    }

    /// A u64 count, checked against the bytes left (each element needs at least `minimumBytesEach`).
    mutating func count(_ what: String, minimumBytesEach: Int) throws -> Int {
        let n = try read(UInt64.self)
        guard n <= UInt64((size - position) / max(minimumBytesEach, 1)) else {
            throw LabError.corruptFile(path: path, reason: "\(what) \(n) at byte \(position - 8) cannot fit in the \(size - position) bytes left")
        }
        return Int(n)
    }

    mutating func string() throws -> String {
        let n = try count("string length", minimumBytesEach: 1)
        let s = String(decoding: UnsafeRawBufferPointer(start: base + position, count: n), as: UTF8.self)
        position += n
        return s
    }

    /// The bytes a value of GGUF type `type` takes at least (an array: its element type and count).
    static func minimumBytes(ofType type: UInt32) -> Int {
        switch type {
        case 0, 1, 7: return 1
        case 2, 3: return 2
        case 4, 5, 6: return 4
        case 9: return 12
        default: return 8  // u64, i64, f64, and a string's length
        }
    }

    /// One value of GGUF type `type` for the key `key` (already `printable`), inside `depth` enclosing arrays.
    mutating func value(type: UInt32, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try read(UInt8.self))
        case 1: return .int8(try read(Int8.self))
        case 2: return .uint16(try read(UInt16.self))
        case 3: return .int16(try read(Int16.self))
        case 4: return .uint32(try read(UInt32.self))
        case 5: return .int32(try read(Int32.self))
        case 6: return .float32(Float(bitPattern: try read(UInt32.self)))
        case 7:
            let b = try read(UInt8.self)
            guard b <= 1 else { throw LabError.corruptFile(path: path, reason: "key \(key): bool byte \(b) is not 0 or 1") }
            return .bool(b == 1)
        case 8: return .string(try string())
        case 9:
            let elementType = try read(UInt32.self)
            guard elementType <= 12 else {
                throw LabError.corruptFile(path: path, reason: "key \(key): unknown array element type \(elementType)")
            }
            guard depth < GGUFFile.maximumArrayDepth else {
                throw LabError.corruptFile(path: path, reason: "key \(key): arrays nested deeper than \(GGUFFile.maximumArrayDepth) at byte \(position - 4)")
            }
            let n = try count("array length of \(key)", minimumBytesEach: Self.minimumBytes(ofType: elementType))
            var items: [GGUFValue] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try value(type: elementType, key: key, depth: depth + 1)) }
            return .array(items)
        case 10: return .uint64(try read(UInt64.self))
        case 11: return .int64(try read(Int64.self))
        case 12: return .float64(Double(bitPattern: try read(UInt64.self)))
        default:
            throw LabError.corruptFile(path: path, reason: "key \(key): unknown value type \(type) at byte \(position - 4)")
        }
    }

    func truncated(_ what: String) -> LabError {
        .corruptFile(path: path, reason: "truncated: needed \(what) at byte \(position) but the file has \(size) bytes")
    }
}
