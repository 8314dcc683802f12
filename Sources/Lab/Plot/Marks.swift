import Foundation

/// The data-to-pixel mapping of one axes: limits are in scale space (log10 of the values on a log10 axis).
struct Frame {
    var rect: Rect
    var xScale: AxisScale
    var yScale: AxisScale
    var xLower: Double
    var xUpper: Double
    var yLower: Double
    var yUpper: Double
    /// Heatmaps put row 0 at the top.
    var yInverted = false

    func x(_ value: Double) -> Double {
        let position = xScale.forward(value)
        if !position.isFinite { return rect.minX - 1000 }
        return rect.minX + (position - xLower) / (xUpper - xLower) * rect.width
    }

    func y(_ value: Double) -> Double {
        let position = yScale.forward(value)
        if !position.isFinite { return yInverted ? rect.minY - 1000 : rect.maxY + 1000 }
        let fraction = (position - yLower) / (yUpper - yLower)
        return yInverted ? rect.minY + fraction * rect.height : rect.maxY - fraction * rect.height
    }

    func point(_ x: Double, _ y: Double) -> Point { Point(x: self.x(x), y: self.y(y)) }
}

/// The data range a mark needs visible. Sticky edges (a bar's baseline, a heatmap's border) are not padded.
struct Extent {
    var xMin = Double.infinity
    var xMax = -Double.infinity
    var yMin = Double.infinity
    var yMax = -Double.infinity
    var stickyX: [Double] = []
    var stickyY: [Double] = []

    mutating func include(x values: [Double]) {
        for value in values {
            xMin = min(xMin, value)
            xMax = max(xMax, value)
        }
    }

    mutating func include(y values: [Double]) {
        for value in values {
            yMin = min(yMin, value)
            yMax = max(yMax, value)
        }
    }

    mutating func merge(_ other: Extent) {
        xMin = min(xMin, other.xMin)
        xMax = max(xMax, other.xMax)
        yMin = min(yMin, other.yMin)
        yMax = max(yMax, other.yMax)
        stickyX += other.stickyX
        stickyY += other.stickyY
    }
}

/// One drawable element of an axes: a line, a set of bars, a heatmap...
protocol Mark {
    /// What the mark is, for error messages ("line", "histogram").
    var kind: String { get }
    /// The legend label; unlabelled marks stay out of the legend.
    var label: String? { get }
    /// Validates the data against the axes' scales and returns the range that must be visible.
    func extent(xScale: AxisScale, yScale: AxisScale) throws -> Extent
    func draw(on canvas: Canvas, in frame: Frame)
    /// Draws the legend sample into `rect`.
    func drawSwatch(on canvas: Canvas, in rect: Rect)
    /// Pixels the mark covers, sampled, so the legend can go where there is least data.
    func occupiedPoints(in frame: Frame) -> [Point]
}

extension Mark {
    func requireData(_ count: Int) throws {
        if count == 0 { throw PlotError.emptySeries(kind: kind, label: label) }
    }

    func requirePositive(_ values: [Double], scale: AxisScale, axis: String) throws {
        guard scale.isLogarithmic, let smallest = values.min(), smallest <= 0 else { return }
        throw PlotError.nonPositiveOnLogAxis(axis: axis, kind: kind, label: label, value: smallest)
    }

    /// The extent of points (x, y), after checking there is data and that it suits log axes.
    func pointExtent(x: [Double], y: [Double], xScale: AxisScale, yScale: AxisScale) throws -> Extent {
        try requireData(x.count)
        try requirePositive(x, scale: xScale, axis: "x")
        try requirePositive(y, scale: yScale, axis: "y")
        var extent = Extent()
        extent.include(x: x)
        extent.include(y: y)
        return extent
    }
}

/// Points every `spacing` pixels along a polyline.
func samplePolyline(_ points: [Point], spacing: Double = 4) -> [Point] {
    guard var previous = points.first else { return [] }
    var samples = [previous]
    for point in points.dropFirst() {
        let length = hypot(point.x - previous.x, point.y - previous.y)
        let steps = min(Int(length / spacing), 2000)
        if steps > 0 {
            for step in 1...steps {
                let t = Double(step) / Double(steps)
                samples.append(Point(x: previous.x + (point.x - previous.x) * t,
                                     y: previous.y + (point.y - previous.y) * t))
            }
        }
        previous = point
    }
    return samples
}

/// A polyline through (x, y) with optional markers.
struct LineMark: Mark {
    var x: [Double]
    var y: [Double]
    var label: String?
    var color: Color
    var width: Double
    var dash: Dash
    var marker: Marker
    var markerSize: Double
    var kind: String { "line" }

    func extent(xScale: AxisScale, yScale: AxisScale) throws -> Extent {
        try pointExtent(x: x, y: y, xScale: xScale, yScale: yScale)
    }

    func draw(on canvas: Canvas, in frame: Frame) {
        let points = zip(x, y).map { frame.point($0, $1) }
        if width > 0 { canvas.polyline(points, color: color, width: width, dash: dash) }
        for point in points { canvas.marker(marker, at: point, size: markerSize, color: color) }
    }

    func drawSwatch(on canvas: Canvas, in rect: Rect) {
        let middle = rect.minY + rect.height / 2
        if width > 0 {
            canvas.polyline([Point(x: rect.minX, y: middle), Point(x: rect.maxX, y: middle)], color: color,
                            width: width, dash: dash)
        }
        canvas.marker(marker, at: Point(x: rect.minX + rect.width / 2, y: middle), size: markerSize, color: color)
    }

    func occupiedPoints(in frame: Frame) -> [Point] {
        samplePolyline(zip(x, y).map { frame.point($0, $1) })
    }
}

/// Markers at (x, y), optionally sized and coloured by per-point values.
struct ScatterMark: Mark {
    var x: [Double]
    var y: [Double]
    /// Marker diameters in points, one per point.
    var diameters: [Double]
    /// Colours, one per point.
    var colors: [Color]
    var label: String?
    var marker: Marker
    var hollow: Bool
    var kind: String { "scatter" }

    func extent(xScale: AxisScale, yScale: AxisScale) throws -> Extent {
        try pointExtent(x: x, y: y, xScale: xScale, yScale: yScale)
    }

    func draw(on canvas: Canvas, in frame: Frame) {
        let edge: Color? = colors.count > 1 && !hollow ? Color.white.withAlpha(0.6) : nil
        for index in x.indices {
            canvas.marker(marker, at: frame.point(x[index], y[index]), size: diameters[index], color: colors[index],
                          hollow: hollow, edge: edge)
        }
    }

    func drawSwatch(on canvas: Canvas, in rect: Rect) {
        let middleIndex = colors.count / 2
        canvas.marker(marker, at: Point(x: rect.minX + rect.width / 2, y: rect.minY + rect.height / 2),
                      size: min(diameters[middleIndex], 8), color: colors[middleIndex], hollow: hollow)
    }

    func occupiedPoints(in frame: Frame) -> [Point] { zip(x, y).map { frame.point($0, $1) } }
}

/// Filled rectangles: bars, grouped bars and histograms (bins x0...x1, heights y0...y1).
struct BarMark: Mark {
    struct Bar {
        var x0: Double
        var x1: Double
        var y0: Double
        var y1: Double
    }

    var bars: [Bar]
    var label: String?
    var color: Color
    var kind: String
    /// Error bar half-lengths, one per bar, drawn at the bar's top.
    var errors: [Double]?

    func extent(xScale: AxisScale, yScale: AxisScale) throws -> Extent {
        try requireData(bars.count)
        try requirePositive(bars.flatMap { [$0.x0, $0.x1] }, scale: xScale, axis: "x")
        var extent = Extent()
        extent.include(x: bars.flatMap { [$0.x0, $0.x1] })
        // On a log y-axis bars grow from the bottom of the axis; empty or negative bars are not drawn.
        let heights = bars.flatMap { [$0.y0, $0.y1] }.filter { !yScale.isLogarithmic || $0 > 0 }
        if heights.isEmpty { throw PlotError.nonPositiveOnLogAxis(axis: "y", kind: kind, label: label, value: 0) }
        extent.include(y: heights)
        if let errors {
            extent.include(y: zip(bars, errors).map { $0.y1 + $1 })
            extent.include(y: zip(bars, errors).map { $0.y1 - $1 }.filter { !yScale.isLogarithmic || $0 > 0 })
        }
        extent.stickyY = [0]
        if yScale.isLogarithmic, bars.contains(where: { $0.y0 <= 0 }), let lowest = heights.min() {
            // Bars from zero reach the bottom of the axis; put it below the smallest bar so that one shows.
            extent.include(y: [lowest / 2])
            extent.stickyY = [lowest / 2]
        }
        return extent
    }

    func draw(on canvas: Canvas, in frame: Frame) {
        for (index, bar) in bars.enumerated() where bar.y1 != bar.y0 {
            let left = frame.x(bar.x0), right = frame.x(bar.x1)
            let top = frame.y(bar.y1), bottom = frame.y(bar.y0)
            let rect = Rect(x: min(left, right), y: min(top, bottom), width: abs(right - left),
                            height: abs(bottom - top))
            canvas.rectangle(rect, fill: color, stroke: rect.width > 6 ? Color.white : nil, width: 0.5)
            if let errors {
                let center = (bar.x0 + bar.x1) / 2
                let low = frame.point(center, bar.y1 - errors[index]), high = frame.point(center, bar.y1 + errors[index])
                canvas.segment(low, high, color: Color(hex: 0x222222), width: 1)
                let cap = rect.width / 6
                for end in [low, high] {
                    canvas.segment(Point(x: end.x - cap, y: end.y), Point(x: end.x + cap, y: end.y),
                                   color: Color(hex: 0x222222), width: 1)
                }
            }
        }
    }

    func drawSwatch(on canvas: Canvas, in rect: Rect) {
        canvas.rectangle(Rect(x: rect.minX + rect.width * 0.2, y: rect.minY, width: rect.width * 0.6,
                              height: rect.height), fill: color)
    }

    func occupiedPoints(in frame: Frame) -> [Point] {
        var samples: [Point] = []
        for bar in bars where bar.y1 != bar.y0 {
            let left = frame.x(bar.x0), right = frame.x(bar.x1)
            let top = max(frame.y(bar.y1), frame.rect.minY), bottom = min(frame.y(bar.y0), frame.rect.maxY)
            var y = min(top, bottom)
            while y <= max(top, bottom) {
                var x = min(left, right)
                while x <= max(left, right) {
                    samples.append(Point(x: x, y: y))
                    x += 6
                }
                y += 6
            }
        }
        return samples
    }
}

/// A filled region between `lower` and `upper` over x (an error band).
struct BandMark: Mark {
    var x: [Double]
    var lower: [Double]
    var upper: [Double]
    var label: String?
    var color: Color
    var kind: String { "band" }

    func extent(xScale: AxisScale, yScale: AxisScale) throws -> Extent {
        try pointExtent(x: x + x, y: lower + upper, xScale: xScale, yScale: yScale)
    }

    func draw(on canvas: Canvas, in frame: Frame) {
        let top = zip(x, upper).map { frame.point($0, $1) }
        let bottom = zip(x, lower).map { frame.point($0, $1) }
        canvas.polygon(top + bottom.reversed(), fill: color)
    }

    func drawSwatch(on canvas: Canvas, in rect: Rect) {
        canvas.rectangle(Rect(x: rect.minX, y: rect.minY + rect.height * 0.15, width: rect.width,
                              height: rect.height * 0.7), fill: color)
    }

    func occupiedPoints(in frame: Frame) -> [Point] {
        var samples: [Point] = []
        for index in x.indices {
            samples += samplePolyline([frame.point(x[index], lower[index]), frame.point(x[index], upper[index])],
                                      spacing: 6)
        }
        return samples
    }
}

/// Markers with vertical (and optionally horizontal) error bars and caps.
struct ErrorBarMark: Mark {
    var x: [Double]
    var y: [Double]
    var yLower: [Double]
    var yUpper: [Double]
    var xError: [Double]?
    var label: String?
    var color: Color
    var marker: Marker
    var markerSize: Double
    var connected: Bool
    var kind: String { "error bars" }

    func extent(xScale: AxisScale, yScale: AxisScale) throws -> Extent {
        var extent = try pointExtent(x: x, y: y, xScale: xScale, yScale: yScale)
        if let xError {
            extent.include(x: zip(x, xError).flatMap { [$0 - $1, $0 + $1] }.filter { !xScale.isLogarithmic || $0 > 0 })
        }
        extent.include(y: (yLower + yUpper).filter { !yScale.isLogarithmic || $0 > 0 })
        return extent
    }

    func draw(on canvas: Canvas, in frame: Frame) {
        let cap = canvas.points(2.5)
        for index in x.indices {
            let low = frame.point(x[index], yLower[index]), high = frame.point(x[index], yUpper[index])
            canvas.segment(low, high, color: color, width: 1.1)
            for end in [low, high] {
                canvas.segment(Point(x: end.x - cap, y: end.y), Point(x: end.x + cap, y: end.y), color: color,
                               width: 1.1)
            }
            if let xError {
                let left = frame.point(x[index] - xError[index], y[index])
                let right = frame.point(x[index] + xError[index], y[index])
                canvas.segment(left, right, color: color, width: 1.1)
            }
        }
        let points = zip(x, y).map { frame.point($0, $1) }
        if connected { canvas.polyline(points, color: color, width: 1.3) }
        for point in points { canvas.marker(marker, at: point, size: markerSize, color: color) }
    }

    func drawSwatch(on canvas: Canvas, in rect: Rect) {
        let center = Point(x: rect.minX + rect.width / 2, y: rect.minY + rect.height / 2)
        if connected {
            canvas.polyline([Point(x: rect.minX, y: center.y), Point(x: rect.maxX, y: center.y)], color: color,
                            width: 1.3)
        }
        canvas.segment(Point(x: center.x, y: rect.minY), Point(x: center.x, y: rect.maxY), color: color, width: 1.1)
        canvas.marker(marker, at: center, size: markerSize, color: color)
    }

    func occupiedPoints(in frame: Frame) -> [Point] {
        var samples: [Point] = []
        for index in x.indices {
            samples += samplePolyline([frame.point(x[index], yLower[index]), frame.point(x[index], yUpper[index])])
        }
        if connected { samples += samplePolyline(zip(x, y).map { frame.point($0, $1) }) }
        return samples
    }
}

/// A grid of cells coloured through a colour map (1 channel) or given directly as RGB in 0...1 (3 channels).
/// Cell (row, column) covers x in column-0.5...column+0.5 and y in row-0.5...row+0.5, row 0 at the top.
/// NaN cells are left transparent (used for the gaps of an image grid).
struct HeatmapMark: Mark {
    var values: [Double]
    var rows: Int
    var columns: Int
    var channels: Int
    var colorMap: ColorMap
    var lower: Double
    var upper: Double
    /// Number format for per-cell annotations (e.g. "%.2f"); nil draws none.
    var annotationFormat: String?
    /// Data coordinates covered by the cells (x: first to last column edge, y: first to last row edge), for
    /// images with physical axes such as spectrograms; nil = cell centres at integer coordinates.
    var bounds: (x: ClosedRange<Double>, y: ClosedRange<Double>)? = nil
    var label: String? { nil }
    var kind: String { "heatmap" }

    /// The data coordinates of the outer edges: (left, right, first row, last row).
    var edges: (Double, Double, Double, Double) {
        if let b = bounds { return (b.x.lowerBound, b.x.upperBound, b.y.lowerBound, b.y.upperBound) }
        return (-0.5, Double(columns) - 0.5, -0.5, Double(rows) - 0.5)
    }

    func extent(xScale: AxisScale, yScale: AxisScale) throws -> Extent {
        try requireData(values.count)
        if xScale.isLogarithmic || yScale.isLogarithmic {
            throw PlotError.invalidArgument("heatmap/image: log axes are not supported; transform the data instead")
        }
        let (x0, x1, y0, y1) = edges
        var extent = Extent()
        extent.include(x: [x0, x1])
        extent.include(y: [y0, y1])
        extent.stickyX = [x0, x1]
        extent.stickyY = [y0, y1]
        return extent
    }

    func cellColor(_ index: Int) -> Color {
        if channels == 3 {
            let red = values[index * 3], green = values[index * 3 + 1], blue = values[index * 3 + 2]
            if red.isNaN || green.isNaN || blue.isNaN { return Color.white.withAlpha(0) }
            return Color(red: red, green: green, blue: blue)
        }
        let value = values[index]
        return colorMap(upper > lower ? (value - lower) / (upper - lower) : 0.5)
    }

    func draw(on canvas: Canvas, in frame: Frame) {
        var colors = (0..<(rows * columns)).map(cellColor)
        let (x0, x1, y0, y1) = edges
        let left = frame.x(x0), right = frame.x(x1)
        let top = frame.y(y0), bottom = frame.y(y1)
        if top > bottom {  // row 0 is drawn at the bottom (physical y axis): flip the rows of the bitmap
            colors = (0..<rows).reversed().flatMap { r in colors[(r * columns)..<((r + 1) * columns)] }
        }
        canvas.pixels(colors, width: columns, height: rows,
                      into: Rect(x: min(left, right), y: min(top, bottom), width: abs(right - left),
                                 height: abs(bottom - top)))
        guard let annotationFormat, channels == 1 else { return }
        let cellWidth = abs(right - left) / Double(columns), cellHeight = abs(bottom - top) / Double(rows)
        let size = min(8, 0.45 * min(cellWidth, cellHeight) / canvas.pixelsPerPoint)
        guard size >= 4 else { return }
        for row in 0..<rows {
            for column in 0..<columns where values[row * columns + column].isFinite {
                let color = colors[row * columns + column]
                canvas.text(String(format: annotationFormat, values[row * columns + column]),
                            at: frame.point(Double(column), Double(row)), size: size,
                            color: color.luminance > 0.5 ? .black : .white, alignment: .center, baseline: .middle)
            }
        }
    }

    func drawSwatch(on canvas: Canvas, in rect: Rect) {}

    func occupiedPoints(in frame: Frame) -> [Point] {
        let rect = frame.rect
        return stride(from: rect.minY, through: rect.maxY, by: 8).flatMap { y in
            stride(from: rect.minX, through: rect.maxX, by: 8).map { Point(x: $0, y: y) }
        }
    }
}

/// Text at a data position.
struct TextMark: Mark {
    var text: String
    var x: Double
    var y: Double
    var size: Double
    var color: Color
    var alignment: TextAlignment
    var label: String? { nil }
    var kind: String { "text" }

    func extent(xScale: AxisScale, yScale: AxisScale) throws -> Extent {
        try requirePositive([x], scale: xScale, axis: "x")
        try requirePositive([y], scale: yScale, axis: "y")
        return Extent()
    }

    func draw(on canvas: Canvas, in frame: Frame) {
        canvas.text(text, at: frame.point(x, y), size: size, color: color, alignment: alignment, baseline: .middle)
    }

    func drawSwatch(on canvas: Canvas, in rect: Rect) {}

    func occupiedPoints(in frame: Frame) -> [Point] { [frame.point(x, y)] }
}

/// A horizontal or vertical line across the whole axes (a baseline, a threshold, a paper's reported value).
struct ReferenceLineMark: Mark {
    var value: Double
    var horizontal: Bool
    var label: String?
    var color: Color
    var width: Double
    var dash: Dash
    var kind: String { horizontal ? "horizontal line" : "vertical line" }

    func extent(xScale: AxisScale, yScale: AxisScale) throws -> Extent {
        var extent = Extent()
        if horizontal {
            try requirePositive([value], scale: yScale, axis: "y")
            extent.include(y: [value])
        } else {
            try requirePositive([value], scale: xScale, axis: "x")
            extent.include(x: [value])
        }
        return extent
    }

    func draw(on canvas: Canvas, in frame: Frame) {
        let rect = frame.rect
        if horizontal {
            let y = frame.y(value)
            canvas.segment(Point(x: rect.minX, y: y), Point(x: rect.maxX, y: y), color: color, width: width, dash: dash)
        } else {
            let x = frame.x(value)
            canvas.segment(Point(x: x, y: rect.minY), Point(x: x, y: rect.maxY), color: color, width: width, dash: dash)
        }
    }

    func drawSwatch(on canvas: Canvas, in rect: Rect) {
        let middle = rect.minY + rect.height / 2
        canvas.polyline([Point(x: rect.minX, y: middle), Point(x: rect.maxX, y: middle)], color: color, width: width,
                        dash: dash)
    }

    func occupiedPoints(in frame: Frame) -> [Point] {
        let rect = frame.rect
        if horizontal {
            let y = frame.y(value)
            return samplePolyline([Point(x: rect.minX, y: y), Point(x: rect.maxX, y: y)], spacing: 8)
        }
        let x = frame.x(value)
        return samplePolyline([Point(x: x, y: rect.minY), Point(x: x, y: rect.maxY)], spacing: 8)
    }
}
