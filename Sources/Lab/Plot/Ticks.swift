import Foundation

/// How data values map onto an axis.
///
/// Usage: `ax.xscale = .log2` (densities 1/64 ... 1), `ax.yscale = .log10` (losses).
public enum AxisScale: Sendable, Equatable {
    case linear
    case log10
    case log2

    /// Whether the axis is logarithmic (and so needs values > 0).
    public var isLogarithmic: Bool { self != .linear }

    /// Data value -> position on the axis (the log for log axes).
    func forward(_ value: Double) -> Double {
        switch self {
        case .linear: return value
        case .log10: return Foundation.log10(value)
        case .log2: return Foundation.log2(value)
        }
    }

    /// Position on the axis -> data value.
    func inverse(_ position: Double) -> Double {
        switch self {
        case .linear: return position
        case .log10: return pow(10, position)
        case .log2: return pow(2, position)
        }
    }
}

/// Tick positions and labels: 1-2-5 steps on linear axes, whole powers on log axes.
///
/// Usage: `Ticks.linear(from: 0, to: 0.93)` is `[0, 0.2, 0.4, 0.6, 0.8]`;
/// `Ticks.labels(for: [1e-3, 1e-2], scale: .log10)` is `["10⁻³", "10⁻²"]`.
public enum Ticks {
    /// The smallest step of the form {1, 2, 5} x 10^k that is at least `rawStep`.
    public static func niceStep(_ rawStep: Double) -> Double {
        guard rawStep > 0, rawStep.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(rawStep)))
        let residual = rawStep / magnitude
        let multiple: Double = residual <= 1 + 1e-9 ? 1 : residual <= 2 + 1e-9 ? 2 : residual <= 5 + 1e-9 ? 5 : 10
        return multiple * magnitude
    }

    /// The 1-2-5 step just below `step` (itself a 1-2-5 step): 1 -> 0.5, 2 -> 1, 5 -> 2.
    static func smallerStep(_ step: Double) -> Double {
        let magnitude = pow(10, floor(log10(step) + 1e-9))
        let multiple = (step / magnitude).rounded()
        return multiple == 1 ? 0.5 * magnitude : multiple == 2 ? magnitude : 2 * magnitude
    }

    /// About `target` ticks at multiples of a 1-2-5 step inside `lower...upper`: the smallest step giving at
    /// most `target` ticks, or the next finer step when its count is closer to `target` (at most target + 2).
    public static func linear(from lower: Double, to upper: Double, target: Int = 6) -> [Double] {
        guard upper > lower, lower.isFinite, upper.isFinite else { return lower.isFinite ? [lower] : [] }
        let step = niceStep((upper - lower) / Double(max(target - 1, 1)))
        let coarse = multiples(of: step, from: lower, to: upper)
        let finer = multiples(of: smallerStep(step), from: lower, to: upper)
        let closer = abs(finer.count - target) < abs(coarse.count - target)
        return closer && finer.count <= target + 2 ? finer : coarse
    }

    private static func multiples(of step: Double, from lower: Double, to upper: Double) -> [Double] {
        let first = (lower / step - 1e-9).rounded(.up), last = (upper / step + 1e-9).rounded(.down)
        guard first <= last else { return [] }
        return (Int(first)...Int(last)).map { index in
            let value = Double(index) * step
            return abs(value) < step * 1e-9 ? 0 : value
        }
    }

    /// Major ticks at whole powers of the base inside `lower...upper` (every k-th power when there are more than
    /// `target`), and minor ticks at 2...9 x 10^k on base-10 axes spanning few decades. When the range holds
    /// fewer than two powers, the major ticks fall back to 1-2-5 steps.
    public static func logarithmic(from lower: Double, to upper: Double, scale: AxisScale, target: Int = 7)
        -> (major: [Double], minor: [Double])
    {
        guard lower > 0, upper > lower, scale.isLogarithmic else { return ([], []) }
        let low = Int((scale.forward(lower) - 1e-9).rounded(.up))
        let high = Int((scale.forward(upper) + 1e-9).rounded(.down))
        if high - low + 1 < 2 {
            let linearTicks = linear(from: lower, to: upper, target: max(target - 2, 3)).filter { $0 > 0 }
            return (linearTicks, [])
        }
        let stride = max(1, Int((Double(high - low + 1) / Double(target)).rounded(.up)))
        let major = Swift.stride(from: low, through: high, by: stride).map { scale.inverse(Double($0)) }
        var minor: [Double] = []
        if scale == .log10, stride == 1, high - low <= 6 {
            for decade in (low - 1)...high {
                for multiple in 2...9 {
                    let value = Double(multiple) * pow(10, Double(decade))
                    if value >= lower, value <= upper { minor.append(value) }
                }
            }
        }
        return (major, minor)
    }

    /// Labels for tick values: the fewest decimals that tell neighbours apart; scientific notation for very
    /// large or small magnitudes; powers with superscript exponents on log axes. Negative numbers use "−".
    public static func labels(for values: [Double], scale: AxisScale = .linear) -> [String] {
        guard !values.isEmpty else { return [] }
        switch scale {
        case .log10 where values.allSatisfy(isWholePower(base: 10)):
            return values.map { "10" + superscript(Int(log10($0).rounded())) }
        case .log2 where values.allSatisfy(isWholePower(base: 2)):
            if values.allSatisfy({ $0 >= 0.125 && $0 <= 4096 }) { return values.map { plain($0, decimals: 3) } }
            return values.map { "2" + superscript(Int(log2($0).rounded())) }
        default:
            return linearLabels(values)
        }
    }

    private static func isWholePower(base: Double) -> (Double) -> Bool {
        { value in
            let exponent = log(value) / log(base)
            return abs(exponent - exponent.rounded()) < 1e-6
        }
    }

    private static func linearLabels(_ values: [Double]) -> [String] {
        let sorted = values.sorted()
        let steps = zip(sorted, sorted.dropFirst()).map { $1 - $0 }.filter { $0 > 0 }
        let step = steps.min() ?? max(abs(sorted[0]), 1)
        let largest = values.map(abs).max() ?? 0
        if largest >= 1e5 || (largest > 0 && largest < 1e-3) {
            // Scientific: one shared exponent, mantissa decimals from the step.
            let exponent = Int(floor(log10(largest)))
            let scaledStep = step / pow(10, Double(exponent))
            let decimals = max(0, Int(-floor(log10(scaledStep) + 1e-9)))
            return values.map { value in
                if value == 0 { return "0" }
                return plain(value / pow(10, Double(exponent)), decimals: decimals) + "e" + signed(exponent)
            }
        }
        let decimals = max(0, Int(-floor(log10(step) + 1e-9)))
        return values.map { plain($0, decimals: decimals) }
    }

    /// `value` with at most `decimals` decimals, trailing zeros dropped, and a typographic minus.
    static func plain(_ value: Double, decimals: Int) -> String {
        var text = String(format: "%.\(min(decimals, 12))f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        if text == "-0" { text = "0" }
        return text.replacingOccurrences(of: "-", with: "\u{2212}")
    }

    private static func signed(_ exponent: Int) -> String {
        exponent < 0 ? "\u{2212}\(-exponent)" : "\(exponent)"
    }

    private static func superscript(_ exponent: Int) -> String {
        let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        let body = String(String(abs(exponent)).map { digits[Int(String($0))!] })
        return exponent < 0 ? "⁻" + body : body
    }
}
