import Foundation

/// The raw content of a Landsat MTL metadata file: every value keyed by its group path.
///
/// USGS publishes the same metadata in three encodings (Landsat 8-9 OLI/TIRS Collection 2 Level 2 Data
/// Format Control Book, LSDS-1328; Landsat 8-9 OLI/TIRS Collection 2 Level 1 DFCB, LSDS-1822; the
/// DFCBs of the other sensors and of older products):
/// - ODL text (`*_MTL.txt`): `GROUP = NAME` … `END_GROUP = NAME`, `KEY = value`, values quoted or not;
/// - JSON (`*_MTL.json`): nested objects, every value a string (numbers included);
/// - XML (`*_MTL.xml`): nested elements, leaf elements hold the values.
///
/// All three become the same list of ``Entry`` values. The same key can appear in several groups
/// (`REFLECTANCE_MULT_BAND_1` sits in both `LEVEL1_RADIOMETRIC_RESCALING` and
/// `LEVEL2_SURFACE_REFLECTANCE_PARAMETERS` of a Level-2 file), so lookups are by full path,
/// e.g. `LANDSAT_METADATA_FILE/LEVEL2_SURFACE_REFLECTANCE_PARAMETERS/REFLECTANCE_MULT_BAND_1`.
/// Values are kept as text exactly as written (ODL quotes removed); interpretation is
/// ``LandsatMetadata``'s job.
public struct MTLDocument: Sendable {
    /// The encoding of an MTL file.
    public enum Format: String, Sendable, CaseIterable {
        /// ODL text, `*_MTL.txt`.
        case odl
        /// `*_MTL.json`.
        case json
        /// `*_MTL.xml`.
        case xml
    }

    /// One `KEY = value` of the file.
    public struct Entry: Sendable, Equatable {
        /// Enclosing groups, outermost first (`["LANDSAT_METADATA_FILE", "PRODUCT_CONTENTS"]`).
        public var groups: [String]
        public var key: String
        /// The value as text (ODL quotes removed; JSON numbers rendered as text).
        public var value: String
        /// `groups` and `key` joined with `/`.
        public var path: String { (groups + [key]).joined(separator: "/") }

        public init(groups: [String], key: String, value: String) {
            self.groups = groups
            self.key = key
            self.value = value
        }
    }

    /// The file the document was read from (as given), used in error messages.
    public let path: String
    public let format: Format
    /// All entries in file order.
    public let entries: [Entry]
    /// Full path → index of its first entry in `entries`.
    private let index: [String: Int]

    /// The outermost group (`LANDSAT_METADATA_FILE` for Collection 2, `L1_METADATA_FILE` for
    /// Collection 1 and pre-collection products), nil when the file has no groups.
    public var rootGroup: String? { entries.first?.groups.first }

    /// Builds a document from already-parsed entries. Throws ``LandsatError/Code/empty`` when there are none.
    public init(path: String, format: Format, entries: [Entry]) throws {
        guard !entries.isEmpty else {
            throw LandsatError(.empty, path: path, "MTL file holds no metadata values (\(format.rawValue) encoding); re-download the scene's *_MTL file")
        }
        self.path = path
        self.format = format
        self.entries = entries
        var index: [String: Int] = [:]
        for (i, e) in entries.enumerated() where index[e.path] == nil { index[e.path] = i }
        self.index = index
    }

    /// Reads and parses an MTL file. The encoding comes from the extension (`.txt`, `.json`, `.xml`),
    /// or from the first non-blank character when the extension is something else.
    /// - Throws: ``LandsatError`` naming the file: unreadable, empty, malformed.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
            guard size <= MTLLimits.maxFileBytes else {
                throw LandsatError(.malformed, path: url.path, "MTL file of \(size) bytes is larger than \(MTLLimits.maxFileBytes) bytes; not an MTL file (limit: docs/reliability.md)")
            }
            data = try Data(contentsOf: url)
        } catch let error as LandsatError {
            throw error
        } catch {
            throw LandsatError(.unreadable, path: url.path, "cannot read MTL file: \(error.localizedDescription)")
        }
        try self.init(data: data, path: url.path, format: Format(fileExtension: url.pathExtension))
    }

    /// Parses MTL bytes. `format` nil → detected from the content.
    /// NUL bytes (USGS pads some MTL files with them) are removed before parsing.
    /// - Throws: ``LandsatError`` naming `path`; ``LandsatError/Code/malformed`` also when the data
    ///   exceeds one of the ``MTLLimits``.
    public init(data: Data, path: String, format: Format? = nil) throws {
        guard data.count <= MTLLimits.maxFileBytes else {
            throw LandsatError(.malformed, path: path, "MTL file of \(data.count) bytes is larger than \(MTLLimits.maxFileBytes) bytes; not an MTL file (limit: docs/reliability.md)")
        }
        // Byte-wise Data.filter appends one byte at a time; most files have no NUL at all.
        let cleaned = data.contains(0) ? Data([UInt8](data).filter { $0 != 0 }) : data
        let text: String
        if let utf8 = String(validating: cleaned, as: UTF8.self) {
            text = utf8
        } else {  // ISO 8859-1: every byte is the scalar of the same value, written here as UTF-8
            var utf8: [UInt8] = []
            utf8.reserveCapacity(cleaned.count * 2)
            for byte in cleaned {
                if byte < 0x80 { utf8.append(byte) } else { utf8.append(0xC0 | byte >> 6); utf8.append(0x80 | byte & 0x3F) }
            }
            text = String(decoding: utf8, as: UTF8.self)
        }
        guard text.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
            throw LandsatError(.empty, path: path, "MTL file is empty\(data.isEmpty ? "" : " (only white space or NUL padding)"); re-download the scene's *_MTL file")
        }
        let detected = format ?? Format.sniff(text)
        let entries: [Entry]
        switch detected {
        case .odl: entries = try ODLParser.parse(text, path: path)
        case .json: entries = try MTLJSONParser.parse(cleaned, path: path)
        case .xml: entries = try MTLXMLParser.parse(cleaned, path: path)
        }
        try self.init(path: path, format: detected, entries: entries)
    }

    /// The value at a full group path (`"LANDSAT_METADATA_FILE/IMAGE_ATTRIBUTES/DATE_ACQUIRED"`), nil if absent.
    public func value(at path: String) -> String? {
        index[path].map { entries[$0].value }
    }

    /// The value of `key` directly inside the group `groupPath` (`"LANDSAT_METADATA_FILE/PRODUCT_CONTENTS"`).
    public func value(_ key: String, inGroup groupPath: String) -> String? {
        value(at: groupPath + "/" + key)
    }

    /// The entries directly inside the group `groupPath`, in file order.
    public func entries(inGroup groupPath: String) -> [Entry] {
        let groups = groupPath.split(separator: "/").map(String.init)
        return entries.filter { $0.groups == groups }
    }

    /// Names of the groups directly under the root, in file order.
    public var topLevelGroups: [String] {
        var seen: [String] = []
        for e in entries where e.groups.count >= 2 && !seen.contains(e.groups[1]) { seen.append(e.groups[1]) }
        return seen
    }
}

extension MTLDocument.Format {
    /// The format named by a file extension (`txt`, `json`, `xml`, any case), nil otherwise.
    public init?(fileExtension ext: String) {
        switch ext.lowercased() {
        case "txt": self = .odl
        case "json": self = .json
        case "xml": self = .xml
        default: return nil
        }
    }

    /// Guesses the encoding from the first non-blank character: `{` JSON, `<` XML, else ODL.
    static func sniff(_ text: String) -> Self {
        switch text.first(where: { !$0.isWhitespace && $0 != "\u{FEFF}" }) {
        case "{": return .json
        case "<": return .xml
        default: return .odl
        }
    }
}
