/// Branch-free sin and cos that the compiler vectorises (glibc's `sinf`/`cosf` are scalar calls and dominate
/// SIREN layers, where every hidden unit takes a sine per sample).
///
/// Method (as Cephes' sinf, with a reduction by π): n = round(x/π), r = x − n·π with π split in three parts
/// (Cody-Waite: n·P1 and n·P2 are exact for |n| < 2^12), so r ∈ [−π/2, π/2]; then sin(x) = (−1)^n · sin(r) with
/// sin(r) by its odd Taylor polynomial through r¹¹ (truncation error < 6e-8 on [−π/2, π/2]). Absolute error
/// < 1e-6 for |x| <= 1e4 (checked in tests against Float64); the reduction stays exact up to |x| ≈ 1.2e4 and
/// degrades slowly beyond. NaN and ±∞ give NaN. Valid for |x| < 2^22·π (the rounding trick's range).
@usableFromInline let piPart1: Float = 3.140625
@usableFromInline let piPart2: Float = 9.675_025_939_941_406e-4
@usableFromInline let piPart3: Float = 1.509_958_025_280_866_4e-7

/// sin(r) for r ∈ [−π/2, π/2]: r − r³/3! + r⁵/5! − r⁷/7! + r⁹/9! − r¹¹/11! (Horner in r²).
@inline(__always) @usableFromInline
func sinPolynomial(_ r: Float) -> Float {
    let r2 = r * r
    var p: Float = -2.505_210_838_544_172e-8
    p = p * r2 + 2.755_731_922_398_589e-6
    p = p * r2 - 1.984_126_984_126_984e-4
    p = p * r2 + 8.333_333_333_333_333e-3
    p = p * r2 - 0.166_666_666_666_666_66
    return r + r * r2 * p
}

/// sin(x) for Float (see the file comment for the method and accuracy).
@inline(__always)
public func fastSin(_ x: Float) -> Float {
    let shifted = x * 0.318_309_886_183_790_67 + 12_582_912  // 1.5·2^23: rounds x/π to an integer in the low bits
    let n = shifted - 12_582_912
    let r = ((x - n * piPart1) - n * piPart2) - n * piPart3
    let parity = UInt32(bitPattern: Int32(bitPattern: shifted.bitPattern) &- 0x4B40_0000) << 31
    return Float(bitPattern: sinPolynomial(r).bitPattern ^ parity)
}

/// cos(x) for Float: with n = round(x/π − 1/2) and r = x − (n + 1/2)·π ∈ [−π/2, π/2],
/// cos(x) = (−1)^(n+1) · sin(r). Same accuracy as `fastSin`.
@inline(__always)
public func fastCos(_ x: Float) -> Float {
    let shifted = (x * 0.318_309_886_183_790_67 - 0.5) + 12_582_912
    let n = shifted - 12_582_912
    let half = n + 0.5
    let r = ((x - half * piPart1) - half * piPart2) - half * piPart3
    let parity = (UInt32(bitPattern: Int32(bitPattern: shifted.bitPattern) &- 0x4B40_0000) &+ 1) << 31
    return Float(bitPattern: sinPolynomial(r).bitPattern ^ parity)
}
