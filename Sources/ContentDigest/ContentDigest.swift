import CLibCrypto
import Foundation

/// An incremental message digest computed by OpenSSL's libcrypto (`EVP_DigestInit_ex`,
/// `EVP_DigestUpdate`, `EVP_DigestFinal_ex`): the content fingerprints moemae records (SHA-256 of weights,
/// probes, scene contents and resume keys, FIPS 180-4) and the SHA-1 that assigns tiles to probe splits.
///
/// A value type in use, a reference to one `EVP_MD_CTX` underneath: do not copy a digest and update both
/// copies. Feed bytes with ``update(data:)`` and read the result once with ``finalize()``.
public final class MessageDigest {
    /// The algorithms moemae uses.
    public enum Algorithm: Sendable {
        /// SHA-256 (32 bytes), FIPS 180-4.
        case sha256
        /// SHA-1 (20 bytes), FIPS 180-4. Not for security: only as a stable hash of names.
        case sha1
    }

    private let context: OpaquePointer
    private var finished = false

    /// Starts a digest. Traps only if libcrypto cannot allocate a context or does not know the algorithm,
    /// which no input can cause (a broken installation).
    public init(_ algorithm: Algorithm) {
        guard let context = EVP_MD_CTX_new() else { fatalError("libcrypto: EVP_MD_CTX_new failed (out of memory)") }
        let md = algorithm == .sha256 ? EVP_sha256() : EVP_sha1()
        guard EVP_DigestInit_ex(context, md, nil) == 1 else { fatalError("libcrypto: EVP_DigestInit_ex failed") }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds `data` to the digest. Must not be called after ``finalize()``.
    public func update(data: Data) {
        precondition(!finished, "MessageDigest.update after finalize")
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return }
            _ = EVP_DigestUpdate(context, base, raw.count)
        }
    }

    /// The digest's bytes (32 for SHA-256, 20 for SHA-1). Call once.
    public func finalize() -> [UInt8] {
        precondition(!finished, "MessageDigest.finalize called twice")
        finished = true
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = EVP_DigestFinal_ex(context, &out, &length)
        return Array(out.prefix(Int(length)))
    }

    /// The digest of `data` in one call.
    public static func hash(_ algorithm: Algorithm, data: Data) -> [UInt8] {
        let digest = MessageDigest(algorithm)
        digest.update(data: data)
        return digest.finalize()
    }

    /// The SHA-256 of `data` as 64 lower-case hexadecimal digits.
    public static func sha256Hex(_ data: Data) -> String { hex(hash(.sha256, data: data)) }

    /// `bytes` as lower-case hexadecimal digits, two per byte.
    public static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
