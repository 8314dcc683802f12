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

/// Rounds for tables.
func rounded(_ x: Double, _ digits: Int = 4) -> Double {
    let scale = pow(10, Double(digits))
    return (x * scale).rounded() / scale
}
