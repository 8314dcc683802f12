import Lab

/// The IDX format of MNIST and Fashion-MNIST (LeCun et al.), gzip'd or plain.
///
/// Layout: bytes 0-1 are zero, byte 2 is the element type (0x08 = unsigned byte, the only one these datasets
/// use), byte 3 the number of dimensions d; then d big-endian UInt32 extents; then the elements, row-major.
/// Images are d = 3 ([N, H, W], magic 2051), labels d = 1 ([N], magic 2049).
public struct IDXArray: Sendable, Equatable {
    /// Extents, outermost first (e.g. [60000, 28, 28]).
    public var shape: [Int]
    /// The elements in row-major order.
    public var values: [UInt8]
}

public enum IDX {
    /// Reads an IDX file of unsigned bytes. Wrong magic, an unsupported element type, a zero extent, a header or
    /// body that is shorter (truncated) or longer than the extents say are `corruptFile` errors that name the file.
    /// The extents' product is checked against the bytes present before any array is built, so a hostile header
    /// (extents of 0xFFFFFFFF) is refused without overflow or allocation.
    public static func read(_ path: String) throws -> IDXArray {
        let bytes = try DataFiles.readBytes(path)
        func corrupt(_ reason: String) -> LabError { .corruptFile(path: path, reason: "IDX: \(reason)") }
        guard bytes.count >= 4 else { throw corrupt("file has \(bytes.count) bytes, shorter than the 4-byte magic") }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw corrupt("bad magic \(bytes[0..<4].map { String($0) }.joined(separator: " ")) (expected 0 0 type rank)")
        }
        guard bytes[2] == 0x08 else {
            throw corrupt("element type 0x\(String(bytes[2], radix: 16)) is not supported (only 0x08, unsigned byte)")
        }
        let rank = Int(bytes[3])
        guard (1...4).contains(rank) else { throw corrupt("rank \(rank) is outside 1...4") }
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw corrupt("truncated header: \(bytes.count) bytes, the \(rank) extents need \(headerSize)")
        }
        // Extents are UInt32, so their product can overflow Int: it is computed with overflow checks and compared
        // with the data bytes present before anything is allocated.
        var shape: [Int] = []
        var product: Int? = 1
        for axis in 0..<rank {
            let o = 4 + 4 * axis
            let extent = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            shape.append(extent)
            product = product.flatMap { p in
                let (next, overflow) = p.multipliedReportingOverflow(by: extent)
                return overflow ? nil : next
            }
        }
        if let axis = shape.firstIndex(of: 0) { throw corrupt("axis \(axis) of shape \(shape) has extent 0 (an empty array)") }
        let found = bytes.count - headerSize
        guard let expected = product else {
            throw corrupt("shape \(shape) overflows (more than 2^63 elements): corrupt header; the file holds \(found) data bytes")
        }
        guard found == expected else {
            throw corrupt(found < expected
                ? "truncated: shape \(shape) needs \(expected) data bytes, found \(found)"
                : "\(found - expected) trailing bytes after the \(expected) data bytes of shape \(shape)")
        }
        return IDXArray(shape: shape, values: Array(bytes[headerSize...]))
    }

    /// An IDX image file as [N, H, W] pixels; rank other than 3 is a `corruptFile` error.
    public static func readImages(_ path: String) throws -> IDXArray {
        let array = try read(path)
        guard array.shape.count == 3 else {
            throw LabError.corruptFile(path: path, reason: "IDX: expected images of rank 3 [N, H, W], found shape \(array.shape)")
        }
        return array
    }

    /// An IDX label file as [N] labels; rank other than 1 is a `corruptFile` error.
    public static func readLabels(_ path: String) throws -> [Int] {
        let array = try read(path)
        guard array.shape.count == 1 else {
            throw LabError.corruptFile(path: path, reason: "IDX: expected labels of rank 1 [N], found shape \(array.shape)")
        }
        return array.values.map(Int.init)
    }
}
