import Foundation
import Lab
import LabLLM

/// Which vector of a prompt's representation a head reads (docs/papers/safety-probe.md §3).
public enum Representation: Sendable, Hashable {
    /// h_ℓ at the last token: ℓ = 0 the token embedding, 1 … L − 1 block outputs, ℓ = L the final-norm state.
    case lastToken(layer: Int)
    /// The final-norm state averaged over the non-prefix tokens.
    case meanPooledFinal
    /// The token embeddings (layer 0) averaged over the prompt's own tokens (the lexical baseline).
    case meanEmbedding
}

/// The representations of a list of prompts: per prompt, L + 1 last-token vectors, the mean-pooled final state
/// and the mean embedding, each of width d, stored as Float32 rows of (L + 3)·d.
public struct PromptFeatures: Sendable {
    /// L, the number of blocks (last-token layers are 0 ... L).
    public let layers: Int
    /// d
    public let width: Int
    /// [prompts · (L + 3) · d]
    public private(set) var values: [Float]
    /// New tokens each prompt added after the cached prefix.
    public private(set) var tokenCounts: [Int]

    public init(layers: Int, width: Int) {
        self.layers = layers
        self.width = width
        values = []
        tokenCounts = []
    }

    public var count: Int { tokenCounts.count }
    var stride: Int { (layers + 3) * width }

    /// Slot of a representation within one prompt's row.
    func slot(_ representation: Representation) -> Int {
        switch representation {
        case .lastToken(let layer):
            precondition((0...layers).contains(layer), "PromptFeatures: layer \(layer) outside 0...\(layers)")
            return layer
        case .meanPooledFinal: return layers + 1
        case .meanEmbedding: return layers + 2
        }
    }

    /// Appends one prompt: `lastToken` [(L + 1)·d], `meanFinal` [d], `meanEmbedding` [d].
    public mutating func append(lastToken: [Float], meanFinal: [Float], meanEmbedding: [Float], tokens: Int) {
        precondition(lastToken.count == (layers + 1) * width && meanFinal.count == width && meanEmbedding.count == width,
                     "PromptFeatures.append: wrong widths")
        values += lastToken + meanFinal + meanEmbedding
        tokenCounts.append(tokens)
    }

    /// One vector of prompt `index`.   -> [d]
    public func vector(_ index: Int, _ representation: Representation) -> ArraySlice<Float> {
        let start = index * stride + slot(representation) * width
        return values[start..<(start + width)]
    }

    /// The chosen prompts' vectors as a Float64 matrix [indices.count, d].
    public func matrix(_ indices: [Int], _ representation: Representation) -> Matrix {
        var data: [Double] = []
        data.reserveCapacity(indices.count * width)
        for i in indices { data += vector(i, representation).map(Double.init) }
        return Matrix(rows: indices.count, cols: width, data: data)
    }
}

/// Multiply-adds ×2 of a Llama forward over `count` new tokens at positions start ..< start + count:
/// 2·(non-embedding parameters) per token, plus attention 4·(keys)·d per token and layer (QKᵀ and PV), plus
/// 2·d·vocab per token that gets logits (docs/papers/safety-probe.md §3).
public func forwardFLOPs(_ config: LlamaConfig, start: Int, count: Int, logitRows: Int = 0) -> Double {
    let d = config.width
    let perLayer = 2 * d + config.qkvWidth * d + d * d + 3 * config.ffnWidth * d
    let parameters = Double(config.layers * perLayer + d)
    var keys = 0.0
    for position in start..<(start + count) { keys += Double(position + 1) }
    return 2 * parameters * Double(count) + 4 * keys * Double(d * config.layers)
        + 2 * Double(d * config.vocabularySize * logitRows)
}

/// Encodes prompts under one variant: the prefix is prefilled once, and every prompt continues from a copy of its
/// KV cache; prompts go through the model in packed batches of at most `batchTokens` new tokens.
public struct PromptEncoder {
    public let model: LlamaModel
    public let variant: PromptVariant
    /// Prefix token ids and their KV cache (empty for P2).
    public let prefixTokens: [Int]
    let prefixCache: KVCache
    /// Tokens and FLOPs of the forwards run so far by `encode` (the prefix included).
    public private(set) var tokens = 0
    public private(set) var flops = 0.0

    public init(model: LlamaModel, variant: PromptVariant) throws {
        self.model = model
        self.variant = variant
        prefixTokens = model.tokenizer.encode(variant.prefix)
        var caches = [model.makeCache()]
        if !prefixTokens.isEmpty {
            _ = try model.forward([prefixTokens], caches: &caches, logits: .none)
            tokens = prefixTokens.count
            flops = forwardFLOPs(model.config, start: 0, count: prefixTokens.count)
        }
        prefixCache = caches[0]
    }

    /// Token ids of what follows the prefix for `prompt`.
    public func suffixTokens(_ prompt: String) -> [Int] { model.tokenizer.encode(variant.suffix(prompt)) }

    /// The representations of `prompts` (see `PromptFeatures`); `progress` receives the number done.
    public mutating func encode(_ prompts: [String], batchTokens: Int = 768, progress: (Int) -> Void = { _ in }) throws -> PromptFeatures {
        let config = model.config, d = config.width
        var features = PromptFeatures(layers: config.layers, width: d)
        let suffixes = prompts.map(suffixTokens)
        var start = 0
        while start < prompts.count {
            var end = start + 1, total = suffixes[start].count
            while end < prompts.count && total + suffixes[end].count <= batchTokens { total += suffixes[end].count; end += 1 }
            let batch = Array(suffixes[start..<end])
            var caches = Array(repeating: prefixCache, count: batch.count)
            let states = try model.hiddenStates(batch, caches: &caches, rows: .allTokens, layers: Array(0..<config.layers))
            for (s, prompt) in prompts[start..<end].enumerated() {
                let first = states.sequenceOffsets[s], last = states.sequenceOffsets[s + 1] - 1
                var lastToken: [Float] = []
                lastToken.reserveCapacity((config.layers + 1) * d)
                for l in 0..<config.layers { lastToken += states.residual(layer: l, row: last) }
                lastToken += states.final(row: last)
                var meanFinal = [Float](repeating: 0, count: d)
                for r in first...last { for (j, v) in states.final(row: r).enumerated() { meanFinal[j] += v } }
                let n = Float(last - first + 1)
                for j in 0..<d { meanFinal[j] /= n }
                // The prompt's own tokens are the first ones of the suffix (the template's tail starts with a
                // special token, so the prompt tokenises alone exactly as inside the suffix).
                let own = model.tokenizer.encode(prompt).count
                var meanEmbedding = [Float](repeating: 0, count: d)
                for r in first..<(first + max(own, 1)) { for (j, v) in states.residual(layer: 0, row: r).enumerated() { meanEmbedding[j] += v } }
                for j in 0..<d { meanEmbedding[j] /= Float(max(own, 1)) }
                features.append(lastToken: lastToken, meanFinal: meanFinal, meanEmbedding: meanEmbedding, tokens: batch[s].count)
                tokens += batch[s].count
                flops += forwardFLOPs(config, start: prefixTokens.count, count: batch[s].count)
            }
            start = end
            progress(start)
        }
        return features
    }

    /// Next-token logits after each prompt's suffix (from the cached prefix), in batches.   -> [prompts][vocab]
    public mutating func nextTokenLogits(_ prompts: [String], batchTokens: Int = 768) throws -> [[Float]] {
        let suffixes = prompts.map(suffixTokens)
        var out: [[Float]] = []
        var start = 0
        while start < prompts.count {
            var end = start + 1, total = suffixes[start].count
            while end < prompts.count && total + suffixes[end].count <= batchTokens { total += suffixes[end].count; end += 1 }
            let batch = Array(suffixes[start..<end])
            var caches = Array(repeating: prefixCache, count: batch.count)
            let result = try model.forward(batch, caches: &caches, logits: .lastToken)
            for s in batch.indices {
                out.append(Array(result.logits(row: s)))
                tokens += batch[s].count
                flops += forwardFLOPs(model.config, start: prefixTokens.count, count: batch[s].count, logitRows: 1)
            }
            start = end
        }
        return out
    }
}
