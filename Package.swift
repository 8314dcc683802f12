// swift-tools-version:6.0
// LabBook: ten ML papers reproduced end to end on one shared numeric library, Lab.
// Layout and rules: README.md and ../shared/DESIGN.md. Lab is split into one module per room so that a
// paper imports what it uses (`import Lab`, `import LabPlot`, ...) and rooms build independently.
import PackageDescription

/// Hot numeric code is compiled without overflow/bounds checks in release builds; shapes are checked
/// explicitly at every op's entry instead (see Tensor/Shape.swift).
let fast: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "LabBook",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Lab", targets: ["Lab"]),
        .executable(name: "lab-llm", targets: ["LLMDemo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System libraries from Debian (see ../shared/SWIFT-SYSTEM-LIBS.md); `make deps` installs them.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CSndfile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Lab: tensors, autodiff, layers, optimizers, losses, linear algebra, metrics, random numbers.
        .target(name: "Lab", dependencies: ["CBLAS"], path: "Sources/Lab",
                exclude: ["Plot", "Report", "Run", "Signal", "Data", "LLM"], swiftSettings: fast),

        .target(name: "CLLMKernels", path: "Sources/CLLMKernels"),
        .target(name: "LabLLM", dependencies: ["Lab", "CBLAS", "CLLMKernels"], path: "Sources/Lab/LLM", swiftSettings: fast),
        .executableTarget(name: "LLMDemo", dependencies: ["LabLLM", "Lab", .product(name: "ArgumentParser", package: "swift-argument-parser")], path: "Sources/Tools/LLMDemo", swiftSettings: fast),

        .testTarget(name: "LabTests", dependencies: ["Lab", "LabLLM"], path: "Tests/LabTests"),
    ],
    swiftLanguageModes: [.v6]
)
