import Foundation
import HyperSoundCore
import Lab
import LabRun
import LabSignal

/// What the ablation measured on the Allison test clips, and the error per frequency on the per-clip study's clips.
struct AblationResults {
    let withSTFT: MeanMetrics, l1Only: MeanMetrics, siren: MeanMetrics
    /// Test clips the ablation is measured on.
    let clips: Int
    /// (label, mean |log-power error| per STFT bin) of HyperSound-NeRF, -SIREN and the per-clip INR.
    let bandErrors: [(label: String, errors: [Double])]

    /// table-ablation: the loss ablation and the target type.
    func table() -> Table {
        var table = Table(header: ["model", "loss", "LSD", "LSD 0-1 kHz", "LSD 2-4 kHz", "SI-SNR (dB)", "MSE"])
        for (model, loss, m) in [("HyperSound-NeRF", "L1 + MR-STFT", withSTFT), ("HyperSound-NeRF", "L1 only", l1Only),
                                 ("HyperSound-SIREN", "L1 + MR-STFT", siren)] {
            table.append([.text(model), .text(loss), .number(m.logSpectralDistance), .number(m.lowBandLSD), .number(m.highBandLSD),
                          m.scaleInvariantSNR.map { .number($0) } ?? "-", .number(m.meanSquaredError)])
        }
        return table
    }
}

/// The STFT-loss ablation (L1 + MR-STFT vs L1 only, NeRF), NeRF vs SIREN, and the spectral-bias picture: the
/// error per frequency bin of HyperSound-NeRF, -SIREN and the per-clip INR.
enum AblationStudy {
    static func run(data: SpeechData, nerf: TrainedVariant, siren: TrainedVariant, l1Only: TrainedVariant,
                    fits: PerClipResults) -> AblationResults {
        let references = data.testClips
        // Error per frequency on the per-clip study's clips, where all three reconstructions exist.
        let sirenOnClips = reconstruct(fits.clips, with: siren.model)
        return AblationResults(
            withSTFT: MeanMetrics(references: references, estimates: reconstruct(references, with: nerf.model)),
            l1Only: MeanMetrics(references: references, estimates: reconstruct(references, with: l1Only.model)),
            siren: MeanMetrics(references: references, estimates: reconstruct(references, with: siren.model)),
            clips: references.count,
            bandErrors: [
                ("HyperSound-NeRF", SpectralError.perBin(references: fits.clips, estimates: fits.oneShot)),
                ("HyperSound-SIREN", SpectralError.perBin(references: fits.clips, estimates: sirenOnClips)),
                ("per-clip INR (K = \(fits.steps))", SpectralError.perBin(references: fits.clips, estimates: fits.perClip)),
            ])
    }
}
