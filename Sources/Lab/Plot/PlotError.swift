import Foundation

/// Errors that LabPlot throws when a figure is saved. Each message names the plot, the series and the fix.
///
/// Usage: `do { try fig.savePNG(to: "fig.png") } catch let error as PlotError { print(error) }`
public enum PlotError: Error, CustomStringConvertible, Equatable {
    /// A series has no finite points (it was empty, or every point was NaN/Inf).
    case emptySeries(kind: String, label: String?)
    /// A log axis was asked to show a value <= 0.
    case nonPositiveOnLogAxis(axis: String, kind: String, label: String?, value: Double)
    /// An argument is out of its domain (mismatched lengths, bad sizes, a bad metadata key).
    case invalidArgument(String)
    /// Writing or reading a file failed.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .emptySeries(kind, label):
            return "\(kind)\(Self.named(label)) has no finite data points: pass at least one finite value"
        case let .nonPositiveOnLogAxis(axis, kind, label, value):
            return "\(kind)\(Self.named(label)) has the value \(value) on the log \(axis)-axis: "
                + "log axes need values > 0; filter the data or use a linear \(axis)scale"
        case let .invalidArgument(message): return message
        case let .io(path, reason): return "I/O error on \(path): \(reason)"
        }
    }

    private static func named(_ label: String?) -> String { label.map { " '\($0)'" } ?? "" }
}
