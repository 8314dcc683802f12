import ExactOrthogonalInitCore
import Lab
import LabRun

/// One MLP-7 network at init (one method, density, seed), probed under every activation.
struct JacobianNetwork: Sendable {
    let method: InitMethod, density: Double, seed: Int
    /// Mean and standard deviation of all singular values of J over the probe images, per activation.
    let meanSingularValue: [Activation: Double]
    let stdSingularValue: [Activation: Double]
    /// max |s − 1| over all singular values, per activation.
    let maxDeviationFromOne: [Activation: Double]
    /// Mean tanh slope 1 − y² over the probe images and the units of the layers after the first sparse one
    /// (how saturated the network is at init; the Jacobian's singular values scale with it).
    let meanTanhSlope: Double
    /// max relative difference of the closed-form and autodiff Jacobians (when this network was checked).
    let autodiffDifference: Double?
    /// The hidden layers' initial weights, kept where E3 trains this network.
    let hiddenWeights: [MaskedWeight]?
    let audit: LayerAudit
}

/// The MLP-7 networks of E2 and E3 for one seed share their dense first and last layers (and for
/// Base-orth, Base-standard and AI, their masks).
func mlpNetworkRNG(seed: Int) -> RNG { RNG(seed: UInt64(seed)).derived("mlp-7") }

/// E2: the singular values of the input-output Jacobian of MLP-7 (σ_w = 1, σ_b = 0) at init, for every
/// method, density and seed, each network probed on the same `probe` images under the four activations.
/// Dense is one network per seed (density 1). The autodiff check runs on the first seed's Dense and
/// lowest-density EOI networks. `keepWeights(seedIndex, method, density)` says which networks' weights
/// E3 will train.
func jacobianStudy(_ plan: Plan, quiet: Bool, seeds: [Int], probe: Tensor,
                   keepWeights: @escaping @Sendable (Int, InitMethod, Double) -> Bool) throws -> [JacobianNetwork] {
    var grid: [(seedIndex: Int, method: InitMethod, density: Double)] = []
    for seedIndex in seeds.indices {
        grid.append((seedIndex, .dense, 1))
        for density in plan.jacobianDensities {
            for method in InitMethod.sparse { grid.append((seedIndex, method, density)) }
        }
    }
    // AI is by far the slowest init (T dense Gram steps per layer): start those first.
    grid.sort { ($0.method == .approximateIsometry ? 0 : 1) < ($1.method == .approximateIsometry ? 0 : 1) }
    let widths = plan.mlpWidths, aiSteps = plan.aiSteps, checkDensity = plan.jacobianDensities.min()!
    let examples = probe.indexSelect(axis: 0, Array(0..<plan.autodiffExamples))
    let jobs: [@Sendable () throws -> JacobianNetwork] = grid.map { seedIndex, method, density in
        {
            let seed = seeds[seedIndex]
            let hidden = try SparseMLP.hiddenLayers(widths: widths, method: method, density: density, scale: .unit,
                                                    aiSteps: aiSteps, rng: mlpNetworkRNG(seed: seed))
            var audit = LayerAudit()
            for layer in hidden { try audit.record(method, layer, density: density, gain: 1) }
            let model = try SparseMLP(widths: widths, activation: .linear, method: method, density: density,
                                      scale: .unit, aiSteps: aiSteps, rng: mlpNetworkRNG(seed: seed), hiddenWeights: hidden)
            let checked = seedIndex == 0 && (method == .dense || (method == .exactOrthogonal && density == checkDensity))
            var mean: [Activation: Double] = [:], std: [Activation: Double] = [:], deviation: [Activation: Double] = [:]
            var autodiff = 0.0, tanhSlope = 0.0
            let probeModel = try JacobianProbe(model)
            for activation in Activation.allCases {
                model.activation = activation
                let values = try probeModel.jacobians(probe).flatMap(jacobianSingularValues)
                let m = values.reduce(0, +) / Double(values.count)
                mean[activation] = m
                std[activation] = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count)).squareRoot()
                deviation[activation] = values.map { abs($0 - 1) }.max()!
                if activation == .tanh {
                    let outputs = model.hiddenActivations(probe).dropFirst().flatMap { $0.output.data }
                    tanhSlope = outputs.reduce(0.0) { $0 + 1 - Double($1) * Double($1) } / Double(outputs.count)
                }
                if checked {
                    let closedForm = probeModel.jacobians(examples)
                    for b in 0..<examples.shape[0] {
                        let row = Array(examples.data[(b * widths[0])..<((b + 1) * widths[0])])
                        autodiff = max(autodiff, maxRelativeDifference(closedForm[b], probeModel.autodiffJacobian(row)))
                    }
                }
            }
            return JacobianNetwork(method: method, density: density, seed: seed, meanSingularValue: mean,
                                   stdSingularValue: std, maxDeviationFromOne: deviation, meanTanhSlope: tanhSlope,
                                   autodiffDifference: checked ? autodiff : nil,
                                   hiddenWeights: keepWeights(seedIndex, method, density) ? hidden : nil, audit: audit)
        }
    }
    return try pooled("E2: networks", quiet: quiet, jobs)
}
