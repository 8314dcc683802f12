import Foundation
import Lab
import LabSignal

/// HyperSound's data rules (docs/papers/hypersound.md §2): the file split, the training crops and evaluation windows, and the
/// nearest-neighbour retrieval baseline.
public enum HyperSoundClips {
    /// Length of every clip: 1,024 samples (0.128 s at 8 kHz). The design first had 4,096 (0.512 s); the one-shot
    /// model did not learn them at this budget (docs/papers/hypersound.md §2 "Clip length").
    public static let length = 1_024

    /// Splits `count` files (in sorted path order) into train and test by a fixed shuffle, independent of the
    /// run's seed: a permutation from RNG(seed: 1234); the first round(testFraction · count) are the test files.
    /// Both index lists come back sorted.
    public static func splitByFile(count: Int, testFraction: Double = 0.15, seed: UInt64 = 1_234) -> (train: [Int], test: [Int]) {
        var rng = RNG(seed: seed)
        let order = rng.permutation(count)
        let testCount = Int((testFraction * Double(count)).rounded())
        return (Array(order[testCount...]).sorted(), Array(order[..<testCount]).sorted())
    }

    /// The evaluation clip of a recording: trim silence, the max-energy `length`-window (start a multiple of 256,
    /// zero-padded when shorter), peak-normalised.
    public static func evaluationClip(_ samples: [Float], length: Int = length) -> [Float] {
        AudioClips.peakNormalized(AudioClips.maxEnergyWindow(AudioClips.trimSilence(samples), length: length))
    }

    /// One training crop of an already trimmed recording: a random `length`-window, peak-normalised.
    public static func trainingCrop(_ trimmed: [Float], length: Int = length, rng: inout RNG) -> [Float] {
        AudioClips.peakNormalized(AudioClips.randomCrop(trimmed, length: length, rng: &rng))
    }

    /// Log-mel spectrogram used by the retrieval baseline: STFT n_fft 256, hop 64, 32 Slaney mel bands over 0-4 kHz,
    /// ln(max(mel, 1e-5)), flattened [T·32].
    public static func logMelFeatures(_ clip: [Float], sampleRate: Int = 8_000) -> [Float] {
        let stft = STFT(nFFT: 256, hop: 64)
        let mel = MelFilterbank(sampleRate: Double(sampleRate), nFFT: 256, melCount: 32)
        return mel.logMel(stft.magnitude(clip))
    }

    /// Index of the candidate whose features are closest in L2 to `query` (NN-retrieval baseline), skipping
    /// `excluded` (the query's own file when it is a training clip). Ties keep the lowest index.
    public static func nearestNeighbour(of query: [Float], among candidates: [[Float]], excluding excluded: Int? = nil) -> Int {
        var best = -1, bestDistance = Double.infinity
        for (index, candidate) in candidates.enumerated() where index != excluded {
            precondition(candidate.count == query.count, "nearestNeighbour: features of \(candidate.count) vs \(query.count) values")
            var distance = 0.0
            for i in query.indices { let d = Double(query[i] - candidate[i]); distance += d * d }
            if distance < bestDistance { bestDistance = distance; best = index }
        }
        precondition(best >= 0, "nearestNeighbour: no candidate to choose from")
        return best
    }
}
