import Foundation
import CBLAS
import CLLMKernels
import Lab

/// Which rows of a forward get logits (each row costs d·vocab multiply-adds and vocab floats).
public enum LogitSelection: Sendable, Equatable {
    case none
    /// The last token of each sequence: rows = sequences.
    case lastToken
    /// Every token: rows = total tokens, in packed order.
    case allTokens
}

/// The result of a forward over a batch of sequences packed row after row.
public struct LlamaOutput: Sendable {
    /// [rows, vocab] row-major; which packed token each row belongs to is `logitRows`.
    public var logits: [Float]
    /// Packed token index of each logits row.
    public var logitRows: [Int]
    /// Sequence s owns packed rows sequenceOffsets[s] ..< sequenceOffsets[s + 1].
    public var sequenceOffsets: [Int]
    public let vocabularySize: Int

    /// Logits of logits row r.   -> [vocab]
    public func logits(row r: Int) -> ArraySlice<Float> {
        logits[r * vocabularySize ..< (r + 1) * vocabularySize]
    }
}

/// Which packed rows a hidden-state read returns.
public enum LlamaRows: Sendable, Equatable {
    /// The last token of each sequence: state row s belongs to sequence s.
    case lastToken
    /// Every token, in packed order.
    case allTokens
    /// These packed token indices, in this order.
    case packed([Int])
}

/// Hidden states of a forward at chosen packed rows (no logits computed).
///
/// Residual layer ℓ ∈ 0...layers is the stream x_ℓ entering block ℓ: x_0 = the token embeddings, x_ℓ = the output
/// of block ℓ − 1, x_layers = the output of the last block. The final-norm state is RMSNorm(x_layers) ⊙ g, the
/// head's input: logits = final · Eᵀ with the tied embedding E: [vocab, d].
public struct LlamaHiddenStates: Sendable {
    /// Packed token index of each state row.
    public let rows: [Int]
    /// Sequence s owns packed rows sequenceOffsets[s] ..< sequenceOffsets[s + 1].
    public let sequenceOffsets: [Int]
    /// The residual layers returned, in the order asked for.
    public let layers: [Int]
    /// residual[k]: [rows, d] row-major, the stream x_ℓ at ℓ = layers[k].
    public let residual: [[Float]]
    /// [rows, d] row-major, the final-norm hidden state.
    public let final: [Float]
    /// d
    public let width: Int

    /// x_ℓ at state row r (ℓ must be one of `layers`).   -> [d]
    public func residual(layer: Int, row r: Int) -> ArraySlice<Float> {
        guard let k = layers.firstIndex(of: layer) else {
            preconditionFailure("LlamaHiddenStates: layer \(layer) was not requested (have \(layers))")
        }
        return residual[k][r * width ..< (r + 1) * width]
    }

    /// The final-norm hidden state at state row r.   -> [d]
    public func final(row r: Int) -> ArraySlice<Float> { final[r * width ..< (r + 1) * width] }
}

/// Key/value cache of one sequence: per layer, [length, kvHeads·headDim] keys and values. A value type:
/// copying it (e.g. after a shared prompt) gives an independent continuation point.
public struct KVCache: Sendable {
    public internal(set) var keys: [[Float]]
    public internal(set) var values: [[Float]]
    public internal(set) var length: Int = 0

    public init(layers: Int) {
        keys = Array(repeating: [], count: layers)
        values = Array(repeating: [], count: layers)
    }
}

extension LlamaModel {
    public func makeCache() -> KVCache { KVCache(layers: config.layers) }

    /// Forward of a batch of sequences without a cache (scoring / prefill). Sequences of different lengths are
    /// packed row after row (no padding rows are computed) and each attends causally to itself only.
    /// With `fromLayer` ℓ > 0, `residual` ([total tokens, d], packed) is the stream entering block ℓ and only
    /// blocks ℓ..<layers run (single-layer studies).
    public func forward(_ sequences: [[Int]], logits: LogitSelection = .lastToken, hooks: LlamaHooks = LlamaHooks(),
                        fromLayer: Int = 0, residual: [Float]? = nil) throws -> LlamaOutput {
        try validate(sequences)
        guard (0..<config.layers).contains(fromLayer) else {
            throw LabError.invalidArgument("LlamaModel.forward: fromLayer \(fromLayer) is outside 0..<\(config.layers)")
        }
        let total = sequences.reduce(0) { $0 + $1.count }
        if let residual, residual.count != total * config.width {
            throw LabError.invalidArgument("LlamaModel.forward: residual has \(residual.count) floats, expected tokens·d = \(total)·\(config.width)")
        }
        if fromLayer > 0 && residual == nil {
            throw LabError.invalidArgument("LlamaModel.forward: fromLayer \(fromLayer) needs the residual stream entering that layer")
        }
        return run(sequences, startPositions: Array(repeating: 0, count: sequences.count), caches: nil,
                   head: .logits(logits), hooks: hooks, fromLayer: fromLayer, residual: residual).output
    }

    /// Forward that extends one KV cache per sequence (prefill of new tokens, or one decode step each).
    /// New tokens of sequence s sit at positions caches[s].length ..<, and attend to the cached ones.
    public func forward(_ sequences: [[Int]], caches: inout [KVCache], logits: LogitSelection = .lastToken,
                        hooks: LlamaHooks = LlamaHooks()) throws -> LlamaOutput {
        try validate(sequences)
        try validate(caches, for: sequences)
        let starts = caches.map(\.length)
        return caches.withUnsafeMutableBufferPointer { buffer in
            run(sequences, startPositions: starts, caches: buffer, head: .logits(logits), hooks: hooks, fromLayer: 0, residual: nil).output
        }
    }

    /// The residual stream x_ℓ at the given `layers` (each in 0...layers; default all) and the final-norm hidden
    /// state, at the chosen packed `rows`, from one forward without a cache; the head's vocab-wide product is
    /// skipped (see `LlamaHiddenStates`).
    public func hiddenStates(_ sequences: [[Int]], rows: LlamaRows = .lastToken, layers: [Int]? = nil) throws -> LlamaHiddenStates {
        try validate(sequences)
        let request = try stateRequest(sequences, rows: rows, layers: layers)
        let pass = run(sequences, startPositions: Array(repeating: 0, count: sequences.count), caches: nil,
                       head: request, hooks: LlamaHooks(), fromLayer: 0, residual: nil)
        return pass.states(width: config.width)
    }

    /// `hiddenStates` of new tokens that extend one KV cache per sequence (e.g. prompts after a shared, cached
    /// prefix); rows are packed over the new tokens only.
    public func hiddenStates(_ sequences: [[Int]], caches: inout [KVCache], rows: LlamaRows = .lastToken,
                             layers: [Int]? = nil) throws -> LlamaHiddenStates {
        try validate(sequences)
        try validate(caches, for: sequences)
        let request = try stateRequest(sequences, rows: rows, layers: layers)
        let starts = caches.map(\.length)
        let pass = caches.withUnsafeMutableBufferPointer { buffer in
            run(sequences, startPositions: starts, caches: buffer, head: request, hooks: LlamaHooks(), fromLayer: 0, residual: nil)
        }
        return pass.states(width: config.width)
    }

    /// Greedy decoding: prefill `prompt`, then append the argmax token until `maxTokens` or a stop token
    /// (default: eos and `<|im_end|>`). Returns the generated ids (the stop token excluded); `onToken` sees
    /// each as it comes. A prompt with no room for `maxTokens` more tokens in the context is refused before
    /// the prefill (`checkRoom`).
    public func generate(prompt: [Int], maxTokens: Int, stopTokens: Set<Int>? = nil,
                         onToken: ((Int) -> Void)? = nil) throws -> [Int] {
        try checkRoom(prompts: [prompt], maxTokens: maxTokens)
        let stops = stopTokens ?? Set([tokenizer.eosID] + (tokenizer.specialTokens["<|im_end|>"].map { [$0] } ?? []))
        var caches = [makeCache()]
        var next = [prompt]
        var out: [Int] = []
        while out.count < maxTokens {
            let result = try forward(next, caches: &caches, logits: .lastToken)
            let token = Self.argmax(result.logits(row: 0))
            if stops.contains(token) { break }
            out.append(token)
            onToken?(token)
            next = [[token]]
        }
        return out
    }

    /// Batched greedy decoding of several prompts at once: one packed prefill, then one forward per step over
    /// the sequences still running (their weight reads are shared, so the aggregate rate is far above one
    /// stream's). Sequence s stops at a stop token or after `maxTokens`; returns the generated ids of each.
    public func generate(prompts: [[Int]], maxTokens: Int, stopTokens: Set<Int>? = nil) throws -> [[Int]] {
        try checkRoom(prompts: prompts, maxTokens: maxTokens)
        let stops = stopTokens ?? Set([tokenizer.eosID] + (tokenizer.specialTokens["<|im_end|>"].map { [$0] } ?? []))
        var caches = prompts.map { _ in makeCache() }
        var outputs = Array(repeating: [Int](), count: prompts.count)
        var active = Array(prompts.indices)
        var result = try forward(prompts, caches: &caches, logits: .lastToken)
        while maxTokens > 0 {
            var running: [Int] = []
            for (row, s) in active.enumerated() {
                let token = Self.argmax(result.logits(row: row))
                if stops.contains(token) { continue }
                outputs[s].append(token)
                if outputs[s].count < maxTokens { running.append(s) }
            }
            active = running
            if active.isEmpty { break }
            // Move the running caches out (leaving empty placeholders) so that extending them copies nothing.
            var stepCaches = active.map { s -> KVCache in
                let c = caches[s]
                caches[s] = KVCache(layers: 0)
                return c
            }
            result = try forward(active.map { [outputs[$0].last!] }, caches: &stepCaches, logits: .lastToken)
            for (k, s) in active.enumerated() { caches[s] = stepCaches[k] }
        }
        return outputs
    }

    /// Index of the largest entry (the first one on ties; NaN never wins, as `>` says): `llm_argmax`, the plain
    /// scan's answer, 8 entries at a time where the CPU has AVX2.
    public static func argmax(_ x: ArraySlice<Float>) -> Int {
        x.withUnsafeBufferPointer { p in
            guard let base = p.baseAddress, p.count > 0 else { return 0 }
            return llm_argmax(Int32(QuantizedMatrix.simdLevel), base, p.count)
        }
    }

    private func validate(_ caches: [KVCache], for sequences: [[Int]]) throws {
        guard caches.count == sequences.count else {
            throw LabError.invalidArgument("LlamaModel.forward: \(caches.count) caches for \(sequences.count) sequences")
        }
        for (s, c) in caches.enumerated() where c.keys.count != config.layers || c.length + sequences[s].count > config.contextLength {
            throw LabError.invalidArgument("LlamaModel.forward: cache \(s) (length \(c.length)) cannot take \(sequences[s].count) more tokens (context \(config.contextLength), \(config.layers) layers)")
        }
    }

    /// The head of a hidden-state read: the requested layers (all by default) and packed rows, checked.
    private func stateRequest(_ sequences: [[Int]], rows: LlamaRows, layers: [Int]?) throws -> Head {
        let layers = layers ?? Array(0...config.layers)
        if let bad = layers.first(where: { !(0...config.layers).contains($0) }) {
            throw LabError.invalidArgument("LlamaModel.hiddenStates: layer \(bad) is outside 0...\(config.layers)")
        }
        let total = sequences.reduce(0) { $0 + $1.count }
        let packed: [Int]
        switch rows {
        case .lastToken:
            var end = 0
            packed = sequences.map { end += $0.count; return end - 1 }
        case .allTokens: packed = Array(0..<total)
        case .packed(let chosen):
            if let bad = chosen.first(where: { !(0..<total).contains($0) }) {
                throw LabError.invalidArgument("LlamaModel.hiddenStates: row \(bad) is outside the \(total) packed tokens")
            }
            packed = chosen
        }
        return .states(layers: layers, rows: packed)
    }

    /// Throws unless `maxTokens` ≥ 0 and every prompt fits the context together with the tokens generated
    /// after it: prompt + maxTokens − 1 positions (the last generated token is not fed back).
    public func checkRoom(prompts: [[Int]], maxTokens: Int) throws {
        guard maxTokens >= 0 else { throw LabError.invalidArgument("LlamaModel.generate: maxTokens \(maxTokens) is negative") }
        if let longest = prompts.map(\.count).max(), longest + max(maxTokens - 1, 0) > config.contextLength {
            throw LabError.invalidArgument("the prompt has \(longest) tokens; with \(maxTokens) tokens to generate it needs \(longest + max(maxTokens - 1, 0)) positions, above the model's context length \(config.contextLength)")
        }
    }

    private func validate(_ sequences: [[Int]]) throws {
        guard !sequences.isEmpty, sequences.allSatisfy({ !$0.isEmpty }) else {
            throw LabError.invalidArgument("LlamaModel.forward: every sequence needs at least one token")
        }
        for s in sequences {
            if let bad = s.first(where: { $0 < 0 || $0 >= config.vocabularySize }) {
                throw LabError.invalidArgument("LlamaModel.forward: token id \(bad) is outside 0..<\(config.vocabularySize)")
            }
            if s.count > config.contextLength {
                throw LabError.invalidArgument("LlamaModel.forward: a sequence of \(s.count) tokens exceeds the context \(config.contextLength)")
            }
        }
    }

    /// What a forward ends with: logits of some rows, or hidden states (residual layers and the final-norm
    /// state) at chosen packed rows.
    private enum Head {
        case logits(LogitSelection)
        case states(layers: [Int], rows: [Int])
    }

    /// A forward's results: `output` always (logits empty for a state read), the states when asked for.
    private struct Pass {
        var output: LlamaOutput
        var stateLayers: [Int] = []
        var stateRows: [Int] = []
        var residual: [[Float]] = []
        var final: [Float] = []

        func states(width: Int) -> LlamaHiddenStates {
            LlamaHiddenStates(rows: stateRows, sequenceOffsets: output.sequenceOffsets, layers: stateLayers,
                              residual: residual, final: final, width: width)
        }
    }

    /// The forward proper on packed rows. All scratch is allocated once per call.
    private func run(_ sequences: [[Int]], startPositions: [Int], caches: UnsafeMutableBufferPointer<KVCache>?,
                     head: Head, hooks: LlamaHooks, fromLayer: Int, residual: [Float]?) -> Pass {
        let c = config
        let d = c.width, m = c.ffnWidth, hd = c.headDim, qkvW = c.qkvWidth, kvW = c.kvWidth
        var offsets = [0]
        for s in sequences { offsets.append(offsets.last! + s.count) }
        let total = offsets.last!
        var positions = [Int](repeating: 0, count: total)
        for (s, seq) in sequences.enumerated() { for i in 0..<seq.count { positions[offsets[s] + i] = startPositions[s] + i } }

        // x: [T, d] residual stream; n: [T, d] normed; qkv: [T, qkvW]; attention: [T, d]; gu: [T, 2m]; h: [T, m]
        let x = UnsafeMutablePointer<Float>.allocate(capacity: total * d)
        let normed = UnsafeMutablePointer<Float>.allocate(capacity: total * d)
        let qkv = UnsafeMutablePointer<Float>.allocate(capacity: total * qkvW)
        let attention = UnsafeMutablePointer<Float>.allocate(capacity: total * d)
        let gateUp = UnsafeMutablePointer<Float>.allocate(capacity: total * 2 * m)
        let hidden = UnsafeMutablePointer<Float>.allocate(capacity: total * m)
        var maxScores = 0
        for (s, seq) in sequences.enumerated() { maxScores = max(maxScores, seq.count * (startPositions[s] + seq.count)) }
        let group = c.heads / c.kvHeads
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: max(maxScores, group * (startPositions.max()! + 1)))
        defer { for p in [x, normed, qkv, attention, gateUp, hidden, scores] { p.deallocate() } }

        if let residual {
            residual.withUnsafeBufferPointer { x.update(from: $0.baseAddress!, count: total * d) }
        } else {
            var r = 0
            for seq in sequences {
                for t in seq {
                    if let embedding { (x + r * d).update(from: embedding + t * d, count: d) } else { embeddingQuantized!.dequantizeRow(t, into: x + r * d) }
                    r += 1
                }
            }
        }

        // A state read copies x_ℓ at its rows into every slot k with layers[k] = ℓ.
        var captured: [[Float]] = []
        var slotsOfLayer = [[Int]](repeating: [], count: c.layers + 1)
        var stateRows: [Int] = []
        if case .states(let layers, let rows) = head {
            stateRows = rows
            captured = layers.map { _ in [] }
            for (k, l) in layers.enumerated() { slotsOfLayer[l].append(k) }
        }
        func capture(_ l: Int) {
            for k in slotsOfLayer[l] {
                captured[k].reserveCapacity(stateRows.count * d)
                for r in stateRows { captured[k].append(contentsOf: UnsafeBufferPointer(start: x + r * d, count: d)) }
            }
        }

        let gateOrUpHooked = hooks.has(.gate) || hooks.has(.up)
        for l in fromLayer..<c.layers {
            capture(l)
            let w = layerWeights[l]
            // Attention sub-block: x += W_o · Attn(RoPE(W_q n), RoPE(W_k n), W_v n), n = RMSNorm(x)
            LLMKernels.rmsNorm(x, w.attentionNorm, normed, rows: total, n: d, eps: c.normEpsilon)
            linear(normed, rows: total, w.qkv, w.qkvQuantized, qkv, outputs: qkvW, inputs: d)
            let q = UncheckedSendable(qkv), table = UncheckedSendable(ropeTable), pos = positions
            Parallel.forChunks(total, costPerItem: qkvW * 4) { lo, hi in
                for r in lo..<hi {
                    let row = q.value + r * qkvW
                    let cs = table.value + pos[r] * hd
                    LLMKernels.ropeRow(row, heads: c.heads + c.kvHeads, headDim: hd, table: cs)  // q heads then k heads
                }
            }
            for s in 0..<sequences.count {
                let r0 = offsets[s], n = offsets[s + 1] - r0, p0 = startPositions[s]
                if let caches {
                    for r in r0..<r0 + n {
                        caches[s].keys[l].append(contentsOf: UnsafeBufferPointer(start: qkv + r * qkvW + c.heads * hd, count: kvW))
                        caches[s].values[l].append(contentsOf: UnsafeBufferPointer(start: qkv + r * qkvW + c.heads * hd + kvW, count: kvW))
                    }
                    caches[s].keys[l].withUnsafeBufferPointer { k in
                        caches[s].values[l].withUnsafeBufferPointer { v in
                            attend(queries: qkv + r0 * qkvW, n: n, start: p0, keys: k.baseAddress!, values: v.baseAddress!,
                                   kvStride: kvW, output: attention + r0 * d, scores: scores)
                        }
                    }
                } else {
                    let base = qkv + r0 * qkvW + c.heads * hd
                    attend(queries: qkv + r0 * qkvW, n: n, start: 0, keys: base, values: base + kvW,
                           kvStride: qkvW, output: attention + r0 * d, scores: scores)
                }
            }
            linear(attention, rows: total, w.attentionOutput, w.attentionOutputQuantized, x, outputs: d, inputs: d, accumulate: true)

            // FFN sub-block: x += W_down (SiLU(W_gate n) ⊙ W_up n), n = RMSNorm(x)
            LLMKernels.rmsNorm(x, w.ffnNorm, normed, rows: total, n: d, eps: c.normEpsilon)
            hooks.call(.ffnInput, layer: l, base: normed, tokens: total, width: d, rowStride: d, sequenceOffsets: offsets)
            linear(normed, rows: total, w.gateUp, w.gateUpQuantized, gateUp, outputs: 2 * m, inputs: d)
            if gateOrUpHooked {
                let gu = UncheckedSendable(gateUp)
                Parallel.forChunks(total, costPerItem: m * 4) { lo, hi in
                    for r in lo..<hi {
                        let g = gu.value + r * 2 * m
                        swiGLU(g, up: nil, g, count: m)
                    }
                }
                hooks.call(.gate, layer: l, base: gateUp, tokens: total, width: m, rowStride: 2 * m, sequenceOffsets: offsets)
                hooks.call(.up, layer: l, base: gateUp + m, tokens: total, width: m, rowStride: 2 * m, sequenceOffsets: offsets)
                let h = UncheckedSendable(hidden)
                Parallel.forChunks(total, costPerItem: m) { lo, hi in
                    for r in lo..<hi {
                        let g = gu.value + r * 2 * m, u = g + m, o = h.value + r * m
                        for j in 0..<m { o[j] = g[j] * u[j] }
                    }
                }
            } else {
                LLMKernels.swiglu(gateUp, hidden, rows: total, width: m)
            }
            hooks.call(.intermediate, layer: l, base: hidden, tokens: total, width: m, rowStride: m, sequenceOffsets: offsets)
            linear(hidden, rows: total, w.down, w.downQuantized, x, outputs: d, inputs: m, accumulate: true)
            hooks.call(.residual, layer: l, base: x, tokens: total, width: d, rowStride: d, sequenceOffsets: offsets)
        }
        capture(c.layers)
        if let caches { for s in 0..<sequences.count { caches[s].length += sequences[s].count } }

        // Head: final RMSNorm of the selected rows, then logits = n · Eᵀ (not for a state read).
        let rows: [Int]
        switch head {
        case .logits(.allTokens): rows = Array(0..<total)
        case .logits: rows = (0..<sequences.count).map { offsets[$0 + 1] - 1 }
        case .states: rows = stateRows
        }
        var final = [Float](repeating: 0, count: rows.count * d)
        var logits: [Float] = []
        final.withUnsafeMutableBufferPointer { buffer in
            let f = buffer.baseAddress!
            for (i, r) in rows.enumerated() {
                LLMKernels.rmsNormRow(x + r * d, outputNorm, f + i * d, n: d, eps: c.normEpsilon)
            }
            guard case .logits(let selection) = head else { return }
            hooks.call(.finalHidden, layer: c.layers, base: f, tokens: rows.count, width: d, rowStride: d,
                       sequenceOffsets: selection == .allTokens ? offsets : Array(0...sequences.count))
            if selection != .none {
                logits = [Float](unsafeUninitializedCapacity: rows.count * c.vocabularySize) { out, initialized in
                    linear(f, rows: rows.count, embedding, embeddingQuantized, out.baseAddress!, outputs: c.vocabularySize, inputs: d)
                    initialized = rows.count * c.vocabularySize
                }
            }
        }
        let logitRows: [Int]
        if case .logits(let selection) = head, selection != .none { logitRows = rows } else { logitRows = [] }
        let output = LlamaOutput(logits: logits, logitRows: logitRows, sequenceOffsets: offsets, vocabularySize: c.vocabularySize)
        guard case .states(let layers, _) = head else { return Pass(output: output) }
        return Pass(output: output, stateLayers: layers, stateRows: rows, residual: captured, final: final)
    }

    /// y = x Wᵀ (+ y when `accumulate`).   x: [rows, inputs], W: [outputs, inputs] -> y: [rows, outputs]
    /// With int8 activations a quantised matrix is multiplied by the int8 kernel. Otherwise a one-row product (a
    /// decode step) reads the compact quantised matrix when there is one (and
    /// `quantizedDecode`); otherwise the Float32 copy when there is one (SGEMM, SGEMV for one row); otherwise
    /// the quantised matrix a dequantised panel at a time (`QuantizedMatrix.multiply(rows:)`).
    @inline(__always)
    private func linear(_ x: UnsafePointer<Float>, rows: Int, _ weight: UnsafePointer<Float>?, _ quantized: QuantizedMatrix?,
                        _ y: UnsafeMutablePointer<Float>, outputs: Int, inputs: Int, accumulate: Bool = false) {
        let beta: Float = accumulate ? 1 : 0
        if activations != .float32, let quantized {
            quantized.multiplyInt8(rows: rows, x, ldx: inputs, into: y, ldy: outputs, beta: beta, planes: activations == .int8x2 ? 2 : 1)
        } else if rows == 1, quantizedDecode, let quantized {
            quantized.multiply(x, into: y, beta: beta)
        } else if let weight {
            LLMKernels.matmulTransposedB(x, lda: inputs, weight, ldb: inputs, y, ldc: outputs, m: rows, n: outputs, k: inputs,
                                         beta: beta)
        } else {
            quantized!.multiply(rows: rows, x, ldx: inputs, into: y, ldy: outputs, beta: beta)
        }
    }

    /// Query rows per chunk of the causal prefill attention.
    static let causalChunk = 64

    /// `.float32` storage with Float32 activations runs attention exactly as the runtime did when the paper
    /// studies were committed (whole-score SGEMMs, SGEMM decode steps), so they regenerate bit for bit; every
    /// other configuration takes the faster causal-chunked prefill and C decode attention.
    var legacyArithmetic: Bool { weightStorage == .float32 && activations == .float32 }

    /// Causal grouped-query attention of one sequence's n new queries at positions start..<start+n over keys
    /// and values at positions 0..<start+n.
    /// queries: [n, qkvWidth] (heads·headDim first); keys, values: [start+n, kvHeads·headDim] with row stride
    /// kvStride; output: [n, d] (row stride d); scores: scratch of n·(start+n) floats (or group·(start+1) when n = 1).
    /// Per head: S = Q Kᵀ / √headDim (one SGEMM), causal softmax per row, O = P V (one SGEMM).
    private func attend(queries: UnsafePointer<Float>, n: Int, start: Int, keys: UnsafePointer<Float>,
                        values: UnsafePointer<Float>, kvStride: Int, output: UnsafeMutablePointer<Float>,
                        scores: UnsafeMutablePointer<Float>) {
        let c = config, hd = c.headDim, d = c.width, qkvW = c.qkvWidth
        let keyCount = start + n, group = c.heads / c.kvHeads
        let scale = 1 / Float(hd).squareRoot()
        let sc = UncheckedSendable(scores)
        if n == 1, !legacyArithmetic, hd % 8 == 0 {  // the C kernels take 8 lanes at a time
            // Decode step: the heads in parallel, plain dot products in C (SGEMM's packing costs more than these
            // 1 x keyCount x headDim products).
            let (q, k, v, o) = (UncheckedSendable(queries), UncheckedSendable(keys), UncheckedSendable(values), UncheckedSendable(output))
            let level = Int32(QuantizedMatrix.simdLevel > 0 ? 1 : 0)
            Parallel.forChunks(c.heads, costPerItem: keyCount * hd * 2) { lo, hi in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: keyCount) { buffer in
                    let row = buffer.baseAddress!
                    for h in lo..<hi {
                        let g = h / group
                        llm_attention_dots(level, q.value + h * hd, k.value + g * hd, Int32(kvStride), Int32(keyCount), Int32(hd), row)
                        LLMKernels.softmaxRow(row, n: keyCount, width: keyCount, scale: scale)
                        llm_attention_weighted_sum(level, row, v.value + g * hd, Int32(kvStride), Int32(keyCount), Int32(hd), o.value + h * hd)
                    }
                }
            }
            return
        }
        if n == 1 {
            // Decode step: the `group` query heads sharing a key/value head are contiguous rows [group, headDim].
            for g in 0..<c.kvHeads {
                LLMKernels.matmulTransposedB(queries + g * group * hd, lda: hd, keys + g * hd, ldb: kvStride,
                                             scores, ldc: keyCount, m: group, n: keyCount, k: hd)
                for i in 0..<group { LLMKernels.softmaxRow(scores + i * keyCount, n: keyCount, width: keyCount, scale: scale) }
                LLMKernels.matmul(scores, lda: keyCount, values + g * hd, ldb: kvStride, output + g * group * hd, ldc: hd,
                                  m: group, n: hd, k: keyCount)
            }
            return
        }
        if !legacyArithmetic {
            // A prefill: the heads in parallel, each on one thread with its own scores; queries in chunks of
            // `causalChunk` rows, each against only the keys it can see (a long prefill skips the masked half of
            // its scores; another summation split than the whole-score path below).
            let (q, k, v, o) = (UncheckedSendable(queries), UncheckedSendable(keys), UncheckedSendable(values), UncheckedSendable(output))
            let chunk = Self.causalChunk, chunks = (n + chunk - 1) / chunk
            // Items are (head, query chunk) pairs, so two threads split 9 heads evenly.
            let scoreFloats = min(chunk, n) * keyCount
            let panelFloats = max(LLMKernels.panelFloats(n: keyCount, k: hd), LLMKernels.panelFloats(n: hd, k: keyCount))
            Parallel.forChunks(c.heads * chunks, costPerItem: min(chunk, n) * keyCount * hd * 4) { lo, hi in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: scoreFloats + panelFloats) { buffer in
                    let s = buffer.baseAddress!, panel = s + scoreFloats
                    for item in lo..<hi {
                        let h = item / chunks, g = h / group
                        do {
                            let i0 = (item % chunks) * chunk
                            let rows = min(chunk, n - i0), visible = start + i0 + rows
                            LLMKernels.panelProductOnThisThread(q.value + i0 * qkvW + h * hd, lda: qkvW, k.value + g * hd, ldb: kvStride,
                                                                transB: true, s, ldc: visible, m: rows, n: visible, k: hd, panel: panel)
                            for i in 0..<rows { LLMKernels.softmaxRow(s + i * visible, n: start + i0 + i + 1, width: visible, scale: scale) }
                            LLMKernels.panelProductOnThisThread(s, lda: visible, v.value + g * hd, ldb: kvStride, transB: false,
                                                                o.value + i0 * d + h * hd, ldc: d, m: rows, n: hd, k: visible, panel: panel)
                        }
                    }
                }
            }
            return
        }
        for h in 0..<c.heads {
            let g = h / group
            LLMKernels.matmulTransposedB(queries + h * hd, lda: qkvW, keys + g * hd, ldb: kvStride,
                                         scores, ldc: keyCount, m: n, n: keyCount, k: hd)
            Parallel.forChunks(n, costPerItem: keyCount * 8) { lo, hi in
                for i in lo..<hi {
                    LLMKernels.softmaxRow(sc.value + i * keyCount, n: start + i + 1, width: keyCount, scale: scale)
                }
            }
            LLMKernels.matmul(scores, lda: keyCount, values + g * hd, ldb: kvStride, output + h * hd, ldc: d,
                              m: n, n: hd, k: keyCount)
        }
    }
}

extension LlamaModel {
    /// Next-token negative log-likelihood of `tokens` under teacher forcing, in non-overlapping windows of
    /// `window` tokens (each window starts a fresh context; its first token is not scored).
    /// Returns the summed NLL in nats and the number of scored tokens; perplexity = exp(sum / count).
    public func negativeLogLikelihood(_ tokens: [Int], window: Int = 512) throws -> (sum: Double, count: Int) {
        guard window >= 2 else { throw LabError.invalidArgument("negativeLogLikelihood: window \(window) < 2") }
        var sum = 0.0, count = 0
        var start = 0
        while start + 1 < tokens.count {
            let chunk = Array(tokens[start..<min(start + window, tokens.count)])
            let out = try forward([chunk], logits: .allTokens)
            for i in 0..<(chunk.count - 1) {
                let row = out.logits(row: i)
                let m = Double(row.max()!)
                var z = 0.0
                for v in row { z += Foundation.exp(Double(v) - m) }
                sum += m + Foundation.log(z) - Double(row[row.startIndex + chunk[i + 1]])
                count += 1
            }
            start += window
        }
        return (sum, count)
    }
}
