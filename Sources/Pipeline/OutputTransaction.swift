import Diagnostics
import Foundation

/// An error creating, writing or publishing outputs: the path and what to do.
public struct OutputError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public init(path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}

extension OutputError: DiagnosedError {
    public var kind: FailureKind { .write }
    public var file: String? { path }
}

/// All outputs of one scene, written under temporary names and published together.
///
/// Files are written into a staging folder `<out>/.moemae-partial-<scene>/` (same file system as the
/// final names, so publishing is a `rename(2)`, atomic per file). ``commit()`` renames every staged file
/// to its final name and removes the staging folder; ``abort()`` removes the staging folder. A run that
/// is killed leaves only the staging folder (a dot-folder), never a file with a final name — which is
/// also what `--resume` picks up: the staging folder keeps the partial rasters and the progress file.
public final class OutputTransaction {
    /// The output folder.
    public let directory: String
    /// `<out>/.moemae-partial-<scene>`.
    public let stagingDirectory: String
    private(set) public var finalNames: [String] = []

    /// Creates the output and staging folders. Throws ``OutputError`` when the folder cannot be created or
    /// written (permissions, read-only file system, a file in the way), before any work is done.
    /// - Parameter keepExisting: keep an existing staging folder (resume); otherwise it is emptied.
    public init(directory: String, scene: String, keepExisting: Bool) throws {
        self.directory = directory
        stagingDirectory = (directory as NSString).appendingPathComponent(".moemae-partial-\(scene)")
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: directory, isDirectory: &isDir) {
            guard isDir.boolValue else { throw OutputError(path: directory, "exists and is not a folder") }
        } else {
            try Self.makeDirectories(directory)
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw OutputError(path: directory, "the output folder is not writable (\(String(cString: strerror(errno)))); choose another output folder or fix the permissions")
        }
        if !keepExisting, fm.fileExists(atPath: stagingDirectory) { try? fm.removeItem(atPath: stagingDirectory) }
        do { try fm.createDirectory(atPath: stagingDirectory, withIntermediateDirectories: true) } catch {
            throw OutputError(path: stagingDirectory, "cannot create the staging folder: \(Self.reason(error))")
        }
    }

    /// `mkdir -p` with the system's own reason on failure (ENOENT, EACCES, EROFS, ENOTDIR, ENOSPC…).
    static func makeDirectories(_ directory: String) throws {
        var path = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/", omittingEmptySubsequences: true) {
            path += "/" + part
            var st = stat()
            if stat(path, &st) == 0 {
                guard (st.st_mode & S_IFMT) == S_IFDIR else {
                    throw OutputError(path: directory, "cannot create the output folder: \(path) is a file, not a folder; choose another output folder")
                }
                continue
            }
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                throw OutputError(path: directory, "cannot create the output folder: \(String(cString: strerror(errno))) (at \(path)); choose another output folder or fix the permissions")
            }
        }
    }

    static func reason(_ error: Error) -> String {
        if let e = error as? CocoaError, let u = e.userInfo[NSUnderlyingErrorKey] as? NSError,
           u.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(u.code))) }
        return error.localizedDescription
    }

    /// Registers `name` as an output and returns the path to write it at (inside the staging folder).
    public func stagingPath(for name: String) -> String {
        if !finalNames.contains(name) { finalNames.append(name) }
        return (stagingDirectory as NSString).appendingPathComponent(name)
    }

    /// A scratch path in the staging folder that is not published (intermediate files, progress).
    public func scratchPath(_ name: String) -> String {
        (stagingDirectory as NSString).appendingPathComponent(name)
    }

    /// Final path of output `name`.
    public func finalPath(for name: String) -> String {
        (directory as NSString).appendingPathComponent(name)
    }

    /// Final names that already exist in the output folder.
    public func existingFinalOutputs(_ names: [String]) -> [String] {
        names.filter { FileManager.default.fileExists(atPath: finalPath(for: $0)) }
    }

    /// Publishes every registered output (rename to its final name, replacing an existing file) and
    /// removes the staging folder. Every staged file must exist.
    public func commit() throws {
        for name in finalNames {
            let staged = stagingPath(for: name)
            guard FileManager.default.fileExists(atPath: staged) else {
                throw OutputError(path: staged, "expected output was not written (internal error)")
            }
        }
        for name in finalNames {
            if rename(stagingPath(for: name), finalPath(for: name)) != 0 {
                throw OutputError(path: finalPath(for: name), "cannot publish the output: \(String(cString: strerror(errno)))")
            }
        }
        try? FileManager.default.removeItem(atPath: stagingDirectory)
    }

    /// Removes the staging folder and everything in it.
    public func abort() {
        try? FileManager.default.removeItem(atPath: stagingDirectory)
    }
}

/// Writes `data` to `path` atomically: ``AtomicFile/write(_:to:)`` (a hidden temporary file
/// `.<name>.partial-<pid>` in the same folder, `fsync`, `rename`, `fsync` of the folder), so a process
/// killed while writing leaves nothing that looks like an output. Throws a ``Failure`` `.write`.
public func writeAtomically(_ data: Data, to path: String) throws {
    try AtomicFile.write(data, to: path)
}
