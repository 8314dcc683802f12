import Foundation
import HyperSoundCore
import Lab
import LabRun

enum Figures {
    /// fig-training: the training objective (moving average over 50 steps) and the test L1 + MR-STFT loss.
    static func training(_ trained: [TrainedVariant], report: Report) throws {
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
        try report.figure(figure, name: "fig-training", caption: """
            Left: each variant's own training objective (L1only is trained on L1 alone, so its curve sits lower). \
            Right: the L1 + MR-STFT loss of every variant on the Allison test clips, every 100 steps.
            """)
    }
}
