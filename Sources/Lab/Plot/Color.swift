import Foundation

/// An sRGB colour with components in 0...1.
///
/// Usage: `ax.line(x, y, color: Color(hex: 0x1f77b4))` or `Color.black.withAlpha(0.5)`.
public struct Color: Sendable, Equatable {
    /// Red, 0...1.
    public var red: Double
    /// Green, 0...1.
    public var green: Double
    /// Blue, 0...1.
    public var blue: Double
    /// Opacity, 0 (transparent) ... 1 (opaque).
    public var alpha: Double

    /// `Color(red: 0.2, green: 0.4, blue: 0.8)`.
    public init(red: Double, green: Double, blue: Double, alpha: Double = 1) {
        self.red = red
        self.green = green
        self.blue = blue
        self.alpha = alpha
    }

    /// `Color(hex: 0xRRGGBB)`.
    public init(hex: UInt32, alpha: Double = 1) {
        self.init(red: Double((hex >> 16) & 0xff) / 255, green: Double((hex >> 8) & 0xff) / 255,
                  blue: Double(hex & 0xff) / 255, alpha: alpha)
    }

    /// The same colour with another opacity.
    public func withAlpha(_ alpha: Double) -> Color { Color(red: red, green: green, blue: blue, alpha: alpha) }

    /// Relative luminance (Rec. 709 weights), used to pick black or white text over a colour.
    var luminance: Double { 0.2126 * red + 0.7152 * green + 0.0722 * blue }

    /// Linear interpolation between two colours: `t = 0` gives `self`, `t = 1` gives `other`.
    func mixed(with other: Color, _ t: Double) -> Color {
        Color(red: red + (other.red - red) * t, green: green + (other.green - green) * t,
              blue: blue + (other.blue - blue) * t, alpha: alpha + (other.alpha - alpha) * t)
    }

    // Named colours; red, blue, green and orange are the cycle's, so references match series.
    public static let black = Color(hex: 0x000000)
    public static let white = Color(hex: 0xffffff)
    public static let grey = Color(hex: 0x7f7f7f)
    public static let red = Color(hex: 0xd62728)
    public static let blue = Color(hex: 0x1f77b4)
    public static let green = Color(hex: 0x2ca02c)
    public static let orange = Color(hex: 0xff7f0e)

    /// The default colour cycle of series in an axes (the "tab10" qualitative palette).
    public static let cycle: [Color] = [0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                        0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf].map { Color(hex: $0) }
}

/// A colour map: a function from 0...1 to a colour, for heatmaps, images and colour-by-value scatter plots.
///
/// Usage: `ax.heatmap(matrix, colorMap: .viridis)`; `ColorMap.coolwarm(0.5)` is the neutral middle.
public struct ColorMap: Sendable {
    /// The map's name, e.g. "viridis".
    public let name: String
    private let evaluate: @Sendable (Double) -> Color

    /// A map from a function of `t` in 0...1.
    public init(name: String, _ evaluate: @escaping @Sendable (Double) -> Color) {
        self.name = name
        self.evaluate = evaluate
    }

    /// A map that interpolates linearly between evenly spaced anchor colours.
    public init(name: String, anchors: [Color]) {
        precondition(anchors.count >= 2, "ColorMap \(name) needs at least two anchors")
        self.init(name: name) { t in
            let position = t * Double(anchors.count - 1)
            let index = min(Int(position), anchors.count - 2)
            return anchors[index].mixed(with: anchors[index + 1], position - Double(index))
        }
    }

    /// The colour at `t`, clamped to 0...1; NaN gives a transparent colour.
    public func callAsFunction(_ t: Double) -> Color {
        if t.isNaN { return Color.white.withAlpha(0) }
        return evaluate(min(max(t, 0), 1))
    }

    /// Perceptually uniform dark blue -> green -> yellow (matplotlib's default), sampled at 11 points.
    public static let viridis = ColorMap(name: "viridis", anchors: [
        0x440154, 0x482475, 0x414487, 0x355f8d, 0x2a788e, 0x21918c,
        0x22a884, 0x44bf70, 0x7ad151, 0xbddf26, 0xfde725,
    ].map { Color(hex: $0) })

    /// Perceptually uniform black -> purple -> orange -> pale yellow.
    public static let inferno = ColorMap(name: "inferno", anchors: [
        0x000004, 0x160b39, 0x420a68, 0x6a176e, 0x932667, 0xbc3754,
        0xdd513a, 0xf37819, 0xfca50a, 0xf6d746, 0xfcffa4,
    ].map { Color(hex: $0) })

    /// Perceptually uniform black -> purple -> salmon -> pale yellow.
    public static let magma = ColorMap(name: "magma", anchors: [
        0x000004, 0x140e36, 0x3b0f70, 0x641a80, 0x8c2981, 0xb73779,
        0xde4968, 0xf7705c, 0xfe9f6d, 0xfecf92, 0xfcfdbf,
    ].map { Color(hex: $0) })

    /// Diverging blue -> light grey -> red (Moreland), for signed values centred on zero.
    public static let coolwarm = ColorMap(name: "coolwarm", anchors: [
        0x3b4cc0, 0x6282ea, 0x8db0fe, 0xb8d0f9, 0xdddcdc, 0xf5c4ad, 0xf49a7b, 0xde604d, 0xb40426,
    ].map { Color(hex: $0) })

    /// Black -> white.
    public static let grey = ColorMap(name: "grey", anchors: [Color.black, Color.white])

    /// gnuplot's default pm3d palette (rgbformulae 7,5,15): r = sqrt(t), g = t^3, b = sin(2 pi t) clipped at 0.
    public static let gnuplot = ColorMap(name: "gnuplot") { t in
        Color(red: t.squareRoot(), green: t * t * t, blue: max(0, sin(2 * Double.pi * t)))
    }
}
