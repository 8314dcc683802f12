// swift-tools-version:6.0
// LabBook: ten ML papers reproduced end to end on one shared numeric library, Lab.
// Layout and rules: README.md and docs/DESIGN.md. Lab is split into one module per room so that a
// paper imports what it uses (`import Lab`, `import LabPlot`, ...) and rooms build independently.
import PackageDescription

/// Release builds use -O (not -Ounchecked): preconditions that name shapes and ops must stay in force, and
/// the hot loops run over unsafe buffer pointers, which carry no bounds checks in -O anyway.
let fast: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "LabBook",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Lab", targets: ["Lab"]),
        .library(name: "LabData", targets: ["LabData"]),
        .executable(name: "lab-bench", targets: ["LabBench"]),
        .executable(name: "lab-results", targets: ["Results"]),
        .executable(name: "lab-seeds", targets: ["Seeds"]),
        .executable(name: "lab-golden", targets: ["Golden"]),
        .library(name: "LabPlot", targets: ["LabPlot"]),
        .executable(name: "lab-gallery", targets: ["Gallery"]),
        .executable(name: "lab-llm", targets: ["LLMDemo"]),
        // Paper executables (= make targets = figures/<name>/).
        .executable(name: "exact-orthogonal-init", targets: ["ExactOrthogonalInit"]),
        .executable(name: "expertsim", targets: ["ExpertSim"]),
        .executable(name: "hypersound", targets: ["HyperSound"]),
        .executable(name: "stability-gap", targets: ["StabilityGap"]),
        .executable(name: "activation-sparsity", targets: ["ActivationSparsity"]),
        .executable(name: "early-exit-calibration", targets: ["EarlyExitCalibration"]),
        .executable(name: "teacher-adaptation", targets: ["TeacherAdaptation"]),
        .executable(name: "early-exit-continual", targets: ["EarlyExitContinual"]),
        .executable(name: "safety-probe", targets: ["SafetyProbe"]),
        .executable(name: "dynamic-k-moe", targets: ["DynamicKMoE"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System libraries from Debian (see docs/DESIGN.md §6); `make deps` installs them.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CSndfile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Lab: tensors, autodiff, layers, optimizers, losses, linear algebra, metrics, random numbers.
        // CLabKernels: AVX2 versions of Lab's hottest elementwise loops, bit-identical to the Swift loops they mirror.
        .target(name: "CLabKernels", path: "Sources/CLabKernels"),
        .target(name: "Lab", dependencies: ["CBLAS", "CLabKernels"], path: "Sources/Lab",
                exclude: ["Plot", "Report", "Run", "Signal", "Data", "LLM", "Continual"], swiftSettings: fast),
        // LabSignal: audio I/O (libsndfile), resampling, FFT, STFT, mel, the differentiable MR-STFT loss, audio metrics.
        .target(name: "LabSignal", dependencies: ["Lab", "CSndfile"], path: "Sources/Lab/Signal", swiftSettings: fast),
        // LabData: dataset readers (IDX, pixel CSV, text, JSONL), image datasets, task splits, loaders, corpora, prompts.
        .target(name: "LabData", dependencies: ["Lab", "CZlib"], path: "Sources/Lab/Data", swiftSettings: fast),
        // LabContinual: class-incremental learning (task loop with per-task streams, growing multi-head classifier,
        // replay buffer, accuracy matrix and forgetting, the Fashion/MNIST task draws).
        .target(name: "LabContinual", dependencies: ["Lab", "LabData"], path: "Sources/Lab/Continual", swiftSettings: fast),
        // LabReport: the notebook of a run (sections, tables, figures, claims; REPORT.md, claims.json, run.json).
        .target(name: "LabReport", dependencies: ["Lab", "CBLAS"], path: "Sources/Lab/Report"),
        // LabRun: the shared command line of every paper executable, progress, NaN guards, exit codes, job pool.
        .target(name: "LabRun", dependencies: ["Lab", "LabReport", "LabPlot", argumentParser], path: "Sources/Lab/Run"),

        // lab-results: regenerates the README results table from every figures/*/claims.json.
        .executableTarget(name: "Results", dependencies: ["LabReport", argumentParser], path: "Sources/Tools/Results"),
        // lab-seeds: aggregates claims over seeds (claims-seeds.json, table-seeds.md, the README seeds section).
        .executableTarget(name: "Seeds", dependencies: ["LabReport", argumentParser], path: "Sources/Tools/Seeds"),
        // lab-golden: the golden smoke check (each paper's smoke claims.json against Tests/Golden/<paper>/).
        .executableTarget(name: "Golden", dependencies: ["LabReport", argumentParser], path: "Sources/Tools/Golden"),
        // lab-bench: Lab vs the PyTorch peer on the same workloads.
        .executableTarget(name: "LabBench", dependencies: ["Lab", "CBLAS"], path: "Benchmarks/LabBench", swiftSettings: fast),

        // Plot: figures drawn with Cairo, written as PNG (with provenance text chunks) by a small C target.
        .target(name: "CLabPNG", dependencies: ["CPNG"], path: "Sources/CLabPNG"),
        .target(name: "LabPlot", dependencies: ["CCairo", "CLabPNG"], path: "Sources/Lab/Plot"),
        .executableTarget(name: "Gallery", dependencies: ["LabPlot", "LabSignal", "Lab"], path: "Sources/Tools/Gallery"),
        // LLM: GGUF reader, byte-level BPE tokenizer, Llama forward with hooks (SmolLM2), AVX2 decode kernels in C.
        .target(name: "CLLMKernels", path: "Sources/CLLMKernels"),
        .target(name: "LabLLM", dependencies: ["Lab", "CBLAS", "CLabKernels", "CLLMKernels"], path: "Sources/Lab/LLM", swiftSettings: fast),
        .executableTarget(name: "LLMDemo", dependencies: ["LabLLM", "Lab", "LabRun", argumentParser], path: "Sources/Tools/LLMDemo", swiftSettings: fast),

        // expertsim (arXiv 2508.20991): the ZDC Monte-Carlo simulator and metrics (Core), the literate script.
        .target(name: "ExpertSimCore", dependencies: ["Lab"], path: "Sources/ReproduceCore/ExpertSim", swiftSettings: fast),
        .executableTarget(name: "ExpertSim", dependencies: ["Lab", "LabRun", "ExpertSimCore"], path: "Sources/Reproduce/ExpertSim", swiftSettings: fast),
        // hypersound (arXiv 2302.04959): the literate script and its tested helpers.
        .target(name: "HyperSoundCore", dependencies: ["Lab", "LabSignal"], path: "Sources/ReproduceCore/HyperSound", swiftSettings: fast),
        .executableTarget(name: "HyperSound", dependencies: ["Lab", "LabRun", "LabSignal", "HyperSoundCore"], path: "Sources/Reproduce/HyperSound", swiftSettings: fast),
        // exact-orthogonal-init (arXiv 2406.01755): the paper's helpers (tested) and its literate script.
        .target(name: "ExactOrthogonalInitCore", dependencies: ["Lab"], path: "Sources/ReproduceCore/ExactOrthogonalInit", swiftSettings: fast),
        .executableTarget(name: "ExactOrthogonalInit", dependencies: ["Lab", "ExactOrthogonalInitCore", "LabData", "LabRun"], path: "Sources/Reproduce/ExactOrthogonalInit", swiftSettings: fast),
        // stability-gap (arXiv 2411.04723): the replay finetuning method, the three evaluation heads and the gap metrics (Core), the script.
        .target(name: "StabilityGapCore", dependencies: ["Lab", "LabData", "LabContinual"], path: "Sources/ReproduceCore/StabilityGap", swiftSettings: fast),
        .executableTarget(name: "StabilityGap", dependencies: ["Lab", "LabData", "LabContinual", "LabRun", "StabilityGapCore"], path: "Sources/Reproduce/StabilityGap", swiftSettings: fast),
        // activation-sparsity (arXiv 2509.00454): scoring, critical sparsity, probes, the ladder/diffusion LMs (Core), the script.
        .target(name: "ActivationSparsityCore", dependencies: ["Lab", "LabData", "LabLLM"], path: "Sources/ReproduceCore/ActivationSparsity", swiftSettings: fast),
        .executableTarget(name: "ActivationSparsity", dependencies: ["Lab", "LabData", "LabLLM", "LabRun", "ActivationSparsityCore"], path: "Sources/Reproduce/ActivationSparsity", swiftSettings: fast),
        // early-exit-calibration (arXiv 2508.21495): the multi-exit CNN, the toy, calibrators and per-exit metrics (Core), the script.
        .target(name: "EarlyExitCalibrationCore", dependencies: ["Lab", "LabData"], path: "Sources/ReproduceCore/EarlyExitCalibration", swiftSettings: fast),
        .executableTarget(name: "EarlyExitCalibration", dependencies: ["Lab", "LabData", "LabPlot", "LabRun", "EarlyExitCalibrationCore"], path: "Sources/Reproduce/EarlyExitCalibration", swiftSettings: fast),
        // teacher-adaptation (arXiv 2308.09544): KD methods, the KD error and Teacher Adaptation on LabContinual (Core), the script.
        .target(name: "TeacherAdaptationCore", dependencies: ["Lab", "LabData", "LabContinual"], path: "Sources/ReproduceCore/TeacherAdaptation", swiftSettings: fast),
        .executableTarget(name: "TeacherAdaptation", dependencies: ["Lab", "LabData", "LabContinual", "LabPlot", "LabRun", "TeacherAdaptationCore"], path: "Sources/Reproduce/TeacherAdaptation", swiftSettings: fast),
        // early-exit-continual (arXiv 2403.07404): the multi-head multi-exit CNN, CL methods, TLC and the exit evaluation (Core), the script.
        .target(name: "EarlyExitContinualCore", dependencies: ["Lab", "LabData", "LabContinual"], path: "Sources/ReproduceCore/EarlyExitContinual", swiftSettings: fast),
        .executableTarget(name: "EarlyExitContinual", dependencies: ["Lab", "LabData", "LabContinual", "LabPlot", "LabRun", "EarlyExitContinualCore"], path: "Sources/Reproduce/EarlyExitContinual", swiftSettings: fast),
        // safety-probe (arXiv 2502.16174): prompt pool, templated benign sets, heads, encoding, refusal detector (Core), the script.
        .target(name: "SafetyProbeCore", dependencies: ["Lab", "LabData", "LabLLM"], path: "Sources/ReproduceCore/SafetyProbe", swiftSettings: fast),
        .executableTarget(name: "SafetyProbe", dependencies: ["Lab", "LabData", "LabLLM", "LabPlot", "LabRun", "SafetyProbeCore"], path: "Sources/Reproduce/SafetyProbe", swiftSettings: fast),
        // dynamic-k-moe (arXiv 2310.04361): the char GPT-2, Hoyer loss, routers and MoE evaluation (Core), the script.
        .target(name: "DynamicKMoECore", dependencies: ["Lab", "LabData"], path: "Sources/ReproduceCore/DynamicKMoE", swiftSettings: fast),
        .executableTarget(name: "DynamicKMoE", dependencies: ["Lab", "LabData", "LabPlot", "LabRun", "DynamicKMoECore"], path: "Sources/Reproduce/DynamicKMoE", swiftSettings: fast),

        .testTarget(name: "ReproduceTests", dependencies: ["Lab", "LabSignal", "LabData", "LabContinual", "ExpertSimCore", "HyperSoundCore", "ExactOrthogonalInitCore",
                                                        "StabilityGapCore",
                                                        "ActivationSparsityCore", "LabLLM", "EarlyExitCalibrationCore", "EarlyExitContinualCore",
                                                        "TeacherAdaptationCore", "SafetyProbeCore", "DynamicKMoECore"],
                    path: "Tests/ReproduceTests"),
        .testTarget(name: "LabTests", dependencies: ["Lab", "LabSignal", "LabData", "LabContinual", "LabPlot", "LabReport", "LabRun", "LabLLM"],
                    path: "Tests/LabTests", exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
