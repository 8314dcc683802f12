import ExactOrthogonalInitCore
import Lab
import Testing

/// A small MLP-shaped network (12 → 8, three 8 x 8 sparse layers, 8 → 3) for fast checks.
private let smallWidths = [12, 8, 8, 8, 8, 3]

private func smallNetwork(_ method: InitMethod, density: Double = 0.25, activation: Activation = .tanh,
                          scale: InitScale = .tanhCritical, seed: UInt64 = 0) throws -> SparseMLP {
    try SparseMLP(widths: smallWidths, activation: activation, method: method, density: density, scale: scale,
                  aiSteps: 20, rng: RNG(seed: seed))
}

@Suite struct ExactOrthogonalInitTests {
    // MARK: Jacobian

    @Test(arguments: Activation.allCases)
    func closedFormJacobianEqualsAutodiff(activation: Activation) throws {
        for method in [InitMethod.dense, .exactOrthogonal, .baseStandard] {
            let model = try smallNetwork(method, activation: activation)
            var rng = RNG(seed: 9)
            let x = Tensor.randn([3, 12], std: 1.5, rng: &rng)
            let probe = try JacobianProbe(model)
            let closedForm = probe.jacobians(x)
            for b in 0..<3 {
                let autodiff = probe.autodiffJacobian(Array(x.data[(b * 12)..<((b + 1) * 12)]))
                #expect(closedForm[b].rows == 3 && closedForm[b].cols == 12)
                #expect(maxRelativeDifference(closedForm[b], autodiff) < 1e-5, "\(method) \(activation) example \(b)")
            }
        }
    }

    @Test func jacobianOfALinearOrthogonalNetworkIsAnIsometryAndMaskingBreaksIt() throws {
        let x = Tensor.ones([2, 12])
        for method in [InitMethod.dense, .exactOrthogonal, .saoStyle] {
            let model = try smallNetwork(method, activation: .linear, scale: .unit)
            for j in try JacobianProbe(model).jacobians(x) {
                // J = W_L···W_1 with orthonormal rows on the short side: J·Jᵀ = I, all singular values 1.
                #expect(try jacobianSingularValues(j).allSatisfy { abs($0 - 1) < 1e-5 }, "\(method)")
            }
        }
        // Base-orth at d = 1/4 shrinks every layer by about √d: three sparse layers give about 1/8.
        let base = try smallNetwork(.baseOrthogonal, activation: .linear, scale: .unit)
        let values = try jacobianSingularValues(try JacobianProbe(base).jacobians(x)[0])
        #expect(values.reduce(0, +) / Double(values.count) < 0.5)
    }

    @Test func singularValuesFromTheGramMatrixMatchLAPACK() throws {
        var rng = RNG(seed: 4)
        let a = Matrix.gaussian(rows: 4, cols: 9, rng: &rng)
        let viaGram = try jacobianSingularValues(a), direct = try singularValues(a)
        #expect(viaGram.count == 4)
        for (u, v) in zip(viaGram, direct) { #expect(abs(u - v) < 1e-10) }
        #expect(zip(viaGram, viaGram.dropFirst()).allSatisfy { $0 >= $1 })
    }

    // MARK: Networks and masks

    @Test func sparseMLPMasksOnlyTheHiddenLayersAndSharesDenseLayersAcrossMethods() throws {
        let eoi = try smallNetwork(.exactOrthogonal), base = try smallNetwork(.baseOrthogonal)
        let standard = try smallNetwork(.baseStandard), dense = try smallNetwork(.dense)
        #expect(eoi.layers.count == 5 && eoi.maskedParameters.count == 3 && dense.maskedParameters.isEmpty)
        // First and last layers: the same dense orthogonal weights for every method of one seed.
        for i in [0, 4] { #expect(eoi.layers[i].weight.data == dense.layers[i].weight.data) }
        // Base-orth and Base-standard draw the same uniform mask.
        for (a, b) in zip(base.maskedParameters, standard.maskedParameters) { #expect(a.mask.data == b.mask.data) }
        // EOI's mask is its non-zero pattern; Base's mask holds exactly round(d·64) = 16 entries.
        for p in eoi.maskedParameters { #expect(zip(p.weight.data, p.mask.data).allSatisfy { ($0 != 0) == ($1 == 1) }) }
        for p in base.maskedParameters { #expect(p.mask.data.reduce(0, +) == 16) }
        // Masks are not parameters: 5 weights + 5 biases.
        #expect(eoi.parameters.count == 10)
    }

    @Test func givenHiddenWeightsAreCopiedNotShared() throws {
        let hidden = try SparseMLP.hiddenLayers(widths: smallWidths, method: .exactOrthogonal, density: 0.25,
                                                scale: .unit, aiSteps: 0, rng: RNG(seed: 2))
        let before = hidden[0].weight.data
        let model = try SparseMLP(widths: smallWidths, activation: .tanh, method: .exactOrthogonal, density: 0.25,
                                  scale: .unit, aiSteps: 0, rng: RNG(seed: 2), hiddenWeights: hidden)
        model.layers[1].weight.data[0] += 1
        #expect(hidden[0].weight.data == before)
        #expect(throws: LabError.self) {
            try SparseMLP(widths: [12, 8, 3], activation: .tanh, method: .exactOrthogonal, density: 0.25,
                          scale: .unit, aiSteps: 0, rng: RNG(seed: 2), hiddenWeights: hidden)
        }
    }

    @Test func staticMaskTrainingKeepsWeightsOutsideTheMaskAtZeroAndLearns() throws {
        // Two separable classes in 12 dimensions; an MLP with sparse hidden layers must fit them.
        var rng = RNG(seed: 5)
        let n = 256
        var labels: [Int] = [], data: [Float] = []
        for i in 0..<n {
            let y = i % 3
            labels.append(y)
            for k in 0..<12 { data.append(Float(rng.normal()) * 0.5 + (k % 3 == y ? 1.5 : 0)) }
        }
        let set = LabeledImages(images: Tensor(shape: [n, 12], data: data), labels: labels)
        for method in [InitMethod.baseOrthogonal, .exactOrthogonal] {
            let model = try smallNetwork(method, density: 0.25)
            let outcome = train(model, on: set, evaluateOn: set,
                                setup: TrainingSetup(epochs: 8, batchSize: 32, learningRate: 0.05), rng: RNG(seed: 1))
            #expect(outcome.maskLeak == 0 && maskLeak(model) == 0, "\(method)")
            #expect(outcome.divergedAtStep == nil && outcome.stepLosses.count == 8 * 8)
            #expect(outcome.stepLosses.suffix(8).reduce(0, +) < outcome.stepLosses.prefix(8).reduce(0, +), "\(method)")
            if method == .exactOrthogonal { #expect(outcome.accuracy > 0.9) }
        }
    }

    @Test func sparseCNNMasksTheFourHiddenConvolutionsAndKeepsThemStatic() throws {
        let model = try SparseCNN(channels: 8, method: .exactOrthogonal, density: 0.25, scale: .tanhCritical,
                                  aiSteps: 0, rng: RNG(seed: 3))
        #expect(model.maskedParameters.count == 4 && model.kernels.count == 5)
        #expect(model.geometry.map(\.stride) == [1, 2, 1, 2, 1])
        // The first conv is delta-orthogonal: only its centre taps are non-zero.
        let first = model.kernels[0]
        #expect((0..<first.count).allSatisfy { first.data[$0] == 0 || $0 % 9 == 4 })
        for p in model.maskedParameters {
            #expect(try checkDeltaKernel(MaskedWeight(weight: p.weight, mask: p.mask), density: 0.25, gain: 1.0247).centreError < 1e-5)
        }
        var rng = RNG(seed: 1)
        let set = LabeledImages(images: Tensor.randn([16, 784], rng: &rng), labels: (0..<16).map { $0 % 10 })
        #expect(model(set.images).shape == [16, 10])
        let outcome = train(model, on: set, evaluateOn: set, setup: TrainingSetup(epochs: 2, batchSize: 8, learningRate: 0.1),
                            rng: RNG(seed: 2))
        #expect(outcome.maskLeak == 0 && outcome.stepLosses.count == 4)
        // Training moved the trainable zeros of the "unfreeze zeros" mask off 0.
        let movedOffCentre = model.maskedParameters.contains { p in
            (0..<p.weight.count).contains { $0 % 9 != 4 && p.mask.data[$0] == 1 && p.weight.data[$0] != 0 }
        }
        #expect(movedOffCentre)
    }

    @Test func accuracyCountsArgMaxHits() {
        let identity = Linear(weight: Tensor.eye(3), bias: nil)
        let set = LabeledImages(images: Tensor(rows: [[1, 0, 0], [0, 2, 1], [0, 0, 3], [5, 0, 1]]), labels: [0, 1, 0, 2])
        #expect(accuracy(of: identity, on: set) == 0.5)
    }

    // MARK: Learning-rate rule

    @Test func learningRateRulePicksTheBestFiniteValidationAccuracyAndTheSmallerRateOnTies() throws {
        let rates = [0.003, 0.01, 0.03, 0.1]
        #expect(try chooseLearningRate(rates, validationAccuracies: [0.7, 0.8, 0.75, 0.6]) == 0.01)
        #expect(try chooseLearningRate(rates, validationAccuracies: [0.7, 0.8, 0.8, .nan]) == 0.01)
        #expect(try chooseLearningRate(rates, validationAccuracies: [.nan, 0.1, .nan, .nan]) == 0.01)
        #expect(try chooseLearningRate([0.1, 0.01], validationAccuracies: [0.5, 0.5]) == 0.01)
        #expect(throws: LabError.self) { try chooseLearningRate(rates, validationAccuracies: [.nan, .nan, .nan, .nan]) }
        #expect(throws: LabError.self) { try chooseLearningRate(rates, validationAccuracies: [0.5]) }
    }

    // MARK: FLOPs

    @Test func flopCountsFollowSixTimesMultiplyAddsPerExample() {
        #expect(mlpTrainingFLOPsPerEpoch(widths: [784, 128, 10], samples: 2) == 6 * 2 * Double(784 * 128 + 128 * 10))
        let first = ConvGeometry(inputChannels: 1, outputChannels: 32, kernel: 3, stride: 1, padding: 1)
        let strided = ConvGeometry(inputChannels: 32, outputChannels: 32, kernel: 3, stride: 2, padding: 1)
        #expect(first.outputSide(28) == 28 && strided.outputSide(28) == 14 && strided.outputSide(14) == 7)
        #expect(convTrainingFLOPsPerEpoch(layers: [first, strided], inputSide: 28, samples: 3)
                == 6 * 3 * Double(28 * 28 * 32 * 9 + 14 * 14 * 32 * 32 * 9))
    }

    // MARK: Generator checks

    @Test func generatorChecksCatchWhatTheyMeasure() throws {
        #expect(decreaseCount([0.1, 0.2, 0.2, 0.3]) == 0)
        #expect(decreaseCount([0.1, 0.3, 0.2, 0.4, 0.35]) == 2)
        var rng = RNG(seed: 8)
        let sao = try SparseInit.saoStyle([16, 16], density: 0.25, rng: &rng)
        #expect(degreeErrors(sao.weight, degree: 4) == 0)
        #expect(degreeErrors(sao.weight, degree: 2) == 32)
        let kernel = try SparseInit.exactOrthogonal([8, 8, 3, 3], density: 0.25, gain: 1.0247, rng: &rng)
        let check = try checkDeltaKernel(kernel, density: 0.25, gain: 1.0247)
        #expect(check.centreError < 1e-5 && check.offCentreMax == 0 && check.maskDensityErrorInEntries <= 1)
        kernel.weight.data[0] = 0.5   // (0, 0, 0, 0) is off-centre
        #expect(try checkDeltaKernel(kernel, density: 0.25, gain: 1.0247).offCentreMax == 0.5)
        #expect(try checkDeltaKernel(kernel, density: 0.5, gain: 1.0247).maskDensityErrorInEntries > 100)
    }
}
