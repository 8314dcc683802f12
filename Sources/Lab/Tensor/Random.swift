import Foundation

/// The one random number generator of Lab: xoshiro256** (Blackman & Vigna, arXiv 1805.01407),
/// seeded through SplitMix64. The same seed gives the same stream on every run and machine.
///
/// Streams are passed explicitly. Independent streams for sub-experiments come from `derived(_:)`,
/// so results never depend on the order in which experiments run:
///
///     var rng = RNG(seed: 0)
///     var dataRNG = rng.derived("data")          // same stream whatever `rng` did before
///     let x = rng.normal()
public struct RNG: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64
    /// The seed this generator was built from (kept for `derived`).
    public let seed: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        var sm = seed
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(&sm); s1 = splitMix(&sm); s2 = splitMix(&sm); s3 = splitMix(&sm)
    }

    /// A generator whose stream depends only on this generator's seed and `key`
    /// (FNV-1a of the key mixed into the seed), not on how many numbers were drawn so far.
    public func derived(_ key: String) -> RNG {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return RNG(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ h)
    }

    /// A generator derived from integer keys, e.g. `rng.derived(seed, task)`.
    public func derived(_ keys: Int...) -> RNG {
        derived(keys.map(String.init).joined(separator: "/"))
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * uniform() }

    /// Uniform in [0, 1) as Float, 24 random bits.
    @inline(__always)
    public mutating func uniformFloat() -> Float { Float(next() >> 40) * 0x1.0p-24 }

    /// Standard normal by the Box-Muller transform (one value per call; deterministic and simple).
    public mutating func normal() -> Double {
        var u1 = uniform()
        while u1 <= .leastNormalMagnitude { u1 = uniform() }
        let u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Normal with the given mean and standard deviation.
    public mutating func normal(mean: Double, std: Double) -> Double { mean + std * normal() }

    /// An integer uniform in 0..<n (Lemire's unbiased multiply-shift).
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0, "RNG.int(below:) needs n > 0, got \(n)")
        return Int(next(upperBound: UInt64(n)))
    }

    /// true with probability p.
    public mutating func bernoulli(_ p: Double) -> Bool { uniform() < p }

    /// A uniformly random permutation of 0..<n (Fisher-Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }

    /// Shuffles in place (Fisher-Yates, deterministic for a given stream).
    public mutating func shuffle<T>(_ a: inout [T]) {
        if a.count < 2 { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = int(below: i + 1)
            if i != j { a.swapAt(i, j) }
        }
    }

    /// k distinct indices from 0..<n, in random order (partial Fisher-Yates).
    public mutating func choice(_ n: Int, count k: Int) -> [Int] {
        precondition(k <= n, "RNG.choice: cannot draw \(k) distinct items from \(n)")
        var p = Array(0..<n)
        for i in 0..<k {
            let j = i + int(below: n - i)
            p.swapAt(i, j)
        }
        return Array(p[0..<k])
    }

    /// An index drawn with probability proportional to `weights` (categorical).
    public mutating func categorical(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        precondition(total > 0, "RNG.categorical: weights sum to \(total)")
        var u = uniform() * total
        for (i, w) in weights.enumerated() {
            u -= w
            if u < 0 { return i }
        }
        return weights.count - 1
    }

    /// Poisson(λ): inversion for λ < 30, else the normal approximation N(λ, λ) rounded and clipped at 0.
    public mutating func poisson(_ lambda: Double) -> Int {
        precondition(lambda >= 0, "RNG.poisson: λ = \(lambda) < 0")
        if lambda == 0 { return 0 }
        if lambda >= 30 { return max(0, Int((lambda + lambda.squareRoot() * normal()).rounded())) }
        let l = exp(-lambda)
        var k = 0
        var p = uniform()
        while p > l { k += 1; p *= uniform() }
        return k
    }

    /// Gamma(shape, 1) by Marsaglia & Tsang (2000); shape < 1 via the boost U^(1/shape).
    public mutating func gamma(shape: Double) -> Double {
        precondition(shape > 0, "RNG.gamma: shape = \(shape) <= 0")
        if shape < 1 { return gamma(shape: shape + 1) * pow(uniform(), 1 / shape) }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat { x = normal(); v = 1 + c * x } while v <= 0
            v = v * v * v
            let u = uniform()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// Beta(a, b) from two gammas.
    public mutating func beta(_ a: Double, _ b: Double) -> Double {
        let x = gamma(shape: a), y = gamma(shape: b)
        return x / (x + y)
    }

    /// Dirichlet(alphas) from normalised gammas.
    public mutating func dirichlet(_ alphas: [Double]) -> [Double] {
        let g = alphas.map { gamma(shape: $0) }
        let s = g.reduce(0, +)
        return g.map { $0 / s }
    }
}
