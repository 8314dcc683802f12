import Foundation
import HyperSoundCore
import Lab
import LabRun

enum Figures {
    /// fig-training: the training objective (moving average over 50 steps) and the test L1 + MR-STFT loss.
    static func training(_ trained: [TrainedVariant]) -> Figure {
        let figure = Figure(rows: 1, cols: 2, width: 11, height: 4)
        figure.suptitle = "HyperSound training (batch 8, OneCycle)"
        for run in trained {
            let window = 50
            var smoothed: [Double] = [], sum = 0.0
            for (index, loss) in run.trainLoss.enumerated() {
                sum += loss
                if index >= window { sum -= run.trainLoss[index - window] }
                smoothed.append(sum / Double(min(index + 1, window)))
            }
            let objective = run.variant.spectralLoss ? "L1 + MR-STFT" : "L1"
            figure[0].line(smoothed.indices.map { Double($0 + 1) }, smoothed, label: "\(run.variant.name) (\(objective))")
            figure[1].line(run.testLoss.map { Double($0.step) }, run.testLoss.map(\.loss), label: run.variant.name, marker: .circle)
        }
        figure[0].title = "Training objective (moving average of 50 steps)"
        figure[0].xlabel = "step"
        figure[0].ylabel = "loss"
        figure[1].title = "Test clips: L1 + MR-STFT loss"
        figure[1].xlabel = "step"
        figure[1].ylabel = "loss"
        return figure
    }

    /// fig-finetune: mean ± std over clips of the loss and SI-SNR vs step, random init vs HyperSound init; and
    /// the curves left out because every clip's value is undefined (SI-SNR of a constant output).
    static func finetune(_ results: PerClipResults) -> (figure: Figure, skipped: [String]) {
        let figure = Figure(rows: 1, cols: 2, width: 10, height: 4)
        figure.suptitle = "Per-clip INR fits: HyperSound's θ as initialisation (\(results.clips.count) test clips, mean ± std)"
        let x = results.randomInit[0].steps.map { Double($0 + 1) }
        var skipped: [String] = []
        for (axes, values, label) in [(figure[0], { (f: INRFit) in f.losses }, "L1 + MR-STFT loss"),
                                      (figure[1], { (f: INRFit) in f.scaleInvariantSNRs }, "SI-SNR (dB)")] {
            for (fits, name) in [(results.randomInit, "random init"), (results.hyperInit, "HyperSound init")] {
                // SI-SNR is undefined (-∞ here) for a constant output; such clips are left out of the band.
                let runs = fits.map(values).filter { $0.allSatisfy(\.isFinite) }
                if runs.isEmpty { skipped.append("\(name), \(label)"); continue }
                axes.meanBand(x, runs: runs, label: runs.count == fits.count ? name : "\(name) (\(runs.count) of \(fits.count) clips)")
            }
            axes.xscale = .log10
            axes.xlabel = "optimisation step + 1 (log scale)"
            axes.ylabel = label
            axes.title = label == "SI-SNR (dB)" ? "SI-SNR vs step (higher is better)" : "Loss vs step (lower is better)"
        }
        return (figure, skipped)
    }

    /// fig-band-error: the log-spectral error per frequency bin (n_fft 256 at 8 kHz) of each reconstruction.
    static func bandError(_ ablation: AblationResults, clips: Int) -> Figure {
        let frequencies = (0..<ablation.bandErrors[0].errors.count).map { Double($0) * 8_000 / 256 }
        let figure = Figure(width: 7, height: 4)
        let axes = figure[0]
        for (label, curve) in ablation.bandErrors { axes.line(frequencies, curve, label: label) }
        axes.title = "Log-spectral error per frequency (\(clips) test clips)"
        axes.xlabel = "frequency (Hz)"
        axes.ylabel = "mean |log-power error| (dB)"
        return figure
    }
}
