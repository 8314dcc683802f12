import Foundation
import Lab

/// A run's output folder, published whole (DESIGN.md §6): the run writes into a fresh working folder beside
/// the destination, `<parent>/.<name>.tmp-<pid>-<random>`, and `publish()` renames it into place at the end,
/// replacing the previous folder only then. A killed, crashed or concurrent run therefore never leaves a
/// folder that mixes two runs: readers see the old folder or the new one.
///
///     let folder = OutputFolder(destination: "figures/expertsim")
///     try folder.prepare()                      // refuses a bad destination before any compute
///     try AtomicFile.write(text, to: folder.working + "/REPORT.md")
///     try folder.publish()
struct OutputFolder {
    /// Where the run is published, as given (e.g. `--out`).
    let destination: String
    /// Where the run writes meanwhile.
    let working: String

    init(destination: String) {
        self.destination = destination
        let url = URL(fileURLWithPath: destination)
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        working = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(random)").path
    }

    /// Folders of other runs that live inside this one and survive its publishing: `seeds/` holds the further
    /// seeds' runs of a paper (`figures/<paper>/seeds/<n>/`, `make <paper> SEEDS=...`), which may run before or
    /// beside seed 0's.
    static let keptSubfolders: Set<String> = ["seeds"]

    private var parent: String { URL(fileURLWithPath: destination).deletingLastPathComponent().path }
    private var name: String { URL(fileURLWithPath: destination).lastPathComponent }

    /// Checks the destination, removes the working and retired folders that killed runs left beside it, and
    /// creates the working folder (which proves that the parent is writable). Throws, naming the folder and
    /// the reason, for: the root, the current directory or the home directory or one of their ancestors (a
    /// publish would replace them), an existing file, and an existing folder that is neither empty nor a
    /// previous run's output (no REPORT.md, run.json or claims.json in it; a kept subfolder such as `seeds/` alone
    /// does not count).
    func prepare() throws {
        try refuseDangerousDestination()
        try AtomicFile.createFolder(parent)
        removeLeftovers()
        guard mkdir(working, 0o755) == 0 else {
            throw LabError.io(path: destination, reason: "cannot write beside it (creating \(working): "
                              + "\(AtomicFile.systemError())); choose a writable output folder")
        }
    }

    /// Renames the working folder to the destination; a previous folder there is first renamed aside and
    /// removed afterwards (put back if the second rename fails).
    func publish() throws {
        var status = stat()
        let hadPrevious = lstat(destination, &status) == 0
        let retired = URL(fileURLWithPath: parent)
            .appendingPathComponent(".\(name).old-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))").path
        if hadPrevious { try carryKeptSubfolders() }
        if hadPrevious, rename(destination, retired) != 0 {
            throw LabError.io(path: destination, reason: "cannot move the previous output aside: \(AtomicFile.systemError())")
        }
        guard rename(working, destination) == 0 else {
            let reason = AtomicFile.systemError()
            if hadPrevious { rename(retired, destination) }
            throw LabError.io(path: destination, reason: "cannot move the finished run (\(working)) into place: \(reason)")
        }
        if hadPrevious { try? FileManager.default.removeItem(atPath: retired) }
    }

    /// Moves the kept subfolders of the previous folder into the working folder, so the publish keeps them.
    private func carryKeptSubfolders() throws {
        for subfolder in Self.keptSubfolders {
            let old = destination + "/" + subfolder, new = working + "/" + subfolder
            guard FileManager.default.fileExists(atPath: old), !FileManager.default.fileExists(atPath: new) else { continue }
            guard rename(old, new) == 0 else {
                throw LabError.io(path: old, reason: "cannot carry it into the new output: \(AtomicFile.systemError())")
            }
        }
    }

    private func refuseDangerousDestination() throws {
        let resolved = Self.resolved(destination)
        let protected = [FileManager.default.currentDirectoryPath, NSHomeDirectory()].map(Self.resolved)
        if resolved == "/" || protected.contains(where: { $0 == resolved || $0.hasPrefix(resolved + "/") }) {
            throw LabError.invalidArgument(
                "output folder '\(destination)' is \(resolved == "/" ? "the root folder" : "the current or home folder or one of their parents"), "
                    + "which a run would replace as a whole; choose a folder of its own, e.g. /tmp/\(name.isEmpty ? "run" : name)")
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: destination, isDirectory: &isFolder) else { return }
        guard isFolder.boolValue else {
            throw LabError.invalidArgument("output folder '\(destination)' exists and is a file; remove it or choose another folder")
        }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: destination)) ?? [])
            .filter { !Self.keptSubfolders.contains($0) }
        guard files.isEmpty || files.contains(where: { ["REPORT.md", "run.json", "claims.json"].contains($0) }) else {
            throw LabError.invalidArgument(
                "output folder '\(destination)' holds files but no REPORT.md, run.json or claims.json, so it is not a "
                    + "previous run's output, and a run replaces its output folder as a whole; choose a new or empty folder")
        }
    }

    /// Working (`.tmp-`) and retired (`.old-`) folders of this destination whose process is gone.
    private func removeLeftovers() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for entry in entries {
            guard let rest = [".\(name).tmp-", ".\(name).old-"].lazy.compactMap({ prefix in
                entry.hasPrefix(prefix) ? entry.dropFirst(prefix.count) : nil
            }).first, let pid = Int32(rest.prefix { $0 != "-" }) else { continue }
            let alive = kill(pid, 0) == 0 || errno == EPERM
            if !alive { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: parent).appendingPathComponent(entry).path) }
        }
    }

    /// Absolute, with `.`, `..` and symbolic links resolved.
    private static func resolved(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
        return url.path.count > 1 && url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
    }
}
