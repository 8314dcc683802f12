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

/// SmolLM2-style Llama decoder with Float32 weights (dequantised once at load) and its tokenizer.
///
/// Block ℓ (pre-norm): a = x + Attn(RMSNorm(x)); x' = a + W_down(SiLU(W_gate n) ⊙ W_up n), n = RMSNorm(a).
/// Attention: causal, grouped-query (each of `kvHeads` key/value heads serves heads/kvHeads query heads),
/// RoPE on adjacent pairs. Logits = RMSNorm(x_L) · Eᵀ with the tied token embedding E: [vocab, d].
public final class LlamaModel: @unchecked Sendable {
    public let config: LlamaConfig
    public let tokenizer: BPETokenizer
    /// Seconds spent in `init(path:)` (parse + dequantise).
    public let loadSeconds: Double

    struct Layer {
        /// [d]
        let attentionNorm: UnsafeMutablePointer<Float>
        /// [(heads + 2 kvHeads)·headDim, d]: rows of W_q, then W_k, then W_v.
        let qkv: UnsafeMutablePointer<Float>
        /// [d, d]
        let attentionOutput: UnsafeMutablePointer<Float>
        /// [d]
        let ffnNorm: UnsafeMutablePointer<Float>
        /// [2m, d]: rows of W_gate, then W_up.
        let gateUp: UnsafeMutablePointer<Float>
        /// [d, m]
        let down: UnsafeMutablePointer<Float>
        /// The same four matrices in their file quantisation, for one-token decode steps (nil if not quantised).
        let qkvQuantized: QuantizedMatrix?, attentionOutputQuantized: QuantizedMatrix?
        let gateUpQuantized: QuantizedMatrix?, downQuantized: QuantizedMatrix?
    }

    /// [vocab, d]
    let embedding: UnsafeMutablePointer<Float>
    let layerWeights: [Layer]
    let embeddingQuantized: QuantizedMatrix?
    /// [d]
    let outputNorm: UnsafeMutablePointer<Float>
    /// Whether one-token forwards (decode steps) read the matrices in their compact file quantisation (same
    /// weights, ~4x fewer bytes; see `QuantizedMatrix`) instead of the Float32 copies.
    public var quantizedDecode = true
    /// [contextLength, headDim]: cos θ, sin θ interleaved for each pair i at each position.
    let ropeTable: UnsafeMutablePointer<Float>
    private var allocations: [UnsafeMutablePointer<Float>] = []

    /// Loads a GGUF Llama model (architecture `llama`). Throws `LabError.missingFile` / `.corruptFile`.
    public init(path: String) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let file = try GGUFFile(path: path)
        let arch = try file.string("general.architecture")
        guard arch == "llama" else {
            throw LabError.corruptFile(path: path, reason: "general.architecture is \(arch); this loader handles llama")
        }
        let heads = try file.integer("llama.attention.head_count")
        let width = try file.integer("llama.embedding_length")
        let tokens = try file.strings("tokenizer.ggml.tokens")
        let config = LlamaConfig(
            vocabularySize: file.metadata["llama.vocab_size"]?.integer ?? tokens.count,
            width: width, layers: try file.integer("llama.block_count"), heads: heads,
            kvHeads: file.metadata["llama.attention.head_count_kv"]?.integer ?? heads,
            headDim: file.metadata["llama.rope.dimension_count"]?.integer ?? width / heads,
            ffnWidth: try file.integer("llama.feed_forward_length"),
            ropeBase: file.metadata["llama.rope.freq_base"]?.double ?? 10_000,
            normEpsilon: Float(file.metadata["llama.attention.layer_norm_rms_epsilon"]?.double ?? 1e-5),
            contextLength: file.metadata["llama.context_length"]?.integer ?? 2048)
        guard config.heads % config.kvHeads == 0, config.headDim * config.heads == config.width, config.headDim % 2 == 0 else {
            throw LabError.corruptFile(path: path, reason: "inconsistent attention shape: \(config.heads) heads, \(config.kvHeads) kv heads, head dim \(config.headDim), width \(config.width)")
        }
        self.config = config
        tokenizer = try BPETokenizer(gguf: file)

        var allocations: [UnsafeMutablePointer<Float>] = []
        func allocate(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
            allocations.append(p)
            return p
        }
        /// Dequantises tensor `name`, checking its row-major shape, into `destination` (+ `rowOffset` rows).
        func load(_ name: String, _ shape: [Int], into destination: UnsafeMutablePointer<Float>) throws {
            let t = try file.tensor(name)
            guard t.shape == shape else {
                throw LabError.corruptFile(path: path, reason: "tensor \(name) has shape \(t.shape), expected \(shape)")
            }
            file.dequantize(t, into: destination)
        }
        let d = config.width, m = config.ffnWidth, hd = config.headDim
        var layers: [Layer] = []
        var headQuantized: QuantizedMatrix?
        do {
            embedding = allocate(config.vocabularySize * d)
            try load("token_embd.weight", [config.vocabularySize, d], into: embedding)
            headQuantized = QuantizedMatrix([try file.tensor("token_embd.weight")], file: file)
            outputNorm = allocate(d)
            try load("output_norm.weight", [d], into: outputNorm)
            if file.tensors.contains(where: { $0.name == "output.weight" }) {
                throw LabError.corruptFile(path: path, reason: "the file has an untied output.weight; this loader implements the tied head only")
            }
            for l in 0..<config.layers {
                let p = "blk.\(l)."
                let t = { (name: String) in try file.tensor(p + name) }
                let layer = Layer(attentionNorm: allocate(d), qkv: allocate(config.qkvWidth * d),
                                  attentionOutput: allocate(d * d), ffnNorm: allocate(d),
                                  gateUp: allocate(2 * m * d), down: allocate(d * m),
                                  qkvQuantized: QuantizedMatrix([try t("attn_q.weight"), try t("attn_k.weight"), try t("attn_v.weight")], file: file),
                                  attentionOutputQuantized: QuantizedMatrix([try t("attn_output.weight")], file: file),
                                  gateUpQuantized: QuantizedMatrix([try t("ffn_gate.weight"), try t("ffn_up.weight")], file: file),
                                  downQuantized: QuantizedMatrix([try t("ffn_down.weight")], file: file))
                try load(p + "attn_norm.weight", [d], into: layer.attentionNorm)
                try load(p + "attn_q.weight", [config.heads * hd, d], into: layer.qkv)
                try load(p + "attn_k.weight", [config.kvWidth, d], into: layer.qkv + config.heads * hd * d)
                try load(p + "attn_v.weight", [config.kvWidth, d], into: layer.qkv + (config.heads * hd + config.kvWidth) * d)
                try load(p + "attn_output.weight", [d, d], into: layer.attentionOutput)
                try load(p + "ffn_norm.weight", [d], into: layer.ffnNorm)
                try load(p + "ffn_gate.weight", [m, d], into: layer.gateUp)
                try load(p + "ffn_up.weight", [m, d], into: layer.gateUp + m * d)
                try load(p + "ffn_down.weight", [d, m], into: layer.down)
                layers.append(layer)
            }
        } catch {
            for p in allocations { p.deallocate() }
            headQuantized?.deallocate()
            for l in layers {
                for q in [l.qkvQuantized, l.attentionOutputQuantized, l.gateUpQuantized, l.downQuantized] { q?.deallocate() }
            }
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
