import ContentDigest
import Foundation

/// Content fingerprints of files.
public enum FileDigest {
    /// The SHA-256 of a file's bytes as 64 lower-case hex digits (FIPS 180-4, via OpenSSL's libcrypto), read in
    /// 4 MiB chunks so a weights file of any size costs constant memory.
    /// Throws ``ProbeError/cannotRead(path:reason:)`` when the file cannot be opened or read.
    public static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ProbeError.cannotRead(path: path, reason: "cannot open the file to compute its SHA-256")
        }
        defer { try? handle.close() }
        let hasher = MessageDigest(.sha256)
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 4 << 20) } catch {
                throw ProbeError.cannotRead(path: path, reason: "read failed while computing its SHA-256: \(error.localizedDescription)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            hasher.update(data: chunk)
        }
        return MessageDigest.hex(hasher.finalize())
    }
}
