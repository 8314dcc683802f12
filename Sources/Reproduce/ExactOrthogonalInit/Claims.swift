import ExactOrthogonalInitCore
import Foundation
import Lab
import LabRun

/// The claims of docs/papers/exact-orthogonal-init.md §5, computed from the studies. Accuracy differences are in percentage points.
func addClaims(to report: Report, plan: Plan, seeds: [Int], generator: GeneratorStudy, networks: [JacobianNetwork],
               mlp: MLPAccuracyStudy, cnn: CNNAccuracyStudy, deep: DeepMLPStudy) throws {
    let trained = mlp.runs + cnn.runs + deep.runs
    let audit = LayerAudit.merged(networks.map(\.audit) + cnn.runs.map(\.audit) + deep.runs.map(\.audit))
    let jacobianSeeds = Array(seeds.prefix(plan.jacobianSeeds))

    // Exactness of the generators, on the E1 grid and on every layer built for E2-E5.
    let eoiErrors = generator.eoi.map(\.orthogonalityError) + audit.eoiErrors
    try report.claim(Claim(
        id: "eoi-orthogonality", statement: "every EOI matrix (E1 grid and every layer built in E2-E5) is orthogonal",
        measured: eoiErrors.max() ?? .nan, .atMost(1e-5), kind: .exact, seeds: seeds,
        note: "max |WWᵀ/σ_w² − I| on the short side over \(eoiErrors.count) matrices, Float64 from the stored Float32 weights"))

    let deviations = generator.eoi.filter { $0.density >= 1 / Double($0.longSide) }
        .map { (deviation: abs($0.achievedDensity - $0.density), longSide: $0.longSide) } + audit.eoiDensityDeviations
    let bound = { (m: Int) in max(0.02, 2 / Double(m)) }
    let groups = Dictionary(grouping: deviations) { bound($0.longSide) }.sorted { $0.key < $1.key }
    let densityConditions = groups.dropFirst().map { key, members in
        Condition("m = \(Set(members.map(\.longSide)).sorted().map(String.init).joined(separator: ", ")): max abs(achieved − d)",
                  measured: members.map(\.deviation).max()!, .atMost(key))
    }
    try report.claim(Claim(
        id: "eoi-density", statement: "achieved density matches the target where d >= 1/m",
        measured: groups.first?.value.map(\.deviation).max() ?? .nan, .atMost(groups.first?.key ?? 0.02),
        and: densityConditions, kind: .exact, seeds: seeds,
        note: "bound max(0.02, 2/m) per long side m; the first value is over m >= 100, further ones per smaller m"))

    try report.claim(Claim(
        id: "eoi-density-monotone", statement: "density never decreases over the rotations",
        measured: Double(generator.eoi.map(\.densityDecreases).reduce(0, +)), .equal(0), kind: .exact, seeds: [seeds[0]],
        note: "decreases of the per-rotation density trace over the \(generator.eoi.count) E1 generator runs"))

    let saoErrors = generator.sao.map(\.orthogonalityError) + audit.saoErrors
    try report.claim(Claim(
        id: "sao-orthogonality", statement: "SAO-style is orthogonal with c non-zeros per row and column",
        measured: saoErrors.max() ?? .nan, .atMost(1e-5),
        and: [Condition("rows and columns whose non-zero count is not c = d·n",
                        measured: Double(generator.sao.map(\.degreeErrors).reduce(0, +) + audit.saoDegreeErrors), .equal(0))],
        kind: .exact, seeds: seeds, note: "over \(saoErrors.count) SAO-style matrices (E1 grid and E2-E5 layers)"))

    try report.claim(Claim(
        id: "conv-delta-eoi",
        statement: "conv EOI: centre slice orthogonal, non-centre weights zero at init, mask density d ± 1/(c_out·c_in·k²)",
        measured: audit.convChecks.map(\.centreError).max() ?? .nan, .atMost(1e-5),
        and: [Condition("max |non-centre weight| at init", measured: audit.convChecks.map(\.offCentreMax).max() ?? .nan, .equal(0)),
              Condition("max |mask density − d| in units of 1/(c_out·c_in·k²)",
                        measured: audit.convChecks.map(\.maskDensityErrorInEntries).max() ?? .nan, .atMost(1))],
        kind: .exact, seeds: Array(seeds.prefix(plan.cnnSeeds)), note: "over the \(audit.convChecks.count) EOI conv kernels of E4"))

    try report.claim(Claim(
        id: "mask-static", statement: "weights outside the mask stay exactly 0 through training",
        measured: trained.map(\.outcome.maskLeak).max() ?? .nan, .equal(0), kind: .exact, seeds: seeds,
        note: "max |w| outside the mask after training, over the \(trained.count) trained networks of E3-E5"))

    // Jacobian spectra (E2).
    try report.claim(Claim(
        id: "jacobian-autodiff", statement: "the closed-form Jacobian equals the autodiff one",
        measured: networks.compactMap(\.autodiffDifference).max() ?? .nan, .atMost(1e-4), kind: .exact, seeds: [seeds[0]],
        note: "max |J_closed − J_autodiff| / max |J_closed| on \(plan.autodiffExamples) images, 4 activations, Dense and EOI at d = \(densityText(plan.jacobianDensities.min()!))"))

    try report.claim(Claim(
        id: "jacobian-isometry-eoi", statement: "linear EOI: all singular values equal 1 at every density",
        measured: networks.filter { $0.method == .exactOrthogonal }.map { $0.maxDeviationFromOne[.linear]! }.max() ?? .nan,
        .atMost(1e-4), kind: .exact, seeds: jacobianSeeds, note: "max |s − 1|"))

    func meanSingularValue(_ method: InitMethod, _ density: Double, _ activation: Activation) -> Double {
        Metrics.mean(networks.filter { $0.method == method && ($0.method == .dense || $0.density == density) }
            .map { $0.meanSingularValue[activation]! }, nonFinite: .skip)
    }
    let collapseDensities = plan.jacobianDensities.filter { $0 <= 1.0 / 8 }
    try report.claim(Claim(
        id: "jacobian-base-collapses", statement: "linear Base-orth at d <= 1/8 loses isometry",
        measured: collapseDensities.map { meanSingularValue(.baseOrthogonal, $0, .linear) }.max() ?? .nan, .lessThan(0.5),
        kind: .paper, seeds: jacobianSeeds,
        note: "largest mean singular value over d in {\(collapseDensities.map(densityText).joined(separator: ", "))}, mean over seeds"))

    let denseTanh = meanSingularValue(.dense, 1, .tanh)
    let tanhGaps = plan.jacobianDensities.map { abs(meanSingularValue(.exactOrthogonal, $0, .tanh) - denseTanh) / denseTanh }
    let worstTanh = plan.jacobianDensities[tanhGaps.firstIndex(of: tanhGaps.max()!)!]
    try report.claim(Claim(
        id: "jacobian-eoi-matches-dense", statement: "tanh: EOI keeps the dense orthogonal spectrum at every density",
        measured: tanhGaps.max()!, .atMost(0.10), kind: .paper, seeds: jacobianSeeds,
        note: "max_d |mean s_EOI − mean s_Dense| / mean s_Dense; Dense \(String(format: "%.4f", denseTanh)), EOI at d = \(densityText(worstTanh)) \(String(format: "%.4f", meanSingularValue(.exactOrthogonal, worstTanh, .tanh)))"))

    // MLP-7 accuracy (E3), in percentage points.
    func meanPercent(_ runs: [TrainedRun], _ method: InitMethod, _ density: Double) -> Double {
        runs.matching(method, density: method == .dense ? nil : density).meanPercent
    }
    let mlpSeeds = Array(seeds.prefix(plan.mlpSeeds))
    let lowest = plan.mlpDensities.min()!
    let baseGaps = plan.mlpDensities.map { meanPercent(mlp.runs, .exactOrthogonal, $0) - meanPercent(mlp.runs, .baseOrthogonal, $0) }
    try report.claim(Claim(
        id: "mlp-eoi-beats-base", statement: "EOI >= Base-orth at every density, clearly at the lowest",
        measured: baseGaps.min()!, .atLeast(-0.5),
        and: [Condition("acc_EOI − acc_Base-orth at d = \(densityText(lowest)) (pp)",
                        measured: meanPercent(mlp.runs, .exactOrthogonal, lowest) - meanPercent(mlp.runs, .baseOrthogonal, lowest), .atLeast(3))],
        kind: .paper, seeds: mlpSeeds, note: "min over d of mean acc_EOI − acc_Base-orth (pp)"))

    try report.claim(Claim(
        id: "mlp-eoi-vs-ai", statement: "EOI at least as good as AI on average",
        measured: Metrics.mean(plan.mlpDensities.map { meanPercent(mlp.runs, .exactOrthogonal, $0) - meanPercent(mlp.runs, .approximateIsometry, $0) }, nonFinite: .skip),
        .atLeast(-0.5), kind: .paper, seeds: mlpSeeds, note: "mean over d of acc_EOI − acc_AI (pp)"))

    let nearQuarter = nearestDensity(0.25, in: plan.mlpDensities)
    try report.claim(Claim(
        id: "mlp-sparse-near-dense", statement: "EOI at d = 1/4 nearly matches Dense",
        measured: meanPercent(mlp.runs, .dense, 1) - meanPercent(mlp.runs, .exactOrthogonal, nearQuarter), .atMost(1.5),
        kind: .paper, seeds: mlpSeeds, note: "acc_Dense − acc_EOI (pp) at d = \(densityText(nearQuarter))"))

    // CNN (E4).
    let cnnDensity = nearestDensity(1.0 / 16, in: plan.cnnDensities)
    try report.claim(Claim(
        id: "cnn-eoi-beats-base", statement: "CNN: EOI better than masked delta-orthogonal at d = 1/16",
        measured: meanPercent(cnn.runs, .exactOrthogonal, cnnDensity) - meanPercent(cnn.runs, .baseOrthogonal, cnnDensity),
        .atLeast(2), kind: .paper, seeds: Array(seeds.prefix(plan.cnnSeeds)),
        note: "acc_EOI − acc_Base-orth (pp) at d = \(densityText(cnnDensity))"))

    // Deep MLPs (E5).
    func deepPercent(_ method: InitMethod, depth: Int) -> Double {
        deep.runs.matching(method, depth: depth, dataset: "Fashion-MNIST").meanPercent
    }
    let deepSeeds = Array(seeds.prefix(plan.deepSeeds)), d = plan.deepDepth
    try report.claim(Claim(
        id: "deep-eoi-trains", statement: "depth \(d), d = 1/8: EOI trains",
        measured: deepPercent(.exactOrthogonal, depth: d), .atLeast(75), kind: .paper, seeds: deepSeeds,
        note: "test accuracy (%) on Fashion-MNIST"))
    try report.claim(Claim(
        id: "deep-eoi-near-dense", statement: "EOI close to dense orthogonal at depth \(d)",
        measured: deepPercent(.dense, depth: d) - deepPercent(.exactOrthogonal, depth: d), .atMost(5), kind: .paper,
        seeds: deepSeeds, note: "acc_Dense − acc_EOI (pp)"))
    try report.claim(Claim(
        id: "deep-base-fails", statement: "Base-orth does not train at depth \(d)",
        measured: deepPercent(.exactOrthogonal, depth: d) - deepPercent(.baseOrthogonal, depth: d), .atLeast(40), kind: .paper,
        seeds: deepSeeds, note: "acc_EOI − acc_Base-orth (pp)"))
    let e = plan.deeperDepth
    try report.claim(Claim(
        id: "deep-eoi-beats-gaussian", statement: "depth \(e): exact orthogonality beats a variance-preserving sparse Gaussian",
        measured: deepPercent(.exactOrthogonal, depth: e) - deepPercent(.baseStandard, depth: e), .atLeast(5), kind: .paper,
        seeds: Array(seeds.prefix(plan.deeperSeeds)), note: "acc_EOI − acc_Base-standard (pp)"))
}
