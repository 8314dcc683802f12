import CLLMKernels
import Lab

/// A weight matrix kept in its file's block quantisation (Q4_1, Q4_0 or Q8_0) for one-token decode steps. A
/// decode step is a matrix-vector product that reads every weight once, so its speed is memory bandwidth:
/// Float32 weights are 540 MB per token, these ~96 MB (the file's own 4.5 or 8.5 bits per weight). The weights
/// are exactly the Float32 values the dequantiser produces (w = d·q + m; Q4_0 up to rounding), only read in
/// compact form; the sums run in a different order than SGEMV's, so results agree with the Float32 path to
/// rounding.
///
/// Layout (row-interleaved, see CLLMKernels/llm_kernels.h): rows in groups of 16, the last one padded with zero
/// rows; per group and block b of 32 columns one record holds the 16 rows' fp16 scales d_b, for 4-bit codes
/// their fp16 offsets m_b (Q4_0's −8 folded in as m_b = −8·d_b), then the codes column by column, 16 rows
/// side by side: w_bj = d_b·q_bj + m_b. The kernels then compute 16 rows in the 16 lanes of one vector and read
/// a matrix as one sequential stream.
struct QuantizedMatrix: @unchecked Sendable {
    enum Codes { case nibbles, bytes }
    let rows: Int, columns: Int
    let codes: Codes
    /// [groups · blocks · recordBytes] bytes
    let data: UnsafeMutableRawPointer

    static let groupRows = 16
    var blocks: Int { columns / 32 }
    var groups: Int { (rows + Self.groupRows - 1) / Self.groupRows }
    /// One group-block: fp16 d[16], (q4) fp16 m[16], codes.
    var recordBytes: Int { codes == .nibbles ? 32 + 32 + 256 : 32 + 512 }

    /// Repacks the rows of one or more tensors of the same type (Q4_1, Q4_0 or Q8_0) and row length, stacked in
    /// order (e.g. W_q, W_k, W_v); nil when the type is another one, the pieces differ, or a Q4_0 scale is too
    /// large for −8·d to be a finite fp16.
    init?(_ pieces: [GGUFTensorInfo], file: GGUFFile) {
        guard let type = pieces.first?.type, [.q4_1, .q4_0, .q8_0].contains(type),
              pieces.allSatisfy({ $0.type == type && $0.dimensions.count == 2 && $0.dimensions[0] == pieces[0].dimensions[0] })
        else { return nil }
        let columns = pieces[0].dimensions[0], blocks = columns / 32
        // Source block of (row, block): the pieces' rows stacked.
        var rowSources: [UnsafeRawPointer] = []
        for piece in pieces {
            let base = file.bytes(of: piece)
            for r in 0..<piece.dimensions[1] { rowSources.append(base + r * blocks * type.bytesPerBlock) }
        }
        if type == .q4_0 {
            for source in rowSources {
                for b in 0..<blocks where !Float16(-8 * Dequantize.half(source + b * type.bytesPerBlock, 0)).isFinite { return nil }
            }
        }
        rows = rowSources.count
        self.columns = columns
        codes = type == .q8_0 ? .bytes : .nibbles
        let groups = (rows + Self.groupRows - 1) / Self.groupRows, recordBytes = codes == .nibbles ? 320 : 544
        data = UnsafeMutableRawPointer.allocate(byteCount: groups * blocks * recordBytes, alignment: 64)
        data.initializeMemory(as: UInt8.self, repeating: 0, count: groups * blocks * recordBytes)
        let out = UncheckedSendable(data), sources = rowSources, rowCount = rows
        Parallel.forChunks(groups, costPerItem: Self.groupRows * columns) { lo, hi in
            for g in lo..<hi {
                for lane in 0..<Self.groupRows where g * Self.groupRows + lane < rowCount {
                    let source = sources[g * Self.groupRows + lane]
                    for b in 0..<blocks {
                        let block = source + b * type.bytesPerBlock
                        let record = out.value + (g * blocks + b) * recordBytes
                        let halves = record.assumingMemoryBound(to: UInt16.self)
                        halves[lane] = block.loadUnaligned(as: UInt16.self)
                        switch type {
                        case .q4_1, .q4_0:
                            halves[16 + lane] = type == .q4_1 ? block.loadUnaligned(fromByteOffset: 2, as: UInt16.self)
                                : Float16(-8 * Dequantize.half(block, 0)).bitPattern
                            let header = type == .q4_1 ? 4 : 2
                            for j in 0..<16 { record.storeBytes(of: block.load(fromByteOffset: header + j, as: UInt8.self), toByteOffset: 64 + 16 * j + lane, as: UInt8.self) }
                        default:
                            for j in 0..<32 { record.storeBytes(of: block.load(fromByteOffset: 2 + j, as: UInt8.self), toByteOffset: 32 + 16 * j + lane, as: UInt8.self) }
                        }
                    }
                }
            }
        }
    }

    func deallocate() { data.deallocate() }


    /// y = W x + beta·y.   x: [columns], y: [rows]
    /// Groups of 16 rows run in parallel in `Parallel.threads` fixed chunks; each row's dot is computed by one
    /// thread in a fixed order, so the result does not depend on the thread count. `level` picks the kernels:
    /// 2 AVX-512, 1 AVX2, 0 the portable Swift loops (default: the best the CPU runs).
    func multiply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, beta: Float, level: Int = simdLevel) {
        if level > 0 { multiplySIMD(x, into: y, beta: beta, level: level); return }
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

    /// The best kernel level of CLLMKernels this CPU runs: 2 AVX-512F, 1 AVX2+FMA, 0 none (checked once).
    static let simdLevel = Int(llm_simd_level())

    /// The same product with the C kernels: y_r = Σ_b d_rb·(Σ_j q_rbj x_bj) + m_rb·(Σ_j x_bj).
    private func multiplySIMD(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, beta: Float, level: Int) {
        let blocks = self.blocks
        withUnsafeTemporaryAllocation(of: Float.self, capacity: blocks) { blockSums in
            let sums = blockSums.baseAddress!
            if codes == .nibbles {
                for b in 0..<blocks {
                    var s: Float = 0
                    for j in 0..<32 { s += x[32 * b + j] }
                    sums[b] = s
                }
            }
            let me = self, xs = UncheckedSendable(x), ys = UncheckedSendable(y), s = UncheckedSendable(sums)
            Parallel.forChunks(groups, costPerItem: Self.groupRows * columns / 2) { lo, hi in
                let data = me.data.assumingMemoryBound(to: UInt8.self)
                switch me.codes {
                case .nibbles:
                    llm_q4_groups(Int32(level), data, xs.value, s.value, Int32(blocks), Int32(lo), Int32(hi), Int32(me.rows), ys.value, beta)
                case .bytes:
                    llm_q8_groups(Int32(level), data, xs.value, Int32(blocks), Int32(lo), Int32(hi), Int32(me.rows), ys.value, beta)
                }
            }
        }
    }

    /// Row r as Float32 (w = d·q + m exactly as `Dequantize.row`).   -> out: [columns]
    @inline(__always)
    func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        let g = r / Self.groupRows, lane = r % Self.groupRows
        for b in 0..<blocks {
            let record = UnsafeRawPointer(data + (g * blocks + b) * recordBytes), o = out + 32 * b
            let d = Dequantize.half(record, 2 * lane)
            switch codes {
            case .nibbles:
                let m = Dequantize.half(record, 32 + 2 * lane)
                for j in 0..<16 {
                    let q = record.load(fromByteOffset: 64 + 16 * j + lane, as: UInt8.self)
                    o[j] = d * Float(q & 0x0F) + m
                    o[j + 16] = d * Float(q >> 4) + m
                }
            case .bytes:
                for j in 0..<32 { o[j] = d * Float(record.load(fromByteOffset: 32 + 16 * j + lane, as: Int8.self)) }
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
