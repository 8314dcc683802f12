import Foundation
import Lab
import LabSignal

/// The reconstruction metrics of one clip (docs/papers/hypersound.md §3 "Metrics").
public struct ClipMetrics: Sendable {
    public var meanSquaredError: Double, meanAbsoluteError: Double, signalToNoise: Double
    /// nil where SI-SNR is undefined (a zero estimate).
    public var scaleInvariantSNR: Double?
    /// LSD over all bins, over 0-1 kHz and over 2-4 kHz.
    public var logSpectralDistance: Double, lowBandLSD: Double, highBandLSD: Double

    public init(reference: [Float], estimate: [Float], sampleRate: Int = 8_000) {
        meanSquaredError = AudioMetrics.meanSquaredError(reference: reference, estimate: estimate)
        meanAbsoluteError = AudioMetrics.meanAbsoluteError(reference: reference, estimate: estimate)
        signalToNoise = AudioMetrics.signalToNoiseRatio(reference: reference, estimate: estimate)
        scaleInvariantSNR = AudioMetrics.scaleInvariantSNR(reference: reference, estimate: estimate)
        logSpectralDistance = AudioMetrics.logSpectralDistance(reference: reference, estimate: estimate, sampleRate: sampleRate)
        lowBandLSD = AudioMetrics.logSpectralDistance(reference: reference, estimate: estimate, sampleRate: sampleRate, band: 0...1_000)
        highBandLSD = AudioMetrics.logSpectralDistance(reference: reference, estimate: estimate, sampleRate: sampleRate, band: 2_000...4_000)
    }
}

/// Means of `ClipMetrics` over a set of clips; SI-SNR averages the clips where it is defined (nil if none is).
public struct MeanMetrics: Sendable {
    public var meanSquaredError: Double, meanAbsoluteError: Double, signalToNoise: Double
    public var scaleInvariantSNR: Double?
    public var logSpectralDistance: Double, lowBandLSD: Double, highBandLSD: Double
    public let clips: Int

    public init(_ metrics: [ClipMetrics]) {
        precondition(!metrics.isEmpty, "MeanMetrics: no clips")
        meanSquaredError = Metrics.mean(metrics.map(\.meanSquaredError))
        meanAbsoluteError = Metrics.mean(metrics.map(\.meanAbsoluteError))
        signalToNoise = Metrics.mean(metrics.map(\.signalToNoise))
        let defined = metrics.compactMap(\.scaleInvariantSNR)
        scaleInvariantSNR = defined.isEmpty ? nil : Metrics.mean(defined)
        logSpectralDistance = Metrics.mean(metrics.map(\.logSpectralDistance))
        lowBandLSD = Metrics.mean(metrics.map(\.lowBandLSD))
        highBandLSD = Metrics.mean(metrics.map(\.highBandLSD))
        clips = metrics.count
    }

    /// Metrics of estimates against references, clip by clip, then averaged.
    public init(references: [[Float]], estimates: [[Float]], sampleRate: Int = 8_000) {
        precondition(references.count == estimates.count, "MeanMetrics: \(references.count) references vs \(estimates.count) estimates")
        self.init(zip(references, estimates).map { ClipMetrics(reference: $0, estimate: $1, sampleRate: sampleRate) })
    }
}

public enum SpectralError {
    /// Mean absolute log-power error per frequency bin, in dB, [K = nFFT/2 + 1]:
    ///     E[k] = mean over clips and frames of |10 log10 P[t, k] - 10 log10 P̂[t, k]|,  P = |STFT|² + 1e-5
    /// with the LSD's STFT (n_fft 256, hop sr/100, Hann, centred).
    public static func perBin(references: [[Float]], estimates: [[Float]], sampleRate: Int = 8_000, nFFT: Int = 256) -> [Double] {
        precondition(references.count == estimates.count && !references.isEmpty,
                     "SpectralError.perBin: \(references.count) references vs \(estimates.count) estimates")
        let stft = STFT(nFFT: nFFT, hop: max(1, sampleRate / 100))
        var total = [Double](repeating: 0, count: stft.bins)
        var frames = 0
        for (reference, estimate) in zip(references, estimates) {
            let p = stft.power(reference), q = stft.power(estimate)
            let count = p.count / stft.bins
            for t in 0..<count {
                for k in 0..<stft.bins {
                    total[k] += abs(10 * log10(Double(p[t * stft.bins + k]) + 1e-5) - 10 * log10(Double(q[t * stft.bins + k]) + 1e-5))
                }
            }
            frames += count
        }
        return total.map { $0 / Double(frames) }
    }

    /// Log-magnitude spectrogram in dB for figures, [T][K]: 10 log10(|STFT|² + 1e-5), n_fft 256, hop 64.
    public static func spectrogramDB(_ x: [Float], nFFT: Int = 256, hop: Int = 64) -> [[Double]] {
        let stft = STFT(nFFT: nFFT, hop: hop)
        let power = stft.power(x)
        return stride(from: 0, to: power.count, by: stft.bins).map { start in
            power[start..<(start + stft.bins)].map { 10 * log10(Double($0) + 1e-5) }
        }
    }
}

/// The first logged step whose value is at most `target` (nil if none): the `hyper-init-faster` rule, applied to
/// the HyperSound-init mean loss against the random-init loss at the last step.
public func firstStep(reaching target: Double, steps: [Int], values: [Double]) -> Int? {
    precondition(steps.count == values.count, "firstStep: \(steps.count) steps vs \(values.count) values")
    return zip(steps, values).first { $0.1 <= target }?.0
}

/// The HyperSound training loss (docs/papers/hypersound.md §3 "Loss"): L = L1(x, x̂) + L_MRSTFT(x̂, x) (λ = 1, 1), or L1 alone for the
/// ablation. prediction, target: [B, N] → scalar.
public func reconstructionLoss(prediction: Tensor, target: Tensor, spectral: Bool = true) -> Tensor {
    let l1 = l1Loss(prediction, target)
    return spectral ? l1 + multiResolutionSTFTLoss(prediction: prediction, target: target) : l1
}

/// A per-clip INR fit: its loss and SI-SNR at the logged steps, its final θ and the wall time.
public struct INRFit: Sendable {
    public let steps: [Int]
    public let losses: [Double]
    public let scaleInvariantSNRs: [Double]
    public let theta: [Float]
    public let seconds: Double
}

/// Fits one clip's target INR from `initial` θ (docs/papers/hypersound.md §3 "Per-clip INR"): Adam (lr 1e-3, constant), the L1 + MR-STFT
/// loss, `steps` updates. Logs the loss and SI-SNR (of the current θ) after each step in `logSteps` (0 = the init).
public func fitINR(clip: [Float], network: TargetNetwork, features: Tensor, initial: [Float], steps: Int,
                   logSteps: [Int], learningRate: Float = 1e-3) throws -> INRFit {
    let start = Date()
    let target = Tensor(shape: [1, clip.count], data: clip)
    let theta = Tensor(shape: [1, network.parameterCount], data: initial, requiresGrad: true)
    let optimizer = Adam(parameters: [theta], learningRate: learningRate)
    var losses: [Double] = [], ratios: [Double] = [], logged: [Int] = []
    func log(_ step: Int) {
        noGrad {
            let estimate = network.render(theta, features: features)
            losses.append(Double(reconstructionLoss(prediction: estimate, target: target).item))
            ratios.append(AudioMetrics.scaleInvariantSNR(reference: clip, estimate: estimate.data) ?? -.infinity)
            logged.append(step)
        }
    }
    if logSteps.contains(0) { log(0) }
    for step in stride(from: 1, through: steps, by: 1) {
        optimizer.zeroGrad()
        let loss = reconstructionLoss(prediction: network.render(theta, features: features), target: target)
        loss.backward()
        try checkFinite(loss.item, what: "per-clip INR loss", step: step)
        optimizer.step()
        if logSteps.contains(step) { log(step) }
    }
    return INRFit(steps: logged, losses: losses, scaleInvariantSNRs: ratios, theta: theta.data,
                  seconds: Date().timeIntervalSince(start))
}

/// How a set of vectors (one per clip: generated θ, embeddings, hidden features) splits into a part shared by
/// every clip and a part that depends on the clip, over the columns `columns`. With v_cj the column j of clip c's
/// vector and m_j = mean_c v_cj:
///
///     shared      = sqrt(mean_j m_j²)
///     acrossClips = sqrt(mean_j mean_c (v_cj - m_j)²)
///     rootMeanSquare = sqrt(mean_c,j v_cj²) = sqrt(shared² + acrossClips²)
///
/// acrossClips / shared near 0 means the vectors hardly depend on the clip.
public struct ClipSpread: Sendable {
    public let shared: Double, acrossClips: Double
    public var rootMeanSquare: Double { (shared * shared + acrossClips * acrossClips).squareRoot() }
    /// acrossClips / shared (∞ when nothing is shared).
    public var dependence: Double { acrossClips / shared }

    public init(_ vectors: [[Float]], columns: Range<Int>) {
        precondition(!vectors.isEmpty && !columns.isEmpty && vectors.allSatisfy { $0.count >= columns.upperBound },
                     "ClipSpread: \(vectors.count) vectors, columns \(columns)")
        let count = Double(vectors.count)
        var squaredMean = 0.0, variance = 0.0
        for j in columns {
            let mean = vectors.reduce(0) { $0 + Double($1[j]) } / count
            squaredMean += mean * mean
            variance += vectors.reduce(0) { $0 + (Double($1[j]) - mean) * (Double($1[j]) - mean) } / count
        }
        shared = (squaredMean / Double(columns.count)).squareRoot()
        acrossClips = (variance / Double(columns.count)).squareRoot()
    }

    /// The spread of each target layer's weight W_ℓ (biases excluded) in a set of θ vectors.
    public static func perLayer(_ thetas: [[Float]], network: TargetNetwork) -> [ClipSpread] {
        network.layers.map { ClipSpread(thetas, columns: $0.weightOffset..<$0.biasOffset) }
    }
}
