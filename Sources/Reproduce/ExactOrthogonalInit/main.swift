import Dispatch
import ExactOrthogonalInitCore
import Foundation
import Lab

let options = Options.parse()
let sizes = options.scale == .full ? Sizes.full : Sizes.smoke
let seeds = (0..<5).map { options.seed + $0 }
let base = RNG(seed: UInt64(options.seed))
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
var t0 = now()
@MainActor func lap(_ name: String) { let t = now(); print("[\(name)] \(String(format: "%.1f", t - t0)) s"); t0 = t }

let which = ProcessInfo.processInfo.environment["EOI_ONLY"] ?? "12345"

// Data
let fashionTrain = try readIDX(images: "data/fashion-mnist/train-images-idx3-ubyte.gz", labels: "data/fashion-mnist/train-labels-idx1-ubyte.gz")
let fashionTest = try readIDX(images: "data/fashion-mnist/t10k-images-idx3-ubyte.gz", labels: "data/fashion-mnist/t10k-labels-idx1-ubyte.gz")
let moments = pixelMoments(fashionTrain)
print("mean \(moments.mean) std \(moments.std)")
var dataRNG = base.derived("data")
let testIdx = sizes.testImages.map { balancedIndices(fashionTest.labels, perClass: $0 / 10, rng: &dataRNG) } ?? Array(0..<fashionTest.labels.count)
let test = standardized(fashionTest, testIdx, mean: moments.mean, std: moments.std)
lap("data")

if which.contains("1") {
    let g = try generatorStudy(sizes, rng: base.derived("E1"))
    for r in g.eoi { print("EOI \(r.outputs)x\(r.inputs) d=\(r.density) achieved=\(r.achievedDensity) rot=\(r.rotations) e=\(r.orthogonalityError) dec=\(r.densityDecreases) t=\(r.seconds)") }
    for r in g.sao { print("SAO \(r.side) d=\(r.density) e=\(r.orthogonalityError) deg=\(r.degreeErrors) t=\(r.seconds)") }
    for r in g.dense { print("QR \(r.outputs)x\(r.inputs) t=\(r.seconds)") }
    lap("E1")
}
var networks: [JacobianNetwork] = []
if which.contains("2") || which.contains("3") {
    var r = base.derived("E2/images")
    let probeIdx = Array(balancedIndices(fashionTest.labels, perClass: 4, rng: &r).prefix(sizes.jacobianImages))
    let probe = standardized(fashionTest, probeIdx, mean: moments.mean, std: moments.std).images
    let mlpSeeds = sizes.mlpSeeds, mlpD = sizes.mlpDensities
    networks = try jacobianStudy(sizes, seeds: Array(seeds.prefix(sizes.jacobianSeeds)), probe: probe) { s, m, d in
        s < mlpSeeds && (m == .dense || mlpD.contains(d))
    }
    for n in networks where n.seed == seeds[0] {
        print("\(n.method.label) d=\(n.density) " + Activation.allCases.map { "\($0.rawValue): \(String(format: "%.4f±%.4f", n.meanSingularValue[$0]!, n.stdSingularValue[$0]!))" }.joined(separator: " ") + " ad=\(n.autodiffDifference ?? -1)")
    }
    lap("E2")
}
if which.contains("3") {
    var r = base.derived("E3/data")
    let idx = balancedIndices(fashionTrain.labels, perClass: sizes.mlpTrainImages / 10, rng: &r)
    let all = standardized(fashionTrain, idx, mean: moments.mean, std: moments.std)
    let nVal = Int(Double(all.count) * sizes.validationFraction)
    let perm = r.permutation(all.count)
    let val = LabeledImages(images: all.images.indexSelect(axis: 0, Array(perm[0..<nVal])), labels: perm[0..<nVal].map { all.labels[$0] })
    let tr = LabeledImages(images: all.images.indexSelect(axis: 0, Array(perm[nVal...])), labels: perm[nVal...].map { all.labels[$0] })
    let s = try mlpAccuracyStudy(sizes, seeds: Array(seeds.prefix(sizes.mlpSeeds)), train: tr, validation: val, test: test, initial: networks)
    print("calibration \(s.calibration)")
    for run in s.runs { print("\(run.method.label) d=\(run.density) seed \(run.seed) acc \(run.outcome.accuracy) leak \(run.outcome.maskLeak) div \(String(describing: run.outcome.divergedAtStep)) lastloss \(run.outcome.stepLosses.last ?? -1)") }
    lap("E3")
}
if which.contains("5") {
    var r = base.derived("E5/data")
    let idx = balancedIndices(fashionTrain.labels, perClass: sizes.deepTrainImages / 10, rng: &r)
    let all = standardized(fashionTrain, idx, mean: moments.mean, std: moments.std)
    let nVal = Int(Double(all.count) * sizes.validationFraction)
    let perm = r.permutation(all.count)
    let val = LabeledImages(images: all.images.indexSelect(axis: 0, Array(perm[0..<nVal])), labels: perm[0..<nVal].map { all.labels[$0] })
    let tr = LabeledImages(images: all.images.indexSelect(axis: 0, Array(perm[nVal...])), labels: perm[nVal...].map { all.labels[$0] })
    let m = try readMNIST5k("data/mnist5k/mnist_5k.csv.gz")
    let mm = pixelMoments(m)
    let mIdx = balancedIndices(m.labels, perClass: 400, rng: &r)
    let mTest = Array(Set(0..<m.labels.count).subtracting(mIdx)).sorted()
    let s = try deepMLPStudy(sizes, seeds: seeds, fashion: (tr, val, test),
                             mnist: (standardized(m, Array(mIdx.prefix(sizes.deepTrainImages * 9 / 10)), mean: mm.mean, std: mm.std), standardized(m, mTest, mean: mm.mean, std: mm.std)))
    print("calibration \(s.calibration)")
    for run in s.runs { print("\(run.dataset) D=\(run.depth) \(run.method.label) seed \(run.seed) acc \(run.outcome.accuracy) leak \(run.outcome.maskLeak) lastloss \(run.outcome.stepLosses.last ?? -1)") }
    lap("E5")
}
func cpu() -> Double { var t = timespec(); clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9 }
if which.contains("A") {
    Parallel.setThreads(1)
    var r = RNG(seed: 1)
    let t1 = cpu()
    _ = try SparseInit.approximateIsometry([128, 128], density: 1.0 / 8, gain: 1, steps: 1000, rng: &r)
    print("AI 128 x1000: \(cpu() - t1)")
    let t2 = cpu()
    _ = try SparseInit.approximateIsometry([64, 64], density: 1.0 / 8, gain: 1, steps: 1000, rng: &r)
    print("AI 64 x1000: \(cpu() - t2)")
    let t3 = cpu()
    _ = try SparseInit.approximateIsometry([32, 32, 3, 3], density: 1.0 / 8, gain: 1, steps: 1000, rng: &r)
    print("AI 32x288 x1000: \(cpu() - t3)")
}
if which.contains("B") {
    Parallel.setThreads(1)
    var r = base.derived("B")
    let idx = balancedIndices(fashionTrain.labels, perClass: 540, rng: &r)
    let tr = standardized(fashionTrain, idx, mean: moments.mean, std: moments.std)
    for (name, widths, scale) in [("mlp7", sizes.mlpWidths, InitScale.unit), ("deep128", sizes.deepWidths(depth: 128), InitScale.tanhCritical)] {
        let model = try SparseMLP(widths: widths, activation: .tanh, method: .exactOrthogonal, density: 1.0 / 8, scale: scale, aiSteps: 0, rng: RNG(seed: 0))
        let c0 = cpu(), w0 = now()
        let o = ExactOrthogonalInitCore.train(model, on: tr, evaluateOn: test, setup: TrainingSetup(epochs: 1, batchSize: 64, learningRate: 0.01), rng: RNG(seed: 1))
        let steps = o.stepLosses.count
        print("\(name): \(steps) steps + eval \(test.count): cpu \(cpu() - c0) wall \(now() - w0) per step \((cpu() - c0) / Double(steps) * 1000) ms")
        let c1 = cpu()
        _ = accuracy(of: model, on: test)
        print("  eval only cpu \(cpu() - c1)")
    }
}
