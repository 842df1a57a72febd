import Foundation

/// The last step of every atomic write in this module (``RasterWriter``, ``VectorWriter``): the
/// complete file at `partial` takes the name `final`, replacing a file of that name. Throws
/// ``GeoRasterError`` `.write` naming the final path.
func publishPartialFile(_ partial: String, as final: String) throws {
    let fm = FileManager.default
    do {
        if fm.fileExists(atPath: final) { try fm.removeItem(atPath: final) }
        try fm.moveItem(atPath: partial, toPath: final)
    } catch {
        throw GeoRasterError(.write, path: final, "cannot rename \(partial) to its final name: \(error.localizedDescription)")
    }
}
