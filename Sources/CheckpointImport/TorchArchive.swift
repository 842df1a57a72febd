import Foundation
import ZIPFoundation

/// The zip container of a `torch.save` file (PyTorch ≥ 1.6, `torch/serialization.py`,
/// `_save` with the zipfile writer): `<archive>/data.pkl` (the pickle program),
/// `<archive>/data/<key>` (one record of raw bytes per storage), `<archive>/byteorder`
/// ("little" or "big"; absent in files from before PyTorch 1.10, which were little-endian),
/// `<archive>/version`. The top folder `<archive>` is the file's stem or "archive" and is found,
/// not assumed.
struct TorchArchive {
    let path: String
    /// `<archive>/` (with the slash), or "" when the records sit at the top level.
    let prefix: String
    /// Byte order of the storage records.
    let littleEndian: Bool
    private let archive: Archive
    private let pickleEntry: Entry
    private let fileSize: UInt64

    /// Opens the container and locates its records. Throws ``CheckpointError``.
    init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError.cannotOpen(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw CheckpointError.cannotOpen(path: path, reason: "is a directory") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CheckpointError.cannotOpen(path: path, reason: "permission denied or unreadable")
        }
        let magic = (try? handle.read(upToCount: 4)) ?? nil
        fileSize = (try? handle.seekToEnd()) ?? 0
        try? handle.close()
        if let magic, magic.count >= 2, magic[magic.startIndex] == 0x80 {
            throw CheckpointError.cannotOpen(path: path, reason: "this is the legacy (pre-1.6) torch.save format, which is not supported; re-save it with a current PyTorch (torch.save(torch.load(f), g))")
        }
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw CheckpointError.cannotOpen(path: path, reason: "not a readable zip archive (\(error)); a torch.save checkpoint is a zip file — is it truncated?")
        }
        self.archive = archive
        // data.pkl sits one folder down (`<archive>/data.pkl`); the folder name varies.
        let candidates = archive.filter { entry in
            let parts = entry.path.split(separator: "/", omittingEmptySubsequences: false)
            return entry.type == .file && parts.last == "data.pkl" && parts.count <= 2
        }
        guard let entry = candidates.first else {
            throw CheckpointError.missingRecord(path: path, record: "*/data.pkl",
                                                detail: "the zip holds no pickle; is this really a torch.save file?")
        }
        guard candidates.count == 1 else {
            throw CheckpointError.unexpectedStructure(path: path, detail: "the zip holds \(candidates.count) data.pkl records (\(candidates.map(\.path).joined(separator: ", ")))")
        }
        pickleEntry = entry
        prefix = String(entry.path.dropLast("data.pkl".count))
        if let order = archive[prefix + "byteorder"] {
            let data = try TorchArchive.read(order, from: archive, path: path, limit: 16)
            switch String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) {
            case "little": littleEndian = true
            case "big": littleEndian = false
            case let other:
                throw CheckpointError.unexpectedStructure(path: path, detail: "byteorder record says '\(other)', expected 'little' or 'big'")
            }
        } else {
            littleEndian = true
        }
    }

    /// The pickle program (`<archive>/data.pkl`).
    func pickleBytes() throws -> [UInt8] {
        [UInt8](try TorchArchive.read(pickleEntry, from: archive, path: path, limit: fileSize))
    }

    /// The raw bytes of storage `key` (`<archive>/data/<key>`), or nil when the record is missing.
    func storageBytes(key: String) throws -> Data? {
        guard let entry = archive[prefix + "data/" + key] else { return nil }
        // torch.save stores records uncompressed, so a storage holds at most the file's bytes; a
        // deflated one (a re-zipped checkpoint) at most deflate's maximum ratio (1032:1) of them.
        return try TorchArchive.read(entry, from: archive, path: path, limit: fileSize.multipliedReportingOverflow(by: 1032).partialValue)
    }

    /// Reads a whole record, checking its length and (when the writer stored one) its CRC-32.
    /// `limit` caps what a hostile header can make us allocate; a record is never read past its declared size.
    private static func read(_ entry: Entry, from archive: Archive, path: String, limit: UInt64?) throws -> Data {
        let declared = entry.uncompressedSize
        if let limit, declared > limit {
            throw CheckpointError.unreadableRecord(path: path, record: entry.path, reason: "declares \(declared) bytes, more than the \(limit) expected")
        }
        var data = Data()
        data.reserveCapacity(Int(min(declared, 1 << 26)))
        let crc: CRC32
        do {
            crc = try archive.extract(entry, skipCRC32: false) { chunk in
                // A record that inflates past its declared size is refused as soon as it does.
                guard UInt64(data.count) + UInt64(chunk.count) <= declared else {
                    throw CheckpointError.unreadableRecord(path: path, record: entry.path, reason: "inflates past its declared \(declared) bytes")
                }
                data.append(chunk)
            }
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError.unreadableRecord(path: path, record: entry.path, reason: "\(error)")
        }
        guard UInt64(data.count) == declared else {
            throw CheckpointError.unreadableRecord(path: path, record: entry.path, reason: "read \(data.count) of \(declared) bytes")
        }
        // PyTorch can be told to skip CRC-32s (torch.serialization.set_crc32_options); they are then 0.
        if entry.checksum != 0, crc != entry.checksum {
            throw CheckpointError.unreadableRecord(path: path, record: entry.path, reason: "CRC-32 mismatch")
        }
        return data
    }
}
