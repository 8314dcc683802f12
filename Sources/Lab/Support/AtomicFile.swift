import Foundation
#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// Writes files atomically: the bytes go to a temporary file in the destination's own folder (so the rename
/// never crosses file systems), which is flushed to disk and then renamed over the destination. A reader sees
/// the old file or the new one, never half of one; a failure at any point leaves the old file as it was and
/// removes the temporary file.
///
///     try AtomicFile.write("# Report\n", to: "figures/x/REPORT.md")
///     try AtomicFile.write(to: "big.csv") { sink in for row in rows { try sink.write(row) } }
public enum AtomicFile {
    /// Writes `text` as UTF-8.
    public static func write(_ text: String, to path: String) throws {
        try write(to: path) { try $0.write(text) }
    }

    /// Writes `data`.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { try $0.write(data) }
    }

    /// Streams the content through `produce`, which may write in several pieces and may throw: then the
    /// temporary file is removed, the destination is untouched, and the error is rethrown.
    public static func write(to path: String, _ produce: (FileSink) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        try createFolder(folder)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UUID().uuidString.prefix(8))").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw LabError.io(path: path, reason: "cannot create the temporary file \(temporary): \(systemError())")
        }
        let sink = FileSink(descriptor: descriptor, path: path)
        do {
            try produce(sink)
            guard fsync(descriptor) == 0 else {
                throw LabError.io(path: path, reason: "cannot flush \(temporary) to disk: \(systemError())")
            }
            guard close(descriptor) == 0 else {
                sink.closed = true
                throw LabError.io(path: path, reason: "cannot close \(temporary): \(systemError())")
            }
            sink.closed = true
            guard rename(temporary, path) == 0 else {
                throw LabError.io(path: path, reason: "cannot rename \(temporary) over it: \(systemError())")
            }
        } catch {
            if !sink.closed { close(descriptor) }
            unlink(temporary)
            throw error
        }
    }

    /// Creates `folder` and its parents if they do not exist.
    public static func createFolder(_ folder: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            guard isFolder.boolValue else {
                throw LabError.io(path: folder, reason: "exists and is not a folder; remove it or choose another output folder")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw LabError.io(path: folder, reason: "cannot create the folder: \(error.localizedDescription)")
        }
    }

    public static func systemError() -> String { String(cString: strerror(errno)) }
}

/// The open temporary file of one `AtomicFile.write(to:_:)` call.
public final class FileSink {
    let descriptor: Int32
    let path: String
    var closed = false

    init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Appends `data`, retrying short writes and interrupted calls.
    public func write(_ data: Data) throws {
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            guard var next = buffer.baseAddress else { return }
            var left = buffer.count
            while left > 0 {
                let written = systemWrite(descriptor, next, left)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw LabError.io(path: path, reason: "write failed: \(AtomicFile.systemError())")
                }
                next += written
                left -= written
            }
        }
    }

    /// Appends `text` as UTF-8.
    public func write(_ text: String) throws { try write(Data(text.utf8)) }
}
