// lab-gallery: one example of every LabPlot plot type, so the look of the library can be reviewed at a glance.
// Usage: lab-gallery [--out DIR]   (default figures/gallery; `make gallery`)
// The data are synthetic and seeded (RNG seed 0): curves shaped like the ones the papers plot (losses over
// steps, accuracies over seeds, calorimeter showers), not results.
import Foundation
import Lab
import LabPlot

func usage() -> Never {
    print("""
        lab-gallery: draws one example of every LabPlot plot type as PNG.
        usage: lab-gallery [--out DIR]   (default: figures/gallery)
        """)
    exit(0)
}

var outputFolder = "figures/gallery"
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--out":
        guard let value = arguments.popFirst() else {
            FileHandle.standardError.write(Data("lab-gallery: --out needs a folder\n".utf8))
            exit(2)
        }
        outputFolder = value
    case "--help", "-h":
        usage()
    default:
        FileHandle.standardError.write(Data("lab-gallery: unknown option \(argument); see --help\n".utf8))
        exit(2)
    }
}

/// The current git commit, for provenance; "unknown" outside a repository.
func gitCommit() -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "rev-parse", "--short", "HEAD"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return "unknown" }
    process.waitUntilExit()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return process.terminationStatus == 0 ? output.trimmingCharacters(in: .whitespacesAndNewlines) : "unknown"
}

let metadata = ["command": CommandLine.arguments.joined(separator: " "), "commit": gitCommit(), "seed": "0",
                "scale": "gallery"]
var rng = RNG(seed: 0)
var written = 0

@MainActor func save(_ figure: Figure, _ name: String) throws {
    let path = "\(outputFolder)/\(name).png"
    try figure.savePNG(to: path, metadata: metadata)
    written += 1
    print("wrote \(path)")
}

let steps = (0...60).map { Double($0) * 50 }

do {
    // Lines: colour cycle, dashes, markers, a reference line, a task boundary and an annotation.
    let lines = Figure(width: 6, height: 4, dpi: 120)
    let ax = lines[0, 0]
    for (index, rate) in [0.9, 1.4, 2.2].enumerated() {
        let loss = steps.map { 0.35 + 2.0 * exp(-rate * $0 / 1000) + 0.03 * rng.normal() }
        ax.line(steps, loss, label: "lr = \(rate / 1000)", dash: [Dash.solid, .dashed, .dashDot][index])
    }
    let every = Array(stride(from: 0, to: steps.count, by: 6))
    ax.line(every.map { steps[$0] }, every.map { 1.2 * exp(-steps[$0] / 900) + 0.5 }, label: "baseline",
            marker: .square, markerSize: 4.5)
    ax.horizontalLine(at: 0.35, label: "paper: 0.35")
    ax.verticalLine(at: 1500, dash: .dotted)
    ax.text("task switch", x: 1530, y: 1.9)
    ax.title = "Lines, markers and reference lines"
    ax.xlabel = "step"
    ax.ylabel = "loss"
    try save(lines, "line")

    // Scatter: size and colour by value with a colour bar; hollow markers.
    let scatter = Figure(width: 6, height: 4, dpi: 120)
    let sx = (0..<120).map { _ in rng.normal() }
    let sy = sx.map { 0.6 * $0 + 0.5 * rng.normal() }
    let confidence = zip(sx, sy).map { 1 / (1 + exp(-($0 + $1))) }
    scatter[0, 0].scatter(sx, sy, sizes: sy.map(abs), values: confidence, colorMap: .viridis,
                          colorbarLabel: "confidence", alpha: 0.9)
    scatter[0, 0].scatter((0..<25).map { _ in rng.normal(mean: -1.5, std: 0.3) },
                          (0..<25).map { _ in rng.normal(mean: 1.4, std: 0.3) }, label: "outliers",
                          color: .red, size: 6, hollow: true)
    scatter[0, 0].title = "Scatter: size and colour by value"
    scatter[0, 0].xlabel = "feature 1"
    scatter[0, 0].ylabel = "feature 2"
    try save(scatter, "scatter")

    // Bars with error bars, and grouped bars.
    let bars = Figure(rows: 1, cols: 2, width: 8, height: 3.5, dpi: 120)
    bars[0, 0].bar(["SGD", "Adam", "AdamW", "Lion"], [0.912, 0.934, 0.941, 0.928],
                   errors: [0.006, 0.004, 0.003, 0.008])
    bars[0, 0].ylim = 0.85...0.96
    bars[0, 0].title = "Bars with error bars"
    bars[0, 0].ylabel = "accuracy"
    bars[0, 1].groupedBar(["task 1", "task 2", "task 3", "task 4"],
                          series: [("fine-tune", [0.31, 0.38, 0.52, 0.97]), ("EWC", [0.62, 0.66, 0.71, 0.93]),
                                   ("replay", [0.84, 0.86, 0.88, 0.95])])
    bars[0, 1].title = "Grouped bars"
    bars[0, 1].ylabel = "accuracy after task 4"
    bars[0, 1].ylim = 0...1.25
    try save(bars, "bar")

    // Histograms: overlapping, stacked, and log-x bins over a heavy-tailed quantity.
    let histograms = Figure(rows: 1, cols: 2, width: 8, height: 3.5, dpi: 120)
    let correct = (0..<800).map { _ in min(1, max(0, rng.normal(mean: 0.82, std: 0.1))) }
    let wrong = (0..<300).map { _ in min(1, max(0, rng.normal(mean: 0.55, std: 0.15))) }
    histograms[0, 0].histogram([correct, wrong], bins: .count(25), labels: ["correct", "wrong"], stacked: true)
    histograms[0, 0].title = "Stacked histogram"
    histograms[0, 0].xlabel = "confidence"
    histograms[0, 0].ylabel = "count"
    let energies = (0..<2000).map { _ in exp(rng.normal(mean: 3, std: 1.2)) }
    histograms[0, 1].histogram(energies, bins: .logarithmic(30), label: "cell energy", density: true)
    histograms[0, 1].yscale = .log10
    histograms[0, 1].title = "Log-x bins, log-y density"
    histograms[0, 1].xlabel = "energy (MeV)"
    try save(histograms, "histogram")

    // Mean ± band over seeds, and error bars.
    let bands = Figure(rows: 1, cols: 2, width: 8, height: 3.5, dpi: 120)
    for (name, ceiling) in [("EOI", 0.93), ("orthogonal", 0.9), ("Gaussian", 0.84)] {
        let runs = (0..<5).map { seed in
            var seeded = rng.derived(name).derived(seed)
            return steps.map { ceiling * (1 - exp(-$0 / 600)) + 0.02 * seeded.normal() }
        }
        bands[0, 0].meanBand(steps, runs: runs, label: name)
    }
    bands[0, 0].title = "Mean ± std over 5 seeds"
    bands[0, 0].xlabel = "step"
    bands[0, 0].ylabel = "test accuracy"
    let widths = [16.0, 32, 64, 128, 256]
    bands[0, 1].errorbar(widths, widths.map { 0.6 + 0.06 * log2($0) }, yerr: [0.05, 0.04, 0.03, 0.025, 0.02],
                         label: "dynamic-k")
    bands[0, 1].errorbar(widths, widths.map { 0.55 + 0.06 * log2($0) }, yerr: [0.06, 0.05, 0.04, 0.03, 0.03],
                         label: "top-2", marker: .triangle)
    bands[0, 1].xscale = .log2
    bands[0, 1].title = "Error bars, log2 x"
    bands[0, 1].xlabel = "hidden width"
    try save(bands, "band-errorbar")

    // Heatmaps: an annotated confusion matrix, and a diverging map centred on zero.
    let heatmaps = Figure(rows: 1, cols: 2, width: 9, height: 4, dpi: 120)
    let classes = ["cat", "dog", "car", "ship", "frog"]
    let confusion = classes.indices.map { row in
        classes.indices.map { column in row == column ? 80 + Double(rng.int(below: 15)) : Double(rng.int(below: 9)) }
    }
    heatmaps[0, 0].heatmap(confusion, colorMap: .magma, rowLabels: classes, columnLabels: classes,
                           annotationFormat: "%.0f", colorbarLabel: "count")
    heatmaps[0, 0].title = "Confusion matrix"
    heatmaps[0, 0].xlabel = "predicted"
    heatmaps[0, 0].ylabel = "true"
    let correlation = (0..<12).map { row in (0..<12).map { column in cos(Double(row - column) / 3) } }
    heatmaps[0, 1].heatmap(correlation, colorMap: .coolwarm, range: -1...1, colorbarLabel: "correlation")
    heatmaps[0, 1].title = "Diverging map"
    heatmaps[0, 1].xlabel = "layer"
    heatmaps[0, 1].ylabel = "layer"
    try save(heatmaps, "heatmap")

    // Every colour map on the same smooth field.
    let maps: [ColorMap] = [.viridis, .inferno, .magma, .coolwarm, .grey, .gnuplot]
    let colormaps = Figure(rows: 2, cols: 3, width: 8, height: 5, dpi: 110)
    let field = (0..<24).map { row in (0..<32).map { column in sin(Double(column) / 5) * cos(Double(row) / 4) } }
    for (index, map) in maps.enumerated() {
        colormaps[index].heatmap(field, colorMap: map)
        colormaps[index].title = map.name
    }
    colormaps.suptitle = "Colour maps"
    try save(colormaps, "colormaps")

    // Image grid: 8 x 8 small multiples of 8 x 8 calorimeter-like showers, and one image with a colour bar.
    let images = Figure(rows: 1, cols: 2, width: 8, height: 4, dpi: 120)
    let showers = (0..<64).map { _ -> [Double] in
        let centerX = rng.uniform(2, 5), centerY = rng.uniform(2, 5), spread = rng.uniform(0.6, 1.6)
        let energy = rng.uniform(0.3, 1)
        return (0..<64).map { cell in
            let dx = Double(cell % 8) - centerX, dy = Double(cell / 8) - centerY
            return energy * exp(-(dx * dx + dy * dy) / (2 * spread * spread))
        }
    }
    images[0, 0].imageGrid(showers, width: 8, height: 8, columns: 8, colorMap: .inferno)
    images[0, 0].title = "Image grid (8 x 8 showers)"
    let digit = (0..<(28 * 28)).map { cell -> Double in
        let x = Double(cell % 28) - 13.5, y = Double(cell / 28) - 13.5
        let radius = (x * x / 60 + y * y / 140).squareRoot()
        return max(0, 1 - abs(radius - 1) * 3)
    }
    images[0, 1].image(digit, width: 28, height: 28, colorMap: .grey, colorbar: true, colorbarLabel: "intensity")
    images[0, 1].title = "Image with colour bar"
    try save(images, "image")

    // Log axes: log2 densities and a log10 loss.
    let logs = Figure(rows: 1, cols: 2, width: 8, height: 3.5, dpi: 120)
    let densities = (0...6).map { pow(2, -Double($0)) }
    logs[0, 0].line(densities, densities.map { 0.3 + 0.1 * log2(1 / $0) }, label: "EOI", marker: .circle)
    logs[0, 0].line(densities, densities.map { 0.32 + 0.16 * log2(1 / $0) }, label: "random sparse",
                    marker: .diamond)
    logs[0, 0].xscale = .log2
    logs[0, 0].title = "log2 x-axis"
    logs[0, 0].xlabel = "density"
    logs[0, 0].ylabel = "test loss"
    let longSteps = (1...200).map { Double($0) * 100 }
    logs[0, 1].line(longSteps, longSteps.map { 3 * pow($0, -0.6) + 1e-3 }, label: "train")
    logs[0, 1].line(longSteps, longSteps.map { 3.5 * pow($0, -0.5) + 5e-3 }, label: "test")
    logs[0, 1].xscale = .log10
    logs[0, 1].yscale = .log10
    logs[0, 1].title = "log-log"
    logs[0, 1].xlabel = "step"
    logs[0, 1].ylabel = "loss"
    try save(logs, "log")

    // Twin y-axis.
    let twin = Figure(width: 6, height: 4, dpi: 120)
    let left = twin[0, 0]
    left.line(steps, steps.map { 2.3 * exp(-$0 / 700) + 0.2 }, label: "loss")
    left.xlabel = "step"
    left.ylabel = "loss"
    let right = left.twinY()
    right.line(steps, steps.map { 1e-3 * min(1, $0 / 300) * (0.5 + 0.5 * cos(Double.pi * $0 / 3000)) },
               label: "learning rate", dash: .dashed)
    right.ylabel = "learning rate"
    left.title = "Twin y-axis"
    try save(twin, "twin")

    // Shared axes with a suptitle.
    let shared = Figure(rows: 2, cols: 2, width: 7, height: 5, dpi: 110, sharex: true, sharey: true)
    for index in 0..<4 {
        let gap = 0.1 * Double(index + 1)
        shared[index].line(steps, steps.map { $0 < 1500 ? 0.9 : 0.9 - gap * exp(-($0 - 1500) / 200) },
                           label: "task 1")
        shared[index].line(steps, steps.map { $0 < 1500 ? 0.1 : 0.85 * (1 - exp(-($0 - 1500) / 300)) },
                           label: "task 2")
        shared[index].title = "run \(index + 1)"
        if shared[index] === shared[1, 0] || shared[index] === shared[1, 1] { shared[index].xlabel = "step" }
        if index % 2 == 0 { shared[index].ylabel = "accuracy" }
    }
    shared.suptitle = "Shared axes: the stability gap after a task switch"
    try save(shared, "shared")
} catch {
    FileHandle.standardError.write(Data("lab-gallery: \(error)\n".utf8))
    exit(1)
}
print("lab-gallery: \(written) figures in \(outputFolder)")
