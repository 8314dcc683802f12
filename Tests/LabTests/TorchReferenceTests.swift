import Foundation
import Testing
@testable import Lab

/// Lab against PyTorch: forward values and gradients of layers, losses and optimisers, compared with the float64
/// references that bench/peers/fixtures.py wrote into Fixtures/torch/ (llm.c-style: dumped once, committed).
///
/// Each case holds its float32-exact inputs, a random upstream gradient g and PyTorch's y and d<input> for
/// the loss sum(y · g). Lab runs in float32, so the tolerances below are float32 rounding, grown with the
/// length of the sums and with how much the op cancels: |lab − reference| ≤ absolute + relative · |reference|
/// element by element.
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

/// How far Lab's values lie from a reference: the largest absolute and relative (to |reference|) differences.
struct ReferenceAgreement {
    var maxAbsolute = 0.0, maxRelative = 0.0
}

/// Expects `lab` to have the reference's shape and every element within absolute + relative · |reference|.
@discardableResult
private func expectClose(_ lab: Tensor?, _ reference: TorchFixture.Values, absolute: Double, relative: Double,
                         _ what: String) -> ReferenceAgreement {
    guard let lab else {
        Issue.record("\(what): Lab computed nothing (no gradient?)")
        return ReferenceAgreement()
    }
    guard lab.shape == reference.shape else {
        Issue.record("\(what): Lab's shape \(lab.shape), PyTorch's \(reference.shape)")
        return ReferenceAgreement()
    }
    var agreement = ReferenceAgreement()
    var outside: [Int] = []
    for (i, (value, expected)) in zip(lab.data, reference.data).enumerated() {
        let difference = Swift.abs(Double(value) - expected)
        agreement.maxAbsolute = Swift.max(agreement.maxAbsolute, difference)
        if expected != 0 { agreement.maxRelative = Swift.max(agreement.maxRelative, difference / Swift.abs(expected)) }
        if !(difference <= absolute + relative * Swift.abs(expected)) { outside.append(i) }
    }
    #expect(outside.isEmpty, """
        \(what): \(outside.count) of \(lab.count) values differ from PyTorch by more than \(absolute) + \(relative)·|ref| \
        (max abs \(agreement.maxAbsolute), max rel \(agreement.maxRelative); first at flat index \(outside.first ?? -1): \
        Lab \(outside.first.map { lab.data[$0] } ?? 0), PyTorch \(outside.first.map { reference.data[$0] } ?? 0))
        """)
    return agreement
}

/// Compares `lab` with the case's reference `name` (see `expectClose`).
private func expectClose(_ lab: Tensor?, _ name: String, in fixture: TorchFixture.Case, absolute: Double,
                         relative: Double) throws {
    expectClose(lab, try fixture.reference(name), absolute: absolute, relative: relative, "\(fixture.name) \(name)")
}

/// Runs y = body(), backpropagates sum(y · g) with the case's upstream gradient g and compares y and the
/// gradient d<name> of every named input with PyTorch's.
private func expectForwardAndGradients(_ fixture: TorchFixture.Case, inputs: [String: Tensor], absolute: Double,
                                       relative: Double, _ body: () -> Tensor) throws {
    let y = body()
    (y * (try fixture.tensor("g"))).sum().backward()
    try expectClose(y, "y", in: fixture, absolute: absolute, relative: relative)
    for (name, input) in inputs.sorted(by: { $0.key < $1.key }) {
        try expectClose(input.grad, "d\(name)", in: fixture, absolute: absolute, relative: relative)
    }
}

@Suite struct TorchReferenceTests {
    /// conv2d (stride, padding, non-square kernels, with and without bias) and convTranspose2d (output padding):
    /// sums of at most C·kH·kW = 27 products forward and B·Ho·Wo = 60 backward, float32 rounding ~1e-6.
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
            try expectForwardAndGradients(fixture, inputs: inputs, absolute: 1e-5, relative: 1e-5) {
                fixture.op == "conv2d"
                    ? x.conv2d(weight, bias: bias, stride: stride, padding: padding)
                    : x.convTranspose2d(weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding)
            }
        }
    }

    /// BatchNorm in train mode (batch statistics, biased variance; running statistics updated with the unbiased
    /// one) and eval mode (running statistics), LayerNorm and RMSNorm with ε inside the square root; a first row
    /// scaled by 1e-3 makes ε matter. The x-gradient of a train-mode BatchNorm cancels three terms of size
    /// ~|g|·γ·invstd, so its absolute tolerance is that of values ~10.
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
                                              absolute: 1e-5, relative: 1e-5) { norm(x) }
                try expectClose(norm.runningMean, "runningMeanAfter", in: fixture, absolute: 1e-6, relative: 1e-6)
                try expectClose(norm.runningVar, "runningVarAfter", in: fixture, absolute: 1e-6, relative: 1e-6)
            case "layerNorm":
                let bias = fixture.optionalTensor("bias", requiresGrad: true)
                let norm = LayerNorm(features: weight.count, epsilon: epsilon, bias: bias != nil)
                norm.weight = weight
                norm.bias = bias
                var inputs = ["x": x, "weight": weight]
                inputs["bias"] = bias
                try expectForwardAndGradients(fixture, inputs: inputs, absolute: 1e-5, relative: 1e-5) { norm(x) }
            default:
                let norm = RMSNorm(features: weight.count, epsilon: epsilon)
                norm.weight = weight
                try expectForwardAndGradients(fixture, inputs: ["x": x, "weight": weight], absolute: 1e-5,
                                              relative: 1e-5) { norm(x) }
            }
        }
    }

    /// Scaled-dot-product attention with Lab's masks: causal (queries are the last Tq of the Tk positions),
    /// key padding, both, and fewer queries than keys. Sums over d = 4 and Tk ≤ 6 terms.
    @Test func attentionMatchesPyTorch() throws {
        for fixture in try TorchFixture.load("attention.json", ops: ["attention"]) {
            let query = try fixture.tensor("query", requiresGrad: true), key = try fixture.tensor("key", requiresGrad: true)
            let value = try fixture.tensor("value", requiresGrad: true)
            let causal = try fixture.integer("causal") != 0
            let padding = fixture.optionalTensor("keyPadding")
            try expectForwardAndGradients(fixture, inputs: ["query": query, "key": key, "value": value],
                                          absolute: 1e-5, relative: 1e-5) {
                scaledDotProductAttention(query: query, key: key, value: value, causal: causal, keyPadding: padding)
            }
        }
    }

    /// Cross-entropy, plain, with label smoothing ε (PyTorch's q = (1 − ε)·onehot + ε/C), and with ignored
    /// targets; the loss and its gradient.
    @Test func crossEntropyMatchesPyTorch() throws {
        for fixture in try TorchFixture.load("cross-entropy.json", ops: ["crossEntropy"]) {
            let logits = try fixture.tensor("logits", requiresGrad: true)
            let loss = crossEntropy(logits, targets: try fixture.integers("targets"),
                                    labelSmoothing: Float(try fixture.number("labelSmoothing")),
                                    ignoreIndex: try fixture.integer("ignoreIndex"))
            loss.backward()
            try expectClose(loss, "loss", in: fixture, absolute: 1e-6, relative: 1e-6)
            try expectClose(logits.grad, "dlogits", in: fixture, absolute: 1e-6, relative: 1e-6)
        }
    }

    /// Ten AdamW steps (decoupled decay p ← p − η·λ·p, then Adam) of Linear(6 → 16, no bias) → BatchNorm(16) →
    /// ReLU → Linear(16 → 3) on 32 samples, and ten Adam steps of Conv(1 → 4, 3×3, padding 1, no bias) →
    /// BatchNorm(4) → ReLU → MaxPool 2 → global average → Linear(4 → 2) on 16 images 8×8: the loss before each
    /// step, every parameter after each step and the final running statistics, as PyTorch computes them.
    /// (The layers before BatchNorm have no bias: its exact gradient is 0, and Adam would turn rounding noise
    /// into full-size steps.) Float32 rounding grows over the steps; Adam divides it by √v, so the parameters
    /// get the looser tolerance.
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
                for (name, parameter) in zip(parameterNames, parameters) {
                    try expectClose(parameter, "step\(step).\(name)", in: fixture, absolute: 1e-5, relative: 1e-4)
                }
            }
            try expectClose(Tensor(losses), "losses", in: fixture, absolute: 1e-5, relative: 1e-5)
            try expectClose(norm.runningMean, "norm.runningMean", in: fixture, absolute: 1e-5, relative: 1e-5)
            try expectClose(norm.runningVar, "norm.runningVar", in: fixture, absolute: 1e-5, relative: 1e-5)
        }
    }
}
