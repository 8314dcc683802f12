import Foundation
import LabReport

/// Progress of a long loop on stderr. On a terminal: one live line redrawn in place
/// (`train [#######-----] 700/1000  loss 0.4321  35.2 it/s  ETA 0:08`). Elsewhere (CI, pipes, files): one
/// plain line every `interval` seconds. Either way a final line when `finish()` is called. `quiet`
/// silences it.
///
///     let progress = options.progress("train", total: steps)
///     for step in 1...steps { ...; progress.update(step, loss: loss) }
///     progress.finish()
public final class Progress {
    public let label: String
    public let total: Int
    private let quiet: Bool
    private let interval: Double
    private let isTerminal: Bool
    private let write: (String) -> Void
    private let stopwatch = Stopwatch()
    private var lastPrint = 0.0
    private var step = 0
    private var loss: Double?
    private var finished = false

    /// - Parameters:
    ///   - interval: seconds between plain lines when stderr is not a terminal.
    ///   - isTerminal: whether to draw a live bar (default: whether stderr is a terminal).
    ///   - write: where the text goes (default: stderr).
    public init(_ label: String, total: Int, quiet: Bool = false, interval: Double = 5,
                isTerminal: Bool = isatty(2) == 1,
                write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.label = label
        self.total = max(total, 0)
        self.quiet = quiet
        self.interval = interval
        self.isTerminal = isTerminal
        self.write = write
    }

    /// Records that `step` of `total` steps are done (1-based), with the current loss if there is one.
    public func update(_ step: Int, loss: Double? = nil) {
        self.step = step
        if let loss { self.loss = loss }
        guard !quiet else { return }
        let now = stopwatch.seconds
        if isTerminal {
            guard now - lastPrint >= 0.1 || step == total else { return }
            lastPrint = now
            write("\r\u{1B}[2K" + line(elapsed: now, bar: true))
        } else {
            guard now - lastPrint >= interval else { return }
            lastPrint = now
            write(line(elapsed: now, bar: false) + "\n")
        }
    }

    /// The final line: steps done, total time, mean rate, last loss.
    public func finish() {
        guard !finished else { return }
        finished = true
        guard !quiet else { return }
        let elapsed = stopwatch.seconds
        var text = "\(label): done \(step)/\(total) in \(formatDuration(elapsed))"
        if elapsed > 0, step > 0 { text += " (\(rateText(Double(step) / elapsed)))" }
        if let loss { text += ", loss \(formatNumber(loss))" }
        write((isTerminal ? "\r\u{1B}[2K" : "") + text + "\n")
    }

    private func line(elapsed: Double, bar: Bool) -> String {
        let fraction = total > 0 ? min(Double(step) / Double(total), 1) : 0
        var parts = [label]
        if bar {
            let width = 24, filled = Int((fraction * Double(width)).rounded(.down))
            parts.append("[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]")
        }
        parts.append("\(step)/\(total)" + (bar ? "" : String(format: " (%.0f%%)", fraction * 100)))
        if let loss { parts.append("loss \(formatNumber(loss))") }
        if elapsed > 0, step > 0 {
            let rate = Double(step) / elapsed
            parts.append(rateText(rate))
            parts.append("ETA \(clock(Double(total - step) / rate))")
        }
        return parts.joined(separator: "  ")
    }

    private func rateText(_ stepsPerSecond: Double) -> String {
        stepsPerSecond >= 1 ? String(format: "%.1f it/s", stepsPerSecond) : String(format: "%.2f s/it", 1 / stepsPerSecond)
    }

    /// "0:08", "12:34", "1:02:03".
    private func clock(_ seconds: Double) -> String {
        let whole = Int(max(seconds, 0).rounded())
        let (hours, minutes, secs) = (whole / 3600, (whole % 3600) / 60, whole % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }
}
