import ExpertSimCore
import Foundation
import Lab
import LabRun

// Training of the mixture of generative experts and of the baselines (docs/papers/expertsim.md §3.3). Every model here is a
// `MixtureOfGenerators`: ExpertSim routes with a learned router, B3 routes at random, B1 and B2 have one
// expert that takes every sample.

/// How samples reach experts.
enum Routing: String, Sendable {
    /// ExpertSim: router MLP, Gumbel-softmax sample in training, argmax at inference.
    case learned
    /// B3: a uniformly random expert per sample, in training and at inference.
    case random
    /// B1, B2: one generator takes every sample.
    case single
}

/// One model to train: its name in tables, routing, number of experts and widths, and seed.
struct ModelSpec: Sendable {
    let name: String
    let routing: Routing
    let experts: Int
    let width: ModelWidth
    let seed: Int

    static func expertSim(seed: Int) -> ModelSpec { ModelSpec(name: "ExpertSim", routing: .learned, experts: 3, width: .expert, seed: seed) }
    static func singleSmall(seed: Int) -> ModelSpec { ModelSpec(name: "B1 single-small", routing: .single, experts: 1, width: .expert, seed: seed) }
    static func singleWide(seed: Int) -> ModelSpec { ModelSpec(name: "B2 single-wide", routing: .single, experts: 1, width: .wide, seed: seed) }
    static func randomRouting(seed: Int) -> ModelSpec { ModelSpec(name: "B3 random routing", routing: .random, experts: 3, width: .expert, seed: seed) }
}

/// Optimisation settings and loss weights (docs/papers/expertsim.md §3.3; λ from the authors' default config unless noted).
struct TrainingConfig: Sendable {
    var epochs: Int
    var batchSize: Int
    var generatorRate: Float = 5e-4, discriminatorRate: Float = 1e-4, auxiliaryRate: Float = 1e-3, routerRate: Float = 1e-2
    var diversityWeight: Float = 0.1, intensityWeight: Float = 1e-3, auxiliaryWeight: Float = 1
    var ganWeight: Float = 0.1, utilisationWeight: Float = 0.1, intensityDifferenceWeight: Float = 0.1
    var differentiationWeight: Float = 0.1, balanceWeight: Float = 1e-7
    var gumbelTemperature: Float = 1
}

/// The training set as tensors, shared read-only by every training job.
struct TrainingTensors: @unchecked Sendable {
    let events: PreparedEvents
    /// log(1 + counts) [N, 1, 56, 30]; standardised conditions [N, 9].
    let images: Tensor, conditions: Tensor

    init(_ events: PreparedEvents) {
        self.events = events
        images = Tensor(shape: [events.count, 1, imageHeight, imageWidth], data: events.logImages)
        conditions = Tensor(shape: [events.count, conditionSize], data: events.conditions)
    }

    /// A mini-batch by event indices.
    func batch(_ indices: [Int]) -> TrainingBatch {
        TrainingBatch(
            images: images.indexSelect(axis: 0, indices),
            conditions: conditions.indexSelect(axis: 0, indices),
            photonSums: indices.map { events.photonSums[$0] },
            maximumPositions: Tensor(shape: [indices.count, 2], data: indices.flatMap {
                [events.maximumPositions[2 * $0], events.maximumPositions[2 * $0 + 1]]
            }),
            diversityWeights: indices.map { events.diversityWeights[$0] },
            intensities: indices.map { events.intensities[$0] })
    }
}

struct TrainingBatch {
    let images: Tensor, conditions: Tensor
    let photonSums: [Float]
    let maximumPositions: Tensor
    let diversityWeights: [Float], intensities: [Float]
    var count: Int { photonSums.count }

    /// The rows of the samples routed to one expert.
    func rows(_ indices: [Int]) -> TrainingBatch {
        TrainingBatch(images: images.indexSelect(axis: 0, indices), conditions: conditions.indexSelect(axis: 0, indices),
                      photonSums: indices.map { photonSums[$0] },
                      maximumPositions: maximumPositions.indexSelect(axis: 0, indices),
                      diversityWeights: indices.map { diversityWeights[$0] }, intensities: indices.map { intensities[$0] })
    }
}

/// A generator and its discriminator with their optimizers.
final class GANExpert {
    let generator: Generator, discriminator: Discriminator
    let generatorOptimizer: Adam, discriminatorOptimizer: Adam

    init(width: ModelWidth, config: TrainingConfig, rng: inout RNG) {
        generator = Generator(width: width, rng: &rng)
        discriminator = Discriminator(width: width, rng: &rng)
        generatorOptimizer = Adam(parameters: generator.parameters, learningRate: config.generatorRate, beta1: 0.5, beta2: 0.999)
        discriminatorOptimizer = Adam(parameters: discriminator.parameters, learningRate: config.discriminatorRate, beta1: 0.5, beta2: 0.999)
    }
}

/// The losses of one step, averaged over the experts that trained (for progress and NaN checks).
struct StepLosses {
    var discriminator = 0.0, generator = 0.0, router = 0.0, differentiation = 0.0
}

/// N conditional GAN experts, a shared auxiliary regressor and (for ExpertSim) a router.
final class MixtureOfGenerators {
    let spec: ModelSpec
    let config: TrainingConfig
    let experts: [GANExpert]
    let auxiliary: AuxiliaryRegressor
    let auxiliaryOptimizer: Adam
    let router: Router?
    let routerOptimizer: Adam?
    /// ALB's exponent cap: exp(80) is finite in Float32.
    static let balanceExponentCap: Float = 80
    /// The training stream: noise, Gumbel draws, random routes.
    var rng: RNG

    init(spec: ModelSpec, config: TrainingConfig) {
        self.spec = spec
        self.config = config
        var initRNG = RNG(seed: UInt64(spec.seed)).derived("init/\(spec.name)")
        experts = (0..<spec.experts).map { _ in GANExpert(width: spec.width, config: config, rng: &initRNG) }
        auxiliary = AuxiliaryRegressor(rng: &initRNG)
        auxiliaryOptimizer = Adam(parameters: auxiliary.parameters, learningRate: config.auxiliaryRate, beta1: 0.5, beta2: 0.999)
        if spec.routing == .learned {
            let r = Router(experts: spec.experts, rng: &initRNG)
            router = r
            routerOptimizer = Adam(parameters: r.parameters, learningRate: config.routerRate, beta1: 0.5, beta2: 0.999)
        } else {
            router = nil
            routerOptimizer = nil
        }
        rng = RNG(seed: UInt64(spec.seed)).derived("train/\(spec.name)")
    }

    /// Parameters of one generator (B2's count is about 3x an expert's).
    var generatorParameters: Int { experts[0].generator.parameterCount }
    var discriminatorParameters: Int { experts[0].discriminator.parameterCount }

    /// One step on a mini-batch: route, then per expert a discriminator and a generator update on its slice,
    /// then the auxiliary regressor on the real batch, then the router.
    func trainStep(_ batch: TrainingBatch) -> StepLosses {
        let b = batch.count
        // Routing. ExpertSim: soft gate g = softmax(R(c)), straight-through Gumbel one-hot ĝ, route = argmax ĝ.
        var routes = [Int](repeating: 0, count: b)
        var logits: Tensor?, hardGate: Tensor?
        switch spec.routing {
        case .learned:
            let l = router!(batch.conditions)
            let hot = l.gumbelSoftmax(temperature: config.gumbelTemperature, hard: true, rng: &rng)
            routes = hot.argmax(axis: -1)
            (logits, hardGate) = (l, hot)
        case .random:
            routes = (0..<b).map { _ in rng.int(below: spec.experts) }
        case .single:
            break
        }

        var losses = StepLosses()
        var perSampleLoss = [Float](repeating: 0, count: b)   // ℓ_G of each sample under its expert
        var features: [Tensor] = []                          // φ of each expert's generated images
        var trained = 0
        for (index, expert) in experts.enumerated() {
            let rows = routes.indices.filter { routes[$0] == index }
            // BatchNorm needs two samples; a slice of 0 or 1 sample skips this expert for this step.
            guard rows.count >= 2 else { continue }
            trained += 1
            let slice = rows.count == b ? batch : batch.rows(rows)
            let fraction = Float(rows.count) / Float(b)
            let step = trainExpert(expert, on: slice, fraction: fraction)
            losses.discriminator += step.discriminator
            losses.generator += step.generator
            for (k, row) in rows.enumerated() { perSampleLoss[row] = step.perSample[k] }
            features.append(step.features)
        }
        losses.discriminator /= Double(max(trained, 1))
        losses.generator /= Double(max(trained, 1))

        // The auxiliary regressor learns the brightest-pixel position on real images (our choice, docs/papers/expertsim.md §3.3).
        auxiliary.zeroGrad()
        mseLoss(auxiliary(batch.images).positions, batch.maximumPositions).backward()
        auxiliaryOptimizer.step()

        if let logits, let hardGate {
            losses.differentiation = differentiationLoss(features)
            losses.router = routerStep(logits: logits, hardGate: hardGate, routes: routes, perSampleLoss: perSampleLoss,
                                       intensities: batch.intensities, differentiation: losses.differentiation)
        }
        return losses
    }

    /// The discriminator step, then the generator step (adversarial + SDI diversity + intensity + auxiliary).
    private func trainExpert(_ expert: GANExpert, on x: TrainingBatch, fraction: Float)
        -> (discriminator: Double, generator: Double, perSample: [Float], features: Tensor)
    {
        let n = x.count
        let (generator, discriminator) = (expert.generator, expert.discriminator)
        let z1 = Tensor.randn([n, noiseSize], rng: &rng), z2 = Tensor.randn([n, noiseSize], rng: &rng)
        let fake = generator(noise: z1, conditions: x.conditions)

        // L_D = BCE(D(x, c), 1) + BCE(D(G(z1, c), c), 0)
        discriminator.zeroGrad()
        let realLogits = discriminator(x.images, conditions: x.conditions).logits
        let fakeLogits = discriminator(fake.detached(), conditions: x.conditions).logits
        let lossD = bceWithLogits(realLogits, targets: Tensor(1)) + bceWithLogits(fakeLogits, targets: Tensor(0))
        lossD.backward()
        expert.discriminatorOptimizer.learningRate = config.discriminatorRate * fraction
        expert.discriminatorOptimizer.step()

        // L_G = L_adv + L_div + L_int + L_aux on the updated discriminator.
        let second = generator(noise: z2, conditions: x.conditions)
        let (logits, latent1) = discriminator(fake, conditions: x.conditions)
        let latent2 = discriminator(second, conditions: x.conditions).latent
        let adversarial = bceWithLogits(logits, targets: Tensor(1))
        // SDI: d = mean|h(G(z1)) − h(G(z2))| / mean|z1 − z2|; L_div = mean(s)·mean(λ·s/(d + 1e-5)).
        let noiseDistance = zip(z1.data, z2.data).reduce(Float(0)) { $0 + abs($1.0 - $1.1) } / Float(z1.count)
        let d = (latent1 - latent2).abs().mean() / noiseDistance
        let meanWeight = x.diversityWeights.reduce(0, +) / Float(n)
        let diversity = (config.diversityWeight * meanWeight * meanWeight) / (d + 1e-5)
        // Intensity: λ_int·MAE(Σ_pixels (e^G − 1), photon_sum).
        let generatedSums = (fake.exp() - 1).sum(axes: [1, 2, 3])                     // [n]
        let sumErrors = (generatedSums - Tensor(x.photonSums)).abs()
        let intensity = config.intensityWeight * sumErrors.mean()
        // Auxiliary: λ_aux·MSE(A(G(z1, c)), (max_x, max_y)).
        let (positions, features) = auxiliary(fake)
        let positionErrors = (positions - x.maximumPositions).square()                 // [n, 2]
        let auxiliaryLoss = config.auxiliaryWeight * positionErrors.mean()
        let lossG = adversarial + diversity + intensity + auxiliaryLoss
        generator.zeroGrad()
        lossG.backward()
        expert.generatorOptimizer.learningRate = config.generatorRate * fraction
        expert.generatorOptimizer.step()

        // Per-sample generator loss, the router's signal: softplus(−logit) + λ_int·|sum error| + λ_aux·position error.
        let perSample = (0..<n).map { k -> Float in
            let logit = logits.data[k]
            let bce = max(-logit, 0) + Foundation.log1p(Foundation.exp(-abs(logit)))
            let position = (positionErrors.data[2 * k] + positionErrors.data[2 * k + 1]) / 2
            return bce + config.intensityWeight * sumErrors.data[k] + config.auxiliaryWeight * position
        }
        return (Double(lossD.item), Double(lossG.item), perSample, features.detached())
    }

    /// L_diff = mean over expert pairs of the mean row-max cosine similarity between the auxiliary features φ
    /// of images generated by expert i and by expert j (no gradient reaches the router, as in the code).
    private func differentiationLoss(_ features: [Tensor]) -> Double {
        var total = 0.0, pairs = 0
        for i in features.indices {
            for j in features.indices where j > i {
                let similarity = Tensor.cosineSimilarityMatrix(features[i], features[j])
                total += Double(similarity.max(axis: 1).mean().item)
                pairs += 1
            }
        }
        return pairs > 0 ? total / Double(pairs) : 0
    }

    /// L_R = λ_gan·L_gan + λ_util·(−H(ḡ)) + λ_ed·ED + λ_diff·L_diff + λ_alb·ALB (docs/papers/expertsim.md §3.3).
    private func routerStep(logits: Tensor, hardGate: Tensor, routes: [Int], perSampleLoss: [Float],
                            intensities: [Float], differentiation: Double) -> Double {
        let (b, k) = (logits.shape[0], logits.shape[1])
        let gate = logits.softmax(axis: -1)                                  // g [B, K]
        // L_gan = mean_b Σ_i ĝ_bi·stopgrad(ℓ_G,i(b)): only the routed expert has a loss for sample b.
        var lossMatrix = [Float](repeating: 0, count: b * k)
        for row in 0..<b { lossMatrix[row * k + routes[row]] = perSampleLoss[row] }
        let gan = (hardGate * Tensor(shape: [b, k], data: lossMatrix)).sum() / Float(b)
        // Utilisation: −H(ḡ) with ḡ the batch-mean gate.
        let meanGate = gate.mean(axis: 0)
        let entropy = -(meanGate * (meanGate + 1e-8).log()).sum()
        // ED = Σ_{b,b'} (g_b·g_b')·|I_b − I_b'| / B.
        var distances = [Float](repeating: 0, count: b * b)
        for i in 0..<b { for j in 0..<b { distances[i * b + j] = abs(intensities[i] - intensities[j]) } }
        let ed = (gate.matmul(gate, transposeB: true) * Tensor(shape: [b, b], data: distances)).sum() / Float(b)
        // ALB = mean_k exp(1/(Σ_b g_bk + 1e-6)); the exponent is capped at 80 so a starved expert stays finite in Float32.
        let balance = (1 / (gate.sum(axis: 0) + 1e-6)).clamp(max: Self.balanceExponentCap).exp().mean()
        let loss = config.ganWeight * gan - config.utilisationWeight * entropy + config.intensityDifferenceWeight * ed
            + config.balanceWeight * balance + config.differentiationWeight * Float(differentiation)
        router!.zeroGrad()
        loss.backward()
        routerOptimizer!.step()
        return Double(loss.item)
    }

    // MARK: - Inference

    func eval() {
        for e in experts { e.generator.eval(); e.discriminator.eval() }
        router?.eval()
    }

    func train() {
        for e in experts { e.generator.train(); e.discriminator.train() }
        router?.train()
    }

    /// The expert of each condition at inference: argmax of the router (ExpertSim), uniform (B3), 0 (B1, B2).
    /// conditions: [B, 9]
    func inferenceRoutes(_ conditions: Tensor, rng: inout RNG) -> [Int] {
        switch spec.routing {
        case .learned: return noGrad { router!(conditions).argmax(axis: -1) }
        case .random: return (0..<conditions.shape[0]).map { _ in rng.int(below: spec.experts) }
        case .single: return [Int](repeating: 0, count: conditions.shape[0])
        }
    }

    /// The full inference pipeline (eval mode): route, generate with each expert, map back by e^y − 1.
    /// conditions: [B, 9] → (photon counts [B, 1, 56, 30], routes)
    func generate(_ conditions: Tensor, rng: inout RNG) -> (images: Tensor, routes: [Int]) {
        noGrad {
            let b = conditions.shape[0]
            let routes = inferenceRoutes(conditions, rng: &rng)
            let noise = Tensor.randn([b, noiseSize], rng: &rng)
            if spec.experts == 1 || Set(routes).count == 1 {
                let out = experts[routes.first ?? 0].generator(noise: noise, conditions: conditions)
                return (out.exp() - 1, routes)
            }
            var merged: Tensor?
            for (index, expert) in experts.enumerated() {
                let rows = routes.indices.filter { routes[$0] == index }
                guard !rows.isEmpty else { continue }
                let out = expert.generator(noise: noise.indexSelect(axis: 0, rows),
                                           conditions: conditions.indexSelect(axis: 0, rows))
                let scattered = out.scatterAdd(rows: rows, into: b)
                merged = merged.map { $0 + scattered } ?? scattered
            }
            return (merged!.exp() - 1, routes)
        }
    }
}
