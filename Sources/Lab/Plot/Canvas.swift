import CCairo
import Foundation

/// A point or size in device pixels (1/72 inch x dpi / 72 on vector surfaces, scaled by Cairo).
struct Point {
    var x: Double
    var y: Double
}

/// An axis-aligned rectangle in device pixels; y grows downwards.
struct Rect {
    var x: Double
    var y: Double
    var width: Double
    var height: Double

    var minX: Double { x }
    var maxX: Double { x + width }
    var minY: Double { y }
    var maxY: Double { y + height }

    func contains(_ point: Point) -> Bool {
        point.x >= minX && point.x <= maxX && point.y >= minY && point.y <= maxY
    }

    func intersects(_ other: Rect) -> Bool {
        minX < other.maxX && other.minX < maxX && minY < other.maxY && other.minY < maxY
    }

    func insetBy(_ amount: Double) -> Rect {
        Rect(x: x + amount, y: y + amount, width: width - 2 * amount, height: height - 2 * amount)
    }
}

/// Line dash patterns.
///
/// Usage: `ax.line(x, y, dash: .dashed)`.
public enum Dash: Sendable, Equatable {
    case solid
    case dashed
    case dotted
    case dashDot

    /// On/off lengths in multiples of the line width.
    var pattern: [Double] {
        switch self {
        case .solid: return []
        case .dashed: return [3.7, 1.6]
        case .dotted: return [1, 1.65]
        case .dashDot: return [6.4, 1.6, 1, 1.6]
        }
    }
}

/// Marker shapes for lines, scatter plots and error bars.
///
/// Usage: `ax.line(x, y, marker: .circle)`; `ax.scatter(x, y, marker: .square, hollow: true)`.
public enum Marker: Sendable, Equatable {
    case none
    case circle
    case square
    case triangle
    case diamond
    case plus
    case cross
}

/// Horizontal alignment of text relative to its anchor point.
public enum TextAlignment: Sendable {
    case left
    case center
    case right
}

/// Vertical placement of text relative to its anchor point.
enum TextBaseline {
    case top
    case middle
    case bottom
}

/// A thin layer over a Cairo context: sizes in points are converted to pixels with `pixelsPerPoint`.
final class Canvas {
    let context: OpaquePointer
    let pixelsPerPoint: Double
    static let fontFamily = "DejaVu Sans"

    init(context: OpaquePointer, pixelsPerPoint: Double) {
        self.context = context
        self.pixelsPerPoint = pixelsPerPoint
        var options: OpaquePointer? = cairo_font_options_create()
        cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY)
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_SLIGHT)
        cairo_set_font_options(context, options)
        cairo_font_options_destroy(options)
        options = nil
        cairo_set_antialias(context, CAIRO_ANTIALIAS_DEFAULT)
        cairo_set_line_join(context, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(context, CAIRO_LINE_CAP_BUTT)
    }

    func points(_ value: Double) -> Double { value * pixelsPerPoint }

    func setColor(_ color: Color) {
        cairo_set_source_rgba(context, color.red, color.green, color.blue, color.alpha)
    }

    // MARK: Text

    private func selectFont(size: Double, bold: Bool) {
        cairo_select_font_face(context, Canvas.fontFamily, CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(context, points(size))
    }

    /// Width (advance) and line height (ascent + descent) of `text` at `size` points, in pixels.
    func measure(_ text: String, size: Double, bold: Bool = false) -> (width: Double, height: Double) {
        selectFont(size: size, bold: bold)
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, text, &extents)
        var font = cairo_font_extents_t()
        cairo_font_extents(context, &font)
        return (extents.x_advance, font.ascent + font.descent)
    }

    /// Draws `text` anchored at `point`; `rotation` in radians, counter-clockwise (pi/2 for a y-axis label).
    func text(_ text: String, at point: Point, size: Double, color: Color = .black, bold: Bool = false,
              alignment: TextAlignment = .left, baseline: TextBaseline = .bottom, rotation: Double = 0)
    {
        guard !text.isEmpty else { return }
        selectFont(size: size, bold: bold)
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, text, &extents)
        var font = cairo_font_extents_t()
        cairo_font_extents(context, &font)
        let dx: Double
        switch alignment {
        case .left: dx = 0
        case .center: dx = -extents.x_advance / 2
        case .right: dx = -extents.x_advance
        }
        let dy: Double
        switch baseline {
        case .top: dy = font.ascent
        case .middle: dy = (font.ascent - font.descent) / 2
        case .bottom: dy = -font.descent
        }
        cairo_save(context)
        cairo_translate(context, point.x, point.y)
        cairo_rotate(context, -rotation)
        cairo_move_to(context, dx, dy)
        setColor(color)
        cairo_show_text(context, text)
        cairo_restore(context)
    }

    // MARK: Shapes

    private func stroke(color: Color, width: Double, dash: Dash) {
        setColor(color)
        let lineWidth = points(width)
        cairo_set_line_width(context, lineWidth)
        let pattern = dash.pattern.map { $0 * lineWidth }
        cairo_set_dash(context, pattern, Int32(pattern.count), 0)
        cairo_stroke(context)
        cairo_set_dash(context, [], 0, 0)
    }

    /// A polyline through `points` (width in points).
    func polyline(_ points: [Point], color: Color, width: Double, dash: Dash = .solid) {
        guard let first = points.first else { return }
        cairo_new_path(context)
        cairo_move_to(context, first.x, first.y)
        for point in points.dropFirst() { cairo_line_to(context, point.x, point.y) }
        stroke(color: color, width: width, dash: dash)
    }

    /// A straight segment from `a` to `b`, snapped to the pixel grid when axis-aligned so thin lines stay crisp.
    func segment(_ a: Point, _ b: Point, color: Color, width: Double, dash: Dash = .solid) {
        var a = a, b = b
        let lineWidth = points(width)
        let odd = Int(lineWidth.rounded()) % 2 == 1
        if a.x == b.x { a.x = snap(a.x, odd); b.x = a.x }
        if a.y == b.y { a.y = snap(a.y, odd); b.y = a.y }
        polyline([a, b], color: color, width: width, dash: dash)
    }

    private func snap(_ value: Double, _ odd: Bool) -> Double {
        odd ? value.rounded(.down) + 0.5 : value.rounded()
    }

    /// A filled polygon, optionally outlined.
    func polygon(_ points: [Point], fill: Color, stroke outline: Color? = nil, width: Double = 0.8) {
        guard let first = points.first else { return }
        cairo_new_path(context)
        cairo_move_to(context, first.x, first.y)
        for point in points.dropFirst() { cairo_line_to(context, point.x, point.y) }
        cairo_close_path(context)
        setColor(fill)
        if let outline {
            cairo_fill_preserve(context)
            stroke(color: outline, width: width, dash: .solid)
        } else {
            cairo_fill(context)
        }
    }

    /// A filled rectangle, optionally outlined.
    func rectangle(_ rect: Rect, fill: Color?, stroke outline: Color? = nil, width: Double = 0.8) {
        cairo_new_path(context)
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        if let fill {
            setColor(fill)
            if outline != nil { cairo_fill_preserve(context) } else { cairo_fill(context) }
        }
        if let outline { stroke(color: outline, width: width, dash: .solid) }
    }

    /// A marker of diameter `size` points centred at `center`; hollow markers are outlined only.
    func marker(_ shape: Marker, at center: Point, size: Double, color: Color, hollow: Bool = false,
                edge: Color? = nil)
    {
        let radius = points(size) / 2
        cairo_new_path(context)
        switch shape {
        case .none:
            return
        case .circle:
            cairo_arc(context, center.x, center.y, radius, 0, 2 * Double.pi)
        case .square:
            let side = radius * 1.77
            cairo_rectangle(context, center.x - side / 2, center.y - side / 2, side, side)
        case .triangle:
            cairo_move_to(context, center.x, center.y - radius * 1.2)
            cairo_line_to(context, center.x + radius * 1.05, center.y + radius * 0.65)
            cairo_line_to(context, center.x - radius * 1.05, center.y + radius * 0.65)
            cairo_close_path(context)
        case .diamond:
            cairo_move_to(context, center.x, center.y - radius * 1.25)
            cairo_line_to(context, center.x + radius * 0.9, center.y)
            cairo_line_to(context, center.x, center.y + radius * 1.25)
            cairo_line_to(context, center.x - radius * 0.9, center.y)
            cairo_close_path(context)
        case .plus:
            cairo_move_to(context, center.x - radius, center.y)
            cairo_line_to(context, center.x + radius, center.y)
            cairo_move_to(context, center.x, center.y - radius)
            cairo_line_to(context, center.x, center.y + radius)
            stroke(color: color, width: max(1, size / 5), dash: .solid)
            return
        case .cross:
            let r = radius * 0.8
            cairo_move_to(context, center.x - r, center.y - r)
            cairo_line_to(context, center.x + r, center.y + r)
            cairo_move_to(context, center.x - r, center.y + r)
            cairo_line_to(context, center.x + r, center.y - r)
            stroke(color: color, width: max(1, size / 5), dash: .solid)
            return
        }
        if hollow {
            stroke(color: color, width: max(0.9, size / 6), dash: .solid)
        } else {
            setColor(color)
            if let edge {
                cairo_fill_preserve(context)
                stroke(color: edge, width: 0.4, dash: .solid)
            } else {
                cairo_fill(context)
            }
        }
    }

    /// Draws straight RGBA pixels (`width` x `height`, rows top to bottom, components 0...1 per colour) scaled
    /// into `rect` without smoothing, so every cell of a heatmap stays a crisp rectangle.
    func pixels(_ colors: [Color], width: Int, height: Int, into rect: Rect) {
        guard let image = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)) else {
            return
        }
        defer { cairo_surface_destroy(image) }
        cairo_surface_flush(image)
        let stride = Int(cairo_image_surface_get_stride(image))
        guard let base = cairo_image_surface_get_data(image) else { return }
        for row in 0..<height {
            let rowPointer = UnsafeMutableRawPointer(base + row * stride).assumingMemoryBound(to: UInt32.self)
            for column in 0..<width {
                let color = colors[row * width + column]
                let alpha = min(max(color.alpha, 0), 1)
                func channel(_ value: Double) -> UInt32 { UInt32((min(max(value, 0), 1) * alpha * 255).rounded()) }
                rowPointer[column] = UInt32((alpha * 255).rounded()) << 24 | channel(color.red) << 16
                    | channel(color.green) << 8 | channel(color.blue)
            }
        }
        cairo_surface_mark_dirty(image)
        cairo_save(context)
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        cairo_clip(context)
        cairo_translate(context, rect.x, rect.y)
        cairo_scale(context, rect.width / Double(width), rect.height / Double(height))
        cairo_set_source_surface(context, image, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(context), CAIRO_FILTER_NEAREST)
        cairo_paint(context)
        cairo_restore(context)
    }

    /// Runs `body` with drawing clipped to `rect`.
    func clipped(to rect: Rect, _ body: () -> Void) {
        cairo_save(context)
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        cairo_clip(context)
        body()
        cairo_restore(context)
    }
}
