import Foundation

/// Parser for the JSON encoding of Landsat MTL files (`*_MTL.json`, Collection 2).
///
/// The file is one object whose nested objects are the groups; USGS writes every value as a string
/// (`"COLLECTION_NUMBER": "02"`, `"REFLECTANCE_MULT_BAND_1": "2.75e-05"`). Numbers, booleans and
/// nulls written by other tools are accepted and rendered as text; arrays become comma-separated text.
enum MTLJSONParser {
    static func parse(_ data: Data, path: String) throws -> [MTLDocument.Entry] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw LandsatError(.malformed, path: path, "not valid JSON (\(describe(error))); re-download the scene's *_MTL.json")
        }
        guard let root = object as? [String: Any] else {
            throw LandsatError(.malformed, path: path, "JSON MTL must be an object of groups, found \(type(of: object))")
        }
        var entries: [MTLDocument.Entry] = []
        try walk(root, groups: [], into: &entries, path: path)
        return entries
    }

    /// Groups and keys are visited in key order (JSON objects are unordered; lookups are by path).
    /// Nesting and entry count are bounded by ``MTLLimits`` (Foundation's parser itself stops at 512 levels).
    private static func walk(_ object: [String: Any], groups: [String], into entries: inout [MTLDocument.Entry],
                             path: String) throws {
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            if let group = value as? [String: Any] {
                guard groups.count < MTLLimits.maxNesting else {
                    throw LandsatError(.malformed, path: path, "JSON groups nested deeper than \(MTLLimits.maxNesting) levels at \"\(key.prefix(60))\"; not an MTL file (limit: docs/reliability.md)")
                }
                try walk(group, groups: groups + [key], into: &entries, path: path)
            } else {
                guard entries.count < MTLLimits.maxEntries else {
                    throw LandsatError(.malformed, path: path, "more than \(MTLLimits.maxEntries) values; not an MTL file (limit: docs/reliability.md)")
                }
                entries.append(.init(groups: groups, key: key, value: text(value)))
            }
        }
    }

    private static func text(_ value: Any) -> String {
        switch value {
        case let s as String: return s
        case is NSNull: return ""
        case let a as [Any]: return a.map(text).joined(separator: ", ")
        case let n as NSNumber: return n.stringValue
        default: return "\(value)"
        }
    }

    private static func describe(_ error: Error) -> String {
        let ns = error as NSError
        return (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ns.localizedDescription
    }
}
