#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// File-system steps every writer shares.
public enum FileSystem {
    /// True when `path` names anything (file, folder, link).
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// The system's text for `errno` value `code`.
    public static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// True for the errors of a full disk or file-size limit.
    public static func isFull(_ code: Int32) -> Bool { code == ENOSPC || code == EFBIG || code == EDQUOT }
}

/// Atomic publication of a complete file: it is written under a hidden temporary name in the folder of
/// its final name (same file system), flushed (`fsync`), renamed over the final name (`rename(2)`
/// replaces an existing file atomically: a reader sees the old file or the new one, never neither),
/// and the folder is flushed so the rename survives a crash. A process killed before the rename leaves
/// only the hidden temporary file, never a file under its final name that looks complete.
public enum AtomicFile {
    /// The temporary name for `path`: `.<name>.partial-<pid>` in the same folder.
    public static func temporaryPath(for path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        let name = ".\((path as NSString).lastPathComponent).partial-\(getpid())"
        return folder.isEmpty ? name : (folder as NSString).appendingPathComponent(name)
    }

    /// Removes what killed runs left beside `path`: every `.<name>.partial-<pid>` file or folder in the
    /// folder of `path` whose process no longer exists (`kill(pid, 0)` fails with `ESRCH`). Another live
    /// run's temporary (or this process's own) is left alone; so is any sibling whose pid cannot be read.
    /// A pid reused by an unrelated process keeps its stale temporary until that process ends.
    /// Best effort: errors are ignored (the leftovers are hidden and never taken for output).
    public static func removeAbandonedTemporaries(of path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        let prefix = ".\((path as NSString).lastPathComponent).partial-"
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder) else { return }
        for name in names where name.hasPrefix(prefix) {
            let digits = name.dropFirst(prefix.count)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let pid = pid_t(digits), pid > 0,
                  pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? fm.removeItem(atPath: folder.isEmpty ? name : (folder as NSString).appendingPathComponent(name))
        }
    }

    /// Publishes the complete file `partial` (in the folder of `final`) under the name `final`:
    /// `fsync` of the file, `rename`, `fsync` of the folder. Throws a ``Failure`` `.write` naming `final`.
    public static func publish(_ partial: String, as final: String) throws {
        let fd = open(partial, O_RDONLY)
        guard fd >= 0 else {
            throw Failure(.write, path: final, "cannot open the finished temporary file \(partial): \(FileSystem.reason(errno))")
        }
        let synced = fsync(fd) == 0 ? 0 : errno
        close(fd)
        guard synced == 0 else {
            throw Failure(.write, path: final, "cannot flush \(partial) to disk: \(FileSystem.reason(synced))")
        }
        guard rename(partial, final) == 0 else {
            throw Failure(.write, path: final, "cannot rename \(partial) to its final name: \(FileSystem.reason(errno))")
        }
        syncFolder(of: final)
    }

    /// Writes `data` to `path` atomically (temporary name, `fsync`, `rename`). Throws a ``Failure``
    /// `.write` naming `path`; a full disk says so.
    public static func write(_ data: Data, to path: String) throws {
        let tmp = temporaryPath(for: path)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw Failure(.write, path: path, "cannot create its temporary file \(tmp): \(FileSystem.reason(errno))") }
        var err: Int32 = 0
        data.withUnsafeBytes { (buf: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buf.count {
                let n = systemWrite(fd, buf.baseAddress! + offset, buf.count - offset)
                if n < 0 { if errno == EINTR { continue }; err = errno; break }
                offset += n
            }
        }
        if err == 0 && fsync(fd) != 0 { err = errno }
        close(fd)
        guard err == 0 else {
            unlink(tmp)
            throw Failure(.write, path: path, "cannot write: \(FileSystem.reason(err))",
                          hint: FileSystem.isFull(err) ? "the disk or the file-size limit is full; free space or write elsewhere, then run again" : nil)
        }
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            throw Failure(.write, path: path, "cannot rename into place: \(FileSystem.reason(e))")
        }
        syncFolder(of: path)
    }

    /// Flushes the folder holding `path` (its entry for a renamed file); failures are ignored (some file
    /// systems refuse `fsync` on folders).
    static func syncFolder(of path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        let fd = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }
}

/// `write(2)` (the name is shadowed inside ``AtomicFile``).
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
