import Foundation
import Lab

/// The FFN activation of the char GPT: GELU (tanh form, GPT-2's) for the dense model, ReLU after D2DMoE's
/// ReLU-fication (docs/papers/dynamic-k-moe.md §3).
public enum FFNActivation: String, Sendable {
    case gelu, relu

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .gelu: return x.gelu(approximate: true)
        case .relu: return x.relu()
        }
    }
}

/// Sizes of the char GPT (docs/papers/dynamic-k-moe.md §3): width d, layers, heads, FFN width m, context length.
public struct GPTConfig: Sendable, Equatable {
    public let width: Int
    public let layers: Int
    public let heads: Int
    public let ffnWidth: Int
    public let context: Int
    public let vocabularySize: Int

    public init(width: Int, layers: Int, heads: Int, ffnWidth: Int, context: Int, vocabularySize: Int) {
        self.width = width; self.layers = layers; self.heads = heads; self.ffnWidth = ffnWidth
        self.context = context; self.vocabularySize = vocabularySize
    }
}

/// A pre-LN GPT-2 block: x += Attn(LN(x)); x += W2 φ(W1 LN(x) + b1) + b2.
final class GPTBlock: Module {
    let attentionNorm: LayerNorm
    let attention: MultiHeadAttention
    let ffnNorm: LayerNorm
    let up: Linear
    let down: Linear

    init(_ config: GPTConfig, rng: inout RNG) {
        attentionNorm = LayerNorm(features: config.width)
        attention = MultiHeadAttention(dimension: config.width, heads: config.heads, causal: true, bias: true, rng: &rng)
        ffnNorm = LayerNorm(features: config.width)
        up = Linear(inputSize: config.width, outputSize: config.ffnWidth, rng: &rng)
        down = Linear(inputSize: config.ffnWidth, outputSize: config.width, rng: &rng)
    }
}

/// A character-level GPT-2-style decoder (docs/papers/dynamic-k-moe.md §3): token embedding (tied with the output
/// head) plus learned absolute positions, pre-LN blocks (LayerNorm ε 1e-5, causal multi-head attention and FFN with
/// biases), a final LayerNorm. Init N(0, 0.02) for every weight and embedding, biases 0, the attention output and
/// FFN W2 weights N(0, 0.02²/(2·layers)).
public final class CharGPT: Module, TokenSequenceModel {
    public let config: GPTConfig
    /// The FFN activation φ; swapped GELU → ReLU by the fine-tunes.
    public var activation: FFNActivation = .gelu
    let embedding: Embedding
    let positions: Embedding
    let blocks: [GPTBlock]
    let finalNorm: LayerNorm

    public init(_ config: GPTConfig, rng: inout RNG) {
        self.config = config
        embedding = Embedding(vocabularySize: config.vocabularySize, dimension: config.width, std: 0.02, rng: &rng)
        positions = Embedding(vocabularySize: config.context, dimension: config.width, std: 0.02, rng: &rng)
        blocks = (0..<config.layers).map { _ in GPTBlock(config, rng: &rng) }
        finalNorm = LayerNorm(features: config.width)
        super.init()
        let outputStd = 0.02 / Double(2 * config.layers).squareRoot()
        for block in blocks {
            let attention = block.attention
            for (linear, std) in [(attention.query, 0.02), (attention.key, 0.02), (attention.value, 0.02), (attention.output, outputStd),
                                  (block.up, 0.02), (block.down, outputStd)] {
                linear.weight.data = (0..<linear.weight.count).map { _ in Float(rng.normal() * std) }
                linear.bias!.data = [Float](repeating: 0, count: linear.bias!.count)
            }
        }
    }

    public var vocabularySize: Int { config.vocabularySize }

    /// The FFN's W1 [m, d], b1 [m], W2 [d, m], b2 [d] of a layer.
    public func ffnWeights(layer: Int) -> (up: Tensor, upBias: Tensor, down: Tensor, downBias: Tensor) {
        let block = blocks[layer]
        return (block.up.weight, block.up.bias!, block.down.weight, block.down.bias!)
    }

    /// a = φ(W1 x + b1) of a layer: x [.., d] (the post-LN FFN input) → [.., m].
    public func ffnActivation(layer: Int, _ x: Tensor) -> Tensor { activation(blocks[layer].up(x)) }

    /// W2 a + b2 of a layer: a [.., m] → [.., d].
    public func ffnOutput(layer: Int, _ a: Tensor) -> Tensor { blocks[layer].down(a) }

    /// ids [B·T] (row-major [B, T], T ≤ context) → logits [B·T, vocabulary]. `ffn(layer, x)`, if given, replaces
    /// every FFN: it receives the post-LN input x [B, T, d] and returns the FFN output [B, T, d] (the default is
    /// ffnOutput(ffnActivation(x))); it is how activations are read (Hoyer loss, caches) and experts are masked.
    public func callAsFunction(_ ids: [Int], batch: Int, length: Int, ffn: ((Int, Tensor) -> Tensor)? = nil) -> Tensor {
        precondition(length <= config.context, "CharGPT: length \(length) exceeds the context \(config.context)")
        let positionIDs = (0..<batch).flatMap { _ in 0..<length }
        var x = embedding(ids, shape: [batch, length]) + positions(positionIDs, shape: [batch, length])
        for (layer, block) in blocks.enumerated() {
            x = x + block.attention(block.attentionNorm(x))
            let normed = block.ffnNorm(x)
            x = x + (ffn?(layer, normed) ?? block.down(activation(block.up(normed))))
        }
        let hidden = finalNorm(x).reshaped([batch * length, config.width])
        return hidden.matmul(embedding.weight, transposeB: true)
    }

    public func logits(_ ids: [Int], batch: Int, length: Int) -> Tensor { self(ids, batch: batch, length: length) }
}
