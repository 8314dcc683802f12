import Foundation

/// Where an axes draws its legend. `.auto` picks the corner or edge with the least data under it.
///
/// Usage: `ax.legend = .upperLeft`; `ax.legend = .hidden`.
public enum LegendPlacement: Sendable, CaseIterable {
    case auto
    case upperRight
    case upperLeft
    case lowerLeft
    case lowerRight
    case centerRight
    case centerLeft
    case upperCenter
    case lowerCenter
    case hidden
}

/// Histogram bin edges.
///
/// Usage: `ax.histogram(values, bins: .count(30))`; `.logarithmic(20)` for heavy-tailed positive data.
public enum Bins: Sendable {
    /// `n` equal-width bins from the smallest to the largest value.
    case count(Int)
    /// `n` bins of equal width in log10 space (needs values > 0; the x-axis becomes log10).
    case logarithmic(Int)
    /// Explicit increasing edges; values outside are not counted.
    case edges([Double])
}

/// What a mean band shows around the mean of several runs.
///
/// Usage: `ax.meanBand(steps, runs: lossPerSeed, spread: .standardError)`.
public enum Spread: Sendable {
    /// Mean ± one sample standard deviation (n − 1 in the denominator).
    case standardDeviation
    /// Mean ± standard deviation / sqrt(n).
    case standardError
    /// From the smallest to the largest run.
    case minMax
}

/// A colour bar drawn to the right of an axes.
struct Colorbar {
    var colorMap: ColorMap
    var lower: Double
    var upper: Double
    var label: String?
}

/// One plot panel of a `Figure`: marks (lines, bars, heatmaps, ...), axis labels, scales, ticks and a legend.
/// Mistakes in the data (empty series, non-positive values on a log axis, mismatched lengths) are reported when
/// the figure is saved, as a `PlotError`; NaN and infinite points are skipped with one warning on stderr.
///
/// Usage:
/// ```
/// let ax = fig[0, 0]
/// ax.line(density, loss, label: "EOI", marker: .circle)
/// ax.xscale = .log2; ax.xlabel = "density"; ax.ylabel = "test loss"; ax.title = "Orthogonal init"
/// ```
public final class Axes {
    /// Title above the panel.
    public var title: String?
    /// Label under the x-axis.
    public var xlabel: String?
    /// Label left of the y-axis (right of it on a twin axes).
    public var ylabel: String?
    /// Scale of the x-axis; a twin shares its host's x-axis.
    public var xscale: AxisScale = .linear
    /// Scale of the y-axis.
    public var yscale: AxisScale = .linear
    /// Fixed x-range in data units; nil fits the data with a 5% margin.
    public var xlim: ClosedRange<Double>?
    /// Fixed y-range in data units; nil fits the data with a 5% margin.
    public var ylim: ClosedRange<Double>?
    /// Light grid lines at the major ticks.
    public var grid = true
    /// Legend placement; shown when at least one mark has a label.
    public var legend: LegendPlacement = .auto
    /// Hides spines, ticks and tick labels (images).
    public var axisVisible = true
    /// One data unit has the same length on both axes (images, heatmaps of square matrices).
    public var equalAspect = false

    var marks: [any Mark] = []
    /// Problems found while adding data; the first is thrown when the figure is saved.
    var problems: [PlotError] = []
    var colorbar: Colorbar?
    var xTickOverride: (positions: [Double], labels: [String])?
    var yTickOverride: (positions: [Double], labels: [String])?
    var yInverted = false
    /// The twin y-axis drawn on the right, if `twinY()` was called.
    var twin: Axes?
    /// For a twin: the axes it shares its x-axis and frame with.
    weak var host: Axes?
    private var colorIndex = 0

    init() {}

    /// Places x ticks at `positions`, labelled with `labels` (default: formatted positions).
    public func xticks(_ positions: [Double], labels: [String]? = nil) {
        xTickOverride = (positions, labels ?? Ticks.labels(for: positions, scale: xscale))
    }

    /// Places y ticks at `positions`, labelled with `labels` (default: formatted positions).
    public func yticks(_ positions: [Double], labels: [String]? = nil) {
        yTickOverride = (positions, labels ?? Ticks.labels(for: positions, scale: yscale))
    }

    /// A second y-axis on the right that shares this axes' x-axis and frame; its series continue the colour
    /// cycle and join this axes' legend.
    ///
    /// Usage: `let right = ax.twinY(); right.line(steps, lr, label: "learning rate"); right.ylabel = "lr"`
    public func twinY() -> Axes {
        if let twin { return twin }
        let axes = Axes()
        axes.host = self
        axes.grid = false
        twin = axes
        return axes
    }

    func nextColor() -> Color {
        if let host { return host.nextColor() }
        defer { colorIndex += 1 }
        return Color.cycle[colorIndex % Color.cycle.count]
    }

    // MARK: Lines and points

    /// A line through (x[i], y[i]).
    ///
    /// Usage: `ax.line(steps, loss, label: "train", dash: .dashed, marker: .circle)`
    public func line(_ x: [Double], _ y: [Double], label: String? = nil, color: Color? = nil, width: Double = 1.5,
                     dash: Dash = .solid, marker: Marker = .none, markerSize: Double = 5)
    {
        guard let columns = checked("line", label, [x, y], names: ["x", "y"]) else { return }
        marks.append(LineMark(x: columns[0], y: columns[1], label: label, color: color ?? nextColor(), width: width,
                              dash: dash, marker: marker, markerSize: markerSize))
    }

    /// A line through (i, y[i]).
    public func line(_ y: [Double], label: String? = nil, color: Color? = nil, width: Double = 1.5,
                     dash: Dash = .solid, marker: Marker = .none, markerSize: Double = 5)
    {
        line(y.indices.map(Double.init), y, label: label, color: color, width: width, dash: dash, marker: marker,
             markerSize: markerSize)
    }

    /// Markers at (x[i], y[i]). `sizes` scales marker diameters linearly into `sizeRange` (points);
    /// `values` colours each point through `colorMap` and adds a colour bar labelled `colorbarLabel`.
    ///
    /// Usage: `ax.scatter(x, y, values: confidence, colorMap: .viridis, colorbarLabel: "confidence")`
    public func scatter(_ x: [Double], _ y: [Double], label: String? = nil, color: Color? = nil, size: Double = 5,
                        sizes: [Double]? = nil, sizeRange: ClosedRange<Double> = 3...14, values: [Double]? = nil,
                        colorMap: ColorMap = .viridis, colorbarLabel: String? = nil, marker: Marker = .circle,
                        hollow: Bool = false, alpha: Double = 0.85)
    {
        var inputs = [x, y], names = ["x", "y"]
        if let sizes { inputs.append(sizes); names.append("sizes") }
        if let values { inputs.append(values); names.append("values") }
        guard let columns = checked("scatter", label, inputs, names: names) else { return }
        let count = columns[0].count
        var diameters = [Double](repeating: size, count: count)
        if sizes != nil {
            let raw = columns[2]
            let (low, high) = (raw.min() ?? 0, raw.max() ?? 0)
            diameters = raw.map { value in
                let t = high > low ? (value - low) / (high - low) : 0.5
                return sizeRange.lowerBound + t * (sizeRange.upperBound - sizeRange.lowerBound)
            }
        }
        let base = (color ?? nextColor()).withAlpha(alpha)
        var colors = [Color](repeating: base, count: count)
        if values != nil, let raw = columns.last, count > 0 {
            let (low, high) = (raw.min()!, raw.max()!)
            colors = raw.map { colorMap(high > low ? ($0 - low) / (high - low) : 0.5).withAlpha(alpha) }
            colorbar = Colorbar(colorMap: colorMap, lower: low, upper: high, label: colorbarLabel)
        }
        marks.append(ScatterMark(x: columns[0], y: columns[1], diameters: diameters, colors: colors, label: label,
                                 marker: marker, hollow: hollow))
    }

    /// Markers at (x[i], y[i]) with error bars y[i] ± yerr[i] (and x[i] ± xerr[i]), joined by a line when
    /// `connected`.
    ///
    /// Usage: `ax.errorbar(sizes, meanAccuracy, yerr: stdAccuracy, label: "ours")`
    public func errorbar(_ x: [Double], _ y: [Double], yerr: [Double], xerr: [Double]? = nil, label: String? = nil,
                         color: Color? = nil, marker: Marker = .circle, markerSize: Double = 5,
                         connected: Bool = true)
    {
        var inputs = [x, y, yerr], names = ["x", "y", "yerr"]
        if let xerr { inputs.append(xerr); names.append("xerr") }
        guard let columns = checked("error bars", label, inputs, names: names) else { return }
        let errors = columns[2].map(abs)
        marks.append(ErrorBarMark(x: columns[0], y: columns[1], yLower: zip(columns[1], errors).map { $0 - $1 },
                                  yUpper: zip(columns[1], errors).map { $0 + $1 },
                                  xError: xerr == nil ? nil : columns[3].map(abs), label: label,
                                  color: color ?? nextColor(), marker: marker, markerSize: markerSize,
                                  connected: connected))
    }

    // MARK: Bands

    /// A shaded region between `lower` and `upper` over `x`.
    ///
    /// Usage: `ax.band(x, mean - std, mean + std, color: .blue)`
    public func band(_ x: [Double], _ lower: [Double], _ upper: [Double], label: String? = nil,
                     color: Color? = nil, alpha: Double = 0.25)
    {
        guard let columns = checked("band", label, [x, lower, upper], names: ["x", "lower", "upper"]) else { return }
        marks.append(BandMark(x: columns[0], lower: columns[1], upper: columns[2], label: label,
                              color: (color ?? nextColor()).withAlpha(alpha)))
    }

    /// The mean over runs (e.g. seeds) as a line, with a band showing their `spread`.
    /// runs: [R][N], one row per run, N = x.count.
    ///
    /// Usage: `ax.meanBand(steps, runs: accuracyPerSeed, label: "EOI (5 seeds)")`
    public func meanBand(_ x: [Double], runs: [[Double]], spread: Spread = .standardDeviation,
                         label: String? = nil, color: Color? = nil, width: Double = 1.5, dash: Dash = .solid,
                         marker: Marker = .none, alpha: Double = 0.22)
    {
        guard !runs.isEmpty, !x.isEmpty else {
            problems.append(.emptySeries(kind: "mean band", label: label))
            return
        }
        if let bad = runs.firstIndex(where: { $0.count != x.count }) {
            problems.append(.invalidArgument("mean band\(label.map { " '\($0)'" } ?? ""): run \(bad) has "
                + "\(runs[bad].count) values but x has \(x.count); every run needs one value per x"))
            return
        }
        var mean: [Double] = [], lower: [Double] = [], upper: [Double] = []
        for index in x.indices {
            let values = runs.map { $0[index] }.filter(\.isFinite)
            guard !values.isEmpty else {
                mean.append(.nan); lower.append(.nan); upper.append(.nan)
                continue
            }
            let average = values.reduce(0, +) / Double(values.count)
            let variance = values.count > 1
                ? values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(values.count - 1) : 0
            mean.append(average)
            switch spread {
            case .standardDeviation:
                lower.append(average - variance.squareRoot()); upper.append(average + variance.squareRoot())
            case .standardError:
                let error = (variance / Double(values.count)).squareRoot()
                lower.append(average - error); upper.append(average + error)
            case .minMax:
                lower.append(values.min()!); upper.append(values.max()!)
            }
        }
        let resolved = color ?? nextColor()
        band(x, lower, upper, color: resolved, alpha: alpha)
        line(x, mean, label: label, color: resolved, width: width, dash: dash, marker: marker)
    }

    // MARK: Bars and histograms

    /// One bar per category, with optional error bars.
    ///
    /// Usage: `ax.bar(["SGD", "Adam"], [0.91, 0.93], errors: [0.01, 0.02])`
    public func bar(_ categories: [String], _ heights: [Double], errors: [Double]? = nil, label: String? = nil,
                    color: Color? = nil)
    {
        addBars(categories, series: [(label, heights)], errors: errors.map { [$0] }, colors: color.map { [$0] })
    }

    /// Side-by-side bars: one group per category, one bar per series in each group (series[s].values[c]).
    ///
    /// Usage: `ax.groupedBar(["task 1", "task 2"], series: [("EWC", [0.8, 0.7]), ("replay", [0.9, 0.85])])`
    public func groupedBar(_ categories: [String], series: [(label: String, values: [Double])],
                           errors: [[Double]]? = nil, colors: [Color]? = nil)
    {
        addBars(categories, series: series.map { ($0.label, $0.values) }, errors: errors, colors: colors)
    }

    /// Bars of width 0.8 / series.count centred on the category positions 0, 1, 2, ...; NaN values are skipped.
    private func addBars(_ categories: [String], series: [(label: String?, values: [Double])], errors: [[Double]]?,
                         colors: [Color]?)
    {
        guard !series.isEmpty, !categories.isEmpty else {
            problems.append(.emptySeries(kind: "bar", label: series.first?.label ?? nil))
            return
        }
        let groupWidth = 0.8, barWidth = groupWidth / Double(series.count)
        for (index, entry) in series.enumerated() {
            let name = "bar\(entry.label.map { " '\($0)'" } ?? "")"
            guard entry.values.count == categories.count else {
                problems.append(.invalidArgument("\(name): \(entry.values.count) values for \(categories.count) "
                    + "categories; give one value per category"))
                return
            }
            if let errors, errors.count != series.count || errors[index].count != categories.count {
                problems.append(.invalidArgument("\(name): errors need one value per category and series"))
                return
            }
            let offset = -groupWidth / 2 + Double(index) * barWidth
            var bars: [BarMark.Bar] = [], barErrors: [Double] = []
            for (category, value) in entry.values.enumerated() where value.isFinite {
                let left = Double(category) + offset
                bars.append(.init(x0: left, x1: left + barWidth, y0: 0, y1: value))
                if let errors { barErrors.append(errors[index][category]) }
            }
            warnSkipped("bar", entry.label, skipped: entry.values.count - bars.count, of: entry.values.count)
            let color = colors.map { $0[index % $0.count] } ?? nextColor()
            marks.append(BarMark(bars: bars, label: entry.label, color: color, kind: "bar",
                                 errors: errors == nil ? nil : barErrors))
        }
        xticks(categories.indices.map(Double.init), labels: categories)
    }

    /// A histogram of `values`; `density` divides counts by (n x bin width) so the area is 1.
    ///
    /// Usage: `ax.histogram(energies, bins: .logarithmic(30), label: "Geant4")`
    public func histogram(_ values: [Double], bins: Bins = .count(20), label: String? = nil, color: Color? = nil,
                          density: Bool = false, alpha: Double = 0.85)
    {
        histogram([values], bins: bins, labels: [label], colors: color.map { [$0] }, stacked: false,
                  density: density, alpha: alpha)
    }

    /// Histograms of several series over shared bins, stacked on each other or overlapping (translucent).
    ///
    /// Usage: `ax.histogram([correct, wrong], labels: ["correct", "wrong"], bins: .count(20), stacked: true)`
    public func histogram(_ series: [[Double]], bins: Bins = .count(20), labels: [String?], colors: [Color]? = nil,
                          stacked: Bool = true, density: Bool = false, alpha: Double = 0.85)
    {
        let name = labels.first.flatMap { $0 }
        let finite = series.enumerated().map { index, values in
            let kept = values.filter(\.isFinite)
            warnSkipped("histogram", index < labels.count ? labels[index] : nil, skipped: values.count - kept.count,
                        of: values.count)
            return kept
        }
        let all = finite.flatMap { $0 }
        guard !all.isEmpty else {
            problems.append(.emptySeries(kind: "histogram", label: name))
            return
        }
        let edges: [Double]
        switch bins {
        case .count(let count):
            var (low, high) = (all.min()!, all.max()!)
            if low == high { low -= 0.5; high += 0.5 }
            let n = max(count, 1)
            edges = (0...n).map { low + (high - low) * Double($0) / Double(n) }
        case .logarithmic(let count):
            guard let smallest = all.min(), smallest > 0 else {
                problems.append(.nonPositiveOnLogAxis(axis: "x", kind: "histogram", label: name, value: all.min()!))
                return
            }
            var (low, high) = (log10(smallest), log10(all.max()!))
            if low == high { low -= 0.5; high += 0.5 }
            let n = max(count, 1)
            edges = (0...n).map { pow(10, low + (high - low) * Double($0) / Double(n)) }
            if xscale == .linear { xscale = .log10 }
        case .edges(let given):
            guard given.count >= 2, zip(given, given.dropFirst()).allSatisfy({ $0 < $1 }) else {
                problems.append(.invalidArgument("histogram: bin edges must be at least two increasing values"))
                return
            }
            edges = given
        }
        var base = [Double](repeating: 0, count: edges.count - 1)
        for (index, values) in finite.enumerated() {
            var counts = [Double](repeating: 0, count: edges.count - 1)
            for value in values {
                if let bin = Self.bin(of: value, edges: edges) { counts[bin] += 1 }
            }
            if density, !values.isEmpty {
                for bin in counts.indices {
                    counts[bin] /= Double(values.count) * (edges[bin + 1] - edges[bin])
                }
            }
            let bars = counts.indices.map { bin in
                BarMark.Bar(x0: edges[bin], x1: edges[bin + 1], y0: stacked ? base[bin] : 0,
                            y1: (stacked ? base[bin] : 0) + counts[bin])
            }
            if stacked { for bin in base.indices { base[bin] += counts[bin] } }
            let color = colors.map { $0[index % $0.count] } ?? nextColor()
            marks.append(BarMark(bars: bars, label: index < labels.count ? labels[index] : nil,
                                 color: color.withAlpha(stacked || finite.count == 1 ? alpha : 0.5),
                                 kind: "histogram", errors: nil))
        }
    }

    /// The bin of `value` among increasing `edges` (the last bin includes its right edge); nil when outside.
    static func bin(of value: Double, edges: [Double]) -> Int? {
        guard let first = edges.first, let last = edges.last, value >= first, value <= last else { return nil }
        if value == last { return edges.count - 2 }
        var low = 0, high = edges.count - 1
        while high - low > 1 {
            let middle = (low + high) / 2
            if edges[middle] <= value { low = middle } else { high = middle }
        }
        return low
    }

    // MARK: Heatmaps and images

    /// A matrix as coloured cells (row 0 at the top), with a colour bar. `range` fixes the colour limits
    /// (default: finite min...max); `annotationFormat` (e.g. "%.2f") writes each value in its cell.
    /// matrix: [rows][columns]
    ///
    /// Usage: `ax.heatmap(confusion, rowLabels: classes, columnLabels: classes, annotationFormat: "%.0f")`
    public func heatmap(_ matrix: [[Double]], colorMap: ColorMap = .viridis, range: ClosedRange<Double>? = nil,
                        rowLabels: [String]? = nil, columnLabels: [String]? = nil, annotationFormat: String? = nil,
                        colorbar showColorbar: Bool = true, colorbarLabel: String? = nil)
    {
        let columns = matrix.first?.count ?? 0
        guard matrix.allSatisfy({ $0.count == columns }) else {
            problems.append(.invalidArgument("heatmap: rows have different lengths; give a rectangular matrix"))
            return
        }
        guard let limits = addPixels(matrix.flatMap { $0 }, rows: matrix.count, columns: columns, channels: 1,
                                     colorMap: colorMap, range: range, annotationFormat: annotationFormat,
                                     kind: "heatmap")
        else { return }
        if showColorbar { colorbar = Colorbar(colorMap: colorMap, lower: limits.0, upper: limits.1, label: colorbarLabel) }
        grid = false
        if let rowLabels { yticks(rowLabels.indices.map(Double.init), labels: rowLabels) }
        if let columnLabels { xticks(columnLabels.indices.map(Double.init), labels: columnLabels) }
    }

    /// An image without axes: `channels` = 1 maps values through `colorMap` (range default min...max),
    /// `channels` = 3 takes interleaved RGB in 0...1. pixels: [height, width, channels] row-major.
    ///
    /// Usage: `ax.image(sample, width: 28, height: 28)`
    public func image(_ pixels: [Double], width: Int, height: Int, channels: Int = 1, colorMap: ColorMap = .grey,
                      range: ClosedRange<Double>? = nil, colorbar showColorbar: Bool = false,
                      colorbarLabel: String? = nil)
    {
        guard let limits = addPixels(pixels, rows: height, columns: width, channels: channels, colorMap: colorMap,
                                     range: range, annotationFormat: nil, kind: "image")
        else { return }
        if showColorbar { colorbar = Colorbar(colorMap: colorMap, lower: limits.0, upper: limits.1, label: colorbarLabel) }
        makeImageAxes()
    }

    /// A spectrogram: `magnitudes[frame][bin]` (e.g. LabSignal's STFT magnitudes) drawn with time (s) on x
    /// and frequency (Hz, 0 at the bottom) on y, in decibels 20·log10(max(m, floor)) by default, with a colour
    /// bar. `range` fixes the colour scale in dB (share it across panels to compare them).
    ///
    /// Usage: `ax.spectrogram(stft.magnitude(x), sampleRate: 8000, hop: 64, range: -80...0)`
    public func spectrogram(_ magnitudes: [[Double]], sampleRate: Double, hop: Int, decibels: Bool = true,
                            floor: Double = 1e-5, colorMap: ColorMap = .magma, range: ClosedRange<Double>? = nil) {
        let frames = magnitudes.count, bins = magnitudes.first?.count ?? 0
        guard frames > 0, bins > 1, magnitudes.allSatisfy({ $0.count == bins }) else {
            problems.append(.invalidArgument("spectrogram: give [frames][bins] magnitudes with at least 2 bins and equal rows"))
            return
        }
        // Rows = frequency bins (row 0 = 0 Hz, drawn at the bottom), columns = frames.
        var values = [Double](repeating: 0, count: frames * bins)
        for t in 0..<frames {
            for k in 0..<bins {
                let m = magnitudes[t][k]
                values[k * frames + t] = decibels ? 20 * Foundation.log10(Swift.max(m, floor)) : m
            }
        }
        guard let limits = addPixels(values, rows: bins, columns: frames, channels: 1, colorMap: colorMap,
                                     range: range, annotationFormat: nil, kind: "spectrogram") else { return }
        let frameSeconds = Double(hop) / sampleRate, binHz = sampleRate / Double(2 * (bins - 1))
        if var mark = marks.popLast() as? HeatmapMark {
            mark.bounds = (x: 0...(Double(frames) * frameSeconds), y: (-0.5 * binHz)...((Double(bins) - 0.5) * binHz))
            marks.append(mark)
        }
        yInverted = false
        colorbar = Colorbar(colorMap: colorMap, lower: limits.0, upper: limits.1, label: decibels ? "dB" : "magnitude")
        if xlabel == nil { xlabel = "time (s)" }
        if ylabel == nil { ylabel = "frequency (Hz)" }
    }

    /// Small multiples: `images` (each [height, width, channels], row 0 at the top) tiled `columns` per row
    /// with one-pixel gaps, upright and in reading order (images[0] top left, images[columns] below it), sharing
    /// one colour range (default: min...max over all images).
    ///
    /// Usage: `ax.imageGrid(showers, width: 8, height: 8, columns: 8, colorMap: .inferno)`
    public func imageGrid(_ images: [[Double]], width: Int, height: Int, columns: Int, channels: Int = 1,
                          colorMap: ColorMap = .grey, range: ClosedRange<Double>? = nil, gap: Int = 1,
                          colorbar showColorbar: Bool = false, colorbarLabel: String? = nil)
    {
        guard !images.isEmpty else {
            problems.append(.emptySeries(kind: "image grid", label: nil))
            return
        }
        guard columns > 0, width > 0, height > 0, images.allSatisfy({ $0.count == width * height * channels }) else {
            problems.append(.invalidArgument("image grid: every image needs width x height x channels = "
                + "\(width * height * channels) values and columns must be > 0"))
            return
        }
        let gridRows = (images.count + columns - 1) / columns
        let totalWidth = columns * width + (columns - 1) * gap, totalHeight = gridRows * height + (gridRows - 1) * gap
        var mosaic = [Double](repeating: .nan, count: totalWidth * totalHeight * channels)
        for (index, image) in images.enumerated() {
            let top = (index / columns) * (height + gap), left = (index % columns) * (width + gap)
            for row in 0..<height {
                for column in 0..<width {
                    for channel in 0..<channels {
                        mosaic[((top + row) * totalWidth + left + column) * channels + channel] =
                            image[(row * width + column) * channels + channel]
                    }
                }
            }
        }
        let finite = images.joined().filter(\.isFinite)
        warnSkipped("image grid", nil, skipped: images.reduce(0) { $0 + $1.count } - finite.count,
                    of: images.reduce(0) { $0 + $1.count })
        guard let low = finite.min(), let high = finite.max() else {
            problems.append(.emptySeries(kind: "image grid", label: nil))
            return
        }
        let limits = range.map { ($0.lowerBound, $0.upperBound) } ?? (low, high)
        marks.append(HeatmapMark(values: mosaic, rows: totalHeight, columns: totalWidth, channels: channels,
                                 colorMap: colorMap, lower: limits.0, upper: limits.1, annotationFormat: nil))
        if showColorbar { colorbar = Colorbar(colorMap: colorMap, lower: limits.0, upper: limits.1, label: colorbarLabel) }
        makeImageAxes()
    }

    /// Images are drawn as they are stored: row 0 at the top, so the y axis points down.
    private func makeImageAxes() {
        axisVisible = false
        equalAspect = true
        grid = false
        yInverted = true
    }

    /// Adds a heatmap mark; returns its colour limits, or nil after recording a problem.
    private func addPixels(_ values: [Double], rows: Int, columns: Int, channels: Int, colorMap: ColorMap,
                           range: ClosedRange<Double>?, annotationFormat: String?, kind: String)
        -> (Double, Double)?
    {
        guard rows > 0, columns > 0, !values.isEmpty else {
            problems.append(.emptySeries(kind: kind, label: nil))
            return nil
        }
        guard channels == 1 || channels == 3, values.count == rows * columns * channels else {
            problems.append(.invalidArgument("\(kind): \(values.count) values for \(rows) x \(columns) x \(channels)"
                + " (channels must be 1 or 3)"))
            return nil
        }
        let cleaned = values.map { $0.isFinite ? $0 : .nan }
        let finite = cleaned.filter { !$0.isNaN }
        warnSkipped(kind, nil, skipped: values.count - finite.count, of: values.count)
        guard let low = finite.min(), let high = finite.max() else {
            problems.append(.emptySeries(kind: kind, label: nil))
            return nil
        }
        let limits = range.map { ($0.lowerBound, $0.upperBound) } ?? (low, high)
        marks.append(HeatmapMark(values: cleaned, rows: rows, columns: columns, channels: channels, colorMap: colorMap,
                                 lower: limits.0, upper: limits.1, annotationFormat: annotationFormat))
        yInverted = true
        return limits
    }

    // MARK: Annotations

    /// Text at data position (x, y), vertically centred.
    ///
    /// Usage: `ax.text("stability gap", x: 120, y: 0.42, color: .red)`
    public func text(_ text: String, x: Double, y: Double, size: Double = 8.5, color: Color = .black,
                     alignment: TextAlignment = .left)
    {
        guard x.isFinite, y.isFinite else {
            warn("text '\(text)' at a non-finite position (\(x), \(y)) is not drawn")
            return
        }
        marks.append(TextMark(text: text, x: x, y: y, size: size, color: color, alignment: alignment))
    }

    /// A horizontal line across the axes at `y` (a baseline or a paper's reported value).
    ///
    /// Usage: `ax.horizontalLine(at: 0.93, label: "paper")`
    public func horizontalLine(at y: Double, label: String? = nil, color: Color = Color(hex: 0x555555),
                               width: Double = 1, dash: Dash = .dashed)
    {
        guard y.isFinite else { return warn("horizontal line at \(y) is not drawn") }
        marks.append(ReferenceLineMark(value: y, horizontal: true, label: label, color: color, width: width, dash: dash))
    }

    /// A vertical line across the axes at `x` (a task boundary, a chosen threshold).
    ///
    /// Usage: `ax.verticalLine(at: 500, dash: .dotted)`
    public func verticalLine(at x: Double, label: String? = nil, color: Color = Color(hex: 0x555555),
                             width: Double = 1, dash: Dash = .dashed)
    {
        guard x.isFinite else { return warn("vertical line at \(x) is not drawn") }
        marks.append(ReferenceLineMark(value: x, horizontal: false, label: label, color: color, width: width,
                                       dash: dash))
    }

    // MARK: Input checks

    /// Checks that `columns` have equal lengths and drops the rows where any value is NaN/Inf (one warning).
    /// Records a problem and returns nil when lengths differ.
    private func checked(_ kind: String, _ label: String?, _ columns: [[Double]], names: [String]) -> [[Double]]? {
        let count = columns[0].count
        if let bad = columns.firstIndex(where: { $0.count != count }) {
            problems.append(.invalidArgument("\(kind)\(label.map { " '\($0)'" } ?? ""): \(names[0]) has \(count) "
                + "values but \(names[bad]) has \(columns[bad].count); give them equal lengths"))
            return nil
        }
        let keep = (0..<count).filter { row in columns.allSatisfy { $0[row].isFinite } }
        warnSkipped(kind, label, skipped: count - keep.count, of: count)
        if keep.count == count { return columns }
        return columns.map { column in keep.map { column[$0] } }
    }

    private func warnSkipped(_ kind: String, _ label: String?, skipped: Int, of total: Int) {
        guard skipped > 0 else { return }
        warn("\(kind)\(label.map { " '\($0)'" } ?? ""): skipped \(skipped) of \(total) values that are NaN or infinite")
    }
}

/// Writes one warning line to stderr.
func warn(_ message: String) {
    FileHandle.standardError.write(Data("LabPlot warning: \(message)\n".utf8))
}
