import Diagnostics
import Foundation

/// The last step of every atomic write in this module (``RasterWriter``, ``VectorWriter``): the
/// complete file at `partial` (in the folder of `final`) takes the name `final` through
/// ``AtomicFile/publish(_:as:)`` — `fsync`, then `rename(2)`, which replaces an existing file
/// atomically (never removed first), then `fsync` of the folder. Throws ``GeoRasterError`` `.write`
/// naming the final path.
func publishPartialFile(_ partial: String, as final: String) throws {
    do {
        try AtomicFile.publish(partial, as: final)
    } catch let e as Failure {
        throw GeoRasterError(.write, path: final, e.message)
    }
}
