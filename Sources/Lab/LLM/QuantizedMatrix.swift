import CLLMKernels
import Lab

/// A weight matrix kept in its file's block quantisation (Q4_1, Q4_0 or Q8_0), repacked with Float32 scales, for
/// one-token decode steps. A decode step is a matrix-vector product that reads every weight once, so its speed
/// is memory bandwidth: Float32 weights are 540 MB per token, these 100-150 MB. The weights are exactly the
/// Float32 values the dequantiser produces (w = d·q + m in Float32; Q4_0 up to rounding), only read in compact
/// form; the sums run in a different order than SGEMV's, so results agree with the Float32 path to rounding.
///
/// Per row and block b of 32 weights: scale d_b, offset m_b (0 for Q8_0; Q4_0's −8 is folded into m_b = −8·d_b),
/// and the 32 codes (16 bytes of nibbles, or 32 int8); w_bj = d_b·q_bj + m_b.
struct QuantizedMatrix: @unchecked Sendable {
    enum Codes { case nibbles, bytes }
    let rows: Int, columns: Int
    let codes: Codes
    /// [rows · blocks · (16 or 32)] bytes
    let data: UnsafeMutableRawPointer
    /// [rows · blocks] each
    let scales: UnsafeMutablePointer<Float>
    let offsets: UnsafeMutablePointer<Float>

    var blocks: Int { columns / 32 }
    var codeBytes: Int { codes == .nibbles ? 16 : 32 }

    /// Repacks the rows of one or more tensors of the same type (Q4_1, Q4_0 or Q8_0) and row length, stacked in
    /// order (e.g. W_q, W_k, W_v); nil when the type is another one or the pieces differ.
    init?(_ pieces: [GGUFTensorInfo], file: GGUFFile) {
        guard let type = pieces.first?.type, [.q4_1, .q4_0, .q8_0].contains(type),
              pieces.allSatisfy({ $0.type == type && $0.dimensions.count == 2 && $0.dimensions[0] == pieces[0].dimensions[0] })
        else { return nil }
        let columns = pieces[0].dimensions[0]
        let rows = pieces.reduce(0) { $0 + $1.dimensions[1] }
        self.rows = rows
        self.columns = columns
        codes = type == .q8_0 ? .bytes : .nibbles
        let blocks = columns / 32, codeBytes = codes == .nibbles ? 16 : 32
        data = UnsafeMutableRawPointer.allocate(byteCount: rows * blocks * codeBytes, alignment: 64)
        scales = .allocate(capacity: rows * blocks)
        offsets = .allocate(capacity: rows * blocks)
        let header = type == .q4_1 ? 4 : 2
        var firstBlock = 0
        for piece in pieces {
          let total = piece.dimensions[1] * blocks
          let src = UncheckedSendable(file.bytes(of: piece)), dst = UncheckedSendable(data + firstBlock * codeBytes)
          let sc = UncheckedSendable(scales + firstBlock), of = UncheckedSendable(offsets + firstBlock)
          firstBlock += total
          Parallel.forChunks(total, costPerItem: 32) { lo, hi in
            for i in lo..<hi {
                let block = src.value + i * type.bytesPerBlock
                let d = Dequantize.half(block, 0)
                sc.value[i] = d
                switch type {
                case .q4_1: of.value[i] = Dequantize.half(block, 2)
                case .q4_0: of.value[i] = -8 * d
                default: of.value[i] = 0
                }
                (dst.value + i * codeBytes).copyMemory(from: block + header, byteCount: codeBytes)
            }
          }
        }
    }

    func deallocate() { data.deallocate(); scales.deallocate(); offsets.deallocate() }

    /// y = W x + beta·y.   x: [columns], y: [rows]
    /// Each row is dequantised into a small buffer (plain loops the compiler vectorises, w = d·q + m exactly as
    /// `Dequantize.row`) and dotted with x using SIMD accumulators; rows run in parallel.
    func multiply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, beta: Float) {
        if Self.hasAVX2 { multiplyAVX2(x, into: y, beta: beta); return }
        let me = self, xs = UncheckedSendable(x), ys = UncheckedSendable(y)
        Parallel.forChunks(rows, costPerItem: columns / 2) { lo, hi in
            let row = UnsafeMutablePointer<Float>.allocate(capacity: me.columns)
            defer { row.deallocate() }
            for r in lo..<hi {
                me.dequantizeRow(r, into: row)
                let dot = Self.dot(row, xs.value, count: me.columns)
                ys.value[r] = beta == 0 ? dot : dot + beta * ys.value[r]
            }
        }
    }

    /// Whether the CPU runs the AVX2+FMA kernels of CLLMKernels (checked once).
    static let hasAVX2 = llm_has_avx2() != 0

    /// The same product with the AVX2 kernels, which convert the codes in registers:
    /// y_r = Σ_b d_rb·(Σ_j q_rbj x_bj) + m_rb·(Σ_j x_bj).
    private func multiplyAVX2(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, beta: Float) {
        let blocks = self.blocks
        var blockSums = [Float](repeating: 0, count: blocks)
        for b in 0..<blocks { for j in 0..<32 { blockSums[b] += x[32 * b + j] } }
        let me = self, xs = UncheckedSendable(x), ys = UncheckedSendable(y)
        blockSums.withUnsafeBufferPointer { sums in
            let s = UncheckedSendable(sums.baseAddress!)
            Parallel.forChunks(rows, costPerItem: columns / 2) { lo, hi in
                switch me.codes {
                case .nibbles:
                    llm_q4_rows(me.data.assumingMemoryBound(to: UInt8.self), me.scales, me.offsets, xs.value, s.value,
                                Int32(blocks), Int32(lo), Int32(hi), ys.value, beta)
                case .bytes:
                    llm_q8_rows(me.data.assumingMemoryBound(to: Int8.self), me.scales, xs.value,
                                Int32(blocks), Int32(lo), Int32(hi), ys.value, beta)
                }
            }
        }
    }

    @inline(__always)
    func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        let blocks = self.blocks
        switch codes {
        case .nibbles:
            let q = (data + r * blocks * 16).assumingMemoryBound(to: UInt8.self)
            for b in 0..<blocks {
                let d = scales[r * blocks + b], m = offsets[r * blocks + b]
                let qb = q + 16 * b, o = out + 32 * b
                for j in 0..<16 {
                    o[j] = d * Float(qb[j] & 0x0F) + m
                    o[j + 16] = d * Float(qb[j] >> 4) + m
                }
            }
        case .bytes:
            let q = (data + r * blocks * 32).assumingMemoryBound(to: Int8.self)
            for b in 0..<blocks {
                let d = scales[r * blocks + b]
                let qb = q + 32 * b, o = out + 32 * b
                for j in 0..<32 { o[j] = d * Float(qb[j]) }
            }
        }
    }

    /// Σ a_i b_i over a multiple of 32 entries, with two 16-wide accumulators.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var s0 = SIMD16<Float>(repeating: 0), s1 = SIMD16<Float>(repeating: 0)
        let pa = UnsafeRawPointer(a), pb = UnsafeRawPointer(b)
        var i = 0
        while i < count {
            s0 += pa.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) * pb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
            s1 += pa.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD16<Float>.self) * pb.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD16<Float>.self)
            i += 32
        }
        return (s0 + s1).sum()
    }
}
