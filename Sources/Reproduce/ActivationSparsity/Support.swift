import ActivationSparsityCore
import Foundation
import Lab

/// Per-token matmul multiply-adds of a Llama-style decoder, and the FFN's share of them (attention scores at
/// an average context of `averageContext` keys).
func ffnShare(width d: Int, layers: Int, qkvWidth: Int, ffnWidth m: Int, vocabulary: Int, averageContext: Int) -> Double {
    let ffn = Double(3 * d * m)
    let perLayer = Double(d * qkvWidth + d * d) + ffn + Double(2 * averageContext * d)
    return Double(layers) * ffn / (Double(layers) * perLayer + Double(d * vocabulary))
}

/// User + system CPU seconds of this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Rounds for tables.
func rounded(_ x: Double, _ digits: Int = 4) -> Double {
    let scale = pow(10, Double(digits))
    return (x * scale).rounded() / scale
}
