import Lab
import LabData

/// Training setup of docs/papers/early-exit-calibration.md §3: L = (1/K) Σ_k CE(z_k, y), Adam (lr 1e-3,
/// β 0.9/0.999, ε 1e-8, no weight decay), batch 64, constant learning rate, no early stopping.
public struct TrainingSetup: Sendable {
    public var epochs: Int
    public var batchSize = 64
    public var learningRate: Float = 1e-3

    public init(epochs: Int) { self.epochs = epochs }
}

/// Trains `model` on `data` (seeded batch order from `rng`); returns the mean loss of every epoch.
/// `onEpoch(epoch, meanLoss)` reports progress. Throws `LabError.nonFinite` when a loss is NaN or ±∞.
public func train(_ model: EarlyExitCNN, on data: ImageDataset, setup: TrainingSetup, rng: RNG,
                  onEpoch: (Int, Double) -> Void = { _, _ in }) throws -> [Double] {
    let optimizer = Adam(parameters: model.parameters, learningRate: setup.learningRate)
    var loader = DataLoader(data, batchSize: setup.batchSize, shuffle: true, rng: rng)
    model.train()
    var epochLosses: [Double] = [], step = 0
    for epoch in 0..<setup.epochs {
        var total = 0.0, batches = 0
        for (x, y) in loader.nextEpoch() {
            let exits = model.exits(x)
            let loss = exits.map { crossEntropy($0, targets: y) }.reduce(Tensor(0)) { $0 + $1 } * (1 / Float(exits.count))
            guard loss.item.isFinite else { throw LabError.nonFinite(what: "early-exit CNN training loss (= \(loss.item))", step: step) }
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
            total += Double(loss.item); batches += 1; step += 1
        }
        epochLosses.append(total / Double(batches))
        onEpoch(epoch, epochLosses[epoch])
    }
    return epochLosses
}

/// Every exit's logits of `model` on `data`, in batches of 500.
public func exitLogits(of model: EarlyExitCNN, on data: ImageDataset) -> ExitLogits {
    let batches = stride(from: 0, to: data.count, by: 500).lazy.map { data.batch(Array($0..<min($0 + 500, data.count))) }
    return ExitLogits(tensors: model.exitLogits(over: batches), labels: data.labels)
}
