/// Branch-free exp and tanh that the compiler vectorises (glibc's `expf` is a scalar call, ~3.5x slower
/// in the loops that matter: softmax, sigmoid, SiLU, GELU, tanh). `@inlinable`, so that loops in other modules
/// (e.g. LabLLM's SwiGLU and softmax) inline and vectorise them instead of calling them per element.

/// exp(x) for Float, relative error < 2e-7 on [-87, 88]. Below -87.3, where exp(x) is subnormal, it returns 0
/// (so exp(-inf) = 0: a masked softmax entry is exactly 0, and no subnormal, ~100x slower in every later
/// multiply, reaches the GEMMs); above 88.7 it clamps (exp(+inf) gives ~3e38). NaN stays NaN.
///
/// Method: x = n·ln2 + r with |r| <= ln2/2, exp(r) by its degree-6 Taylor polynomial, 2^n by building the
/// exponent bits. The rounding to n uses the 1.5·2^23 trick so the whole function is integer/float SIMD.
@inlinable @inline(__always)
public func fastExp(_ x: Float) -> Float {
    let xc = Swift.min(Swift.max(x, -87.3), 88.7)
    let t = xc * 1.442_695_040_9                     // x / ln 2
    let shifted = t + 12_582_912                      // 1.5 * 2^23: rounds t to an integer in the low bits
    let n = shifted - 12_582_912
    let r = (xc - n * 0.693_145_751_953_125) - n * 1.428_606_765_330_187e-06  // Cody-Waite split of ln 2
    var p: Float = 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let ni = Int32(bitPattern: shifted.bitPattern) &- 0x4B40_0000
    let scale = Float(bitPattern: UInt32(bitPattern: (ni &+ 127) << 23))
    return x.isNaN ? x : (x < -87.3 ? 0 : p * scale)
}

/// tanh(x) for Float, absolute error < 1e-6: the odd rational minimax approximation x·P(x²)/Q(x²) on
/// [-7.905, 7.905] (as in Eigen's fast tanh), clamped outside, where tanh is ±1 in Float.
@inlinable @inline(__always)
public func fastTanh(_ x: Float) -> Float {
    let xc = Swift.min(Swift.max(x, -7.905_311_107_635_498), 7.905_311_107_635_498)
    let x2 = xc * xc
    var p: Float = -2.760_768_477_423_55e-16
    p = p * x2 + 2.000_187_904_824_77e-13
    p = p * x2 + -8.604_671_522_137_35e-11
    p = p * x2 + 5.122_297_090_371_14e-08
    p = p * x2 + 1.485_722_357_179_79e-05
    p = p * x2 + 6.372_619_288_754_36e-04
    p = p * x2 + 4.893_524_558_917_86e-03
    p = p * xc
    var q: Float = 1.198_258_394_667_02e-06
    q = q * x2 + 1.185_347_056_866_54e-04
    q = q * x2 + 2.268_434_632_439_00e-03
    q = q * x2 + 4.893_525_185_543_85e-03
    return p / q
}

/// The logistic sigmoid 1 / (1 + e^-x), accurate in relative terms for large negative x too.
@inlinable @inline(__always)
public func fastSigmoid(_ x: Float) -> Float { 1 / (1 + fastExp(-x)) }

/// erf(x) for Float, absolute error < 5e-7 (1.5e-7 of the formula plus Float rounding): Abramowitz & Stegun
/// 7.1.26 with the vectorised exp, erf(|x|) = 1 − t·(a₁ + t·(a₂ + t·(a₃ + t·(a₄ + t·a₅))))·e^(−x²),
/// t = 1/(1 + p·|x|), odd in x.
/// Branch-free, so GELU loops vectorise (glibc's `erff` is a scalar call).
@inline(__always)
public func fastErf(_ x: Float) -> Float {
    let ax = Swift.abs(x)
    let t = 1 / (1 + 0.327_591_1 * ax)
    var p: Float = 1.061_405_429
    p = p * t - 1.453_152_027
    p = p * t + 1.421_413_741
    p = p * t - 0.284_496_736
    p = p * t + 0.254_829_592
    let y = 1 - p * t * fastExp(-ax * ax)
    return x < 0 ? -y : y
}
