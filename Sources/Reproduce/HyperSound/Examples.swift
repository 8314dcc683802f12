import Foundation
import HyperSoundCore
import Lab
import LabRun
import LabSignal

/// fig-spectrograms, fig-waveforms and the audio files: two Allison test clips and one flite clip, each as the
/// original, HyperSound-NeRF, HyperSound-SIREN and the per-clip INR.
enum Examples {
    static func run(data: SpeechData, nerf: TrainedVariant, siren: TrainedVariant, fits: PerClipResults,
                    sampleRate: Int, report: Report) throws {
        let count = min(2, fits.clips.count)
        var examples: [(name: String, versions: [(label: String, samples: [Float])])] = []
        for index in 0..<count {
            examples.append((fits.names[index], [("original", fits.clips[index]), ("HyperSound-NeRF", fits.oneShot[index]),
                                                 ("HyperSound-SIREN", reconstruct([fits.clips[index]], with: siren.model)[0]),
                                                 ("per-clip INR", fits.perClip[index])]))
        }
        let flite = data.fliteClips[0]
        examples.append(("\(data.fliteNames[0]) (flite)", [("original", flite), ("HyperSound-NeRF", reconstruct([flite], with: nerf.model)[0]),
                                                           ("HyperSound-SIREN", reconstruct([flite], with: siren.model)[0]),
                                                           ("per-clip INR", fits.fliteINR)]))

        // Spectrograms: frequency up, time right, one colour scale per row.
        let spectrograms = Figure(rows: examples.count, cols: 4, width: 15, height: 3.2 * Double(examples.count))
        spectrograms.suptitle = "Log-power spectrograms (n_fft 256, hop 64) of originals and reconstructions"
        for (row, example) in examples.enumerated() {
            let images = example.versions.map { version -> [[Double]] in
                let frames = SpectralError.spectrogramDB(version.samples)   // [T][K]
                let bins = frames[0].count
                return (0..<bins).reversed().map { k in frames.map { $0[k] } }   // [K][T], highest frequency first
            }
            let values = images.flatMap { $0.flatMap { $0 } }
            let top = values.max() ?? 0
            let range = max(top - 80, values.min() ?? 0)...top
            for (column, version) in example.versions.enumerated() {
                let axes = spectrograms[row, column]
                axes.heatmap(images[column], colorMap: .viridis, range: range, colorbar: column == 3, colorbarLabel: "dB")
                let bins = images[column].count, frames = images[column][0].count
                axes.yticks([0, 1, 2, 3, 4].map { Double(bins - 1) - Double($0) * 1_000 * 256 / Double(sampleRate) },
                            labels: ["0", "1", "2", "3", "4"])
                let milliseconds = stride(from: 0.0, through: Double(frames - 1) * 64_000 / Double(sampleRate), by: 25)
                axes.xticks(milliseconds.map { $0 * Double(sampleRate) / 64_000 }, labels: milliseconds.map { String(format: "%.0f", $0) })
                axes.title = "\(example.name): \(version.label)"
                axes.xlabel = "time (ms)"
                axes.ylabel = column == 0 ? "frequency (kHz)" : nil
            }
        }
        try report.figure(spectrograms, name: "fig-spectrograms", caption: """
            Rows: two Allison test clips and one flite clip (unseen speaker). Columns: the original, HyperSound-NeRF \
            and -SIREN (one forward pass each) and a per-clip INR fitted for \(fits.steps) steps. Shared colour scale \
            per row (80 dB range).
            """)

        // Waveforms: a 50 ms window in the middle of each clip.
        let window = sampleRate / 20, start = HyperSoundClips.length / 2 - window / 2
        let milliseconds = (0..<window).map { Double(start + $0) * 1_000 / Double(sampleRate) }
        let waveforms = Figure(rows: examples.count, cols: 2, width: 12, height: 2.8 * Double(examples.count))
        waveforms.suptitle = "Waveforms, 50 ms in the middle of each clip"
        for (row, example) in examples.enumerated() {
            for (column, index) in [1, 3].enumerated() {
                let axes = waveforms[row, column]
                axes.line(milliseconds, example.versions[0].samples[start..<(start + window)].map(Double.init), label: "original")
                axes.line(milliseconds, example.versions[index].samples[start..<(start + window)].map(Double.init),
                          label: example.versions[index].label, dash: .dashed)
                axes.title = "\(example.name): original vs \(example.versions[index].label)"
                axes.xlabel = "time (ms)"
                axes.ylabel = "amplitude (peak = 1)"
            }
        }
        try report.figure(waveforms, name: "fig-waveforms", caption: """
            The original (solid) and a reconstruction (dashed): HyperSound-NeRF's one-shot INR (left) and the \
            per-clip INR (right).
            """)

        // Audio: originals and reconstructions at 8 kHz, PCM16 (reconstructions clipped to [-1, 1]).
        var files: [String] = []
        for example in examples {
            let stem = example.name.replacingOccurrences(of: " (flite)", with: "").replacingOccurrences(of: "/", with: "-")
            for (version, suffix) in zip(example.versions, ["orig", "nerf", "siren", "inr"]) {
                let file = "audio/\(stem)_\(suffix).wav"
                try AudioFile.write(Audio(samples: version.samples.map { min(max($0, -1), 1) }, sampleRate: sampleRate),
                                    to: report.outputPath(file))
                files.append(file)
            }
        }
        for file in files { try report.attach(file, caption: file) }
    }
}
