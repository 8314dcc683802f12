/// Dequantisation of ggml blocks to Float32 (formats as in ggml-quants: little-endian, fp16 scales).
/// - F32: copy. F16: IEEE half. BF16: the top 16 bits of a Float32.
/// - Q8_0: 32 weights in 34 bytes: fp16 d, 32 int8 q; w = d·q.
/// - Q4_0: 32 weights in 18 bytes: fp16 d, 16 bytes; byte j holds weight j (low nibble) and j+16 (high); w = d·(q − 8).
/// - Q4_1: 32 weights in 20 bytes: fp16 d, fp16 m, 16 bytes as Q4_0; w = d·q + m.
public enum Dequantize {
    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// Dequantises `count` weights (a multiple of the block size) from `source` into `out`.
    public static func row(_ type: GGMLType, _ source: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, count: Int) {
        switch type {
        case .f32:
            for i in 0..<count { out[i] = Float(bitPattern: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        case .f16:
            for i in 0..<count { out[i] = half(source, 2 * i) }
        case .bf16:
            for i in 0..<count {
                out[i] = Float(bitPattern: UInt32(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
            }
        case .q8_0:
            for b in 0..<count / 32 {
                let block = source + 34 * b, o = out + 32 * b
                let d = half(block, 0)
                let q = (block + 2).assumingMemoryBound(to: Int8.self)
                for j in 0..<32 { o[j] = d * Float(q[j]) }
            }
        case .q4_0:
            for b in 0..<count / 32 {
                let block = source + 18 * b, o = out + 32 * b
                let d = half(block, 0)
                let q = (block + 2).assumingMemoryBound(to: UInt8.self)
                for j in 0..<16 {
                    o[j] = d * Float(Int(q[j] & 0x0F) - 8)
                    o[j + 16] = d * Float(Int(q[j] >> 4) - 8)
                }
            }
        case .q4_1:
            for b in 0..<count / 32 {
                let block = source + 20 * b, o = out + 32 * b
                let d = half(block, 0), m = half(block, 2)
                let q = (block + 4).assumingMemoryBound(to: UInt8.self)
                for j in 0..<16 {
                    o[j] = d * Float(q[j] & 0x0F) + m
                    o[j + 16] = d * Float(q[j] >> 4) + m
                }
            }
        }
    }
}
