import Foundation
import Testing
@testable import LabPlot

/// Every plot type renders a PNG of the requested size with its marks visible; data errors are thrown at save
/// time; PNG text chunks round-trip; tick values follow the 1-2-5 rule.
@Suite struct PlotTests {
    /// A fresh temporary folder per call, so parallel tests never share files.
    func temporaryFolder() -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("plot-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.path
    }

    func saveAndRead(_ figure: Figure, metadata: [String: String] = [:]) throws -> PNGImage {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try figure.savePNG(to: folder + "/figure.png", metadata: metadata)
        return try PNGImage.read(from: folder + "/figure.png")
    }

    /// Pixels with a clear hue: series colours and colour maps; frames, ticks and text are grey.
    func colouredPixels(_ image: PNGImage) -> Int {
        stride(from: 0, to: image.rgba.count, by: 4).reduce(0) { count, offset in
            let channels = image.rgba[offset..<offset + 3]
            return count + (Int(channels.max()!) - Int(channels.min()!) > 20 ? 1 : 0)
        }
    }

    func nonWhitePixels(_ image: PNGImage) -> Int {
        stride(from: 0, to: image.rgba.count, by: 4).reduce(0) { count, offset in
            count + (image.rgba[offset..<offset + 3].allSatisfy { $0 > 245 } ? 0 : 1)
        }
    }

    enum PlotKind: String, CaseIterable, CustomStringConvertible {
        case line, lineFloat, scatter, scatterByValue, bar, groupedBar, histogram, stackedHistogram, logHistogram
        case band, meanBand, errorbar, heatmap, image, rgbImage, imageGrid, spectrogram, text, referenceLines, twin, shared
        var description: String { rawValue }
    }

    /// Draws one example of `kind` into a 5 x 3.5 in, 80 dpi figure.
    func figure(_ kind: PlotKind) -> Figure {
        let x = (0..<40).map { Double($0) / 4 }, y = x.map { sin($0) + 1.5 }
        let fig = Figure(rows: kind == .shared ? 2 : 1, cols: kind == .shared ? 2 : 1, width: 5, height: 3.5,
                         dpi: 80, sharex: kind == .shared, sharey: kind == .shared)
        let ax = fig[0, 0]
        ax.title = kind.rawValue
        ax.xlabel = "x"
        ax.ylabel = "y"
        switch kind {
        case .line: ax.line(x, y, label: "sin", marker: .circle)
        case .lineFloat: ax.line(y.map(Float.init), label: "float", dash: .dashed)
        case .scatter: ax.scatter(x, y, label: "points", marker: .diamond, hollow: true)
        case .scatterByValue: ax.scatter(x, y, sizes: x, values: y, colorMap: .inferno, colorbarLabel: "value")
        case .bar: ax.bar(["a", "b", "c"], [3, 1, 2], errors: [0.2, 0.1, 0.3])
        case .groupedBar: ax.groupedBar(["a", "b"], series: [("s1", [1, 2]), ("s2", [2, 1])])
        case .histogram: ax.histogram(y, bins: .count(10), label: "y")
        case .stackedHistogram: ax.histogram([y, x], bins: .edges([0, 2, 4, 6, 8, 10]), labels: ["y", "x"])
        case .logHistogram:
            ax.histogram(x.map { exp($0) }, bins: .logarithmic(12))
            ax.yscale = .log10
        case .band: ax.band(x, y.map { $0 - 0.3 }, y.map { $0 + 0.3 }, label: "band")
        case .meanBand: ax.meanBand(x, runs: [y, y.map { $0 + 0.2 }, y.map { $0 - 0.1 }], label: "3 seeds")
        case .errorbar: ax.errorbar([1, 2, 4, 8], [1, 1.5, 1.8, 2], yerr: [0.1, 0.2, 0.1, 0.3], xerr: [0.2, 0.2, 0.3, 1])
        case .heatmap: ax.heatmap([[1, 2, 3], [4, 5, 6]], colorMap: .viridis, annotationFormat: "%.0f")
        case .image: ax.image((0..<100).map { Double($0) }, width: 10, height: 10, colorMap: .magma, colorbar: true)
        case .rgbImage: ax.image((0..<48).map { Double($0 % 3 == 0 ? 1 : 0) }, width: 4, height: 4, channels: 3)
        case .imageGrid:
            ax.imageGrid((0..<16).map { index in (0..<64).map { Double(($0 + index) % 9) } }, width: 8, height: 8,
                         columns: 4, colorMap: .gnuplot)
        case .text:
            ax.text("annotation", x: 0.5, y: 0.5, size: 20, color: .red, alignment: .center)
            ax.xlim = 0...1
            ax.ylim = 0...1
        case .referenceLines:
            ax.horizontalLine(at: 1, label: "paper", color: .red, width: 3)
            ax.verticalLine(at: 2, color: .blue, width: 3, dash: .solid)
        case .twin:
            ax.line(x, y, label: "left")
            let right = ax.twinY()
            right.line(x, x.map { $0 * 100 }, label: "right", dash: .dotted)
            right.ylabel = "right"
        case .spectrogram:
            // 20 frames x 33 bins with one bright bin rising over time.
            ax.spectrogram((0..<20).map { t in (0..<33).map { $0 == t + 5 ? 1.0 : 1e-3 } }, sampleRate: 8000, hop: 32)
        case .shared:
            for index in 0..<4 { fig[index].line(x, y.map { $0 * Double(index + 1) }, label: "panel \(index)") }
            fig.suptitle = "shared"
        }
        return fig
    }

    @Test(arguments: PlotKind.allCases)
    func everyPlotTypeRendersItsMarks(kind: PlotKind) throws {
        let fig = figure(kind)
        let png = try saveAndRead(fig)
        #expect(png.width == 400 && png.height == 280)
        #expect(png.pixel(x: 0, y: 0) == (255, 255, 255, 255))
        if kind == .rgbImage {
            #expect(nonWhitePixels(png) > 400 * 280 / 10, "the image covers a good part of the figure")
        }
        #expect(colouredPixels(png) > 150, "\(kind): the marks must draw coloured pixels")
    }

    @Test func requestedPixelSizeFollowsInchesAndDPI() throws {
        let fig = Figure(rows: 1, cols: 3, width: 6, height: 2, dpi: 50)
        for index in 0..<3 { fig[index].line([1, 2, 3]) }
        let png = try saveAndRead(fig)
        #expect((png.width, png.height) == (300, 100))
        #expect((fig.pixelWidth, fig.pixelHeight) == (300, 100))
    }

    @Test func logAxisOverNonPositiveDataThrows() throws {
        let fig = Figure(width: 3, height: 2, dpi: 50)
        fig[0, 0].line([1, 2, 3], [1, 0, 2], label: "loss")
        fig[0, 0].yscale = .log10
        let path = temporaryFolder() + "/log.png"
        #expect(throws: PlotError.nonPositiveOnLogAxis(axis: "y", kind: "line", label: "loss", value: 0)) {
            try fig.savePNG(to: path)
        }
        #expect(!FileManager.default.fileExists(atPath: path), "a failed save writes nothing")

        let bins = Figure(width: 3, height: 2, dpi: 50)
        bins[0, 0].histogram([-1, 2, 3], bins: .logarithmic(5))
        #expect(throws: PlotError.self) { try bins.savePNG(to: path) }

        let limits = Figure(width: 3, height: 2, dpi: 50)
        limits[0, 0].line([1, 2], [1, 2])
        limits[0, 0].xscale = .log2
        limits[0, 0].xlim = 0...2
        #expect(throws: PlotError.self) { try limits.savePNG(to: path) }
    }

    @Test func emptyOrMismatchedSeriesThrow() throws {
        let path = temporaryFolder() + "/empty.png"
        let empty = Figure(width: 3, height: 2, dpi: 50)
        empty[0, 0].line([Double](), [], label: "nothing")
        #expect(throws: PlotError.emptySeries(kind: "line", label: "nothing")) { try empty.savePNG(to: path) }

        let allNaN = Figure(width: 3, height: 2, dpi: 50)
        allNaN[0, 0].scatter([.nan, .infinity], [1, 2])
        #expect(throws: PlotError.emptySeries(kind: "scatter", label: nil)) { try allNaN.savePNG(to: path) }

        let mismatched = Figure(width: 3, height: 2, dpi: 50)
        mismatched[0, 0].line([1, 2, 3], [1, 2])
        #expect(throws: PlotError.self) { try mismatched.savePNG(to: path) }

        let emptyHistogram = Figure(width: 3, height: 2, dpi: 50)
        emptyHistogram[0, 0].histogram([Double](), label: "h")
        #expect(throws: PlotError.emptySeries(kind: "histogram", label: "h")) { try emptyHistogram.savePNG(to: path) }
    }

    @Test func nonFinitePointsAreSkipped() throws {
        let fig = Figure(width: 3, height: 2, dpi: 60)
        fig[0, 0].line([1, 2, 3, 4], [1, .nan, 3, .infinity], label: "partial")
        let png = try saveAndRead(fig)
        #expect(colouredPixels(png) > 30)
    }

    @Test func metadataRoundTripsAsTextChunks() throws {
        let fig = Figure(width: 2, height: 2, dpi: 40)
        fig[0, 0].line([0, 1], [0, 1])
        let metadata = ["command": "exact-orthogonal-init --scale smoke --seed 3", "commit": "9bcc7b6",
                        "seed": "3", "scale": "smoke"]
        let png = try saveAndRead(fig, metadata: metadata)
        for (key, value) in metadata { #expect(png.text[key] == value) }
        #expect(png.text["Software"]?.hasPrefix("LabBook LabPlot") == true)

        #expect(throws: PlotError.self) { try fig.savePNG(to: temporaryFolder() + "/bad.png", metadata: ["": "x"]) }
    }

    @Test func savingIsAtomic() throws {
        let folder = temporaryFolder(), path = folder + "/nested/figure.png"
        let good = Figure(width: 2, height: 2, dpi: 40)
        good[0, 0].line([0, 1], [0, 1])
        try good.savePNG(to: path, metadata: ["seed": "1"])
        let bad = Figure(width: 2, height: 2, dpi: 40)
        bad[0, 0].line([Double](), [])
        #expect(throws: PlotError.self) { try bad.savePNG(to: path, metadata: ["seed": "2"]) }
        #expect(try PNGImage.read(from: path).text["seed"] == "1", "the previous figure is intact")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder + "/nested")
        #expect(leftovers == ["figure.png"])
    }

    @Test func vectorOutputs() throws {
        let fig = figure(.line)
        let folder = temporaryFolder()
        try fig.saveSVG(to: folder + "/figure.svg")
        try fig.savePDF(to: folder + "/figure.pdf")
        let svg = try String(contentsOfFile: folder + "/figure.svg", encoding: .utf8)
        #expect(svg.contains("<svg"))
        let pdf = try Data(contentsOf: URL(fileURLWithPath: folder + "/figure.pdf"))
        #expect(pdf.starts(with: Array("%PDF".utf8)) && pdf.count > 1000)
    }

    @Test func readerRejectsNonPNG() throws {
        let path = temporaryFolder() + "/not.png"
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: PlotError.self) { try PNGImage.read(from: path) }
        #expect(throws: PlotError.self) { try PNGImage.read(from: path + ".missing") }
    }

    @Test func premultipliedPixelsBecomeStraightRGBA() {
        // ARGB32 native-endian: half-transparent pure red is a = 128, r = 128 (premultiplied).
        var pixels: [UInt32] = [0x8080_0000, 0xff00_ff00, 0x0000_0000]
        let rgba = pixels.withUnsafeMutableBytes { raw in
            Figure.straightRGBA(raw.baseAddress!.assumingMemoryBound(to: UInt8.self), width: 3, height: 1, stride: 12)
        }
        #expect(rgba == [255, 0, 0, 128, 0, 255, 0, 255, 0, 0, 0, 0])
    }

    @Test func niceTickValues() {
        func close(_ a: [Double], _ b: [Double]) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) }
        }
        #expect(close(Ticks.linear(from: 0, to: 1), [0, 0.2, 0.4, 0.6, 0.8, 1]))
        #expect(close(Ticks.linear(from: 0, to: 7), [0, 2, 4, 6]))
        #expect(close(Ticks.linear(from: -3.2, to: 9.7), [-2, 0, 2, 4, 6, 8]))
        #expect(close(Ticks.linear(from: 0.001, to: 0.0042), [0.001, 0.0015, 0.002, 0.0025, 0.003, 0.0035, 0.004]))
        #expect(close(Ticks.linear(from: 1200, to: 98000, target: 5), [20000, 40000, 60000, 80000]))
        #expect(Ticks.niceStep(0.3) == 0.5 && Ticks.niceStep(1.1) == 2 && Ticks.niceStep(7) == 10)

        #expect(Ticks.labels(for: [0, 0.5, 1]) == ["0", "0.5", "1"])
        #expect(Ticks.labels(for: [-2, 0, 2]) == ["\u{2212}2", "0", "2"])
        #expect(Ticks.labels(for: [0, 2e5, 4e5]) == ["0", "2e5", "4e5"])
        #expect(Ticks.labels(for: [1e-3, 1e-2, 1e-1], scale: .log10) == ["10⁻³", "10⁻²", "10⁻¹"])
        #expect(Ticks.labels(for: [0.25, 0.5, 1, 2], scale: .log2) == ["0.25", "0.5", "1", "2"])
        #expect(Ticks.labels(for: [1.0 / 64, 1.0 / 16, 0.25], scale: .log2) == ["2⁻⁶", "2⁻⁴", "2⁻²"])

        let decades = Ticks.logarithmic(from: 1e-3, to: 1e2, scale: .log10)
        #expect(close(decades.major, [1e-3, 1e-2, 1e-1, 1, 10, 100]))
        #expect(decades.minor.count == 5 * 8)
        let wide = Ticks.logarithmic(from: 1e-12, to: 1e12, scale: .log10)
        #expect(wide.major.count <= 7 && wide.minor.isEmpty)
        #expect(close(Ticks.logarithmic(from: 3, to: 8, scale: .log10).major, [3, 4, 5, 6, 7, 8]))
    }

    @Test func legendGoesWhereThereIsLeastData() {
        let frame = Rect(x: 0, y: 0, width: 400, height: 300)
        // A rising line fills the lower left and upper right; the upper left is free.
        let rising = (0...100).map { Point(x: Double($0) * 4, y: 300 - Double($0) * 3) }
        #expect(AxesLayout.leastCoveredPlacement(width: 80, height: 40, in: frame, occupied: rising, margin: 5)
            == .upperLeft)
        // A falling line leaves the upper right and lower left free; ties go to the upper right.
        let falling = (0...100).map { Point(x: Double($0) * 4, y: Double($0) * 3) }
        #expect(AxesLayout.leastCoveredPlacement(width: 80, height: 40, in: frame, occupied: falling, margin: 5)
            == .upperRight)
        // Data everywhere except the bottom centre.
        let allButBottom = stride(from: 0.0, through: 400, by: 5).flatMap { x in
            stride(from: 0.0, through: 300, by: 5).compactMap { y in
                (y > 240 && x > 150 && x < 250) ? nil : Point(x: x, y: y)
            }
        }
        #expect(AxesLayout.leastCoveredPlacement(width: 80, height: 40, in: frame, occupied: allButBottom, margin: 5)
            == .lowerCenter)
    }

    /// Two 2 x 2 RGB images stacked in one column: image 0 has a red top row and a green bottom row, image 1
    /// a blue top row and a yellow bottom row. Drawn upright and in order, the bands read red, green, blue,
    /// yellow from the top of the PNG; a mirrored mosaic (the bug) reads yellow, blue, green, red.
    @Test func imageGridIsUprightInRowOrder() throws {
        let red = [1.0, 0, 0], green = [0.0, 1, 0], blue = [0.0, 0, 1], yellow = [1.0, 1, 0]
        let images = [red + red + green + green, blue + blue + yellow + yellow]
        let figure = Figure(width: 3, height: 3, dpi: 80)
        figure[0].imageGrid(images, width: 2, height: 2, columns: 1, channels: 3)
        let image = try saveAndRead(figure)
        var rowSums: [String: (sum: Double, count: Double)] = [:]
        for y in 0..<image.height {
            for x in 0..<image.width {
                let offset = (y * image.width + x) * 4
                let (r, g, b) = (image.rgba[offset], image.rgba[offset + 1], image.rgba[offset + 2])
                let name: String? = switch (r > 200, g > 200, b > 200, r < 50, g < 50, b < 50) {
                case (true, _, _, _, true, true): "red"
                case (_, true, _, true, _, true): "green"
                case (_, _, true, true, true, _): "blue"
                case (true, true, _, _, _, true): "yellow"
                default: nil
                }
                if let name { rowSums[name, default: (0, 0)].sum += Double(y); rowSums[name, default: (0, 0)].count += 1 }
            }
        }
        let meanRow = rowSums.mapValues { $0.sum / $0.count }
        #expect(meanRow.keys.sorted() == ["blue", "green", "red", "yellow"])
        #expect(meanRow.sorted { $0.value < $1.value }.map(\.key) == ["red", "green", "blue", "yellow"])
    }

    @Test func histogramBinsAndColorMaps() {
        let edges = [0.0, 1, 2, 3]
        #expect(Axes.bin(of: 0, edges: edges) == 0)
        #expect(Axes.bin(of: 1.5, edges: edges) == 1)
        #expect(Axes.bin(of: 3, edges: edges) == 2, "the last bin includes its right edge")
        #expect(Axes.bin(of: 3.1, edges: edges) == nil && Axes.bin(of: -1, edges: edges) == nil)

        #expect(ColorMap.viridis(0) == Color(hex: 0x440154))
        #expect(ColorMap.viridis(1) == Color(hex: 0xfde725))
        #expect(ColorMap.viridis(2) == ColorMap.viridis(1), "values are clamped to 0...1")
        #expect(abs(ColorMap.grey(0.5).red - 0.5) < 1e-12)
        #expect(ColorMap.coolwarm(0.5).luminance > 0.8, "the diverging map is light in the middle")
        #expect(ColorMap.gnuplot(0).blue == 0 && ColorMap.gnuplot(1).red == 1)
    }
}
