import Foundation
import Lab

/// Number of places where a density trace decreases (the EOI support can only grow: a Givens rotation
/// sets both columns' support to the union of the two, up to exact cancellation).
public func decreaseCount(_ trace: [Double]) -> Int {
    zip(trace, trace.dropFirst()).filter { $0.1 < $0.0 }.count
}

/// For a square SAO-style weight with `degree` non-zeros meant in every row and column: how many rows and
/// columns hold a different number of non-zeros. weight: [n, n]
public func degreeErrors(_ weight: Tensor, degree: Int) -> Int {
    precondition(weight.rank == 2, "degreeErrors: weight \(weight.shape) is not a matrix")
    let r = weight.shape[0], c = weight.shape[1]
    var rows = [Int](repeating: 0, count: r), columns = [Int](repeating: 0, count: c)
    for i in 0..<r { for j in 0..<c where weight.data[i * c + j] != 0 { rows[i] += 1; columns[j] += 1 } }
    return rows.filter { $0 != degree }.count + columns.filter { $0 != degree }.count
}

/// The checks of a delta-form conv EOI kernel (claim conv-delta-eoi).
public struct DeltaKernelCheck: Sendable {
    /// Orthogonality error of the centre slice [:, :, k/2, k/2] divided by the gain (Float64 from Float32).
    public var centreError: Double
    /// max |w| away from the centre (0 at init).
    public var offCentreMax: Double
    /// |mask density − d| in units of one kernel entry, 1/(cOut·cIn·k²).
    public var maskDensityErrorInEntries: Double
}

/// Checks a conv kernel [cOut, cIn, k, k] and its mask against the delta-EOI construction at density d.
public func checkDeltaKernel(_ layer: MaskedWeight, density: Double, gain: Double) throws -> DeltaKernelCheck {
    let shape = layer.weight.shape
    guard shape.count == 4 else { throw LabError.invalidArgument("checkDeltaKernel: \(shape) is not a conv kernel") }
    let (cOut, cIn, kH, kW) = (shape[0], shape[1], shape[2], shape[3])
    let centreOffset = (kH / 2) * kW + kW / 2
    var centre = [Float](repeating: 0, count: cOut * cIn)
    var offCentre = 0.0
    for o in 0..<cOut {
        for i in 0..<cIn {
            for p in 0..<(kH * kW) {
                let w = layer.weight.data[(o * cIn + i) * kH * kW + p]
                if p == centreOffset { centre[o * cIn + i] = w } else { offCentre = max(offCentre, Double(abs(w))) }
            }
        }
    }
    let e = try orthogonalityError(Tensor(shape: [cOut, cIn], data: centre), gain: gain)
    let entries = Double(layer.mask.count)
    return DeltaKernelCheck(centreError: e, offCentreMax: offCentre,
                            maskDensityErrorInEntries: abs(layer.density - density) * entries)
}

/// The fastest of `repeats` runs of `body`, in seconds (the generator timings are best of 3).
public func bestTime(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<max(1, repeats) {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
}
