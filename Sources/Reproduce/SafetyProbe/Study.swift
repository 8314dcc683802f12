import Foundation
import Lab
import LabData
import LabLLM
import SafetyProbeCore

/// The encoded prompts of one experiment: per set, the features and which of their rows belong to it.
struct FeatureTable {
    let features: [ProbeSet: PromptFeatures]
    /// rows[s][i] = the feature row of the experiment's i-th prompt of set s.
    let rows: [ProbeSet: [Int]]

    func count(_ set: ProbeSet) -> Int { rows[set]?.count ?? 0 }

    /// Vectors of the experiment's prompts `positions` of `set`.   -> [positions.count, d]
    func matrix(_ set: ProbeSet, _ positions: [Int], _ representation: Representation) -> Matrix {
        let rows = self.rows[set]!
        return features[set]!.matrix(positions.map { rows[$0] }, representation)
    }

    func all(_ set: ProbeSet) -> [Int] { Array(0..<count(set)) }
}

/// The seed's split of the two labelled in-distribution sets.
struct SeedSplit {
    let harmful: ProbeSplit, benign: ProbeSplit

    init(table: FeatureTable, seed: Int, experiment: String) {
        var rng = RNG(seed: UInt64(seed)).derived("split-\(experiment)")
        harmful = ProbeSplit(count: table.count(.dnaID), rng: &rng)
        benign = ProbeSplit(count: table.count(.benignID), rng: &rng)
    }
}

/// Which part of the training split a head is fitted on: the 80 % training part (when a validation score is
/// needed) or all of it.
enum FitPart { case train, fitting }

/// A head fitted on one representation, with its validation F1 (fitted on `train`) and its test detection rates.
struct ProbeResult {
    let detection: Detection
    let validationF1: Double
    let head: FittedHead
}

/// Fits `head` on the `part` of the split (dna-id harmful, benign-id benign) and evaluates: F1 on the validation
/// part, and `Detection` on the ID test split and the four OOD sets.
func runProbe(_ head: ProbeHead, _ representation: Representation, table: FeatureTable, split: SeedSplit, part: FitPart,
              rng: inout RNG) throws -> ProbeResult {
    func positions(_ s: ProbeSplit) -> [Int] { part == .train ? s.train : s.fitting }
    let fitHarmful = table.matrix(.dnaID, positions(split.harmful), representation)
    let fitBenign = table.matrix(.benignID, positions(split.benign), representation)
    let features = Matrix(rows: fitHarmful.rows + fitBenign.rows, cols: fitHarmful.cols, data: fitHarmful.data + fitBenign.data)
    let labels = [Bool](repeating: true, count: fitHarmful.rows) + [Bool](repeating: false, count: fitBenign.rows)
    let fitted = try FittedHead.fit(head, features: features, labels: labels, rng: &rng)
    func scores(_ set: ProbeSet, _ positions: [Int]) -> [Double] {
        positions.isEmpty ? [] : fitted.scores(table.matrix(set, positions, representation))
    }
    let validationScores = scores(.dnaID, split.harmful.validation) + scores(.benignID, split.benign.validation)
    let validationLabels = [Bool](repeating: true, count: split.harmful.validation.count) + [Bool](repeating: false, count: split.benign.validation.count)
    let validationF1 = BinaryCounts(predictions: validationScores.map { $0 > 0 }, labels: validationLabels).f1
    let idScores = scores(.dnaID, split.harmful.test) + scores(.benignID, split.benign.test)
    let idLabels = [Bool](repeating: true, count: split.harmful.test.count) + [Bool](repeating: false, count: split.benign.test.count)
    let detection = Detection(idScores: idScores, idLabels: idLabels,
                              harmbench: scores(.harmbench, table.all(.harmbench)), tense: scores(.tense, table.all(.tense)),
                              faq: scores(.faq, table.all(.faq)), alarming: scores(.alarming, table.all(.alarming)))
    return ProbeResult(detection: detection, validationF1: validationF1, head: fitted)
}

/// The three token positions / layers of the detector-design table (docs/papers/safety-probe.md §3).
enum Readout: String, CaseIterable {
    case r1 = "R1 last token, final layer"
    case r2 = "R2 last token, best validation layer"
    case r3 = "R3 mean-pooled, final layer"

    var short: String { String(rawValue.prefix(2)) }
}

/// One row of the detector-design table: the variant, readout and head, the layer(s) R2 chose, per-seed results.
struct DesignRow {
    let variant: PromptVariant
    let readout: Readout
    let head: ProbeHead
    var layers: [Int] = []
    var detections: [Detection] = []

    var label: String { "\(variant.rawValue) \(readout.short) \(head.title)" }
    func mean(_ value: (Detection) -> Double) -> Double { Metrics.mean(detections.map(value)) }
}

/// Per-layer results of one seed on one experiment: logistic at every layer (fitted on `part`), and optionally
/// MLP and Mahalanobis at `coarseLayers`.
struct LayerSweep {
    /// [layer] for layers 0 ... L
    var logistic: [ProbeResult] = []
    /// [coarse layer index]
    var mlp: [ProbeResult] = []
    var mahalanobis: [ProbeResult] = []
}

/// Shorthand for progress lines on stderr.
func say(_ text: String, quiet: Bool) {
    if !quiet { FileHandle.standardError.write(Data("safety-probe: \(text)\n".utf8)) }
}

/// `Double(x)` seconds since `start` (DispatchTime nanoseconds).
func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
