/// One-dimensional minimisers for small fits (a temperature, a scale, a bias).
public enum Minimizer {
    /// Where a minimiser stopped.
    public struct Minimum: Sendable, Equatable {
        public let argument: Double
        public let value: Double
        /// Calls of f.
        public let evaluations: Int
    }

    /// Golden-section search for the minimum of f on [a, b] (Kiefer 1953): the bracket shrinks by
    /// 1/φ ≈ 0.618 per evaluation, keeping the interior point with the smaller value, until it is at most
    /// `tolerance` wide; returns the better of the two final interior points. For a unimodal f this is the
    /// minimum to within `tolerance` in x (a minimum at an end is approached to within `tolerance`);
    /// otherwise some local minimum. A NaN value counts as larger than any number.
    ///
    ///     let t = Minimizer.goldenSection(over: log(0.05)...log(20)) { nll(exp($0)) }.argument
    public static func goldenSection(over interval: ClosedRange<Double>, tolerance: Double = 1e-8,
                                     _ f: (Double) throws -> Double) rethrows -> Minimum {
        precondition(tolerance > 0, "goldenSection: tolerance \(tolerance) must be > 0")
        let shrink = (5.0.squareRoot() - 1) / 2
        var (a, b) = (interval.lowerBound, interval.upperBound)
        var c = b - shrink * (b - a), d = a + shrink * (b - a)
        var fc = try f(c), fd = try f(d), evaluations = 2
        // "Smaller" with NaN losing to every number.
        func below(_ u: Double, _ v: Double) -> Bool { !u.isNaN && (v.isNaN || u < v) }
        while b - a > tolerance {
            if below(fc, fd) {
                (b, d, fd) = (d, c, fc)
                c = b - shrink * (b - a)
                fc = try f(c)
            } else {
                (a, c, fc) = (c, d, fd)
                d = a + shrink * (b - a)
                fd = try f(d)
            }
            evaluations += 1
        }
        return below(fd, fc) ? Minimum(argument: d, value: fd, evaluations: evaluations)
                             : Minimum(argument: c, value: fc, evaluations: evaluations)
    }
}
