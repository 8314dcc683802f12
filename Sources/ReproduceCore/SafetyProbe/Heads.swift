import Lab

/// The detector heads of docs/papers/safety-probe.md §3, each fitted on standardised features (training mean and
/// std) and scoring a row so that a score > 0 means *harmful*.
public enum ProbeHead: String, CaseIterable, Sendable, Hashable {
    /// L2-regularised logistic regression, L = Σ CE + ½λ‖w‖², λ = 1, Newton to ‖∇L‖ ≤ 1e-5; score = the logit
    /// (> 0 ⇔ p > 0.5).
    case logistic
    /// 576-128-1 ReLU MLP, Adam (lr 1e-3, weight decay 1e-4), batch 64, 60 epochs, BCE-with-logits; score = the logit.
    case mlp
    /// Class means and a shared Ledoit-Wolf covariance + 1e-6·I (paper v2); score = d_M(x, μ_benign)² − d_M(x, μ_harmful)².
    /// The ridge (in standardised units, where the mean variance is ≈ 1) only matters for states that do not vary at
    /// all, such as the layer-0 state of the template's last token, which is the same embedding for every prompt.
    case mahalanobis

    public var title: String {
        switch self {
        case .logistic: return "logistic"
        case .mlp: return "MLP"
        case .mahalanobis: return "Mahalanobis"
        }
    }
}

/// Hyperparameters of the heads (docs/papers/safety-probe.md §3; "our choice" where the paper gives none).
public struct HeadSettings: Sendable, Equatable {
    public var l2 = 1.0
    public var tolerance = 1e-5
    public var mlpHidden = 128
    public var mlpLearningRate: Float = 1e-3
    public var mlpWeightDecay: Float = 1e-4
    public var mlpBatch = 64
    public var mlpEpochs = 60
    public var mahalanobisRidge = 1e-6

    public init() {}
}

/// A 576-128-1 ReLU network: logit = W₂ ReLU(W₁ x + b₁) + b₂.   x: [N, D] -> [N]
public final class MLPHead: Module {
    let hidden: Linear
    let output: Linear

    public init(inputs: Int, hidden width: Int, rng: inout RNG) {
        hidden = Linear(inputSize: inputs, outputSize: width, rng: &rng)
        output = Linear(inputSize: width, outputSize: 1, rng: &rng)
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        output(hidden(x).relu()).reshaped([x.shape[0]])
    }
}

/// A head fitted on standardised training features.
public struct FittedHead {
    public let standardizer: Standardizer
    let model: Model

    enum Model {
        case logistic(LogisticRegression)
        case mlp(MLPHead)
        case mahalanobis(MahalanobisClassifier)
    }

    /// Fits `head` on features [N, D] (raw; standardised here with their own mean and std) and labels
    /// (true = harmful). `rng` initialises and shuffles the MLP; the other heads are deterministic.
    public static func fit(_ head: ProbeHead, features: Matrix, labels: [Bool], settings: HeadSettings = HeadSettings(),
                           rng: inout RNG) throws -> FittedHead {
        let standardizer = Standardizer(fitting: features)
        let x = standardizer.transform(features)
        switch head {
        case .logistic:
            return FittedHead(standardizer: standardizer, model: .logistic(
                try LogisticRegression.fit(features: x, labels: labels, l2: settings.l2, tolerance: settings.tolerance)))
        case .mahalanobis:
            return FittedHead(standardizer: standardizer, model: .mahalanobis(
                try MahalanobisClassifier(features: x, labels: labels.map { $0 ? 1 : 0 }, classes: 2, ridge: settings.mahalanobisRidge)))
        case .mlp:
            return FittedHead(standardizer: standardizer, model: .mlp(try trainMLP(x, labels: labels, settings: settings, rng: &rng)))
        }
    }

    /// Harmful scores (> 0 = harmful) of raw feature rows [N, D] -> [N].
    public func scores(_ features: Matrix) -> [Double] {
        let x = standardizer.transform(features)
        switch model {
        case .logistic(let regression): return regression.logits(x)
        case .mahalanobis(let classifier): return classifier.binaryScores(x)
        case .mlp(let network):
            return noGrad { network(Tensor(shape: [x.rows, x.cols], data: x.data.map { Float($0) })).data.map(Double.init) }
        }
    }

    /// Adam on BCE-with-logits over shuffled mini-batches; throws if the loss becomes non-finite.
    static func trainMLP(_ x: Matrix, labels: [Bool], settings: HeadSettings, rng: inout RNG) throws -> MLPHead {
        let network = MLPHead(inputs: x.cols, hidden: settings.mlpHidden, rng: &rng)
        let optimizer = Adam(parameters: network.parameters, learningRate: settings.mlpLearningRate, weightDecay: settings.mlpWeightDecay)
        let rows = x.data.map { Float($0) }
        for epoch in 0..<settings.mlpEpochs {
            let order = rng.permutation(x.rows)
            for start in stride(from: 0, to: x.rows, by: settings.mlpBatch) {
                let batch = order[start..<min(start + settings.mlpBatch, x.rows)]
                var data: [Float] = []
                data.reserveCapacity(batch.count * x.cols)
                for i in batch { data += rows[(i * x.cols)..<((i + 1) * x.cols)] }
                let loss = bceWithLogits(network(Tensor(shape: [batch.count, x.cols], data: data)),
                                         targets: Tensor(shape: [batch.count], data: batch.map { labels[$0] ? 1 : 0 }))
                guard loss.item.isFinite else {
                    throw LabError.invalidArgument("MLP head: the loss became \(loss.item) in epoch \(epoch + 1)")
                }
                optimizer.zeroGrad()
                loss.backward()
                optimizer.step()
            }
        }
        return network
    }
}

/// Detection rates of one head on one evaluation (docs/papers/safety-probe.md §3).
public struct Detection: Sendable, Equatable {
    /// F1 and AUROC on dna-id-test ∪ benign-id-test.
    public var f1: Double, auroc: Double
    /// TPR on harmbench and tense; TNR on faq and alarming (= 1 − FPR).
    public var tprHarmbench: Double, tprTense: Double, tnrFAQ: Double, tnrAlarming: Double

    public init(f1: Double, auroc: Double, tprHarmbench: Double, tprTense: Double, tnrFAQ: Double, tnrAlarming: Double) {
        (self.f1, self.auroc, self.tprHarmbench, self.tprTense, self.tnrFAQ) = (f1, auroc, tprHarmbench, tprTense, tnrFAQ)
        self.tnrAlarming = tnrAlarming
    }

    /// Scores the in-distribution test split (scores and labels, true = harmful) and the four OOD sets
    /// (their scores; a score > 0 flags a prompt as harmful).
    public init(idScores: [Double], idLabels: [Bool], harmbench: [Double], tense: [Double], faq: [Double], alarming: [Double]) {
        let counts = BinaryCounts(predictions: idScores.map { $0 > 0 }, labels: idLabels)
        self.init(f1: counts.f1, auroc: Metrics.auroc(scores: idScores, labels: idLabels),
                  tprHarmbench: flagRate(harmbench), tprTense: flagRate(tense),
                  tnrFAQ: 1 - flagRate(faq), tnrAlarming: 1 - flagRate(alarming))
    }

    /// S = mean(F1_ID, TPR_harmbench, TPR_tense, TNR_faq, TNR_alarming).
    public var summary: Double { (f1 + tprHarmbench + tprTense + tnrFAQ + tnrAlarming) / 5 }
}

/// The fraction of scores > 0 (prompts flagged as harmful); NaN for no scores.
public func flagRate(_ scores: [Double]) -> Double {
    scores.isEmpty ? .nan : Double(scores.filter { $0 > 0 }.count) / Double(scores.count)
}
