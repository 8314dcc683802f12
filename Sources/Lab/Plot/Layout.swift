import Foundation

/// Sizes in points shared by every figure (scaled to pixels by the figure's DPI).
enum Style {
    static let tickFont = 8.0
    static let labelFont = 9.5
    static let titleFont = 10.5
    static let legendFont = 8.0
    static let suptitleFont = 12.0
    static let tickLength = 3.5
    static let minorTickLength = 2.0
    static let tickPad = 2.5
    static let labelPad = 4.0
    static let titlePad = 5.0
    static let edgePad = 4.0
    static let colorbarGap = 8.0
    static let colorbarWidth = 10.0
    static let spineWidth = 0.8
    static let spineColor = Color(hex: 0x262626)
    static let gridColor = Color(hex: 0xe6e6e6)
    /// Rotation of category labels that do not fit side by side.
    static let rotatedLabelAngle = 35.0 * Double.pi / 180
}

/// Tick values (data units), their labels and minor ticks for one axis.
struct AxisTicks {
    var major: [Double] = []
    var labels: [String] = []
    var minor: [Double] = []
    var rotated = false
}

/// Resolved limits of one axis, in scale space.
struct AxisLimits {
    var lower: Double
    var upper: Double
}

/// Everything needed to draw one host axes (and its twin): limits, ticks and the frame rectangle.
final class AxesLayout {
    let axes: Axes
    let row: Int
    let column: Int
    var xLimits = AxisLimits(lower: 0, upper: 1)
    var yLimits = AxisLimits(lower: 0, upper: 1)
    var twinLimits: AxisLimits?
    var xTicks = AxisTicks()
    var yTicks = AxisTicks()
    var twinTicks = AxisTicks()
    var colorbarTicks = AxisTicks()
    var showXTickLabels = true
    var showYTickLabels = true
    var left = 0.0, right = 0.0, top = 0.0, bottom = 0.0
    var rect = Rect(x: 0, y: 0, width: 1, height: 1)

    init(axes: Axes, row: Int, column: Int) {
        self.axes = axes
        self.row = row
        self.column = column
    }

    var frame: Frame {
        Frame(rect: rect, xScale: axes.xscale, yScale: axes.yscale, xLower: xLimits.lower, xUpper: xLimits.upper,
              yLower: yLimits.lower, yUpper: yLimits.upper, yInverted: axes.yInverted)
    }

    var twinFrame: Frame? {
        guard let twin = axes.twin, let twinLimits else { return nil }
        return Frame(rect: rect, xScale: axes.xscale, yScale: twin.yscale, xLower: xLimits.lower,
                     xUpper: xLimits.upper, yLower: twinLimits.lower, yUpper: twinLimits.upper)
    }
}

/// Axis limits in scale space: the data range (or the fixed range) padded by 5% on each side, except at sticky
/// edges such as a bar chart's zero baseline.
func resolveLimits(minimum: Double, maximum: Double, sticky: [Double], scale: AxisScale, fixed: ClosedRange<Double>?,
                   axis: String) throws -> AxisLimits
{
    if let fixed {
        if scale.isLogarithmic, fixed.lowerBound <= 0 {
            throw PlotError.invalidArgument("\(axis)lim \(fixed) includes values <= 0 on a log \(axis)-axis; "
                + "give a positive range")
        }
        if fixed.lowerBound == fixed.upperBound {
            throw PlotError.invalidArgument("\(axis)lim \(fixed) is empty; give a range with lower < upper")
        }
        return AxisLimits(lower: scale.forward(fixed.lowerBound), upper: scale.forward(fixed.upperBound))
    }
    guard minimum <= maximum else {
        return AxisLimits(lower: 0, upper: 1)
    }
    var lower = scale.forward(minimum), upper = scale.forward(maximum)
    if lower == upper {
        let half = scale.isLogarithmic ? 0.5 : (lower == 0 ? 0.5 : 0.05 * abs(lower))
        return AxisLimits(lower: lower - half, upper: upper + half)
    }
    let pad = 0.05 * (upper - lower)
    if !sticky.contains(minimum) { lower -= pad }
    if !sticky.contains(maximum) { upper += pad }
    return AxisLimits(lower: lower, upper: upper)
}

/// Ticks for limits in scale space: `override` (categories) when given, else 1-2-5 steps or whole powers;
/// `integersOnly` keeps whole numbers (cell indices of a heatmap).
func makeTicks(_ limits: AxisLimits, scale: AxisScale, target: Int,
               override: (positions: [Double], labels: [String])?, integersOnly: Bool = false) -> AxisTicks
{
    let lower = scale.inverse(min(limits.lower, limits.upper)), upper = scale.inverse(max(limits.lower, limits.upper))
    let tolerance = 1e-9 * max(abs(upper - lower), 1e-300)
    if let override {
        var ticks = AxisTicks()
        for (position, label) in zip(override.positions, override.labels)
        where position >= lower - tolerance && position <= upper + tolerance {
            ticks.major.append(position)
            ticks.labels.append(label)
        }
        return ticks
    }
    if scale.isLogarithmic {
        let (major, minor) = Ticks.logarithmic(from: lower, to: upper, scale: scale, target: target)
        return AxisTicks(major: major, labels: Ticks.labels(for: major, scale: scale), minor: minor)
    }
    var major = Ticks.linear(from: lower, to: upper, target: target)
    if integersOnly { major = major.filter { $0 == $0.rounded() } }
    return AxisTicks(major: major, labels: Ticks.labels(for: major, scale: scale))
}
