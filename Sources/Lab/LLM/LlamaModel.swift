import Foundation
import Lab

/// Hyperparameters of a Llama-architecture decoder, read from the GGUF's `llama.*` keys.
public struct LlamaConfig: Sendable, Equatable {
    public var vocabularySize: Int
    /// d, the residual width (`llama.embedding_length`).
    public var width: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    /// m, the SwiGLU hidden width (`llama.feed_forward_length`).
    public var ffnWidth: Int
    public var ropeBase: Double
    public var normEpsilon: Float
    public var contextLength: Int

    /// Width of the fused q | k | v projection output: (heads + 2·kvHeads) · headDim.
    public var qkvWidth: Int { (heads + 2 * kvHeads) * headDim }
    public var kvWidth: Int { kvHeads * headDim }

    /// Parameter count: the tied embedding (vocab·d), per layer two RMSNorm gains (2d), W_q | W_k | W_v
    /// (qkvWidth·d), W_o (d·d) and W_gate, W_up, W_down (3·m·d), and the final norm gain (d).
    public var parameterCount: Int {
        vocabularySize * width + layers * (2 * width + qkvWidth * width + width * width + 3 * ffnWidth * width) + width
    }
}

/// How a `LlamaModel` holds its weight matrices.
public enum LlamaWeightStorage: String, Sendable {
    /// In the file's block quantisation only (Q4_1, Q4_0, Q8_0; see `QuantizedMatrix`): no Float32 copy of a
    /// matrix. Decode steps read the codes directly; prefills dequantise a cache-sized panel at a time for
    /// `llm_gemm_panel` (`QuantizedMatrix.multiply(rows:)`). Each weight is the dequantiser's exact Float32 value
    /// either way. A matrix of another type (F32,
    /// F16, BF16) is kept as Float32.
    case quantized
    /// Every matrix also dequantised to Float32 once at load (4 bytes per weight): with Float32 activations every
    /// forward of more than one row multiplies the Float32 copies with SGEMM, and attention runs as before the
    /// quantised runtime existed, so a study whose committed numbers came from this path (activation-sparsity,
    /// safety-probe) regenerates them bit for bit.
    case float32
}

/// The arithmetic of a `LlamaModel`'s products with its quantised matrices.
public enum LlamaActivations: String, Sendable {
    /// Float32 activations times the exact Float32 weights (the default; what the reference tests check).
    case float32
    /// llama.cpp's scheme: each activation row quantised to int8 per block of 32 (Q8_0), exact integer dot
    /// products with the Q4_1, Q4_0 or Q8_0 codes, Float32 scales and sums. About 3x fewer instructions than
    /// Float32 on a CPU with AVX-512 VNNI; logits move by the int8 rounding (see LLMTests). The same floats on
    /// every CPU (the fast path and the C reference are tested equal). Matrices of other types (F32, F16, BF16)
    /// stay Float32.
    case int8
    /// 16-bit activations held as two int8 planes: per block of 32, d = max|x|/32639 and a = round(x/d) = 256h + l
    /// (h in [−127, 127], l in [−128, 127]); each block's dot product with the codes is 256·(h's) + (l's), exact in
    /// int32, then scaled in Float32 as `.int8` does. Twice `.int8`'s integer work; the logits stay within the
    /// reference tests' 1e-3 (measured: 1.1e-4 relative on the reference prompts' top-5, mean |Δ logit| 0.001 against
    /// `.float32` where `.int8` moves them by 0.18). The same floats on every CPU: AVX-512 VNNI, AVX2 (about a third
    /// of VNNI's speed per core in a kernel benchmark) or the C reference loop.
    case int8x2
}

/// SmolLM2-style Llama decoder and its tokenizer, its weights held as `LlamaWeightStorage` says.
///
/// Block ℓ (pre-norm): a = x + Attn(RMSNorm(x)); x' = a + W_down(SiLU(W_gate n) ⊙ W_up n), n = RMSNorm(a).
/// Attention: causal, grouped-query (each of `kvHeads` key/value heads serves heads/kvHeads query heads),
/// RoPE on adjacent pairs. Logits = RMSNorm(x_L) · Eᵀ with the tied token embedding E: [vocab, d].
public final class LlamaModel: @unchecked Sendable {
    public let config: LlamaConfig
    public let tokenizer: BPETokenizer
    /// Seconds spent in `init(path:)` (parse, repack, and with `.float32` dequantise).
    public let loadSeconds: Double
    public let weightStorage: LlamaWeightStorage

    /// The four matrices of a block: each in Float32 (nil with `.quantized` storage when the quantised form
    /// exists), in its file quantisation (nil when the type is not Q4_1, Q4_0 or Q8_0), or both.
    struct Layer {
        /// [d]
        let attentionNorm: UnsafeMutablePointer<Float>
        /// [(heads + 2 kvHeads)·headDim, d]: rows of W_q, then W_k, then W_v.
        let qkv: UnsafeMutablePointer<Float>?
        /// [d, d]
        let attentionOutput: UnsafeMutablePointer<Float>?
        /// [d]
        let ffnNorm: UnsafeMutablePointer<Float>
        /// [2m, d]: rows of W_gate, then W_up.
        let gateUp: UnsafeMutablePointer<Float>?
        /// [d, m]
        let down: UnsafeMutablePointer<Float>?
        /// The same four matrices in their file quantisation.
        let qkvQuantized: QuantizedMatrix?, attentionOutputQuantized: QuantizedMatrix?
        let gateUpQuantized: QuantizedMatrix?, downQuantized: QuantizedMatrix?
    }

    /// [vocab, d] (nil when only `embeddingQuantized` holds it)
    let embedding: UnsafeMutablePointer<Float>?
    let layerWeights: [Layer]
    let embeddingQuantized: QuantizedMatrix?
    /// [d]
    let outputNorm: UnsafeMutablePointer<Float>
    /// Whether one-token forwards (decode steps) read the matrices in their compact file quantisation (same
    /// weights, ~4x fewer bytes; see `QuantizedMatrix`) instead of an SGEMV of the Float32 weights (the copies
    /// with `.float32` storage; a dequantised panel at a time with `.quantized`, which is much slower).
    public var quantizedDecode = true
    /// Float32 (default), int8 or two-plane int8 activations in products with the quantised matrices (`LlamaActivations`).
    public var activations: LlamaActivations = .float32
    /// [contextLength, headDim]: cos θ, sin θ interleaved for each pair i at each position.
    let ropeTable: UnsafeMutablePointer<Float>
    private var allocations: [UnsafeMutablePointer<Float>] = []

    /// Loads a GGUF Llama model (architecture `llama`). Throws `LabError.missingFile` / `.corruptFile`.
    public init(path: String, weights storage: LlamaWeightStorage = .quantized) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let file = try GGUFFile(path: path)
        let config = try LlamaConfig(file)
        self.config = config
        weightStorage = storage
        tokenizer = try BPETokenizer(gguf: file)
        guard tokenizer.vocabularySize == config.vocabularySize else {
            throw LabError.corruptFile(path: path, reason: "tokenizer.ggml.tokens has \(tokenizer.vocabularySize) tokens but llama.vocab_size is \(config.vocabularySize)")
        }

        var allocations: [UnsafeMutablePointer<Float>] = []
        func allocate(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
            allocations.append(p)
            return p
        }
        let d = config.width, m = config.ffnWidth, hd = config.headDim
        /// Tensor `name`, checked to have the row-major `shape`.
        func tensor(_ name: String, _ shape: [Int]) throws -> GGUFTensorInfo {
            let t = try file.tensor(name)
            guard t.shape == shape else {
                throw LabError.corruptFile(path: path, reason: "tensor \(name) has shape \(t.shape), expected \(shape)")
            }
            return t
        }
        // Every shape is checked before anything is allocated: the allocations below are then bounded by the
        // file's own size (each tensor's bytes were checked against it). The block count is bounded by the
        // tensor table first (9 tensors per block, plus the embedding and the final norm).
        guard config.layers <= (file.tensors.count - 2) / 9 else {
            throw LabError.corruptFile(path: path, reason: "llama.block_count is \(config.layers) but the file has only \(file.tensors.count) tensors (9 per block + 2)")
        }
        var expectedShapes = [("token_embd.weight", [config.vocabularySize, d]), ("output_norm.weight", [d])]
        for l in 0..<config.layers {
            expectedShapes += [("attn_norm.weight", [d]), ("attn_q.weight", [config.heads * hd, d]),
                               ("attn_k.weight", [config.kvWidth, d]), ("attn_v.weight", [config.kvWidth, d]),
                               ("attn_output.weight", [d, d]), ("ffn_norm.weight", [d]), ("ffn_gate.weight", [m, d]),
                               ("ffn_up.weight", [m, d]), ("ffn_down.weight", [d, m])].map { ("blk.\(l)." + $0.0, $0.1) }
        }
        for (name, shape) in expectedShapes { _ = try tensor(name, shape) }
        /// Dequantises tensor `name` into `destination`; a weight that is not finite (corrupt data, or an offset
        /// that points at other bytes) is refused here rather than becoming NaN probabilities later.
        func load(_ name: String, _ shape: [Int], into destination: UnsafeMutablePointer<Float>) throws {
            let t = try tensor(name, shape)
            file.dequantize(t, into: destination)
            if let bad = UnsafeBufferPointer(start: destination, count: t.elementCount).firstIndex(where: { !$0.isFinite }) {
                throw LabError.corruptFile(path: path, reason: "tensor \(name) (\(t.type) at data offset \(t.offset)) has a non-finite weight \(destination[bad]) at element \(bad)")
            }
        }
        var layers: [Layer] = []
        var headQuantized: QuantizedMatrix?
        var quantizedMatrices: [QuantizedMatrix] = []
        /// The matrix stacked from `pieces` (rows in order): quantised when the type allows, and as Float32
        /// (checked finite) unless the storage is `.quantized` and the quantised form exists.
        func matrix(_ pieces: [(String, [Int])]) throws -> (dense: UnsafeMutablePointer<Float>?, quantized: QuantizedMatrix?) {
            let infos = try pieces.map { try tensor($0.0, $0.1) }
            let quantized = QuantizedMatrix(infos, file: file)
            if let quantized { quantizedMatrices.append(quantized) }
            if storage == .quantized, quantized != nil { return (nil, quantized) }
            let dense = allocate(pieces.reduce(0) { $0 + $1.1.reduce(1, *) })
            var offset = 0
            for (name, shape) in pieces {
                try load(name, shape, into: dense + offset)
                offset += shape.reduce(1, *)
            }
            return (dense, quantized)
        }
        do {
            let head = try matrix([("token_embd.weight", [config.vocabularySize, d])])
            embedding = head.dense
            headQuantized = head.quantized
            outputNorm = allocate(d)
            try load("output_norm.weight", [d], into: outputNorm)
            if file.tensors.contains(where: { $0.name == "output.weight" }) {
                throw LabError.corruptFile(path: path, reason: "the file has an untied output.weight; this loader implements the tied head only")
            }
            for l in 0..<config.layers {
                let p = "blk.\(l)."
                let qkv = try matrix([(p + "attn_q.weight", [config.heads * hd, d]), (p + "attn_k.weight", [config.kvWidth, d]),
                                      (p + "attn_v.weight", [config.kvWidth, d])])
                let output = try matrix([(p + "attn_output.weight", [d, d])])
                let gateUp = try matrix([(p + "ffn_gate.weight", [m, d]), (p + "ffn_up.weight", [m, d])])
                let down = try matrix([(p + "ffn_down.weight", [d, m])])
                let layer = Layer(attentionNorm: allocate(d), qkv: qkv.dense, attentionOutput: output.dense, ffnNorm: allocate(d),
                                  gateUp: gateUp.dense, down: down.dense,
                                  qkvQuantized: qkv.quantized, attentionOutputQuantized: output.quantized,
                                  gateUpQuantized: gateUp.quantized, downQuantized: down.quantized)
                try load(p + "attn_norm.weight", [d], into: layer.attentionNorm)
                try load(p + "ffn_norm.weight", [d], into: layer.ffnNorm)
                layers.append(layer)
            }
        } catch {
            for p in allocations { p.deallocate() }
            for q in quantizedMatrices { q.deallocate() }
            throw error
        }
        layerWeights = layers
        embeddingQuantized = headQuantized
        ropeTable = allocate(config.contextLength * hd)
        for pos in 0..<config.contextLength {
            for i in 0..<hd / 2 {
                let theta = Double(pos) * pow(config.ropeBase, -Double(2 * i) / Double(hd))
                ropeTable[pos * hd + 2 * i] = Float(cos(theta))
                ropeTable[pos * hd + 2 * i + 1] = Float(sin(theta))
            }
        }
        self.allocations = allocations
        file.dropPageCache()
        loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    deinit {
        for p in allocations { p.deallocate() }
        embeddingQuantized?.deallocate()
        for l in layerWeights {
            for q in [l.qkvQuantized, l.attentionOutputQuantized, l.gateUpQuantized, l.downQuantized] { q?.deallocate() }
        }
    }

    /// The default SmolLM2 file location (`make data-smollm2`).
    public static let defaultPath = "data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
}

extension LlamaConfig {
    /// The most positions times head dimensions the RoPE table may hold (cos and sin of each: 64 MiB).
    public static let maximumRopeTableFloats = 1 << 24

    /// Reads the configuration from the GGUF's `llama.*` keys and checks it before anything is sized by it:
    /// every count positive (no division by zero in heads / kvHeads or width / heads), the attention shape
    /// consistent, RMSNorm's ε a positive finite Float32 below 1, the RoPE base finite and above 1 (θ_i =
    /// pos · base^(−2i/headDim) must decrease with i), and the RoPE table within `maximumRopeTableFloats`.
    /// Each violation throws `LabError.corruptFile` naming the file, the key and the value.
    public init(_ file: GGUFFile) throws {
        let path = file.path
        let architecture = try file.string("general.architecture")
        guard architecture == "llama" else {
            throw LabError.corruptFile(path: path, reason: "general.architecture is \(GGUFFile.printable(architecture)); this loader handles llama")
        }
        func count(_ key: String, default fallback: Int? = nil) throws -> Int {
            let value = try fallback.map { file.metadata[key]?.integer ?? $0 } ?? file.integer(key)
            guard value >= 1, value < 1 << 31 else {
                throw LabError.corruptFile(path: path, reason: "\(key) is \(value); it must be a positive count below 2^31")
            }
            return value
        }
        func number(_ key: String, default fallback: Double, _ valid: (Double) -> Bool, _ rule: String) throws -> Double {
            guard let value = file.metadata[key].map({ $0.double }) ?? fallback else {
                throw LabError.corruptFile(path: path, reason: "\(key) is not a number")
            }
            guard valid(value) else { throw LabError.corruptFile(path: path, reason: "\(key) is \(value); it must be \(rule)") }
            return value
        }
        let heads = try count("llama.attention.head_count")
        let width = try count("llama.embedding_length")
        self.init(
            vocabularySize: try count("llama.vocab_size", default: file.strings("tokenizer.ggml.tokens").count),
            width: width, layers: try count("llama.block_count"), heads: heads,
            kvHeads: try count("llama.attention.head_count_kv", default: heads),
            headDim: try count("llama.rope.dimension_count", default: width / heads),
            ffnWidth: try count("llama.feed_forward_length"),
            ropeBase: try number("llama.rope.freq_base", default: 10_000, { $0.isFinite && $0 > 1 }, "a finite number above 1"),
            normEpsilon: Float(try number("llama.attention.layer_norm_rms_epsilon", default: 1e-5,
                                          { Float($0).isFinite && Float($0) > 0 && $0 < 1 }, "a positive Float32 below 1")),
            contextLength: try count("llama.context_length", default: 2048))
        guard heads % kvHeads == 0, headDim * heads == width, headDim % 2 == 0 else {
            throw LabError.corruptFile(path: path, reason: "inconsistent attention shape: \(heads) heads, \(kvHeads) kv heads (llama.attention.head_count_kv), head dim \(headDim), width \(width)")
        }
        guard contextLength <= Self.maximumRopeTableFloats / headDim else {
            throw LabError.corruptFile(path: path, reason: "llama.context_length \(contextLength) x head dim \(headDim) exceeds the RoPE table limit of \(Self.maximumRopeTableFloats) values")
        }
    }
}

extension GGUFFile {
    /// Dequantises a tensor to Float32, row-major, into `destination` (elementCount floats), parallel over rows.
    public func dequantize(_ tensor: GGUFTensorInfo, into destination: UnsafeMutablePointer<Float>) {
        let rowLength = tensor.dimensions[0], rows = tensor.elementCount / rowLength
        let rowBytes = rowLength / tensor.type.blockSize * tensor.type.bytesPerBlock
        let source = UncheckedSendable(bytes(of: tensor)), out = UncheckedSendable(destination)
        Parallel.forChunks(rows, costPerItem: rowLength) { lo, hi in
            for r in lo..<hi {
                Dequantize.row(tensor.type, source.value + r * rowBytes, out.value + r * rowLength, count: rowLength)
            }
        }
    }
}
