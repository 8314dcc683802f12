import ExactOrthogonalInitCore
import Lab

/// The exactness checks of every EOI and SAO-style layer a run builds (E2-E5), measured at init on the
/// stored Float32 weights, for the claims eoi-orthogonality, eoi-density, sao-orthogonality and
/// conv-delta-eoi.
struct LayerAudit: Sendable {
    /// Orthogonality error of each EOI matrix (conv: the centre slice), divided by σ_w.
    var eoiErrors: [Double] = []
    /// |achieved − target density| of each EOI linear layer, with its long side m (the bound is max(0.02, 2/m)).
    var eoiDensityDeviations: [(deviation: Double, longSide: Int)] = []
    var saoErrors: [Double] = []
    var saoDegreeErrors = 0
    /// Conv EOI kernels: centre errors, max |off-centre weight| and mask density error in kernel entries.
    var convChecks: [DeltaKernelCheck] = []

    /// Records one initial layer of `method` (linear [nOut, nIn] or conv [cOut, cIn, k, k]).
    mutating func record(_ method: InitMethod, _ layer: MaskedWeight, density: Double, gain: Double) throws {
        let shape = layer.weight.shape
        switch method {
        case .exactOrthogonal where shape.count == 4:
            let check = try checkDeltaKernel(layer, density: density, gain: gain)
            convChecks.append(check)
            eoiErrors.append(check.centreError)
        case .exactOrthogonal:
            eoiErrors.append(try orthogonalityError(layer.weight, gain: gain))
            let m = shape.max()!
            if density >= 1 / Double(m) {
                eoiDensityDeviations.append((abs(nonZeroDensity(layer.weight) - density), m))
            }
        case .saoStyle:
            let centre = shape.count == 4 ? try centreSlice(layer.weight) : layer.weight
            saoErrors.append(try orthogonalityError(centre, gain: gain))
            saoDegreeErrors += degreeErrors(centre, degree: Int((density * Double(shape[0])).rounded()))
        default:
            break
        }
    }

    mutating func merge(_ other: LayerAudit) {
        eoiErrors += other.eoiErrors
        eoiDensityDeviations += other.eoiDensityDeviations
        saoErrors += other.saoErrors
        saoDegreeErrors += other.saoDegreeErrors
        convChecks += other.convChecks
    }

    static func merged(_ audits: [LayerAudit]) -> LayerAudit {
        audits.reduce(into: LayerAudit()) { $0.merge($1) }
    }
}

/// The centre slice [:, :, k/2, k/2] of a conv kernel. kernel: [cOut, cIn, k, k] → [cOut, cIn]
func centreSlice(_ kernel: Tensor) throws -> Tensor {
    guard kernel.rank == 4 else { throw LabError.invalidArgument("centreSlice: \(kernel.shape) is not a conv kernel") }
    let (cOut, cIn, kH, kW) = (kernel.shape[0], kernel.shape[1], kernel.shape[2], kernel.shape[3])
    let offset = (kH / 2) * kW + kW / 2
    return Tensor(shape: [cOut, cIn], data: (0..<(cOut * cIn)).map { kernel.data[$0 * kH * kW + offset] })
}
