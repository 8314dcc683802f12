import Foundation
import Testing
@testable import Lab
@testable import LabData
@testable import LabReport

/// SHA-256 against the FIPS 180-4 examples, and the data-file checksums a run records in run.json.
@Suite struct ProvenanceTests {
    private func digest(_ bytes: [UInt8], chunk: Int) -> String {
        var hash = SHA256()
        var start = 0
        repeat {
            let end = min(bytes.count, start + chunk)
            hash.update(Array(bytes[start..<end]))
            start = end
        } while start < bytes.count
        return hash.finalize()
    }

    @Test func sha256MatchesTheStandardVectors() {
        #expect(digest([], chunk: 1) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest(Array("abc".utf8), chunk: 1) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let twoBlocks = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)  // 56 bytes: padding spills
        for chunk in [1, 7, 56, 64] {
            #expect(digest(twoBlocks, chunk: chunk) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        }
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(digest(million, chunk: 4_099) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func readersRecordTheChecksumOfEveryDataFileARunReads() throws {
        let folder = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/labels-idx1-ubyte"
        let bytes: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        _ = try IDX.read(path)
        #expect(DataProvenance.checksums[path] == digest(bytes, chunk: 64))
        #expect(DataProvenance.checksums[path] == (try SHA256.hexDigest(ofFile: path)))
        // The hash is taken when the checksums are read: a file changed after it was read is named as changed,
        // never given the hash of bytes the run did not read.
        let changing = folder + "/changing-idx1-ubyte"
        try Data(bytes).write(to: URL(fileURLWithPath: changing))
        _ = try IDX.read(changing)
        try Data(bytes + [9]).write(to: URL(fileURLWithPath: changing))
        #expect(DataProvenance.checksums[changing]?.hasPrefix("changed since it was read") == true)
        // A file the process wrote itself is output, not data.
        let own = folder + "/written-here.idx"
        try Data(bytes).write(to: URL(fileURLWithPath: own))
        DataProvenance.noteWritten(own)
        _ = try IDX.read(own)
        #expect(DataProvenance.checksums[own] == nil)
        // run.json lists it under dataFiles.
        let report = Report(paper: "arXiv:1", title: "T", outputDirectory: folder + "/out", quiet: true)
        try report.finish()
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/out/run.json"))) as? [String: Any]
        let files = try #require(run?["dataFiles"] as? [String: String])
        #expect(files[path] == digest(bytes, chunk: 64))
    }
}
