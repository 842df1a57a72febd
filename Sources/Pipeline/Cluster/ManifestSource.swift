import Foundation
import GeoRaster
import Landsat
import Tiling

/// The `source` of a manifest line, and how `moemae plan` and `moemae map --manifest` turn it into a
/// scene the same way (docs/scaling.md, "plan").
///
/// A source is one of:
/// - a local scene folder or MTL file (absolute path);
/// - a STAC Item: a local `.json` file (absolute path) or its URL;
/// - one feature of a STAC ItemCollection / FeatureCollection: `<collection file or URL>#<item id>`,
///   the URI fragment naming the item (so a task reads the collection but opens only its own item);
/// - a remote scene prefix or MTL file (`s3://…`, `https://…`), resolved by ``RemoteScenes``.
public enum ManifestSource {
    /// One scene of an input: its manifest `source`, and the scene or why it cannot be used.
    public struct Candidate {
        public var source: String
        public var result: Result<Opened, Error>
    }

    /// A scene opened from a manifest source.
    public struct Opened {
        public var scene: SceneSource
        /// The item's own JSON (keys sorted) when the scene is one feature of a collection: hashed instead of
        /// the whole collection file, so that editing another feature does not invalidate this line.
        public var featureJSON: Data?
        /// The collection file or URL a feature came from (excluded from the content hash), else nil.
        public var collection: String?
    }

    /// Every scene of one planning input (after folder expansion), each with the `source` its manifest
    /// line gets. A collection's broken features are returned as failed candidates beside the good ones.
    public static func candidates(of input: String, warn: (String) -> Void) -> [Candidate] {
        if isJSON(input) && (RemoteLocation.isRemote(input) || FileManager.default.fileExists(atPath: input)) {
            do {
                let data = try readJSONDocument(input)
                if let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                   object["type"] as? String == "FeatureCollection", let features = object["features"] as? [Any] {
                    return collectionCandidates(input, features: features, warn: warn)
                }
            } catch {
                return [Candidate(source: input, result: .failure(error))]
            }
        }
        do {
            let entries = try openInput(input, warn: warn)
            if entries.count == 1 {
                return [Candidate(source: input, result: entries[0].result.map { Opened(scene: $0) }.mapError { $0 as Error })]
            }
            return entries.map { Candidate(source: $0.label, result: $0.result.map { Opened(scene: $0) }.mapError { $0 as Error }) }
        } catch {
            return [Candidate(source: input, result: .failure(error))]
        }
    }

    /// Opens the scene of a manifest line's `source` (see the type's documentation).
    /// - Throws: ``ClusterError`` naming the source when it holds no scene, several scenes, or no item
    ///   with the fragment's id; the resolver's errors (``TilingError``) otherwise.
    public static func open(_ source: String, warn: (String) -> Void) throws -> Opened {
        if let (collection, itemID) = splitFragment(source) {
            let data = try readJSONDocument(collection)
            guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                  object["type"] as? String == "FeatureCollection", let features = object["features"] as? [Any] else {
                throw ClusterError(path: collection, "is not a STAC ItemCollection, but the manifest source \(source) names item '\(itemID)' in it; plan the manifest again")
            }
            let matches = features.compactMap { $0 as? [String: Any] }.filter { $0["id"] as? String == itemID }
            guard matches.count == 1 else {
                throw ClusterError(path: collection, matches.isEmpty
                    ? "has no item '\(itemID)' (the manifest source is \(source)); plan the manifest again"
                    : "has \(matches.count) items with id '\(itemID)'; the manifest source \(source) is ambiguous")
            }
            return try openFeature(matches[0], collection: collection, warn: warn)
        }
        let entries = try openInput(source, warn: warn)
        guard entries.count == 1 else {
            throw ClusterError(path: source, "holds \(entries.count) scenes, but a manifest line is one scene; plan the manifest again (collection items become <collection>#<item id>)")
        }
        return Opened(scene: try entries[0].result.get())
    }

    /// The scenes of an input through ``SceneInput`` (the one decision of what an input is); `warn` gets
    /// its warnings with the `warning: ` prefix. A patch folder is not a scene source.
    static func openInput(_ input: String, warn: (String) -> Void) throws -> [SceneInputs.Entry] {
        let kind = SceneInput(path: input)
        guard kind.isWholeScene else {
            throw ClusterError(path: input, "is a BigEarthNet-style patch folder (images/ and labels/), not a Landsat scene")
        }
        let opened = try kind.open()
        for w in opened.warnings { warn("warning: " + w) }
        return opened.entries
    }

    /// `collection.json#item` → (`collection.json`, `item`): the first `#` that follows a `.json` name
    /// (a query string in between is allowed); nil when the source has no such fragment.
    public static func splitFragment(_ source: String) -> (String, String)? {
        var index = source.startIndex
        while let hash = source[index...].firstIndex(of: "#") {
            let head = String(source[..<hash])
            let fragment = String(source[source.index(after: hash)...])
            if isJSON(head) && !fragment.isEmpty { return (head, fragment) }
            index = source.index(after: hash)
        }
        return nil
    }

    static func collectionCandidates(_ input: String, features: [Any], warn: (String) -> Void) -> [Candidate] {
        var seen: [String: Int] = [:]
        for f in features { if let id = (f as? [String: Any])?["id"] as? String { seen[id, default: 0] += 1 } }
        return features.enumerated().map { i, f in
            let label = "\(input) (feature \(i + 1) of \(features.count))"
            guard let object = f as? [String: Any] else {
                return Candidate(source: label, result: .failure(ClusterError(path: label, "is not a JSON object")))
            }
            guard let id = object["id"] as? String, !id.isEmpty else {
                return Candidate(source: label, result: .failure(ClusterError(path: label, "has no \"id\"; a manifest line names a collection's item by its id")))
            }
            let source = "\(input)#\(id)"
            if seen[id, default: 0] > 1 {
                return Candidate(source: source, result: .failure(ClusterError(path: label, "item id '\(id)' occurs \(seen[id]!) times in the collection; a manifest line names an item by its id")))
            }
            return Candidate(source: source, result: Result { try openFeature(object, collection: input, warn: warn) })
        }
    }

    static func openFeature(_ object: [String: Any], collection: String, warn: (String) -> Void) throws -> Opened {
        let item: STACSceneItem
        do { item = try STACSceneItem(object: object, location: collection) } catch let e as LandsatError {
            throw TilingError(path: "\(collection)#\((object["id"] as? String) ?? "?")", e.message)
        }
        let scene = try RemoteScenes.fromItem(item, warn: { warn("warning: " + $0) })
        let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return Opened(scene: scene, featureJSON: json, collection: RemoteLocation.gdalPath(collection))
    }

    static func readJSONDocument(_ location: String) throws -> Data {
        do { return try VirtualFileSystem.read(location) } catch let e as GeoRasterError {
            throw TilingError(path: RemoteLocation.displayURL(e.path ?? location),
                              "cannot read the STAC document\(e.libraryMessages.isEmpty ? "" : " (" + e.libraryMessages.joined(separator: "; ") + ")")",
                              hint: e.hint)
        }
    }

    static func isJSON(_ location: String) -> Bool {
        (location.split(separator: "?", maxSplits: 1).first.map(String.init) ?? location).lowercased().hasSuffix(".json")
    }
}
