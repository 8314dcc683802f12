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
/// rows; per group and block b of 32 columns one record holds the 16 rows' fp16 scales d_b, for Q4_1 codes
/// their fp16 offsets m_b (Q4_0 stores none: its m_b = −8·d_b is computed where needed, exactly, so its
/// records are 10% smaller), then the codes column by column, 16 rows side by side: w_bj = d_b·q_bj + m_b.
/// The kernels then compute 16 rows in the 16 lanes of one vector and read a matrix as one sequential stream.
struct QuantizedMatrix: @unchecked Sendable {
    enum Codes { case nibbles, bytes }
    let rows: Int, columns: Int
    let codes: Codes
    /// The file's block type (Q4_1, Q4_0 or Q8_0): Q4_0's weights are d·(q − 8), the others' d·q + m and d·q.
    let type: GGMLType
    /// [groups · blocks · recordBytes] bytes
    let data: UnsafeMutableRawPointer

    static let groupRows = 16
    var blocks: Int { columns / 32 }
    var groups: Int { (rows + Self.groupRows - 1) / Self.groupRows }
    /// One group-block: fp16 d[16], (Q4_1) fp16 m[16], codes.
    var recordBytes: Int { Self.recordBytes(type) }
    static func recordBytes(_ type: GGMLType) -> Int { type == .q8_0 ? 32 + 512 : type == .q4_1 ? 32 + 32 + 256 : 32 + 256 }
    /// Where a record's codes start (after d[16], and Q4_1's m[16]).
    static func codesOffset(_ type: GGMLType) -> Int { type == .q4_1 ? 64 : 32 }

    /// Repacks the rows of one or more tensors of the same type (Q4_1, Q4_0 or Q8_0) and row length, stacked in
    /// order (e.g. W_q, W_k, W_v); nil when the type is another one, the pieces differ, or a scale or offset is
    /// not finite (the caller's dequantiser then names the bad weight).
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
        rows = rowSources.count
        self.columns = columns
        self.type = type
        codes = type == .q8_0 ? .bytes : .nibbles
        let groups = (rows + Self.groupRows - 1) / Self.groupRows, recordBytes = Self.recordBytes(type), codesOffset = Self.codesOffset(type)
        data = UnsafeMutableRawPointer.allocate(byteCount: groups * blocks * recordBytes, alignment: 64)
        // Each thread checks, zeroes and fills its own groups (a serial check and memset first took most of
        // SmolLM2's load time); a scale that is not finite anywhere makes the whole matrix nil.
        let out = UncheckedSendable(data), sources = rowSources, rowCount = rows
        let bad = UncheckedSendable(UnsafeMutablePointer<Bool>.allocate(capacity: groups))
        defer { bad.value.deallocate() }
        bad.value.initialize(repeating: false, count: groups)
        let kind: Int32 = type == .q4_1 ? 0 : type == .q4_0 ? 1 : 2
        Parallel.forChunks(groups, costPerItem: Self.groupRows * columns) { lo, hi in
            if Self.simdLevel >= 1 {
                sources.withUnsafeBufferPointer { s in
                    s.withMemoryRebound(to: UnsafePointer<UInt8>?.self) { p in
                        bad.value[lo] = llm_repack_groups(kind, p.baseAddress!, Int32(rowCount), Int32(blocks), Int32(lo), Int32(hi),
                                                          out.value.assumingMemoryBound(to: UInt8.self)) != 0
                    }
                }
                return
            }
            (out.value + lo * blocks * recordBytes).initializeMemory(as: UInt8.self, repeating: 0, count: (hi - lo) * blocks * recordBytes)
            for g in lo..<hi {
                for lane in 0..<Self.groupRows where g * Self.groupRows + lane < rowCount {
                    let source = sources[g * Self.groupRows + lane]
                    for b in 0..<blocks {
                        let block = source + b * type.bytesPerBlock
                        let d = Dequantize.half(block, 0)
                        guard d.isFinite, type != .q4_1 || Dequantize.half(block, 2).isFinite else { bad.value[g] = true; return }
                        let record = out.value + (g * blocks + b) * recordBytes
                        let halves = record.assumingMemoryBound(to: UInt16.self)
                        halves[lane] = block.loadUnaligned(as: UInt16.self)
                        switch type {
                        case .q4_1, .q4_0:
                            if type == .q4_1 { halves[16 + lane] = block.loadUnaligned(fromByteOffset: 2, as: UInt16.self) }
                            let header = type == .q4_1 ? 4 : 2
                            for j in 0..<16 { record.storeBytes(of: block.load(fromByteOffset: header + j, as: UInt8.self), toByteOffset: codesOffset + 16 * j + lane, as: UInt8.self) }
                        default:
                            for j in 0..<32 { record.storeBytes(of: block.load(fromByteOffset: 2 + j, as: UInt8.self), toByteOffset: 32 + 16 * j + lane, as: UInt8.self) }
                        }
                    }
                }
            }
        }
        if (0..<groups).contains(where: { bad.value[$0] }) {
            data.deallocate()
            return nil
        }
    }

    func deallocate() { data.deallocate() }


    /// y = W x + beta·y.   x: [columns], y: [rows]
    /// Groups of 16 rows run in parallel in `Parallel.threads` fixed chunks; each row's dot is computed by one
    /// thread in a fixed order, so the result does not depend on the thread count. `level` picks the kernels:
    /// 2 AVX-512 (LAB_KERNELS=native), 1 AVX2, 3 AVX-512 in AVX2's order (the same bits as 1), 0 the portable Swift
    /// loops (default: `decodeLevel`, the best the CPU runs).
    func multiply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, beta: Float, level: Int = decodeLevel) {
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

    /// The decode-step kernels' level (`llm_decode_level`): `simdLevel`, except 3 (AVX2's arithmetic on AVX-512F's
    /// 16 lanes, the same bits) where `simdLevel` is 1 and the CPU has AVX-512F.
    static let decodeLevel = Int(llm_decode_level())

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
                    llm_q4_groups(Int32(level), me.type == .q4_0 ? 1 : 0, data, xs.value, s.value, Int32(blocks), Int32(lo), Int32(hi), Int32(me.rows), ys.value, beta)
                case .bytes:
                    llm_q8_groups(Int32(level), data, xs.value, Int32(blocks), Int32(lo), Int32(hi), Int32(me.rows), ys.value, beta)
                }
            }
        }
    }

    /// Y = X Wᵀ + beta·Y for a block of `count` rows of X (prefill): X [count, columns] with row stride ldx,
    /// Y [count, rows] with row stride ldy. The weights are dequantised a panel of output rows at a time into a
    /// small Float32 scratch (strips of 32 rows, each Wᵀ [columns, 32]; never a copy of the whole matrix), and
    /// `llm_gemm_panel` multiplies each panel: every output is one chain of fused multiply-adds over the columns in
    /// order, the same floats at every `gemmLevel` (AVX-512, AVX2, C), so the fastest one this CPU has is the
    /// portable default. Panels are split evenly over Lab's threads. `level` picks the dequantiser (0: Swift loops).
    func multiply(rows count: Int, _ x: UnsafePointer<Float>, ldx: Int, into y: UnsafeMutablePointer<Float>, ldy: Int,
                  beta: Float, level: Int = simdLevel, gemmLevel: Int = gemmLevel) {
        let threads = Parallel.threads
        // Panels of at most `maxPanelGroups` groups (an even number: whole strips), a multiple of `threads` of them so
        // that no thread idles.
        let maxPanelGroups = max(2, (Self.panelFloats / (Self.groupRows * columns)) & ~1)
        let perThread = (groups + threads * maxPanelGroups - 1) / (threads * maxPanelGroups)
        let panelGroups = ((groups + threads * perThread - 1) / (threads * perThread) + 1) & ~1
        let panels = (groups + panelGroups - 1) / panelGroups
        let me = self, xs = UncheckedSendable(x), ys = UncheckedSendable(y)
        let strip = Int(LLM_GEMM_STRIP)   // the kernel's strip: two groups of rows
        Parallel.forChunks(panels, costPerItem: 1 << 20) { lo, hi in
            let panel = UnsafeMutablePointer<Float>.allocate(capacity: me.columns * Self.groupRows * panelGroups)
            defer { panel.deallocate() }
            for p in lo..<hi {
                let g0 = p * panelGroups, g1 = min(g0 + panelGroups, me.groups)
                let strips = (g1 - g0 + 1) / 2, outputs = min(Self.groupRows * (g1 - g0), me.rows - Self.groupRows * g0)
                for s in 0..<strips {
                    let a = g0 + 2 * s, b = min(a + 2, g1), out = panel + s * me.columns * strip
                    me.dequantizeGroupsTransposed(a, b, into: out, ldo: strip, level: level)
                    if b - a == 1 {   // a lone last group: its strip's other 16 outputs are computed, never stored
                        for k in 0..<me.columns { (out + k * strip + Self.groupRows).update(repeating: 0, count: Self.groupRows) }
                    }
                }
                llm_gemm_panel(Int32(gemmLevel), xs.value, Int32(ldx), Int32(count), Int32(me.columns), panel, Int32(strips),
                               Int32(outputs), ys.value + Self.groupRows * g0, Int32(ldy), beta)
            }
        }
    }

    /// Floats in one thread's dequantised panel: 2¹⁸ (1 MiB). The kernel streams one strip at a time, so the size
    /// barely matters: 2¹⁸ and 2²⁰ gave the same Q4_0 prefill 512 (1673–1698 tok/s) and packed prefills within 2%
    /// (1900–1947 tok/s; Zen 5, 2 threads, 2026-12-06).
    static let panelFloats = 1 << 18

    /// The level of `llm_gemm_panel` this CPU runs (2 AVX-512F, 1 AVX2+FMA, 0 C): all three give the same floats.
    static let gemmLevel = Int(llm_gemm_level())

    /// The int8 kernels' level on this CPU: 3 AVX-512 VNNI, 2 AVX2, 0 the C reference (identical results; see llm_kernels.h).
    static let int8Level = Int(llm_int8_level())

    /// Y = X Wᵀ + beta·Y with X quantised per block of 32 and exact integer block dot products with the codes
    /// (Q4_1, Q4_0, Q8_0), scaled and summed in Float32. `planes` 1: llama.cpp's Q8_0 scheme (d = max|x|/127,
    /// q = round(x/d); `LlamaActivations.int8`); 2: d = max|x|/32639, a = round(x/d) held as two int8 planes
    /// a = 256h + l (`LlamaActivations.int8x2`, 16 bits).
    /// X: [count, columns] (row stride ldx); Y: [count, rows] (row stride ldy).
    func multiplyInt8(rows count: Int, _ x: UnsafePointer<Float>, ldx: Int, into y: UnsafeMutablePointer<Float>, ldy: Int,
                      beta: Float, planes: Int = 1, level: Int = int8Level) {
        precondition(planes == 1 || planes == 2, "planes must be 1 or 2")
        let blocks = self.blocks, columns = self.columns
        let xq = UnsafeMutablePointer<Int8>.allocate(capacity: planes * count * columns)
        let xd = UnsafeMutablePointer<Float>.allocate(capacity: count * blocks), xds = UnsafeMutablePointer<Float>.allocate(capacity: count * blocks)
        let xs = UnsafeMutablePointer<Int32>.allocate(capacity: count * blocks)
        defer { xq.deallocate(); xd.deallocate(); xds.deallocate(); xs.deallocate() }
        let low: UnsafeMutablePointer<Int8>? = planes == 2 ? xq + count * columns : nil
        let p = (x: UncheckedSendable(x), q: UncheckedSendable(xq), l: UncheckedSendable(low), d: UncheckedSendable(xd),
                 s: UncheckedSendable(xs), ds: UncheckedSendable(xds))
        Parallel.forChunks(count, costPerItem: columns * 4 * planes) { lo, hi in
            if let l = p.l.value {
                llm_quantize_rows_q8x2(Int32(level), p.x.value + lo * ldx, Int32(ldx), Int32(hi - lo), Int32(columns),
                                       p.q.value + lo * columns, l + lo * columns, p.d.value + lo * blocks,
                                       p.s.value + lo * blocks, p.ds.value + lo * blocks)
            } else {
                llm_quantize_rows_q8(Int32(level), p.x.value + lo * ldx, Int32(ldx), Int32(hi - lo), Int32(columns), p.q.value + lo * columns,
                                     p.d.value + lo * blocks, p.s.value + lo * blocks, p.ds.value + lo * blocks)
            }
        }
        let me = self, ys = UncheckedSendable(y), offset: Int32 = type == .q4_0 ? 1 : 0
        Parallel.forChunks(groups, costPerItem: Self.groupRows * columns * count * planes / 4) { lo, hi in
            let data = me.data.assumingMemoryBound(to: UInt8.self)
            switch me.codes {
            case .nibbles:
                llm_q4_int8_groups(Int32(level), offset, data, Int32(blocks), Int32(lo), Int32(hi), Int32(me.rows),
                                   p.q.value, p.l.value, p.d.value, p.s.value, p.ds.value, Int32(count), ys.value, Int32(ldy), beta)
            case .bytes:
                llm_q8_int8_groups(Int32(level), data, Int32(blocks), Int32(lo), Int32(hi), Int32(me.rows),
                                   p.q.value, p.l.value, p.d.value, p.s.value, Int32(count), ys.value, Int32(ldy), beta)
            }
        }
    }

    /// Groups g0..<g1 as the transposed panel out[k·ldo + 16·(g − g0) + r] = W[16g + r, k], every weight exactly
    /// as `Dequantize.row` gives it (padding rows of the last group are zero codes).
    func dequantizeGroupsTransposed(_ g0: Int, _ g1: Int, into out: UnsafeMutablePointer<Float>, ldo: Int, level: Int = simdLevel) {
        let kind: Int32 = codes == .bytes ? 2 : type == .q4_0 ? 1 : 0
        if level >= 1 {
            llm_dequantize_groups_t(Int32(level), kind, data.assumingMemoryBound(to: UInt8.self), Int32(blocks),
                                    Int32(g0), Int32(g1), out, Int32(ldo))
            return
        }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: columns) { buffer in
            let row = buffer.baseAddress!
            for g in g0..<g1 {
                for lane in 0..<Self.groupRows {
                    dequantizeRow(Self.groupRows * g + lane, into: row)
                    for k in 0..<columns { out[k * ldo + Self.groupRows * (g - g0) + lane] = row[k] }
                }
            }
        }
    }

    /// Row r as Float32, exactly as `Dequantize.row` gives it.   -> out: [columns]
    @inline(__always)
    func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        let g = r / Self.groupRows, lane = r % Self.groupRows, codesAt = Self.codesOffset(type)
        for b in 0..<blocks {
            let record = UnsafeRawPointer(data + (g * blocks + b) * recordBytes), o = out + 32 * b
            let d = Dequantize.half(record, 2 * lane)
            switch codes {
            case .nibbles where type == .q4_0:
                for j in 0..<16 {
                    let q = record.load(fromByteOffset: codesAt + 16 * j + lane, as: UInt8.self)
                    o[j] = d * Float(Int(q & 0x0F) - 8)
                    o[j + 16] = d * Float(Int(q >> 4) - 8)
                }
            case .nibbles:
                let m = Dequantize.half(record, 32 + 2 * lane)
                for j in 0..<16 {
                    let q = record.load(fromByteOffset: codesAt + 16 * j + lane, as: UInt8.self)
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
