import CCairo
import Foundation

/// A figure: a grid of `Axes` panels of a given size in inches, drawn with Cairo and saved as PNG (with
/// provenance text chunks), SVG or PDF. Data problems found while plotting are thrown when saving.
///
/// Usage:
/// ```
/// let fig = Figure(rows: 1, cols: 2, width: 8, height: 3.5)
/// fig[0, 0].line(steps, loss, label: "train")
/// fig[0, 1].heatmap(confusion, colorMap: .magma)
/// fig.suptitle = "Orthogonal init"
/// try fig.savePNG(to: "figures/exact-orthogonal-init/fig-loss.png", metadata: ["seed": "0"])
/// ```
public final class Figure {
    /// Number of panel rows.
    public let rows: Int
    /// Number of panel columns.
    public let cols: Int
    /// Width in inches.
    public let width: Double
    /// Height in inches.
    public let height: Double
    /// Pixels per inch of the PNG output.
    public let dpi: Double
    /// Bold title above all panels.
    public var suptitle: String?
    /// All panels share one x-range; only the bottom row shows x tick labels.
    public var sharex: Bool
    /// All panels share one y-range; only the left column shows y tick labels.
    public var sharey: Bool
    /// The panels, row-major.
    public let axes: [Axes]

    /// A `rows` x `cols` grid of empty panels on a `width` x `height` inch canvas (PNG: inches x `dpi` pixels).
    public init(rows: Int = 1, cols: Int = 1, width: Double = 6, height: Double = 4, dpi: Double = 150,
                sharex: Bool = false, sharey: Bool = false)
    {
        precondition(rows > 0 && cols > 0, "Figure needs at least one row and one column, got \(rows) x \(cols)")
        precondition(width > 0 && height > 0 && dpi > 0, "Figure size and dpi must be positive")
        self.rows = rows
        self.cols = cols
        self.width = width
        self.height = height
        self.dpi = dpi
        self.sharex = sharex
        self.sharey = sharey
        axes = (0..<(rows * cols)).map { _ in Axes() }
    }

    /// The panel at (row, col), both counted from 0 at the top left.
    public subscript(row: Int, col: Int) -> Axes {
        precondition(row >= 0 && row < rows && col >= 0 && col < cols,
                     "Figure has \(rows) x \(cols) panels; (\(row), \(col)) is outside")
        return axes[row * cols + col]
    }

    /// The panel at row-major position `index`.
    public subscript(index: Int) -> Axes { axes[index] }

    /// Width of the PNG in pixels (inches x dpi).
    public var pixelWidth: Int { Int((width * dpi).rounded()) }
    /// Height of the PNG in pixels (inches x dpi).
    public var pixelHeight: Int { Int((height * dpi).rounded()) }

    // MARK: Output

    /// Renders the figure and writes it atomically (temporary file, then rename) as an 8-bit RGBA PNG;
    /// `metadata` becomes tEXt chunks (keys of 1-79 Latin-1 characters, e.g. command, commit, seed, scale),
    /// after a "Software" chunk. Missing parent folders are created.
    public func savePNG(to path: String, metadata: [String: String] = [:]) throws {
        let pixels = try renderRGBA()
        var text = [("Software", "LabBook LabPlot (Cairo \(String(cString: cairo_version_string())))")]
        if metadata["Software"] != nil { text.removeAll() }
        text += metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        try PNGFile.write(rgba: pixels, width: pixelWidth, height: pixelHeight, text: text, to: path)
    }

    /// Renders the figure as SVG (vector; text as outlines), written atomically.
    public func saveSVG(to path: String) throws {
        try saveVector(to: path) { cairo_svg_surface_create($0, $1, $2) }
    }

    /// Renders the figure as PDF (vector), written atomically.
    public func savePDF(to path: String) throws {
        try saveVector(to: path) { cairo_pdf_surface_create($0, $1, $2) }
    }

    /// Renders to straight RGBA8 pixels, rows top to bottom: [pixelHeight, pixelWidth, 4].
    func renderRGBA() throws -> [UInt8] {
        let width = pixelWidth, height = pixelHeight
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)),
              cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS
        else {
            throw PlotError.invalidArgument("cannot create a \(width) x \(height) pixel image; reduce size or dpi")
        }
        defer { cairo_surface_destroy(surface) }
        guard let context = cairo_create(surface) else {
            throw PlotError.invalidArgument("cannot create a Cairo context")
        }
        defer { cairo_destroy(context) }
        try render(on: Canvas(context: context, pixelsPerPoint: dpi / 72), width: Double(width), height: Double(height))
        cairo_surface_flush(surface)
        guard let data = cairo_image_surface_get_data(surface) else {
            throw PlotError.invalidArgument("Cairo returned no pixels")
        }
        return Self.straightRGBA(data, width: width, height: height,
                                 stride: Int(cairo_image_surface_get_stride(surface)))
    }

    /// Cairo's ARGB32 is one native-endian UInt32 per pixel with premultiplied alpha; PNG wants straight
    /// R, G, B, A bytes: c = round(c_premultiplied x 255 / a).
    static func straightRGBA(_ data: UnsafeMutablePointer<UInt8>, width: Int, height: Int, stride: Int) -> [UInt8] {
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        for row in 0..<height {
            let source = UnsafeRawPointer(data + row * stride).assumingMemoryBound(to: UInt32.self)
            for column in 0..<width {
                let pixel = source[column]
                let alpha = pixel >> 24
                var red = (pixel >> 16) & 0xff, green = (pixel >> 8) & 0xff, blue = pixel & 0xff
                if alpha != 0 && alpha != 255 {
                    red = (red * 255 + alpha / 2) / alpha
                    green = (green * 255 + alpha / 2) / alpha
                    blue = (blue * 255 + alpha / 2) / alpha
                }
                let offset = (row * width + column) * 4
                rgba[offset] = UInt8(min(red, 255))
                rgba[offset + 1] = UInt8(min(green, 255))
                rgba[offset + 2] = UInt8(min(blue, 255))
                rgba[offset + 3] = UInt8(alpha)
            }
        }
        return rgba
    }

    private func saveVector(to path: String,
                            _ makeSurface: (String, Double, Double) -> OpaquePointer?) throws
    {
        // Validate and lay out before touching the file system.
        _ = try layouts(on: nil)
        try PNGFile.atomically(to: path) { temporary in
            guard let surface = makeSurface(temporary, width * 72, height * 72),
                  cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS
            else { throw PlotError.io(path: temporary, reason: "Cairo cannot create the vector surface") }
            defer { cairo_surface_destroy(surface) }
            guard let context = cairo_create(surface) else {
                throw PlotError.io(path: temporary, reason: "cannot create a Cairo context")
            }
            // Draw in pixel units so that the vector output has exactly the PNG's layout.
            cairo_scale(context, 72 / dpi, 72 / dpi)
            do {
                try render(on: Canvas(context: context, pixelsPerPoint: dpi / 72), width: Double(pixelWidth),
                           height: Double(pixelHeight))
            } catch {
                cairo_destroy(context)
                throw error
            }
            cairo_destroy(context)
            cairo_surface_finish(surface)
            let status = cairo_surface_status(surface)
            guard status == CAIRO_STATUS_SUCCESS else {
                throw PlotError.io(path: temporary, reason: String(cString: cairo_status_to_string(status)))
            }
        }
    }

    // MARK: Layout and rendering

    /// Validates every panel and resolves its limits (shared and twin axes included). The canvas is only
    /// needed for measuring text, so nil validates without laying out.
    private func layouts(on canvas: Canvas?) throws -> [AxesLayout] {
        let layouts = axes.enumerated().map { AxesLayout(axes: $1, row: $0 / cols, column: $0 % cols) }
        var extents: [Extent] = []
        var twinExtents: [Extent?] = []
        for layout in layouts {
            var extent = try layout.axes.dataExtent(xScale: layout.axes.xscale)
            var twinExtent: Extent?
            if let twin = layout.axes.twin {
                let own = try twin.dataExtent(xScale: layout.axes.xscale)
                extent.xMin = min(extent.xMin, own.xMin)
                extent.xMax = max(extent.xMax, own.xMax)
                extent.stickyX += own.stickyX
                twinExtent = own
            }
            extents.append(extent)
            twinExtents.append(twinExtent)
        }
        var shared = Extent()
        for extent in extents { shared.merge(extent) }
        for (index, layout) in layouts.enumerated() {
            let axes = layout.axes
            var extent = extents[index]
            if sharex {
                (extent.xMin, extent.xMax, extent.stickyX) = (shared.xMin, shared.xMax, shared.stickyX)
                layout.showXTickLabels = layout.row == rows - 1
            }
            if sharey {
                (extent.yMin, extent.yMax, extent.stickyY) = (shared.yMin, shared.yMax, shared.stickyY)
                layout.showYTickLabels = layout.column == 0
            }
            layout.xLimits = try resolveLimits(minimum: extent.xMin, maximum: extent.xMax, sticky: extent.stickyX,
                                               scale: axes.xscale, fixed: axes.xlim, axis: "x")
            layout.yLimits = try resolveLimits(minimum: extent.yMin, maximum: extent.yMax, sticky: extent.stickyY,
                                               scale: axes.yscale, fixed: axes.ylim, axis: "y")
            if let twin = axes.twin, let twinExtent = twinExtents[index] {
                layout.twinLimits = try resolveLimits(minimum: twinExtent.yMin, maximum: twinExtent.yMax,
                                                      sticky: twinExtent.stickyY, scale: twin.yscale,
                                                      fixed: twin.ylim, axis: "y")
            }
        }
        guard let canvas else { return layouts }

        // Equal cells below the suptitle; margins aligned per column (left/right) and per row (top/bottom).
        let pad = canvas.points(3)
        var top = pad
        if suptitle != nil { top += canvas.measure("Ag", size: Style.suptitleFont, bold: true).height + pad }
        let cellWidth = (Double(pixelWidth) - 2 * pad) / Double(cols)
        let cellHeight = (Double(pixelHeight) - top - pad) / Double(rows)
        func cell(_ layout: AxesLayout) -> Rect {
            Rect(x: pad + Double(layout.column) * cellWidth, y: top + Double(layout.row) * cellHeight,
                 width: cellWidth, height: cellHeight)
        }
        let targets = layouts.map { $0.measure(cell: cell($0), canvas) }
        if sharey, let shared = targets.min() {
            for layout in layouts { layout.measure(cell: cell(layout), canvas, sharedYTarget: shared) }
        }
        for layout in layouts {
            let column = layouts.filter { $0.column == layout.column }, row = layouts.filter { $0.row == layout.row }
            let left = column.map(\.left).max()!, right = column.map(\.right).max()!
            let topMargin = row.map(\.top).max()!, bottom = row.map(\.bottom).max()!
            let area = cell(layout)
            layout.rect = Rect(x: area.x + left, y: area.y + topMargin, width: max(area.width - left - right, 10),
                               height: max(area.height - topMargin - bottom, 10))
        }
        for layout in layouts {
            layout.applyEqualAspect()
            layout.fitXTicks(width: layout.rect.width, canvas)
        }
        return layouts
    }

    private func render(on canvas: Canvas, width: Double, height: Double) throws {
        let layouts = try layouts(on: canvas)
        canvas.rectangle(Rect(x: 0, y: 0, width: width, height: height), fill: .white)
        for layout in layouts { layout.draw(canvas) }
        if let suptitle {
            canvas.text(suptitle, at: Point(x: width / 2, y: canvas.points(3)), size: Style.suptitleFont, bold: true,
                        alignment: .center, baseline: .top)
        }
    }
}

extension Axes {
    /// The validated range of every mark (the first recorded problem is thrown first).
    func dataExtent(xScale: AxisScale) throws -> Extent {
        if let problem = problems.first { throw problem }
        var extent = Extent()
        for mark in marks { extent.merge(try mark.extent(xScale: xScale, yScale: yscale)) }
        return extent
    }
}
