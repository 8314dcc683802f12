import Foundation
import Testing
@testable import Lab

/// Lab against PyTorch: forward values and gradients of layers, losses and optimisers, compared with the float64
/// references that bench/peers/fixtures.py wrote into Fixtures/torch/ (llm.c-style: dumped once, committed).
///
/// Each case holds its float32-exact inputs, a random upstream gradient g and PyTorch's y and d<input> for
/// the loss sum(y · g). Lab runs in float32, so the tolerances (`Tolerance`) are float32 rounding with a margin.
private let torchFixtureFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/torch")

/// One JSON file of bench/peers/fixtures.py.
struct TorchFixture: Decodable {
    struct Values: Decodable { let shape: [Int]; let data: [Double] }
    struct Case: Decodable {
        let op: String, name: String
        let config: [String: Double]
        let tensors: [String: Values]
    }
    let cases: [Case]

    /// Reads Fixtures/torch/`file` and checks that it holds cases of every op in `ops` (and no other).
    static func load(_ file: String, ops: Set<String>) throws -> [Case] {
        let data = try Data(contentsOf: torchFixtureFolder.appendingPathComponent(file))
        let cases = try JSONDecoder().decode(TorchFixture.self, from: data).cases
        #expect(Set(cases.map(\.op)) == ops, "\(file): ops \(Set(cases.map(\.op)))")
        return cases
    }
}

private struct MissingFixtureEntry: Error, CustomStringConvertible {
    let what: String, caseName: String
    var description: String { "torch fixture case \(caseName) has no \(what); rerun bench/peers/fixtures.py" }
}

extension TorchFixture.Case {
    /// The tensor `name` as Float (inputs are float32-exact in the fixture), or nil if the case has none.
    func optionalTensor(_ name: String, requiresGrad: Bool = false) -> Tensor? {
        tensors[name].map { Tensor(shape: $0.shape, data: $0.data.map { Float($0) }, requiresGrad: requiresGrad) }
    }

    func tensor(_ name: String, requiresGrad: Bool = false) throws -> Tensor {
        guard let t = optionalTensor(name, requiresGrad: requiresGrad) else {
            throw MissingFixtureEntry(what: "tensor \(name)", caseName: self.name)
        }
        return t
    }

    func reference(_ name: String) throws -> TorchFixture.Values {
        guard let values = tensors[name] else { throw MissingFixtureEntry(what: "tensor \(name)", caseName: self.name) }
        return values
    }

    func number(_ key: String) throws -> Double {
        guard let value = config[key] else { throw MissingFixtureEntry(what: "config \(key)", caseName: name) }
        return value
    }

    func integer(_ key: String) throws -> Int { Int(try number(key)) }

    /// Integer-valued tensor (targets) as [Int].
    func integers(_ name: String) throws -> [Int] { try reference(name).data.map { Int($0) } }
}

/// Lab's values agree with a float64 reference when |lab − reference| ≤ absolute + relative · |reference| for
/// every element. Lab's largest differences use at most 1/6 of these bounds (float32 rounding, ~1e-7 relative);
/// a wrong convention (ε elsewhere, another momentum, no weight decay) is off by 1e-5 to 1e-1 relative.
struct Tolerance {
    let absolute: Double, relative: Double

    /// One op (convolution, normalisation, attention): sums of at most 60 float32 products.
    static let singleOp = Tolerance(absolute: 2e-6, relative: 1e-5)
    /// A loss value and its gradient, and BatchNorm's running statistics: a few float32 roundings.
    static let fewRoundings = Tolerance(absolute: 2e-7, relative: 1e-6)
    /// Ten optimiser steps: rounding carried through ten forwards, backwards and updates.
    static let tenSteps = Tolerance(absolute: 3e-6, relative: 1e-5)

    func admits(_ value: Float, _ reference: Double) -> Bool {
        Swift.abs(Double(value) - reference) <= absolute + relative * Swift.abs(reference)
    }
}

/// Expects `lab` to have the reference's shape and every element within `tolerance` of it; says whether it has.
@discardableResult
private func expectClose(_ lab: Tensor?, _ reference: TorchFixture.Values, _ tolerance: Tolerance,
                         _ what: String) -> Bool {
    guard let lab else {
        Issue.record("\(what): Lab computed nothing (no gradient?)")
        return false
    }
    guard lab.shape == reference.shape else {
        Issue.record("\(what): Lab's shape \(lab.shape), PyTorch's \(reference.shape)")
        return false
    }
    let outside = lab.data.indices.filter { !tolerance.admits(lab.data[$0], reference.data[$0]) }
    guard let first = outside.first else { return true }
    let largest = zip(lab.data, reference.data).map { (value: Float, expected: Double) in
        Swift.abs(Double(value) - expected)
    }.max() ?? 0
    Issue.record("""
        \(what): \(outside.count) of \(lab.count) values differ from PyTorch by more than \(tolerance.absolute) + \
        \(tolerance.relative)·|reference| (largest difference \(largest); first at flat index \(first): \
        Lab \(lab.data[first]), PyTorch \(reference.data[first]))
        """)
    return false
}

/// Compares `lab` with the case's reference `name` (see `expectClose`).
@discardableResult
private func expectClose(_ lab: Tensor?, _ name: String, in fixture: TorchFixture.Case,
                         _ tolerance: Tolerance) throws -> Bool {
    expectClose(lab, try fixture.reference(name), tolerance, "\(fixture.name) \(name)")
}

/// Runs y = body(), backpropagates sum(y · g) with the case's upstream gradient g and compares y and the
/// gradient d<name> of every named input with PyTorch's.
private func expectForwardAndGradients(_ fixture: TorchFixture.Case, inputs: [String: Tensor], _ tolerance: Tolerance,
                                       _ body: () -> Tensor) throws {
    let y = body()
    (y * (try fixture.tensor("g"))).sum().backward()
    try expectClose(y, "y", in: fixture, tolerance)
    for (name, input) in inputs.sorted(by: { $0.key < $1.key }) {
        try expectClose(input.grad, "d\(name)", in: fixture, tolerance)
    }
}

@Suite struct TorchReferenceTests {
    /// conv2d (stride, padding, non-square kernels, with and without bias) and convTranspose2d (output padding).
    /// Largest difference seen: 5e-7 (9% of the bound).
    @Test func convolutionsMatchPyTorch() throws {
        for fixture in try TorchFixture.load("conv.json", ops: ["conv2d", "convTranspose2d"]) {
            let x = try fixture.tensor("x", requiresGrad: true), weight = try fixture.tensor("weight", requiresGrad: true)
            let bias = fixture.optionalTensor("bias", requiresGrad: true)
            let stride = (try fixture.integer("strideH"), try fixture.integer("strideW"))
            let padding = (try fixture.integer("paddingH"), try fixture.integer("paddingW"))
            var inputs = ["x": x, "weight": weight]
            inputs["bias"] = bias
            let outputPadding = fixture.op == "convTranspose2d"
                ? (try fixture.integer("outputPaddingH"), try fixture.integer("outputPaddingW")) : (0, 0)
            try expectForwardAndGradients(fixture, inputs: inputs, .singleOp) {
                fixture.op == "conv2d"
                    ? x.conv2d(weight, bias: bias, stride: stride, padding: padding)
                    : x.convTranspose2d(weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding)
            }
        }
    }

    /// BatchNorm in train mode (batch statistics, biased variance; running statistics updated with the unbiased
    /// one) and eval mode (running statistics), LayerNorm and RMSNorm with ε inside the square root; a first row
    /// scaled by 1e-3 makes ε matter (its x-gradients are ~1e3). Largest differences seen: BatchNorm 9e-7,
    /// running statistics 6e-8, LayerNorm and RMSNorm 2.4e-5 on gradients of ~1e3 (at most 5% of the bounds).
    @Test func normalizationsMatchPyTorch() throws {
        for fixture in try TorchFixture.load("normalization.json", ops: ["batchNorm", "layerNorm", "rmsNorm"]) {
            let x = try fixture.tensor("x", requiresGrad: true)
            let weight = try fixture.tensor("weight", requiresGrad: true)
            let epsilon = Float(try fixture.number("epsilon"))
            switch fixture.op {
            case "batchNorm":
                let norm = BatchNorm(features: weight.count, momentum: Float(try fixture.number("momentum")),
                                     epsilon: epsilon)
                norm.weight = weight
                norm.bias = try fixture.tensor("bias", requiresGrad: true)
                norm.runningMean = try fixture.tensor("runningMean")
                norm.runningVar = try fixture.tensor("runningVar")
                if try fixture.integer("training") == 0 { norm.eval() }
                try expectForwardAndGradients(fixture, inputs: ["x": x, "weight": weight, "bias": norm.bias],
                                              .singleOp) { norm(x) }
                try expectClose(norm.runningMean, "runningMeanAfter", in: fixture, .fewRoundings)
                try expectClose(norm.runningVar, "runningVarAfter", in: fixture, .fewRoundings)
            case "layerNorm":
                let bias = fixture.optionalTensor("bias", requiresGrad: true)
                let norm = LayerNorm(features: weight.count, epsilon: epsilon, bias: bias != nil)
                norm.weight = weight
                norm.bias = bias
                var inputs = ["x": x, "weight": weight]
                inputs["bias"] = bias
                try expectForwardAndGradients(fixture, inputs: inputs, .singleOp) { norm(x) }
            default:
                let norm = RMSNorm(features: weight.count, epsilon: epsilon)
                norm.weight = weight
                try expectForwardAndGradients(fixture, inputs: ["x": x, "weight": weight], .singleOp) { norm(x) }
            }
        }
    }

    /// Scaled-dot-product attention with Lab's masks: causal (queries are the last Tq of the Tk positions),
    /// key padding, both, and fewer queries than keys. Largest difference seen: 2e-7 (3% of the bound).
    @Test func attentionMatchesPyTorch() throws {
        for fixture in try TorchFixture.load("attention.json", ops: ["attention"]) {
            let query = try fixture.tensor("query", requiresGrad: true), key = try fixture.tensor("key", requiresGrad: true)
            let value = try fixture.tensor("value", requiresGrad: true)
            let causal = try fixture.integer("causal") != 0
            let padding = fixture.optionalTensor("keyPadding")
            try expectForwardAndGradients(fixture, inputs: ["query": query, "key": key, "value": value], .singleOp) {
                scaledDotProductAttention(query: query, key: key, value: value, causal: causal, keyPadding: padding)
            }
        }
    }

    /// Cross-entropy, plain, with label smoothing ε (PyTorch's q = (1 − ε)·onehot + ε/C), and with ignored
    /// targets; the loss and its gradient. Largest difference seen: 1.3e-7 (8% of the bound).
    @Test func crossEntropyMatchesPyTorch() throws {
        for fixture in try TorchFixture.load("cross-entropy.json", ops: ["crossEntropy"]) {
            let logits = try fixture.tensor("logits", requiresGrad: true)
            let loss = crossEntropy(logits, targets: try fixture.integers("targets"),
                                    labelSmoothing: Float(try fixture.number("labelSmoothing")),
                                    ignoreIndex: try fixture.integer("ignoreIndex"))
            loss.backward()
            try expectClose(loss, "loss", in: fixture, .fewRoundings)
            try expectClose(logits.grad, "dlogits", in: fixture, .fewRoundings)
        }
    }

    /// Ten AdamW steps (decoupled decay p ← p − η·λ·p, then Adam) of Linear(6 → 16, no bias) → BatchNorm(16) →
    /// ReLU → Linear(16 → 3) on 32 samples, and ten Adam steps of Conv(1 → 4, 3×3, padding 1, no bias) →
    /// BatchNorm(4) → ReLU → MaxPool 2 → global average → Linear(4 → 2) on 16 images 8×8: the loss before each
    /// step, every parameter after each step and the final running statistics, as PyTorch computes them.
    /// (The layers before BatchNorm have no bias: its exact gradient is 0, and Adam would turn rounding noise
    /// into full-size steps.) Largest differences seen: parameters 7e-7, losses 3e-7 (16% of the bound).
    @Test func tenOptimizerStepsMatchPyTorch() throws {
        for fixture in try TorchFixture.load("training.json", ops: ["adamw-mlp", "adam-cnn"]) {
            let parameterNames = fixture.op == "adamw-mlp"
                ? ["fc1.weight", "norm.weight", "norm.bias", "fc2.weight", "fc2.bias"]
                : ["conv.weight", "norm.weight", "norm.bias", "fc.weight", "fc.bias"]
            let parameters = try parameterNames.map { try fixture.tensor($0, requiresGrad: true) }
            let norm = BatchNorm(features: parameters[1].count)
            norm.weight = parameters[1]
            norm.bias = parameters[2]
            let head = Linear(weight: parameters[3], bias: parameters[4])
            let model: (Tensor) -> Tensor
            let optimizer: Optimizer
            let (learningRate, beta1, beta2, epsilon) = (Float(try fixture.number("learningRate")),
                                                         Float(try fixture.number("beta1")),
                                                         Float(try fixture.number("beta2")),
                                                         Float(try fixture.number("epsilon")))
            if fixture.op == "adamw-mlp" {
                let input = Linear(weight: parameters[0])
                model = { head(norm(input($0)).relu()) }
                optimizer = AdamW(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2,
                                  epsilon: epsilon, weightDecay: Float(try fixture.number("weightDecay")))
            } else {
                let conv = Conv2d(weight: parameters[0], stride: 1, padding: 1)
                let pool = MaxPool2d(kernel: 2), average = GlobalAvgPool()
                model = { head(average(pool(norm(conv($0)).relu()))) }
                optimizer = Adam(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2,
                                 epsilon: epsilon)
            }
            let x = try fixture.tensor("x"), targets = try fixture.integers("targets")
            var losses: [Float] = []
            for step in 1...(try fixture.integer("steps")) {
                optimizer.zeroGrad()
                let loss = crossEntropy(model(x), targets: targets)
                losses.append(loss.item)
                loss.backward()
                optimizer.step()
                let agree = try zip(parameterNames, parameters).map { name, parameter in
                    try expectClose(parameter, "step\(step).\(name)", in: fixture, .tenSteps)
                }
                if agree.contains(false) { break }   // the first step that differs is the one to read
            }
            try expectClose(Tensor(losses), "losses", in: fixture, .tenSteps)
            try expectClose(norm.runningMean, "norm.runningMean", in: fixture, .tenSteps)
            try expectClose(norm.runningVar, "norm.runningVar", in: fixture, .tenSteps)
        }
    }
}
