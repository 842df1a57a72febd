import Foundation

/// Free space of the file system holding a folder (`statvfs(3)`), to tell a full disk apart from other
/// write failures: GDAL reports a failed write in its own words and does not pass `errno` on.
public enum DiskSpace {
    /// Bytes available on the file system holding `path` (`f_bavail × f_frsize`), nil when unknown.
    public static func availableBytes(at path: String) -> Int64? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// Below this much free space a failed write is reported as a full disk. Large, because the write
    /// that failed may itself have been large (a whole block of a multi-band raster).
    public static let nearlyFullBytes: Int64 = 64 << 20

    /// What to tell the user after a write into `folder` failed: that the disk is full and how much is
    /// free, or else what else to check.
    public static func failureHint(folder: String) -> String {
        if let free = availableBytes(at: folder), free < nearlyFullBytes {
            return "the disk is full (No space left on device): the file system holding \(folder) has \(describe(free)) free; free space or choose another output folder, then run again"
        }
        return "check that \(folder) is writable, that its disk is not full and that no file-size limit (ulimit -f) applies"
    }

    /// "12 KiB", "3.4 MiB".
    static func describe(_ bytes: Int64) -> String {
        bytes < 1 << 20 ? "\(bytes / 1024) KiB" : String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
    }
}
