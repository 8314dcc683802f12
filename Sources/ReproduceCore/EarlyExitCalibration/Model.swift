import Lab

/// The 4-block multi-exit CNN of docs/papers/early-exit-calibration.md §3 for 1 × 28 × 28 images: 3 × 3
/// convolutions (stride 1, padding 1) with ReLU, no normalisation; internal classifiers after blocks 1–3
/// (2 × 2 average pooling, flatten, linear) and the final classifier after block 4 (flatten, linear).
///
///     B1: conv 1→16 @28², maxpool 2, conv 16→16 @14²     IC1: avgpool → 16·7·7 = 784 → 10
///     B2: conv 16→32 @14², maxpool 2                      IC2: avgpool → 32·3·3 = 288 → 10
///     B3: conv 32→32 @7²                                  IC3: avgpool → 288 → 10
///     B4: conv 32→32 @7²                                  final: 32·7·7 = 1,568 → 10
///
/// Weights: PyTorch's default Kaiming-uniform (a = √5); biases 0.
public final class EarlyExitCNN: Module, MultiExitModel {
    public let block1a: Conv2d, block1b: Conv2d, block2: Conv2d, block3: Conv2d, block4: Conv2d
    public let head1: Linear, head2: Linear, head3: Linear, finalHead: Linear

    public init(classes: Int = 10, rng: inout RNG) {
        func conv(_ input: Int, _ output: Int) -> Conv2d {
            let layer = Conv2d(inputChannels: input, outputChannels: output, kernelSize: 3, padding: 1, rng: &rng)
            layer.bias?.data = [Float](repeating: 0, count: output)
            return layer
        }
        func linear(_ input: Int) -> Linear {
            let layer = Linear(inputSize: input, outputSize: classes, rng: &rng)
            layer.bias?.data = [Float](repeating: 0, count: classes)
            return layer
        }
        block1a = conv(1, 16); block1b = conv(16, 16); block2 = conv(16, 32); block3 = conv(32, 32); block4 = conv(32, 32)
        head1 = linear(784); head2 = linear(288); head3 = linear(288); finalHead = linear(1_568)
    }

    public var exitCount: Int { 4 }

    /// x: [B, 1, 28, 28] → four logits [B, classes]: IC1, IC2, IC3, final.
    public func exits(_ x: Tensor) -> [Tensor] {
        let h1 = block1b(block1a(x).relu().maxPool2d(kernel: 2)).relu()    // [B, 16, 14, 14]
        let h2 = block2(h1).relu().maxPool2d(kernel: 2)                     // [B, 32, 7, 7]
        let h3 = block3(h2).relu()                                          // [B, 32, 7, 7]
        let h4 = block4(h3).relu()                                          // [B, 32, 7, 7]
        func pooledHead(_ head: Linear, _ h: Tensor) -> Tensor { head(h.avgPool2d(kernel: 2).flattened()) }
        return [pooledHead(head1, h1), pooledHead(head2, h2), pooledHead(head3, h3), finalHead(h4.flattened())]
    }

    /// The MACs of every convolution and linear layer on one 28 × 28 image, by block and exit (pooling and
    /// ReLU not counted, as fvcore).
    public var exitCosts: ExitCosts {
        var costs = ExitCosts(exitCount: 4)
        var side = 28
        for (name, layer, block, poolAfter) in [("block1a", block1a, 1, true), ("block1b", block1b, 1, false),
                                                ("block2", block2, 2, true), ("block3", block3, 3, false),
                                                ("block4", block4, 4, false)] {
            let counted = MACs.conv2d(layer, inputHeight: side, inputWidth: side)
            costs.add(name, macs: counted.macs, block: block)
            side = poolAfter ? counted.outputHeight / 2 : counted.outputHeight
        }
        for (k, head) in [head1, head2, head3, finalHead].enumerated() { costs.add("head\(k + 1)", macs: MACs.linear(head), head: k + 1) }
        return costs
    }
}
