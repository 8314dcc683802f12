import ExactOrthogonalInitCore
import Foundation
import Lab

// The prose that reads each experiment's numbers: computed from the results, so a rerun that measures
// something else says so.

private func f(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }

/// E2: what the Jacobian spectra show, per activation and method.
func jacobianFindings(_ networks: [JacobianNetwork], plan: Plan) -> String {
    func meanOver(_ method: InitMethod, _ d: Double, _ pick: (JacobianNetwork) -> Double) -> Double {
        Metrics.mean(networks.filter { $0.method == method && ($0.method == .dense || $0.density == d) }.map(pick), nonFinite: .skip)
    }
    let lowest = plan.jacobianDensities.min()!
    let linear = { (n: JacobianNetwork) in n.meanSingularValue[.linear]! }
    let linearStd = { (n: JacobianNetwork) in n.stdSingularValue[.linear]! }
    let tanh = { (n: JacobianNetwork) in n.meanSingularValue[.tanh]! }
    let slope = { (n: JacobianNetwork) in n.meanTanhSlope }
    let dense = meanOver(.dense, 1, tanh), eoi = meanOver(.exactOrthogonal, lowest, tanh)
    let gap = 100 * (eoi - dense) / dense
    let direction = gap > 0
        ? "EOI is then *more* isometric than Dense at the lowest densities, not less"
        : "EOI is then less isometric than Dense at the lowest densities"
    return """
        **Reading Fig. 2.** Linear networks isolate the weights: EOI and SAO-style are exact isometries at every density \
        (all singular values 1), while Base-orth collapses (mean singular value \(f(meanOver(.baseOrthogonal, lowest, linear), 5)) at \
        d = \(densityText(lowest))), AI recovers part of the isometry with \(plan.aiSteps) steps (mean \
        \(f(meanOver(.approximateIsometry, lowest, linear))) at d = \(densityText(lowest))), and Base-standard has about the right mean \
        (\(f(meanOver(.baseStandard, lowest, linear)))) but a wide spread (std \(f(meanOver(.baseStandard, lowest, linearStd))) against 0 for EOI). \
        With tanh every network contracts at init (σ_w = 1 on standardised inputs saturates part of the units). EOI's \
        mean singular value at d = \(densityText(lowest)) is \(f(eoi)) against \(f(dense)) for Dense (\(gap >= 0 ? "+" : "")\(f(gap, 1)) %). The mean tanh slope 1 − y² of the layers \
        after the first sparse one moves with it (\(f(meanOver(.exactOrthogonal, lowest, slope))) for EOI at \
        d = \(densityText(lowest)), \(f(meanOver(.dense, 1, slope))) for Dense): a low-density EOI matrix is only a few \
        rotations away from the identity, so each unit's pre-activation mixes few bounded tanh outputs and saturates less \
        than the Gaussian-like mixtures a dense rotation produces. \(direction); the design's claim asks for equality within \
        10 % at every density, and the claim table reports whether that held.
        """
}

/// E3: the accuracy ranking and where the methods separate.
func mlpFindings(_ runs: [TrainedRun], plan: Plan) -> String {
    let lowest = plan.mlpDensities.min()!
    func pct(_ m: InitMethod, _ d: Double?) -> String {
        f(runs.matching(m, density: m == .dense ? nil : d).meanPercent, 1)
    }
    let others: [InitMethod] = [.baseStandard, .approximateIsometry, .saoStyle, .exactOrthogonal]
    let atLowest = others.map { runs.matching($0, density: lowest).meanPercent }
    let base = plan.mlpDensities.map { "\(pct(.baseOrthogonal, $0)) % at d = \(densityText($0))" }.joined(separator: ", ")
    return """
        **Reading Fig. 3.** Dense reaches \(pct(.dense, nil)) %. Base-orth, whose Jacobian collapses at init, goes \
        \(base). EOI \
        (\(pct(.exactOrthogonal, lowest)) % at d = \(densityText(lowest))), SAO-style (\(pct(.saoStyle, lowest)) %), AI \
        (\(pct(.approximateIsometry, lowest)) %) and Base-standard (\(pct(.baseStandard, lowest)) %) lie within \
        \(f(atLowest.max()! - atLowest.min()!, 1)) points of each other at the lowest density.
        """
}

/// E5: the deep table in words.
func deepFindings(_ runs: [TrainedRun], calibration: Calibration, plan: Plan) -> String {
    func pct(_ m: InitMethod, _ depth: Int, _ dataset: String = "Fashion-MNIST") -> String {
        let matching = runs.matching(m, depth: depth, dataset: dataset)
        return matching.isEmpty ? "–" : f(matching.meanPercent, 1)
    }
    let d = plan.deepDepth, e = plan.deeperDepth
    let denseDeeper = runs.matching(.dense, depth: e, dataset: "Fashion-MNIST")
    let denseDeeperDiverged = denseDeeper.filter { $0.outcome.divergedAtStep != nil }.count
    let chosen = calibration.candidates.firstIndex(of: calibration.chosen)!
    let edge = chosen + 1 < calibration.candidates.count
        ? " (the next larger candidate, \(calibration.candidates[chosen + 1]), reaches \(f(100 * calibration.validationAccuracies[chosen + 1], 1)) % at depth \(d) in the calibration)"
        : ""
    let denseNote = denseDeeper.meanPercent < 50 && runs.matching(.exactOrthogonal, depth: e, dataset: "Fashion-MNIST").meanPercent >= 50
        ? " Dense does not train at depth \(e) with the learning rate calibrated at depth \(d)"
            + (denseDeeperDiverged > 0 ? " (its loss became non-finite in \(denseDeeperDiverged) of \(denseDeeper.count) runs)" : "")
            + "\(edge), while the sparse EOI stack, whose layers stay a few rotations from the identity, trains at the same "
            + "rate. The depth-\(e) column compares methods at one shared rate, as the design prescribes; it does not show that "
            + "Dense cannot train at depth \(e) with a smaller rate."
        : ""
    return """
        **Reading Table 1.** At depth \(d), Dense reaches \(pct(.dense, d)) %, EOI \(pct(.exactOrthogonal, d)) %, SAO-style \
        \(pct(.saoStyle, d)) %, AI \(pct(.approximateIsometry, d)) %, Base-standard \(pct(.baseStandard, d)) % and Base-orth \
        \(pct(.baseOrthogonal, d)) % (chance is 10 %). At depth \(e): Dense \(pct(.dense, e)) %, EOI \(pct(.exactOrthogonal, e)) %, \
        Base-standard \(pct(.baseStandard, e)) %. On MNIST-5k at depth \(d): Dense \(pct(.dense, d, "MNIST-5k")) %, EOI \
        \(pct(.exactOrthogonal, d, "MNIST-5k")) %, Base-orth \(pct(.baseOrthogonal, d, "MNIST-5k")) %.\(denseNote)
        """
}

/// E1: EOI's generation time against SAO-style and dense QR, shape by shape, read from the table (the paper reports
/// EOI as cheaper than SAO; here the comparison is against our block SAO-style, so it is stated case by case).
func generatorFindings(_ study: GeneratorStudy) -> String {
    let slowest = study.eoi.max { $0.seconds < $1.seconds }!
    let pairs = study.sao.compactMap { sao -> (sao: SAORow, eoi: GeneratorRow)? in
        study.eoi.first { $0.outputs == sao.side && $0.inputs == sao.side && $0.density == sao.density }.map { (sao, $0) }
    }
    let saoFaster = pairs.filter { $0.sao.seconds < $0.eoi.seconds }
    let sides = Array(Set(pairs.map(\.sao.side))).sorted()
    let perSide = sides.map { side -> String in
        let faster = saoFaster.filter { $0.sao.side == side }.map { densityText($0.sao.density) }
        return faster.isEmpty ? "n = \(side): EOI at every density"
            : "n = \(side): SAO-style at d = \(faster.joined(separator: ", "))"
    }.joined(separator: "; ")
    let qrSlower = study.eoi.filter { row in
        study.dense.first { $0.outputs == row.outputs && $0.inputs == row.inputs }.map { $0.seconds > row.seconds } ?? false
    }.count
    let verdict = saoFaster.isEmpty
        ? "so EOI is the cheaper exact sparse construction here at every size and density, as the paper reports against SAO."
        : """
          so the paper's "EOI is cheaper than SAO" holds here only where listed: our SAO-style is a block construction (random \
          permutations of Haar blocks), not the paper's Ramanujan-graph SAO, and its QR per block of d·n rows is small at \
          low density, where it beats EOI's rotations on the larger sides.
          """
    return """
        The generator's cost is O(n) per rotation: the largest case here (\(slowest.outputs) x \(slowest.inputs) at \
        d = \(densityText(slowest.density)), \(slowest.rotations) rotations) takes \(f(slowest.seconds * 1000, 2)) ms. \
        EOI is faster than dense QR in \(qrSlower) of \(study.eoi.count) shape–density cases. Against SAO-style it is \
        faster in \(pairs.count - saoFaster.count) of \(pairs.count) square cases; the faster construction per side is \
        \(perSide); \(verdict)
        """
}

/// E3 and E4: where EOI stands against each other sparse method, density by density (mean over seeds).
func rankingFindings(_ runs: [TrainedRun], methods: [InitMethod], densities: [Double], model: String) -> String {
    let others = methods.filter { $0 != .exactOrthogonal && $0 != .dense }
    let perDensity = densities.map { d -> String in
        let eoi = runs.matching(.exactOrthogonal, density: d).meanPercent
        let ahead = others.filter { runs.matching($0, density: d).meanPercent > eoi }
        let list = ahead.map { "\($0.label) \(f(runs.matching($0, density: d).meanPercent, 1)) %" }
        return "d = \(densityText(d)): EOI \(f(eoi, 1)) %" + (ahead.isEmpty ? ", no other sparse method above it"
            : ", behind \(list.joined(separator: " and "))")
    }
    let alwaysAhead = others.filter { m in densities.allSatisfy { runs.matching(m, density: $0).meanPercent >= runs.matching(.exactOrthogonal, density: $0).meanPercent } }
    let everywhere = alwaysAhead.isEmpty ? ""
        : " \(alwaysAhead.map(\.label).joined(separator: " and ")) \(alwaysAhead.count == 1 ? "matches or beats" : "match or beat") EOI at every density of the \(model)."
    return "**EOI against the other sparse initialisations (\(model)).** \(perDensity.joined(separator: "; ")).\(everywhere)"
}
