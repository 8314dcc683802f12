import Lab

/// Standardised images, one row each, and their labels. images: [N, D]
public struct LabeledImages: Sendable {
    public let images: Tensor
    public let labels: [Int]

    public init(images: Tensor, labels: [Int]) {
        precondition(images.rank == 2 && images.shape[0] == labels.count,
                     "LabeledImages: images \(images.shape) for \(labels.count) labels")
        self.images = images
        self.labels = labels
    }

    public var count: Int { labels.count }

    /// The rows `indices`, in that order. → ([k, D], k labels)
    public func batch(_ indices: [Int]) -> (x: Tensor, y: [Int]) {
        (images.indexSelect(axis: 0, indices), indices.map { labels[$0] })
    }
}

/// Static sparse training as in docs/papers/exact-orthogonal-init.md §3 "Training": SGD with momentum, cross-entropy, constant learning
/// rate, no weight decay; every masked weight's gradient and momentum are multiplied by its mask and the
/// weight is re-zeroed outside it after each step (`Optimizer.setMask`).
public struct TrainingSetup: Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Double
    public var momentum: Double

    public init(epochs: Int, batchSize: Int, learningRate: Double, momentum: Double = 0.9) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.momentum = momentum
    }
}

/// What one training run gives.
public struct TrainingOutcome: Sendable {
    /// The mini-batch loss of every step, in order.
    public var stepLosses: [Double]
    /// Accuracy on the evaluation set after the last epoch (chance if training diverged).
    public var accuracy: Double
    /// max |w| over the masked weights at positions outside their masks, after training (0 when static).
    public var maskLeak: Double
    /// The step at which the loss became NaN or infinite (training stopped there), or nil.
    public var divergedAtStep: Int?
}

/// Trains `model` on `data` for `setup.epochs` epochs (a fresh shuffle per epoch from `rng`, the last
/// partial batch kept), then measures accuracy on `evaluation`. A non-finite loss stops training and is
/// reported in `divergedAtStep`; the caller decides whether that is a finding or a broken run.
public func train(_ model: some MaskedModel, on data: LabeledImages, evaluateOn evaluation: LabeledImages,
                  setup: TrainingSetup, rng: RNG) -> TrainingOutcome {
    var rng = rng
    let optimizer = SGD(parameters: model.parameters, learningRate: Float(setup.learningRate),
                        momentum: Float(setup.momentum))
    for masked in model.maskedParameters { optimizer.setMask(masked.mask, for: masked.weight) }
    model.train()
    var losses: [Double] = []
    var diverged: Int?
    training: for _ in 0..<setup.epochs {
        let order = rng.permutation(data.count)
        for start in stride(from: 0, to: data.count, by: setup.batchSize) {
            let (x, y) = data.batch(Array(order[start..<min(start + setup.batchSize, data.count)]))
            let loss = crossEntropy(model(x), targets: y)
            guard loss.item.isFinite else {
                diverged = losses.count
                break training
            }
            losses.append(Double(loss.item))
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
        }
    }
    model.eval()
    return TrainingOutcome(stepLosses: losses, accuracy: accuracy(of: model, on: evaluation),
                           maskLeak: maskLeak(model), divergedAtStep: diverged)
}

/// Fraction of `data` whose arg-max logit is the label, in batches of 1,000 without the tape.
public func accuracy(of model: some Layer, on data: LabeledImages) -> Double {
    guard data.count > 0 else { return .nan }
    var correct = 0
    noGrad {
        for start in stride(from: 0, to: data.count, by: 1000) {
            let (x, y) = data.batch(Array(start..<min(start + 1000, data.count)))
            for (prediction, label) in zip(model(x).argmax(axis: -1), y) where prediction == label { correct += 1 }
        }
    }
    return Double(correct) / Double(data.count)
}

/// max |w| over every masked weight's entries outside its mask.
public func maskLeak(_ model: some MaskedModel) -> Double {
    var leak = 0.0
    for masked in model.maskedParameters {
        for (w, m) in zip(masked.weight.data, masked.mask.data) where m == 0 { leak = max(leak, Double(abs(w))) }
    }
    return leak
}

/// The learning-rate rule of docs/papers/exact-orthogonal-init.md §3: the candidate with the highest validation accuracy of the Dense
/// model; a run that diverged (NaN accuracy) never wins; ties go to the smaller learning rate.
public func chooseLearningRate(_ candidates: [Double], validationAccuracies: [Double]) throws -> Double {
    guard candidates.count == validationAccuracies.count, !candidates.isEmpty else {
        throw LabError.invalidArgument("chooseLearningRate: \(candidates.count) candidates for \(validationAccuracies.count) accuracies")
    }
    var best: (rate: Double, accuracy: Double)?
    for (rate, score) in zip(candidates, validationAccuracies) where score.isFinite {
        if let b = best, score < b.accuracy || (score == b.accuracy && rate > b.rate) { continue }
        best = (rate, score)
    }
    guard let chosen = best else {
        throw LabError.nonFinite(what: "every calibration run of learning rates \(candidates)", step: 0)
    }
    return chosen.rate
}
