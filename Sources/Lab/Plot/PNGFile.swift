import CLabPNG
import Foundation

/// A decoded PNG as straight RGBA8 pixels with its text chunks; used to check written figures.
///
/// Usage: `let png = try PNGImage.read(from: "fig.png"); print(png.width, png.text["seed"] ?? "-")`
public struct PNGImage: Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// [height, width, 4] row-major, rows top to bottom.
    public let rgba: [UInt8]
    /// tEXt / zTXt / iTXt chunks, key -> value.
    public let text: [String: String]

    /// Reads any PNG (converted to RGBA8); throws `PlotError.io` naming the file when it is missing or not a PNG.
    public static func read(from path: String) throws -> PNGImage {
        var image = labpng_image()
        var message = [CChar](repeating: 0, count: 512)
        guard labpng_read_rgba(path, &image, &message, message.count) == 0 else {
            throw PlotError.io(path: path, reason: cString(message))
        }
        defer { labpng_image_free(&image) }
        let count = Int(image.width) * Int(image.height) * 4
        let rgba = Array(UnsafeBufferPointer(start: image.rgba, count: count))
        var text: [String: String] = [:]
        for index in 0..<Int(image.text_count) {
            if let key = image.keys[index], let value = image.values[index] {
                text[String(cString: key)] = String(cString: value)
            }
        }
        return PNGImage(width: Int(image.width), height: Int(image.height), rgba: rgba, text: text)
    }

    /// The pixel at (x, y) as (red, green, blue, alpha).
    public func pixel(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8, alpha: UInt8) {
        let offset = (y * width + x) * 4
        return (rgba[offset], rgba[offset + 1], rgba[offset + 2], rgba[offset + 3])
    }
}

/// Atomic PNG writing through CLabPNG.
enum PNGFile {
    /// Writes straight RGBA8 pixels with tEXt chunks to `path` atomically.
    static func write(rgba: [UInt8], width: Int, height: Int, text: [(String, String)], to path: String) throws {
        precondition(rgba.count == width * height * 4, "PNG pixels must be width x height x 4 bytes")
        for (key, _) in text {
            let isLatin1 = key.unicodeScalars.allSatisfy { (0x20...0x7e).contains($0.value) || (0xa1...0xff).contains($0.value) }
            guard (1...79).contains(key.unicodeScalars.count), isLatin1, key.first != " ", key.last != " " else {
                throw PlotError.invalidArgument("PNG metadata key '\(key)' is not 1-79 printable Latin-1 characters "
                    + "without leading or trailing spaces; rename it")
            }
        }
        try atomically(to: path) { temporary in
            let keys = text.map { strdup($0.0) }, values = text.map { strdup($0.1) }
            defer { (keys + values).forEach { free($0) } }
            var message = [CChar](repeating: 0, count: 512)
            let status = keys.map { UnsafePointer($0) }.withUnsafeBufferPointer { keyPointers in
                values.map { UnsafePointer($0) }.withUnsafeBufferPointer { valuePointers in
                    labpng_write_rgba(temporary, rgba, UInt32(width), UInt32(height), keyPointers.baseAddress,
                                      valuePointers.baseAddress, Int32(text.count), &message, message.count)
                }
            }
            guard status == 0 else {
                throw PlotError.io(path: path, reason: cString(message))
            }
        }
    }

    /// Runs `write` on `path.tmp-<pid>`, then renames it over `path`, so readers never see a partial file and a
    /// failure leaves any previous file intact. Creates missing parent folders.
    static func atomically(to path: String, _ write: (String) throws -> Void) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw PlotError.io(path: folder, reason: "cannot create the folder: \(error.localizedDescription)")
            }
        }
        let temporary = "\(path).tmp-\(getpid())"
        do {
            try write(temporary)
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw PlotError.io(path: path, reason: "cannot rename \(temporary) into place: \(reason)")
        }
    }
}

/// The text of a NUL-terminated C buffer.
private func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
