import Foundation
import Lab

/// One cell of a `Table`: text or a number. Literals work directly:
/// `table.append(["EOI", 0.9312, 1000])`; variables with `.number(accuracy)` or `TableCell(accuracy)`.
public enum TableCell: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByFloatLiteral,
    ExpressibleByIntegerLiteral {
    case text(String)
    case number(Double)
    case integer(Int)

    public init(stringLiteral value: String) { self = .text(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(_ value: String) { self = .text(value) }
    public init(_ value: Double) { self = .number(value) }
    public init(_ value: Float) { self = .number(Double(value)) }
    public init(_ value: Int) { self = .integer(value) }

    /// Rounded for reading (4 significant digits), `|` escaped.
    public var markdown: String {
        switch self {
        case .text(let text): return escapeMarkdownCell(text)
        case .number(let x): return formatNumber(x)
        case .integer(let n): return String(n)
        }
    }

    /// Full precision (shortest text that reads back as the same Double), quoted when needed (RFC 4180).
    public var csv: String {
        switch self {
        case .text(let text):
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        case .number(let x):
            if x.isNaN { return "nan" }
            if x.isInfinite { return x > 0 ? "inf" : "-inf" }
            return "\(x)"
        case .integer(let n): return String(n)
        }
    }
}

/// A table of results: a header and rows of cells, written by `Report.table` as Markdown and CSV.
///
///     var table = Table(header: ["init", "depth", "test accuracy"])
///     table.append(["EOI", 1000, .number(accuracy)])
public struct Table: Sendable, Equatable {
    public var header: [String]
    public var rows: [[TableCell]]

    public init(header: [String], rows: [[TableCell]] = []) {
        self.header = header
        self.rows = rows
    }

    public mutating func append(_ row: [TableCell]) { rows.append(row) }

    /// Every row has one cell per column, and every number is finite (NaN or Inf throws
    /// `LabError.nonFiniteResult` naming the table, the row and the column).
    public func validate(name: String) throws {
        guard !header.isEmpty else { throw LabError.invalidArgument("table '\(name)': the header is empty") }
        for (index, row) in rows.enumerated() {
            guard row.count == header.count else {
                throw LabError.invalidArgument(
                    "table '\(name)': row \(index) has \(row.count) cells but the header has \(header.count) columns (\(header.joined(separator: ", ")))")
            }
            for (column, cell) in row.enumerated() {
                if case .number(let x) = cell, !x.isFinite {
                    let first = row.first.map { " (\($0.markdown))" } ?? ""
                    throw LabError.nonFiniteResult(what: "table '\(name)', row \(index)\(first), column '\(header[column])'", value: x)
                }
            }
        }
    }

    /// GitHub-flavoured Markdown; numeric columns are right-aligned.
    public var markdown: String {
        let numeric = header.indices.map { column in
            !rows.isEmpty && rows.allSatisfy { row in
                if case .text = row[column] { return false }
                return true
            }
        }
        var lines = ["| " + header.map(escapeMarkdownCell).joined(separator: " | ") + " |"]
        lines.append("|" + numeric.map { $0 ? "---:" : "---" }.joined(separator: "|") + "|")
        for row in rows { lines.append("| " + row.map(\.markdown).joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// RFC 4180 CSV with a header line.
    public var csv: String {
        let headerLine = header.map { TableCell.text($0).csv }.joined(separator: ",")
        return ([headerLine] + rows.map { $0.map(\.csv).joined(separator: ",") }).joined(separator: "\n") + "\n"
    }
}

/// Text that is safe inside one Markdown table cell: `|` escaped, line breaks as spaces.
func escapeMarkdownCell(_ text: String) -> String {
    text.replacingOccurrences(of: "|", with: "\\|")
        .replacingOccurrences(of: "\r\n", with: " ")
        .replacingOccurrences(of: "\n", with: " ")
}
