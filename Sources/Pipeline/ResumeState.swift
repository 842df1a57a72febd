import ContentDigest
import Foundation
import GeoRaster

/// A fingerprint of everything that determines a scene's outputs, so `--resume` never mixes two
/// different runs: the scene's input files (path, size, modification time), the SHA-256 of the weights
/// and of the probe files, and the output-affecting options (``MapOptions/outputAffecting``).
/// Speed options (workers, batch size, threads, queue depth) are not part of it.
public enum RunFingerprint {
    /// SHA-256 (lower-case hex) of a file's bytes, read in 4 MiB chunks.
    public static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw OutputError(path: path, "cannot open to compute its SHA-256")
        }
        defer { try? handle.close() }
        let hasher = MessageDigest(.sha256)
        while true {
            let chunk = try handle.read(upToCount: 4 << 20) ?? Data()
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        return MessageDigest.hex(hasher.finalize())
    }

    /// Input files as `path|size|mtime` lines (sizes and times from `stat`, or for remote files from
    /// the server through GDAL: `Content-Length` and `Last-Modified`); missing files are recorded as such.
    public static func describeInputs(_ paths: [String]) -> [String] {
        paths.sorted().map { p in
            if RemoteLocation.isRemote(p) {
                guard let st = try? VirtualFileSystem.status(p) else { return "\(p)|missing" }
                return "\(p)|\(st.size)|\(st.modified)"
            }
            var st = stat()
            guard stat(p, &st) == 0 else { return "\(p)|missing" }
            return "\(p)|\(st.st_size)|\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
        }
    }

    /// SHA-256 hex over a canonical text of the inputs, model fingerprints and options.
    public static func compute(inputs: [String], weightsSHA256: String, probeSHA256: String,
                               options: [String: String]) -> String {
        var text = "moemae-map-fingerprint-v1\n"
        for line in describeInputs(inputs) { text += "input \(line)\n" }
        text += "weights \(weightsSHA256)\nprobe \(probeSHA256)\n"
        for key in options.keys.sorted() { text += "option \(key)=\(options[key]!)\n" }
        return MessageDigest.sha256Hex(Data(text.utf8))
    }
}

/// `progress.json` in a scene's staging folder: how far an interrupted run got.
///
/// The writer appends tiles in row order, so the finished part of a scene is a prefix of tile rows.
/// After each finished tile row is flushed to the row store (``RowStore``), the writer saves this file
/// atomically (write, fsync, rename) with `finished_rows` and the accumulated statistics for those
/// rows. `--resume` with the same ``fingerprint`` keeps those rows of the store, restores the statistics
/// and starts reading at row `finished_rows`; any other fingerprint starts the scene afresh.
public struct ResumeState: Codable, Equatable, Sendable {
    public static let fileName = "progress.json"
    public var format = "moemae-map-progress"
    public var formatVersion = 1
    public var fingerprint: String
    public var gridRows: Int
    public var gridCols: Int
    /// Tile rows 0..<finishedRows are complete in the row store.
    public var finishedRows: Int
    /// Counts over those rows.
    public var statistics: SceneStatistics

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", fingerprint, gridRows = "grid_rows", gridCols = "grid_cols"
        case finishedRows = "finished_rows", statistics
    }

    public init(fingerprint: String, gridRows: Int, gridCols: Int, finishedRows: Int, statistics: SceneStatistics) {
        self.fingerprint = fingerprint; self.gridRows = gridRows; self.gridCols = gridCols
        self.finishedRows = finishedRows; self.statistics = statistics
    }

    /// Saves atomically to `path`.
    public func save(to path: String) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        try writeAtomically(try e.encode(self), to: path)
    }

    /// Loads a progress file; nil when it is missing or unreadable (a fresh start is then safe).
    public static func load(from path: String) -> ResumeState? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(ResumeState.self, from: data)
    }

    /// The saved state if it belongs to this run (same fingerprint and grid), else nil.
    public static func matching(at path: String, fingerprint: String, gridRows: Int, gridCols: Int) -> ResumeState? {
        guard let s = load(from: path), s.fingerprint == fingerprint, s.gridRows == gridRows, s.gridCols == gridCols,
              s.finishedRows >= 0, s.finishedRows <= gridRows else { return nil }
        return s
    }
}
