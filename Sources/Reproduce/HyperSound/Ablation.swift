import Foundation
import HyperSoundCore
import Lab
import LabRun
import LabSignal

/// What the ablation measured on the Allison test clips.
struct AblationResults {
    let withSTFT: MeanMetrics, l1Only: MeanMetrics, siren: MeanMetrics
}

/// The STFT-loss ablation (L1 + MR-STFT vs L1 only, NeRF), NeRF vs SIREN, and the spectral-bias picture: the
/// error per frequency bin of HyperSound-NeRF, -SIREN and the per-clip INR.
enum AblationStudy {
    static func run(data: SpeechData, nerf: TrainedVariant, siren: TrainedVariant, l1Only: TrainedVariant,
                    fits: PerClipResults, report: Report) throws -> AblationResults {
        let references = data.testClips
        let results = AblationResults(
            withSTFT: MeanMetrics(references: references, estimates: reconstruct(references, with: nerf.model)),
            l1Only: MeanMetrics(references: references, estimates: reconstruct(references, with: l1Only.model)),
            siren: MeanMetrics(references: references, estimates: reconstruct(references, with: siren.model)))
        var table = Table(header: ["model", "loss", "LSD", "LSD 0-1 kHz", "LSD 2-4 kHz", "SI-SNR (dB)", "MSE"])
        for (model, loss, m) in [("HyperSound-NeRF", "L1 + MR-STFT", results.withSTFT), ("HyperSound-NeRF", "L1 only", results.l1Only),
                                 ("HyperSound-SIREN", "L1 + MR-STFT", results.siren)] {
            table.append([.text(model), .text(loss), .number(m.logSpectralDistance), .number(m.lowBandLSD), .number(m.highBandLSD),
                          m.scaleInvariantSNR.map { .number($0) } ?? "-", .number(m.meanSquaredError)])
        }
        try report.table(table, name: "ablation", caption: """
            Allison test set (\(references.count) clips): the STFT loss term (NeRF trained with L1 + MR-STFT vs L1 only) \
            and the target type (NeRF vs SIREN). Band LSD uses the STFT bins whose centre lies in the band.
            """)

        // Error per frequency on the per-clip study's clips, where all three reconstructions exist.
        let sirenOnClips = reconstruct(fits.clips, with: siren.model)
        let curves: [(String, [Double])] = [
            ("HyperSound-NeRF", SpectralError.perBin(references: fits.clips, estimates: fits.oneShot)),
            ("HyperSound-SIREN", SpectralError.perBin(references: fits.clips, estimates: sirenOnClips)),
            ("per-clip INR (K = \(fits.steps))", SpectralError.perBin(references: fits.clips, estimates: fits.perClip)),
        ]
        let frequencies = (0..<curves[0].1.count).map { Double($0) * 8_000 / 256 }
        let figure = Figure(width: 7, height: 4)
        let axes = figure[0]
        for (label, curve) in curves { axes.line(frequencies, curve, label: label) }
        axes.title = "Log-spectral error per frequency (\(fits.clips.count) test clips)"
        axes.xlabel = "frequency (Hz)"
        axes.ylabel = "mean |log-power error| (dB)"
        try report.figure(figure, name: "fig-band-error", caption: """
            Mean absolute error of the log power spectrum (n_fft 256, hop 80) per frequency bin, 0-4 kHz. The paper \
            discusses spectral bias: INRs, and HyperSound's in particular, reconstruct high frequencies worse.
            """)
        return results
    }
}
