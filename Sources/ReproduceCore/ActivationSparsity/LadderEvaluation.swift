import Foundation
import Lab
import LabData

/// Per-window statistics of the AR char LM on fixed windows: inputs = each window's first T−1 characters, the
/// target of row i is character i+1; rows i ≥ firstScored − 1 are scored (targets at positions ≥ firstScored).
/// Cloze items: a line's last word, all characters top-1. Returns stats per window and the logits.
public func evaluateAutoregressive(_ model: CharLlama, windows: [[Int]], firstScored: Int, vocabulary: Vocabulary,
                                   probe: SparsityProbe? = nil) -> (stats: [WindowStats], logits: [Float]) {
    let length = windows[0].count - 1
    let inputs = windows.flatMap { $0.prefix(length) }
    probe?.countedRows = (0..<inputs.count).map { $0 % length >= firstScored - 1 }
    let logits = noGrad {
        model(inputs, batch: windows.count, length: length, hook: probe.map { p in { l, point, t in p.apply(layer: l, point: point, t) } })
    }
    // Cloze spans are over target positions (row i predicts character i+1).
    let stats = autoregressiveWindowStats(logits: logits.data, vocabulary: model.vocabularySize, windows: windows, firstScored: firstScored) { w in
        clozeSpans(tokenTexts: windows[w].dropFirst().map { vocabulary.symbols[$0] }, firstScored: firstScored - 1)
    }
    return (stats, logits.data)
}

/// Masked-token statistics of the diffusion LM: window w has the positions in masks[w] replaced by [MASK];
/// each masked position is scored (acc, NLL) against the original character.
public func evaluateMasked(_ model: CharLlama, windows: [[Int]], masks: [[Int]], maskID: Int,
                           probe: SparsityProbe? = nil) -> (stats: [WindowStats], logits: [Float]) {
    let length = windows[0].count
    var inputs = windows.flatMap { $0 }
    var targets = [Int](repeating: -1, count: inputs.count)
    for (w, positions) in masks.enumerated() {
        for i in positions { targets[w * length + i] = inputs[w * length + i]; inputs[w * length + i] = maskID }
    }
    probe?.countedRows = nil
    let logits = noGrad {
        model(inputs, batch: windows.count, length: length, hook: probe.map { p in { l, point, t in p.apply(layer: l, point: point, t) } })
    }
    let v = model.vocabularySize
    var stats: [WindowStats] = []
    logits.data.withUnsafeBufferPointer { buffer in
        for w in windows.indices {
            stats.append(WindowStats.score(logits: buffer.baseAddress! + w * length * v, vocabulary: v,
                                           targets: Array(targets[w * length..<(w + 1) * length])))
        }
    }
    return (stats, logits.data)
}

/// Seeded mask positions: exactly round(ratio·length) distinct positions per window.
public func fixedMasks(windows: Int, length: Int, ratio: Double, rng: inout RNG) -> [[Int]] {
    let k = Int((ratio * Double(length)).rounded())
    return (0..<windows).map { _ in Array(rng.permutation(length).prefix(k)).sorted() }
}

/// Mask stability during masked-diffusion sampling (the paper's LLaDA analysis).
public struct DiffusionSamplingTrace: Sendable {
    /// consecutive[t][layer]: mean J(M_t, M_{t+1}) over generated positions, t = 0..<S−1.
    public var consecutiveGenerated: [[Double]] = []
    public var consecutivePrompt: [[Double]] = []
    /// drift[t][layer]: mean J(M_0, M_t) (steps counted from 0), t = 0..<S.
    public var driftGenerated: [[Double]] = []
    public var driftPrompt: [[Double]] = []
    /// Mean sparsity of the sparsified tensor at each step (all positions, all layers).
    public var sparsityPerStep: [Double] = []
    /// Characters predicted correctly at the generated positions (vs the held-out text).
    public var generatedAccuracy = 0.0
}

/// LLaDA-style sampling (Nie et al. 2025) with low-confidence remasking: windows' characters 0..<promptLength are
/// given, the rest start as [MASK]; at each of `steps` steps every masked position is predicted (argmax over
/// real characters) and the `perStep` most confident (largest max-probability) are unmasked. The probe's rule
/// is active on every forward; the kept mask of the probe's tensor is recorded per (layer, position) and
/// compared across steps with the Jaccard index.
public func sampleWithMaskTrace(_ model: CharLlama, windows: [[Int]], promptLength: Int, steps: Int, perStep: Int,
                                maskID: Int, probe: SparsityProbe) -> DiffusionSamplingTrace {
    let length = windows[0].count, batch = windows.count, layers = model.size.layers
    var current = windows.map { Array($0.prefix(promptLength)) + Array(repeating: maskID, count: length - promptLength) }
    var first: [[[UInt64]]]? = nil       // [layer][row] masks of step 0
    var previous: [[[UInt64]]]? = nil
    var trace = DiffusionSamplingTrace()
    let v = model.vocabularySize
    for _ in 0..<steps {
        var masksNow = Array(repeating: [[UInt64]](repeating: [], count: batch * length), count: layers)
        probe.observe = { layer, _, base, rows, width, stride in
            for r in 0..<rows { masksNow[layer][r] = keptMask(base + r * stride, width: width) }
        }
        probe.resetCounts()
        probe.countedRows = nil
        let logits = noGrad {
            model(current.flatMap { $0 }, batch: batch, length: length, hook: { l, point, t in probe.apply(layer: l, point: point, t) })
        }
        probe.observe = nil
        trace.sparsityPerStep.append(probe.counts.sparsity(points: probe.target.points))
        func meanJaccard(_ a: [[[UInt64]]], generated: Bool) -> [Double] {
            (0..<layers).map { l in
                var total = 0.0, n = 0
                for r in 0..<batch * length where (r % length >= promptLength) == generated {
                    total += jaccard(a[l][r], masksNow[l][r]); n += 1
                }
                return total / Double(max(n, 1))
            }
        }
        if let previous {
            trace.consecutiveGenerated.append(meanJaccard(previous, generated: true))
            trace.consecutivePrompt.append(meanJaccard(previous, generated: false))
        }
        let reference = first ?? masksNow
        trace.driftGenerated.append(meanJaccard(reference, generated: true))
        trace.driftPrompt.append(meanJaccard(reference, generated: false))
        if first == nil { first = masksNow }
        previous = masksNow
        // Unmask the most confident masked positions of each sequence.
        logits.data.withUnsafeBufferPointer { buffer in
            for b in 0..<batch {
                var candidates: [(confidence: Double, position: Int, token: Int)] = []
                for i in 0..<length where current[b][i] == maskID {
                    let row = buffer.baseAddress! + (b * length + i) * v
                    var best = 0
                    for j in 0..<v where j != maskID && (best == maskID || row[j] > row[best]) { best = j }
                    var z = 0.0
                    for j in 0..<v { z += exp(Double(row[j] - row[best])) }
                    candidates.append((1 / z, i, best))
                }
                candidates.sort { $0.confidence != $1.confidence ? $0.confidence > $1.confidence : $0.position < $1.position }
                for c in candidates.prefix(perStep) { current[b][c.position] = c.token }
            }
        }
    }
    var correct = 0
    for b in 0..<batch { for i in promptLength..<length where current[b][i] == windows[b][i] { correct += 1 } }
    trace.generatedAccuracy = Double(correct) / Double(batch * (length - promptLength))
    return trace
}
