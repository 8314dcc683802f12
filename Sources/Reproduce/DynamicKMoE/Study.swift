import DynamicKMoECore
import Foundation
import Lab
import LabReport

/// Every trained conversion of the run (docs/papers/dynamic-k-moe.md §3): D2DMoE (relu-mid, norm routers) and
/// MoEfication (relu-0, BCE routers) for every E; at the main E also no enforcement (relu-0, norm routers), α_high
/// (relu-high, norm routers) and the BCE-router ablation (relu-mid, BCE routers).
struct Conversions {
    var d2dmoe: [Int: TrainedConversion] = [:]
    var moefication: [Int: TrainedConversion] = [:]
    var noEnforcement: TrainedConversion!
    var highAlpha: TrainedConversion!
    var bceRouter: TrainedConversion!
    /// Every split, by "model E=…".
    var splits: [(name: String, partitions: [ExpertPartition])] = []
    /// Per split: |CE_moe − CE_dense|/CE_dense and max |Δlogit| of the expert-by-expert MoE with every expert run.
    var exactness: [(name: String, relativeCE: Double, logit: Double)] = []
    /// Wall seconds of the k-means splits and of the router training.
    var splitSeconds = 0.0, routerSeconds = 0.0

    var all: [(name: String, trained: TrainedConversion)] {
        d2dmoe.keys.sorted().map { ("D2DMoE E=\($0)", d2dmoe[$0]!) } + moefication.keys.sorted().map { ("MoEfication E=\($0)", moefication[$0]!) }
            + [("no enforcement", noEnforcement), ("α_high", highAlpha), ("BCE router", bceRouter)]
    }
}

/// Splits, caches and routers for every conversion; the exactness check of each split.
func buildConversions(_ tuned: [Variant: FineTuned], _ setup: Setup, log: (String) -> Void) -> Conversions {
    let plan = setup.plan
    var conversions = Conversions()
    for variant in [Variant.reluMid, .relu0, .reluHigh] {
        let model = tuned[variant]!.model
        let cache = activationCache(model, setup)
        let counts = variant == .reluHigh ? [plan.mainExperts] : plan.expertCounts
        for experts in counts {
            let name = "\(variant.rawValue) E=\(experts)"
            let started = Date()
            var rng = RNG(seed: UInt64(setup.seed)).derived("kmeans-\(name)")
            let partitions = (0..<plan.config.layers).map {
                splitExperts(model, layer: $0, experts: experts, iterations: plan.kMeansIterations, rng: &rng)
            }
            conversions.splitSeconds += Date().timeIntervalSince(started)
            conversions.splits.append((name, partitions))
            let routed = Date()
            func train(_ objective: RouterObjective) -> TrainedConversion {
                trainConversion(model, partitions: partitions, cache: cache, objective: objective, setup, name: "\(name) \(objective.rawValue)")
            }
            var any: TrainedConversion
            switch variant {
            case .reluMid:
                any = train(.normRegression)
                conversions.d2dmoe[experts] = any
                if experts == plan.mainExperts { conversions.bceRouter = train(.activationBCE) }
            case .relu0:
                any = train(.activationBCE)
                conversions.moefication[experts] = any
                if experts == plan.mainExperts { conversions.noEnforcement = train(.normRegression) }
            default:
                any = train(.normRegression)
                conversions.highAlpha = any
            }
            conversions.routerSeconds += Date().timeIntervalSince(routed)
            // Exactness: the MoE computed expert by expert with every expert selected vs the dense FFN.
            let dense = tuned[variant]!.dense
            let moe = evaluate(model, windows: setup.evalWindows, firstScored: plan.evalFirstScored, conversion: any.conversion,
                               gating: .topK(experts), path: .expertSum)
            let logitError = zip(moe.logits, dense.logits).reduce(0.0) { max($0, Double(abs($1.0 - $1.1))) }
            conversions.exactness.append((name, abs(moe.stats.meanNLL - dense.stats.meanNLL) / dense.stats.meanNLL, logitError))
            log("\(name): routers trained (final loss \(formatNumber(any.losses.last ?? .nan))), max |Δlogit| all experts \(formatNumber(logitError))")
        }
    }
    return conversions
}

/// Every sweep of the run, with the curves the figures and claims read.
struct Sweeps {
    let plan: Plan
    var d2dmoe: [Int: [SweepPoint]] = [:]
    var moefication: [Int: [SweepPoint]] = [:]
    var noEnforcement: [SweepPoint] = []
    var highAlpha: [SweepPoint] = []
    var topK: [SweepPoint] = []
    var bceRouter: [SweepPoint] = []

    func curve(_ method: String, experts: Int, _ points: [SweepPoint]) -> CostCurve {
        CostCurve(method: method, experts: experts, points: points.map(\.point))
    }
    var main: Int { plan.mainExperts }
    var d2dmoeCurve: CostCurve { curve("D2DMoE", experts: main, d2dmoe[main]!) }
    var moeficationCurve: CostCurve { curve("MoEfication", experts: main, moefication[main]!) }
    var noEnforcementCurve: CostCurve { curve("no enforcement", experts: main, noEnforcement) }
    var highAlphaCurve: CostCurve { curve("D2DMoE α_high", experts: main, highAlpha) }
    var topKCurve: CostCurve { curve("top-k (norm router)", experts: main, topK) }
    var bceRouterCurve: CostCurve { curve("BCE router + dynamic-k", experts: main, bceRouter) }

    /// Every curve, for the tables: main-E methods, then the other E.
    var allCurves: [CostCurve] {
        [d2dmoeCurve, moeficationCurve, noEnforcementCurve, topKCurve, bceRouterCurve, highAlphaCurve]
            + plan.expertCounts.filter { $0 != main }.flatMap { e in
                [curve("D2DMoE", experts: e, d2dmoe[e]!), curve("MoEfication", experts: e, moefication[e]!)]
            }
    }
}

/// Runs every sweep: τ over dynamic-k conversions, k over top-k ones.
func runSweeps(_ tuned: [Variant: FineTuned], _ conversions: Conversions, _ setup: Setup, log: (String) -> Void) -> Sweeps {
    let plan = setup.plan
    let taus = plan.tauGrid.map { ExpertGating.dynamicK(tau: $0) }
    func ks(_ experts: Int) -> [ExpertGating] { plan.kValues(experts: experts).map { .topK($0) } }
    let progress = setup.options.progress("sweeps", total: plan.expertCounts.count * 2 + 4)
    var sweeps = Sweeps(plan: plan)
    var done = 0
    func step() { done += 1; progress.update(done) }
    for experts in plan.expertCounts {
        sweeps.d2dmoe[experts] = sweep(tuned[.reluMid]!.model, conversions.d2dmoe[experts]!, gatings: taus, setup); step()
        sweeps.moefication[experts] = sweep(tuned[.relu0]!.model, conversions.moefication[experts]!, gatings: ks(experts), setup); step()
    }
    sweeps.noEnforcement = sweep(tuned[.relu0]!.model, conversions.noEnforcement, gatings: taus, setup); step()
    sweeps.highAlpha = sweep(tuned[.reluHigh]!.model, conversions.highAlpha, gatings: taus, setup); step()
    sweeps.topK = sweep(tuned[.reluMid]!.model, conversions.d2dmoe[plan.mainExperts]!, gatings: ks(plan.mainExperts), setup); step()
    sweeps.bceRouter = sweep(tuned[.reluMid]!.model, conversions.bceRouter, gatings: taus, setup); step()
    progress.finish()
    log("D2DMoE E=\(plan.mainExperts) costs " + sweeps.d2dmoe[plan.mainExperts]!.map { formatPercent($0.point.cost) }.joined(separator: " "))
    return sweeps
}

/// The D2DMoE point whose FFN cost is closest to 50 % and its load statistics.
struct LoadPoint {
    let point: SweepPoint
    let layerRatio: Double
    let tokenStd: Double
}

func halfCostLoad(_ points: [SweepPoint], experts: Int) -> LoadPoint {
    let point = points.min { abs($0.point.cost - 0.5) < abs($1.point.cost - 0.5) }!
    let spread = layerLoadSpread(meanSelected: point.evaluation.meanSelected, tokenFractions: point.evaluation.tokenFractions, experts: experts)
    return LoadPoint(point: point, layerRatio: spread.layerRatio, tokenStd: spread.tokenStd)
}

/// The CE of a unigram model (character frequencies of the training text, add-one) on the scored targets of the
/// evaluation windows: the trivial baseline a model must beat to have learned anything.
func unigramCrossEntropy(train: [Int], windows: [[Int]], firstScored: Int, vocabulary: Int) -> Double {
    var counts = [Double](repeating: 1, count: vocabulary)
    for token in train { counts[token] += 1 }
    let total = counts.reduce(0, +)
    var sum = 0.0, n = 0
    for window in windows { for i in firstScored..<window.count { sum -= Foundation.log(counts[window[i]] / total); n += 1 } }
    return sum / Double(max(n, 1))
}

/// Mean of the last n values.
func meanOfLast(_ values: [Float], _ n: Int) -> Double { Double(values.suffix(n).reduce(0, +)) / Double(max(min(n, values.count), 1)) }

/// "47.3 %".
func formatPercent(_ x: Double) -> String { String(format: "%.1f %%", 100 * x) }
