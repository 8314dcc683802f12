/// Multiply–accumulate counts of convolution and linear layers, as fvcore counts them: conv =
/// H_out·W_out·k_h·k_w·C_in·C_out, linear = in·out per sample; biases, pooling, activations and softmax
/// are not counted. `ExitCosts` adds them up per exit of a multi-exit network.
public enum MACs {
    /// One sample through a convolution with the given output size and kernel: H_out·W_out·k_h·k_w·C_in·C_out.
    public static func conv2d(outputHeight: Int, outputWidth: Int, kernelHeight: Int, kernelWidth: Int,
                              inputChannels: Int, outputChannels: Int) -> Int {
        outputHeight * outputWidth * kernelHeight * kernelWidth * inputChannels * outputChannels
    }

    /// One sample through `layer` on an input of inputHeight × inputWidth: its MACs and output size,
    /// H_out = ⌊(H + 2·pad − k_h) / stride⌋ + 1 (the same for W).
    public static func conv2d(_ layer: Conv2d, inputHeight: Int, inputWidth: Int) -> (macs: Int, outputHeight: Int, outputWidth: Int) {
        let shape = layer.weight.shape   // [C_out, C_in, k_h, k_w]
        let outputHeight = (inputHeight + 2 * layer.padding.0 - shape[2]) / layer.stride.0 + 1
        let outputWidth = (inputWidth + 2 * layer.padding.1 - shape[3]) / layer.stride.1 + 1
        let macs = conv2d(outputHeight: outputHeight, outputWidth: outputWidth, kernelHeight: shape[2], kernelWidth: shape[3],
                          inputChannels: shape[1], outputChannels: shape[0])
        return (macs, outputHeight, outputWidth)
    }

    /// One sample through a linear layer: inputs·outputs.
    public static func linear(inputs: Int, outputs: Int) -> Int { inputs * outputs }

    /// One sample through `layer`: inputSize·outputSize.
    public static func linear(_ layer: Linear) -> Int { linear(inputs: layer.inputSize, outputs: layer.outputSize) }
}

/// The MACs of a multi-exit network, layer by layer, and what reaching each exit costs.
///
/// Exit k sits after backbone block k. Reaching exit k runs blocks 1...k and evaluates heads 1...k (every
/// earlier head was evaluated and declined), so e_k = Σ_{b ≤ k} block_b + Σ_{j ≤ k} head_j.
///
///     var costs = ExitCosts(exitCount: 2)
///     costs.add("conv1", macs: 100, block: 1); costs.add("head1", macs: 10, head: 1)
///     costs.add("conv2", macs: 200, block: 2); costs.add("head2", macs: 20, head: 2)
///     costs.exitMACs           // [110, 330]
///     costs.relativeExitCosts  // [1/3, 1]
public struct ExitCosts: Sendable, Equatable {
    /// One counted layer: its name, MACs per sample, and the block (backbone) or exit (head) it belongs to.
    public struct Layer: Sendable, Equatable {
        public enum Part: Sendable, Equatable { case block(Int), head(Int) }
        public let name: String
        public let macs: Int
        public let part: Part
    }

    public let exitCount: Int
    public private(set) var layers: [Layer] = []

    public init(exitCount: Int) {
        precondition(exitCount >= 1, "ExitCosts: exitCount must be at least 1, got \(exitCount)")
        self.exitCount = exitCount
    }

    /// Records a backbone layer of block `block` (1...exitCount).
    public mutating func add(_ name: String, macs: Int, block: Int) {
        precondition((1...exitCount).contains(block), "ExitCosts.add(\(name)): block \(block) is outside 1...\(exitCount)")
        layers.append(Layer(name: name, macs: macs, part: .block(block)))
    }

    /// Records a layer of the classifier head of exit `head` (1...exitCount).
    public mutating func add(_ name: String, macs: Int, head: Int) {
        precondition((1...exitCount).contains(head), "ExitCosts.add(\(name)): head \(head) is outside 1...\(exitCount)")
        layers.append(Layer(name: name, macs: macs, part: .head(head)))
    }

    /// Backbone MACs up to and including block k, for k = 1...K.
    public var cumulativeBackboneMACs: [Int] { cumulative { if case .block(let b) = $0 { return b } else { return nil } } }

    /// e_k: the MACs of reaching exit k (blocks 1...k and heads 1...k), for k = 1...K.
    public var exitMACs: [Int] {
        let heads = cumulative { if case .head(let h) = $0 { return h } else { return nil } }
        return zip(cumulativeBackboneMACs, heads).map { $0 + $1 }
    }

    /// c_k = e_k / e_K: each exit's cost as a fraction of the full pass.
    public var relativeExitCosts: [Double] {
        let macs = exitMACs
        return macs.map { Double($0) / Double(macs[exitCount - 1]) }
    }

    private func cumulative(_ index: (Layer.Part) -> Int?) -> [Int] {
        var perIndex = [Int](repeating: 0, count: exitCount)
        for layer in layers { if let i = index(layer.part) { perIndex[i - 1] += layer.macs } }
        var running = 0
        return perIndex.map { running += $0; return running }
    }
}
