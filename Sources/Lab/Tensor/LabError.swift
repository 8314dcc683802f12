import Foundation

/// Errors that Lab's rooms throw. Each message names what was wrong, where, and what to do.
public enum LabError: Error, CustomStringConvertible, Equatable {
    /// A file is missing; `fix` says how to get it (for data: the `make data-…` target).
    case missingFile(path: String, fix: String)
    /// A file exists but cannot be read as the expected format.
    case corruptFile(path: String, reason: String)
    /// Two tensors' shapes do not fit the operation.
    case shapeMismatch(op: String, shapes: [[Int]], reason: String)
    /// An argument is out of its domain.
    case invalidArgument(String)
    /// A loss or tensor became NaN or infinite during training.
    case nonFinite(what: String, step: Int)
    /// A result (a measured value, a table cell, a printed number) is NaN or infinite: the run stops instead of
    /// reporting it; `what` names the quantity.
    case nonFiniteResult(what: String, value: Double)
    /// An I/O operation failed (writing an output, creating a folder).
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missingFile(path, fix): return "missing file \(path): \(fix)"
        case let .corruptFile(path, reason): return "cannot read \(path): \(reason)"
        case let .shapeMismatch(op, shapes, reason):
            return "\(op): shapes \(shapes.map { "\($0)" }.joined(separator: " and ")) do not fit: \(reason)"
        case let .invalidArgument(s): return s
        case let .nonFinite(what, step): return "\(what) is not finite at step \(step): training stopped"
        case let .nonFiniteResult(what, value): return "\(what) is \(value), not a finite number: the run stopped before reporting it"
        case let .io(path, reason): return "I/O error on \(path): \(reason)"
        }
    }
}
