// swift-tools-version:6.0
// LabBook: ten ML papers reproduced end to end on one shared numeric library, Lab.
// Layout and rules: README.md and ../shared/DESIGN.md. Lab is split into one module per room so that a
// paper imports what it uses (`import Lab`, `import LabPlot`, ...) and rooms build independently.
import PackageDescription

/// Release builds use -O (not -Ounchecked): preconditions that name shapes and ops must stay in force, and
/// the hot loops run over unsafe buffer pointers, which carry no bounds checks in -O anyway.
let fast: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "LabBook",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Lab", targets: ["Lab"]),
        .executable(name: "exact-orthogonal-init", targets: ["ExactOrthogonalInit"]),
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

        // exact-orthogonal-init (arXiv 2406.01755): the paper's helpers (tested) and its literate script.
        .target(name: "ExactOrthogonalInitCore", dependencies: ["Lab"], path: "Sources/Reproduce/ExactOrthogonalInitCore", swiftSettings: fast),
        .executableTarget(name: "ExactOrthogonalInit", dependencies: ["Lab", "ExactOrthogonalInitCore", "CZlib"], path: "Sources/Reproduce/ExactOrthogonalInit", swiftSettings: fast),

        .testTarget(name: "LabTests", dependencies: ["Lab"], path: "Tests/LabTests"),
        .testTarget(name: "ReproduceTests", dependencies: ["Lab", "ExactOrthogonalInitCore"], path: "Tests/ReproduceTests"),
    ],
    swiftLanguageModes: [.v6]
)
