// lab-bench: Lab vs PyTorch on the same workloads (issue 2). Each workload runs in its own process so its
// peak memory is its own; the PyTorch peer (bench/peers/torch_bench.py) runs the same workloads when a
// PyTorch is importable. Prints a table and writes bench/results.json.
//
//   lab-bench                       all workloads, with the peer if available
//   lab-bench --workload mlp        one workload in this process (used by the driver), prints one JSON line
import CBLAS
import Foundation
import Lab

struct Measurement: Codable {
    var workload: String
    var seconds: Double
    var peakMB: Double
    var detail: String
}

func peakRSSMB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func time(_ body: () -> Void) -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

// MARK: - Workloads (mirror bench/peers/torch_bench.py exactly)

/// One epoch of minibatch training (cross-entropy, in order, no shuffling); returns the last batch's loss.
func trainEpoch(_ model: (Tensor) -> Tensor, _ optimizer: Optimizer, x: Tensor, y: [Int], batch: Int) -> Float {
    let n = x.shape[0]
    var last: Float = 0
    for start in stride(from: 0, to: n, by: batch) {
        let end = min(start + batch, n)
        let loss = crossEntropy(model(x.slice(axis: 0, start..<end)), targets: Array(y[start..<end]))
        optimizer.zeroGrad()
        loss.backward()
        optimizer.step()
        last = loss.item
    }
    return last
}

/// Times the second of two epochs (the first warms up the allocator and OpenBLAS's buffers, as the peer does).
func timedEpoch(_ name: String, _ model: @escaping (Tensor) -> Tensor, _ optimizer: Optimizer, x: Tensor, y: [Int],
                batch: Int) -> Measurement {
    _ = trainEpoch(model, optimizer, x: x, y: y, batch: batch)
    var loss: Float = 0
    let s = time { loss = trainEpoch(model, optimizer, x: x, y: y, batch: batch) }
    return Measurement(workload: name, seconds: s, peakMB: peakRSSMB(), detail: "final loss \(loss)")
}

/// MLP 784-512-512-10, one epoch over 10,000 samples, batch 128, Adam, cross-entropy.
func mlpEpoch() -> Measurement {
    var rng = RNG(seed: 0)
    let fc1 = Linear(inputSize: 784, outputSize: 512, rng: &rng)
    let fc2 = Linear(inputSize: 512, outputSize: 512, rng: &rng)
    let fc3 = Linear(inputSize: 512, outputSize: 10, rng: &rng)
    let params = fc1.parameters + fc2.parameters + fc3.parameters
    let opt = Adam(parameters: params, learningRate: 1e-3)
    let n = 10_000
    let x = Tensor.randn([n, 784], rng: &rng)
    let y = (0..<n).map { _ in rng.int(below: 10) }
    return timedEpoch("mlp", { fc3(fc2(fc1($0).relu()).relu()) }, opt, x: x, y: y, batch: 128)
}

/// CNN conv3x3 3→32, ReLU, conv3x3 32→64, ReLU, maxpool 2, fc 12544→10; one epoch over 2,000 32x32x3 samples, batch
/// 64, Adam. Each ReLU is fused into its convolution (`Conv2d(relu: true)`: the same numbers as a separate `relu()`).
/// `algorithm`: Lab's default `.automatic` (workload `cnn`: Winograd for the 32→64 layer, im2col for 3→32) or
/// `.im2col` everywhere (`cnn-im2col`; the peer runs the same `cnn` network for both). `cnn-native` is `cnn` with
/// LAB_KERNELS=native (this CPU's fastest OpenBLAS kernels, opt-in: not bit-identical across CPU families).
func cnnEpoch(_ algorithm: ConvAlgorithm = .automatic, name: String? = nil) -> Measurement {
    var rng = RNG(seed: 0)
    let net = Sequential(Conv2d(inputChannels: 3, outputChannels: 32, kernelSize: 3, algorithm: algorithm, relu: true, rng: &rng),
                         Conv2d(inputChannels: 32, outputChannels: 64, kernelSize: 3, algorithm: algorithm, relu: true, rng: &rng),
                         MaxPool2d(kernel: 2), Lambda { $0.flattened() },
                         Linear(inputSize: 12544, outputSize: 10, rng: &rng))
    let opt = Adam(parameters: net.parameters, learningRate: 1e-3)
    let n = 2_000
    let x = Tensor.randn([n, 3, 32, 32], rng: &rng)
    let y = (0..<n).map { _ in rng.int(below: 10) }
    var m = timedEpoch(name ?? (algorithm == .automatic ? "cnn" : "cnn-im2col"), { net($0) }, opt, x: x, y: y, batch: 64)
    if Parallel.kernels == .native { m.detail += ", LAB_KERNELS=native: OpenBLAS \(Parallel.openBLASCore) kernels" }
    return m
}

/// Seconds per training step: 3 warm-up steps, then the mean of 20 (as the PyTorch peer's `per_step`). `step`
/// returns its loss; the last one goes into the detail, so two builds can be checked for the same arithmetic.
func perStep(_ workload: String, _ step: () -> Float) -> Measurement {
    for _ in 0..<3 { _ = step() }
    let steps = 20
    var loss: Float = 0
    let s = time { for _ in 0..<steps { loss = step() } } / Double(steps)
    return Measurement(workload: workload, seconds: s, peakMB: peakRSSMB(), detail: "seconds per step, final loss \(loss)")
}

/// One step of a pre-norm transformer block (d 128, 4 heads, T 64, batch 32): forward, backward, AdamW.
func transformerStep() -> Measurement {
    var rng = RNG(seed: 0)
    let (d, t, b) = (128, 64, 32)
    let ln1 = LayerNorm(features: d), ln2 = LayerNorm(features: d)
    let attention = MultiHeadAttention(dimension: d, heads: 4, causal: true, bias: true, rng: &rng)
    let up = Linear(inputSize: d, outputSize: 4 * d, rng: &rng), down = Linear(inputSize: 4 * d, outputSize: d, rng: &rng)
    let params = ln1.parameters + ln2.parameters + attention.parameters + up.parameters + down.parameters
    let opt = AdamW(parameters: params, learningRate: 1e-3)
    let x = Tensor.randn([b, t, d], rng: &rng)
    func step() -> Float {
        let h = x + attention(ln1(x))
        let out = h + down(up(ln2(h)).gelu())
        let loss = out.square().mean()
        opt.zeroGrad()
        loss.backward()
        opt.step()
        return loss.item
    }
    return perStep("transformer", step)
}

/// One training step of a small Llama-style character LM (the activation-sparsity paper's ladder model L4:
/// d 128, 4 layers, 8 heads of 16, SwiGLU 344, RMSNorm, RoPE, causal, tied embedding, vocabulary 76) on a batch
/// of 24 windows × 128 characters: forward, cross-entropy, backward, gradient clipping, AdamW.
func charLMStep() -> Measurement {
    var rng = RNG(seed: 0)
    let (d, layers, heads, m, vocabulary, b, t) = (128, 4, 8, 344, 76, 24, 128)
    let embedding = Embedding(vocabularySize: vocabulary, dimension: d, std: 0.02, rng: &rng)
    let blocks = (0..<layers).map { _ in
        (RMSNorm(features: d), MultiHeadAttention(dimension: d, heads: heads, causal: true, ropeBase: 10_000, rng: &rng),
         RMSNorm(features: d), SwiGLU(dimension: d, hiddenSize: m, rng: &rng))
    }
    let finalNorm = RMSNorm(features: d)
    let params = embedding.parameters + finalNorm.parameters
        + blocks.flatMap { $0.0.parameters + $0.1.parameters + $0.2.parameters + $0.3.parameters }
    let opt = AdamW(parameters: params, learningRate: 3e-3, beta1: 0.9, beta2: 0.95, weightDecay: 0.1)
    func step() -> Float {
        let ids = (0..<b * (t + 1)).map { _ in rng.int(below: vocabulary - 1) }
        var inputs: [Int] = [], targets: [Int] = []
        for w in 0..<b {
            inputs += ids[w * (t + 1)..<w * (t + 1) + t]
            targets += ids[w * (t + 1) + 1...w * (t + 1) + t]
        }
        var x = embedding(inputs, shape: [b, t])
        for (norm1, attention, norm2, ffn) in blocks {
            x = x + attention(norm1(x))
            x = x + ffn(norm2(x))
        }
        let logits = finalNorm(x).reshaped([b * t, d]).matmul(embedding.weight, transposeB: true)
        let loss = crossEntropy(logits, targets: targets)
        opt.zeroGrad()
        loss.backward()
        clipGradientNorm(params, maxNorm: 1)
        opt.step()
        return loss.item
    }
    return perStep("charlm", step)
}

/// The median of `values` (the mean of the middle two for an even count; NaN when empty).
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// The median of `count` timed calls of `body` (seconds).
func medianTime(_ count: Int, _ body: () -> Void) -> Double {
    median((0..<count).map { _ in time(body) })
}

/// SGEMM through Lab's matmul vs raw cblas_sgemm, n x n x n: a quarter second of products to warm up, then the
/// median of 30 products (bench/peers/torch_bench.py times `a @ b` the same way). Lab's GEMMs run OpenBLAS on one
/// thread and split the product over Lab's threads; the raw reference is OpenBLAS's own threading with the same
/// thread count, switched on in this single-threaded process only after Lab's runs.
func gemm(_ n: Int) -> Measurement {
    var rng = RNG(seed: 0)
    let a = Tensor.randn([n, n], rng: &rng), b = Tensor.randn([n, n], rng: &rng)
    var c = [Float](repeating: 0, count: n * n)
    func warmUp(_ body: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        while DispatchTime.now().uptimeNanoseconds - start < 250_000_000 { body() }
    }
    warmUp { _ = a.matmul(b) }
    let lab = medianTime(30) { _ = a.matmul(b) }
    openblas_set_num_threads(Int32(Parallel.threads))
    let raw: () -> Void = {
        a.data.withUnsafeBufferPointer { ap in b.data.withUnsafeBufferPointer { bp in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1,
                        ap.baseAddress, Int32(n), bp.baseAddress, Int32(n), 0, &c, Int32(n))
        } }
    }
    warmUp(raw)
    let rawSeconds = medianTime(30, raw)
    let flops = 2 * Double(n * n * n)
    return Measurement(workload: "gemm\(n)", seconds: lab, peakMB: peakRSSMB(),
                       detail: String(format: "Lab %.1f GFLOP/s, raw OpenBLAS %.1f GFLOP/s (%.0f%%)",
                                      flops / lab / 1e9, flops / rawSeconds / 1e9, 100 * rawSeconds / lab))
}

/// The early-exit evaluator (docs/papers/early-exit-calibration.md §3) at the size of that paper's evaluation
/// stage: 600 cost–accuracy curves of 10,000 samples and 4 exits, each with its own threshold set (999 quantiles of
/// 30,000 pooled confidences, 501 uniform points, 0 and +∞). Lab only: the peer has no such workload.
func earlyExitCurves() -> Measurement {
    var rng = RNG(seed: 0)
    let samples = 10_000, curves = 600
    let confidences = (0..<4).map { _ in (0..<samples).map { _ in rng.uniform() } }
    let correct = (0..<4).map { k in (0..<samples).map { _ in rng.bernoulli(0.6 + 0.08 * Double(k)) } }
    var totalArea = 0.0
    let seconds = time {
        for _ in 0..<curves {
            let thresholds = EarlyExitCurve.thresholds(pooling: Array(confidences.prefix(3)))
            totalArea += EarlyExitCurve(confidences: confidences, correct: correct, exitCosts: [0.24, 0.62, 0.81, 1],
                                        thresholds: thresholds).area
        }
    }
    return Measurement(workload: "eecurves", seconds: seconds, peakMB: peakRSSMB(),
                       detail: String(format: "%d curves of %d samples x 4 exits: %.2f ms per curve (mean AUC %.3f)",
                                      curves, samples, 1000 * seconds / Double(curves), totalArea / Double(curves)))
}

var workloads: [String: () -> Measurement] = [
    "mlp": mlpEpoch, "cnn": { cnnEpoch() }, "cnn-im2col": { cnnEpoch(.im2col) }, "cnn-native": { cnnEpoch(name: "cnn-native") },
    "transformer": transformerStep, "charlm": charLMStep,
    "gemm512": { gemm(512) }, "gemm1024": { gemm(1024) }, "eecurves": earlyExitCurves,
]
let order = ["mlp", "cnn", "cnn-im2col", "cnn-native", "transformer", "charlm", "gemm512", "gemm1024", "eecurves"]

// MARK: - Driver

let args = CommandLine.arguments
let usage = """
    usage: lab-bench [--out PATH] [--python PATH] [--repetitions N]
                         every workload, Lab and its PyTorch peer, N runs each (default 5), each run a fresh process,
                         Lab's and the peer's runs alternating; prints medians and ranges and writes PATH
                         (default bench/results.json). The method: bench/README.md.
           lab-bench --workload NAME
                         one workload in this process, one JSON line on stdout
    workloads: \(order.joined(separator: ", "))
    """

/// The value of each `--flag value` option; `--help` prints the usage and exits 0 (before any work or write);
/// anything else (an unknown or repeated flag, a flag without its value) exits 64 with a one-line error.
func parseOptions(_ arguments: [String]) -> [String: String] {
    func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("lab-bench: \(message)\n".utf8))
        exit(64)
    }
    var options: [String: String] = [:]
    var rest = arguments.dropFirst()
    while let flag = rest.popFirst() {
        if flag == "--help" || flag == "-h" { print(usage); exit(0) }
        guard ["--workload", "--out", "--python", "--repetitions"].contains(flag) else { fail("unknown argument '\(flag)' (see --help)") }
        guard options[flag] == nil else { fail("\(flag) given twice") }
        guard let value = rest.popFirst(), !value.hasPrefix("--"), !value.isEmpty else { fail("\(flag) needs a value") }
        options[flag] = value
    }
    if let value = options["--repetitions"], (Int(value) ?? 0) < 1 { fail("--repetitions \(value): need a whole number >= 1") }
    return options
}
let options = parseOptions(args)
// A `-native` workload runs with LAB_KERNELS=native and without an inherited OPENBLAS_CORETYPE, which would pin
// OpenBLAS's kernels (`configure` respects it), so OpenBLAS runs the family it picks for this CPU (Cooperlake's
// AVX-512 kernels on AMD Zen 5). OpenBLAS read the variable when it loaded: with it set, the process starts again
// once without it.
if options["--workload"]?.hasSuffix("-native") == true {
    setenv("LAB_KERNELS", "native", 1)
    if getenv("OPENBLAS_CORETYPE") != nil {
        unsetenv("OPENBLAS_CORETYPE")
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returns only on failure: the run goes on, and its detail names the kernels it ran.
    }
}
Parallel.configure()
if let name = options["--workload"] {
    guard let run = workloads[name] else {
        FileHandle.standardError.write(Data("lab-bench: unknown workload \(name); known: \(order.filter { workloads[$0] != nil })\n".utf8))
        exit(64)
    }
    let m = run()
    print(String(data: try! JSONEncoder().encode(m), encoding: .utf8)!)
    exit(0)
}

func runChild(_ command: [String]) -> Measurement? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: command[0])
    p.arguments = Array(command.dropFirst())
    let pipe = Pipe()
    p.standardOutput = pipe
    do { try p.run() } catch { return nil }
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0, let line = String(data: out, encoding: .utf8)?
        .split(separator: "\n").last else { return nil }
    return try? JSONDecoder().decode(Measurement.self, from: Data(line.utf8))
}

/// The runs of one side of one workload: each run's seconds, their median, fastest and slowest.
struct Summary: Codable {
    var runs: [Double]
    var median: Double
    var min: Double
    var max: Double
    var peakMB: Double

    init(_ measurements: [Measurement]) {
        runs = measurements.map(\.seconds)
        median = LabBench.median(runs)
        min = runs.min() ?? .nan
        max = runs.max() ?? .nan
        peakMB = measurements.map(\.peakMB).max() ?? .nan
    }
}

/// One workload: Lab's and the peer's runs; ratio = Lab's median / the peer's median (below 1: Lab is faster),
/// and the range of the per-repetition ratios (Lab's run i / the peer's run i, run back to back).
struct WorkloadResult: Codable {
    var workload: String
    var lab: Summary
    var peer: Summary?
    var ratio: Double?
    var ratioMin: Double?
    var ratioMax: Double?
    var detail: String
}

/// What bench/results.json holds: the results and everything needed to say where and how they were measured.
struct BenchResults: Codable {
    var date: String
    var cpu: String
    var cores: Int
    var threads: Int
    var kernels: String
    var openblasCore: String
    var openblas: String
    var torch: String
    var repetitions: Int
    var method: String
    var results: [WorkloadResult]
}

func cpuModel() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
          let colon = line.firstIndex(of: ":") else { return "unknown" }
    return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
}

/// The peer's workload for one of Lab's: `cnn-im2col` and `cnn-native` are the same network as `cnn`, with Lab's
/// im2col convolutions everywhere or its CPU-native kernels.
func peerWorkload(_ name: String) -> String { ["cnn-im2col", "cnn-native"].contains(name) ? "cnn" : name }

let outPath = options["--out"] ?? "bench/results.json"
let python = options["--python"] ?? "python3"
let repetitions = Int(options["--repetitions"] ?? "5")!
let peerScript = "bench/peers/torch_bench.py"
let torchAvailable = runChild([ "/usr/bin/env", python, "-c", "import torch, json; print(json.dumps({'workload': 'probe', 'seconds': 0, 'peakMB': 0, 'detail': torch.__version__}))"])
if torchAvailable == nil {
    print("PyTorch is not importable with \(python): Lab-only numbers (install torch in a venv and pass --python PATH).")
}
print("\(repetitions) runs per side, each a fresh process, Lab and peer alternating; median [min–max] seconds")
/// One table line: the workload name left-aligned, the other columns right-aligned to fixed widths.
func tableLine(_ cells: [String]) -> String {
    let widths = [12, 25, 25, 6, 10, 7, 9]
    return zip(cells, widths).enumerated().map { index, pair in
        let (text, width) = pair
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return index == 0 ? text + padding : padding + text
    }.joined(separator: " ") + "  " + (cells.count > widths.count ? cells[widths.count] : "")
}
print(tableLine(["workload", "Lab s", "torch s", "ratio", "range", "Lab MB", "torch MB", "detail"]))
var rows: [WorkloadResult] = []
func cell(_ s: Summary?) -> String {
    s.map { String(format: "%.4f [%.4f–%.4f]", $0.median, $0.min, $0.max) } ?? "-"
}
for name in order where workloads[name] != nil {
    var lab: [Measurement] = [], peer: [Measurement] = []
    for _ in 0..<repetitions {
        guard let l = runChild([args[0], "--workload", name]) else { break }
        lab.append(l)
        if torchAvailable != nil, name != "eecurves", let p = runChild(["/usr/bin/env", python, peerScript, peerWorkload(name)]) { peer.append(p) }
    }
    guard lab.count == repetitions else { print("\(name): Lab run failed"); continue }
    let labSummary = Summary(lab)
    let peerSummary = peer.count == repetitions ? Summary(peer) : nil
    let ratios = peerSummary == nil ? [] : zip(lab, peer).map { $0.seconds / $1.seconds }
    let result = WorkloadResult(workload: name, lab: labSummary, peer: peerSummary,
                                ratio: peerSummary.map { labSummary.median / $0.median },
                                ratioMin: ratios.min(), ratioMax: ratios.max(), detail: lab[0].detail)
    print(tableLine([name, cell(labSummary), cell(peerSummary), result.ratio.map { String(format: "%.2f", $0) } ?? "-",
                     result.ratioMin.map { String(format: "%.2f–%.2f", $0, result.ratioMax!) } ?? "-",
                     String(format: "%.0f", labSummary.peakMB), peerSummary.map { String(format: "%.0f", $0.peakMB) } ?? "-",
                     result.detail]))
    rows.append(result)
}
let formatter = ISO8601DateFormatter()
let report = BenchResults(
    date: formatter.string(from: Date()), cpu: cpuModel(), cores: ProcessInfo.processInfo.activeProcessorCount,
    threads: Parallel.threads, kernels: Parallel.kernels.rawValue, openblasCore: Parallel.openBLASCore,
    openblas: String(cString: openblas_get_config()), torch: torchAvailable?.detail ?? "unavailable",
    repetitions: repetitions,
    method: "each run a fresh process; Lab and peer runs alternate; training workloads: one warm-up epoch then one "
        + "timed epoch (mlp, cnn), or 3 warm-up steps then the mean of 20 (transformer, charlm); gemm: 0.25 s of "
        + "warm-up products then the median of 30; ratio = median Lab / median peer (bench/README.md)",
    results: rows)
let encoder = JSONEncoder()
encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
do { try AtomicFile.write(try encoder.encode(report), to: outPath) } catch { print("lab-bench: \(error)"); exit(1) }
print("wrote \(outPath)")
