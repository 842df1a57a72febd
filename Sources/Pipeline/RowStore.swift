import Foundation

/// An append-only file of fixed-size tile-row records in a scene's staging folder: the map's results
/// while the scene runs, and what `--resume` keeps. Rasters are built from it when the scene is complete
/// (``MapRasters``).
///
/// ``append(_:)`` uses `write(2)`; ``sync()`` (`fsync`) is called before each checkpoint so a saved
/// `progress.json` never claims rows the disk does not hold. A full disk or a file-size limit
/// (`ulimit -f`, SIGXFSZ ignored) surfaces as an ``OutputError`` naming the file; the file is then cut
/// back to its last whole record.
public final class RowStore {
    public let path: String
    public let recordBytes: Int
    private let fd: Int32
    /// Records in the file.
    public private(set) var count: Int

    /// Opens (creating if needed) the store and keeps its first `keepRecords` records (nil keeps none:
    /// a fresh start). Throws when the file has fewer records than asked to keep.
    public init(path: String, recordBytes: Int, keepRecords: Int?) throws {
        self.path = path; self.recordBytes = recordBytes
        let flags = O_RDWR | O_CREAT | (keepRecords == nil ? O_TRUNC : 0)
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw OutputError(path: path, "cannot create: \(String(cString: strerror(errno)))") }
        self.fd = fd
        let keep = keepRecords ?? 0
        var st = stat()
        fstat(fd, &st)
        guard Int(st.st_size) >= keep * recordBytes else {
            close(fd)
            throw OutputError(path: path, "holds \(Int(st.st_size) / max(1, recordBytes)) rows, fewer than the \(keep) the progress file records")
        }
        guard ftruncate(fd, off_t(keep * recordBytes)) == 0 else {
            let e = errno; close(fd)
            throw OutputError(path: path, "cannot truncate: \(String(cString: strerror(e)))")
        }
        lseek(fd, off_t(keep * recordBytes), SEEK_SET)
        count = keep
    }

    deinit { close(fd) }

    /// Appends one record.
    public func append(_ record: [UInt8]) throws {
        precondition(record.count == recordBytes, "RowStore: record of \(record.count) bytes, expected \(recordBytes)")
        try record.withUnsafeBytes { buf in
            var offset = 0
            while offset < buf.count {
                let n = write(fd, buf.baseAddress! + offset, buf.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    let e = errno
                    // Drop the part of the record that was written: the file keeps whole records only, and
                    // on a full disk the freed bytes leave room for the checkpoint of the rows before it.
                    if ftruncate(fd, off_t(count * recordBytes)) == 0 { lseek(fd, off_t(count * recordBytes), SEEK_SET) }
                    throw OutputError(path: path, Self.writeFailure(e))
                }
                offset += n
            }
        }
        count += 1
    }

    static func writeFailure(_ e: Int32) -> String {
        let hint = (e == ENOSPC || e == EFBIG || e == EDQUOT)
            ? " — the disk (or the file-size limit) is full; free space or choose another output folder, then run again"
            : ""
        return "cannot write map results: \(String(cString: strerror(e)))\(hint)"
    }

    /// Flushes the file to disk.
    public func sync() throws {
        if fsync(fd) != 0 { throw OutputError(path: path, "cannot flush map results: \(String(cString: strerror(errno)))") }
    }

    /// Reads record `index` into `buffer` (recordBytes bytes).
    public func read(_ index: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        precondition(buffer.count >= recordBytes)
        var offset = 0
        while offset < recordBytes {
            let n = pread(fd, buffer.baseAddress! + offset, recordBytes - offset, off_t(index * recordBytes + offset))
            if n < 0 { if errno == EINTR { continue }; throw OutputError(path: path, "cannot read row \(index): \(String(cString: strerror(errno)))") }
            if n == 0 { throw OutputError(path: path, "row \(index) is missing (file truncated)") }
            offset += n
        }
    }
}
