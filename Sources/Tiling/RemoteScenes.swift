import Foundation
import GeoRaster
import Landsat

/// Scenes that live elsewhere than a local scene folder: STAC Items and ItemCollections (local files or
/// URLs) and remote scene prefixes / MTL files on S3 or a web server. Everything remote is read through
/// GDAL's virtual file systems (``VirtualFileSystem``); band paths become `/vsis3/…` or `/vsicurl/…`
/// paths that ``SceneRasters`` opens like local files. See docs/cloud.md.
///
/// The rules are those of local scenes: the band set, QA band and model readiness come from
/// ``LandsatBandSet`` over the scene's MTL, or over metadata built from the item's properties when the
/// item has no MTL asset (``STACSceneItem/metadataFromProperties()``).
public enum RemoteScenes {
    /// One scene of an input that may hold several (a FeatureCollection): the scene, or why it cannot be
    /// read. `label` names it in messages (the input, plus the item id for collections).
    public struct Entry {
        public var label: String
        public var result: Result<SceneSource, TilingError>
    }

    /// True when `path` is a local `.json` file holding a STAC Item or collection (``SceneInput`` decides
    /// what an input is; this is its test for STAC files).
    public static func isSTACFile(_ path: String) -> Bool {
        guard path.lowercased().hasSuffix(".json"), let data = FileManager.default.contents(atPath: path),
              let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return false }
        return STACDocument.isSTAC(o)
    }

    /// Resolves a STAC document or remote `input` into scenes (``SceneInput`` calls it); `warn` receives
    /// disagreements between an item and its MTL (the MTL wins), one line without a `warning: ` prefix.
    /// Throws ``TilingError`` naming the input when it cannot be read at all; a collection's broken items
    /// are returned as failed entries next to the good ones.
    public static func resolve(_ input: String, warn: (String) -> Void) throws -> [Entry] {
        let path = stripQuery(input).lowercased()
        if path.hasSuffix(".json") {
            let data = try read(input, what: "STAC Item")
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            if let object, !STACDocument.isSTAC(object) {
                // An MTL in its JSON encoding.
                return [Entry(label: input, result: Result { try fromMTL(data: data, location: input) }.mapError(tilingError))]
            }
            let document: STACDocument
            do { document = try STACDocument(data: data, location: input) } catch let e as LandsatError { throw tilingError(e) }
            switch document {
            case .item(let item):
                return [Entry(label: input, result: Result { try fromItem(item, warn: warn) }.mapError(tilingError))]
            case .collection(let items):
                return items.enumerated().map { i, r in
                    switch r {
                    case .success(let item):
                        return Entry(label: "\(input) (feature \(i + 1) of \(items.count), item \(item.id))",
                                     result: Result { try fromItem(item, warn: warn) }.mapError { e in
                                         let t = tilingError(e)
                                         // Name the feature, not only the item id (ids can repeat in search results).
                                         return t.path.hasPrefix(item.location) ? TilingError(path: "\(input) (feature \(i + 1) of \(items.count), item \(item.id))", t.message, hint: t.hint) : t
                                     })
                    case .failure(let e):
                        return Entry(label: e.path, result: .failure(tilingError(e)))
                    }
                }
            }
        }
        if path.hasSuffix("_mtl.txt") || path.hasSuffix("_mtl.xml") {
            let data = try read(input, what: "MTL file")
            return [Entry(label: input, result: Result { try fromMTL(data: data, location: input) }.mapError(tilingError))]
        }
        // A remote scene prefix: the USGS folder is named after the product, so its MTL name is known
        // without listing (`<prefix>/<product>_MTL.txt`, else .json, else .xml: one HEAD request each).
        var prefix = input
        while prefix.hasSuffix("/") { prefix.removeLast() }
        let product = prefix.split(separator: "/").last.map(String.init) ?? ""
        var candidates = LandsatScene.mtlSuffixes.map { "\(prefix)/\(product)\($0)" }
        var found: String?
        for c in candidates where found == nil {
            do { if try VirtualFileSystem.status(c) != nil { found = c } } catch let e as GeoRasterError {
                throw TilingError(path: input, "cannot read the scene prefix: \(e)")
            }
        }
        if found == nil, let names = VirtualFileSystem.list(prefix) {
            // The folder is not named after its product: list it (one LIST request) for its MTL.
            candidates = LandsatScene.mtlSuffixes.flatMap { suffix in
                names.filter { $0.lowercased().hasSuffix(suffix.lowercased()) }.map { "\(prefix)/\($0)" }
            }
            let products = Set(candidates.map { ($0 as NSString).lastPathComponent.split(separator: "_").prefix(7).joined(separator: "_") })
            if products.count > 1 {
                throw TilingError(path: input, "the prefix holds several products' MTL files", hint: "give the prefix of one product, or its MTL file")
            }
            found = candidates.first
        }
        guard let mtl = found else {
            throw TilingError(path: input, "no Landsat MTL file at this prefix (looked for \(product)_MTL.txt, .json and .xml)",
                              hint: "give a remote scene prefix named after its product (s3://bucket/…/<product>/), its MTL file, or a STAC Item")
        }
        let data = try read(mtl, what: "MTL file")
        return [Entry(label: input, result: Result { try fromMTL(data: data, location: mtl) }.mapError(tilingError))]
    }

    /// A scene from MTL bytes read at `location`: bands next to the MTL (as the MTL names them).
    static func fromMTL(data: Data, location: String) throws -> SceneSource {
        let format = MTLDocument.Format(fileExtension: (stripQuery(location) as NSString).pathExtension)
        let metadata = try LandsatMetadata(document: MTLDocument(data: data, path: location, format: format))
        let bandSet = LandsatBandSet(metadata: metadata)
        guard !bandSet.bands.isEmpty else {
            throw LandsatError(.missingKey, path: location, "the MTL lists no usable band files (FILE_NAME_BAND_n); nothing to tile")
        }
        let at = { (name: String) in RemoteLocation.gdalPath(RemoteLocation.resolve(name, against: location)) }
        return SceneSource(metadata: metadata, bandSet: bandSet, bandPaths: bandSet.bands.map { at($0.fileName) },
                           qaFile: bandSet.qaFileName.map(at), metadataFiles: [RemoteLocation.gdalPath(location)])
    }

    /// A scene from a STAC Item: metadata from its MTL asset when it has one (warning on disagreement),
    /// else from its properties; bands by `eo:bands` common name; QA from `qa_pixel`.
    public static func fromItem(_ item: STACSceneItem, warn: (String) -> Void) throws -> SceneSource {
        let label = "\(item.location) (item \(item.id))"
        let at = { (href: String) in RemoteLocation.gdalPath(RemoteLocation.resolve(href, against: item.location)) }
        var metadataFiles = [RemoteLocation.gdalPath(item.location)]
        let metadata: LandsatMetadata
        if let mtlAsset = item.mtlAsset {
            let mtlLocation = RemoteLocation.resolve(mtlAsset.readHref, against: item.location)
            let data = try read(mtlLocation, what: "MTL asset '\(mtlAsset.key)' of item \(item.id)")
            metadata = try LandsatMetadata(document: MTLDocument(
                data: data, path: RemoteLocation.displayURL(mtlLocation),
                format: MTLDocument.Format(fileExtension: (stripQuery(mtlAsset.fileName) as NSString).pathExtension)))
            for d in item.disagreements(with: metadata) {
                warn("\(label): \(d); the MTL (\(RemoteLocation.displayURL(mtlLocation))) wins")
            }
            metadataFiles.append(RemoteLocation.gdalPath(mtlLocation))
        } else {
            metadata = try item.metadataFromProperties()
            // Without an MTL the item is the only list of bands: every band of the sensor must be there.
            for (designation, common) in STACSceneItem.commonNames(sensor: metadata.sensor).sorted(by: { $0.key < $1.key })
            where item.bandAsset(designation: designation, sensor: metadata.sensor) == nil {
                throw TilingError(path: label, "has no asset for band \(metadata.isLevel2 ? "SR_B" : "B")\(designation) (eo:bands common name '\(common)')",
                                  hint: "the item must list every band of the product (assets: \(item.assets.keys.sorted().joined(separator: ", ")))")
            }
        }
        let bandSet = LandsatBandSet(metadata: metadata)
        guard !bandSet.bands.isEmpty else {
            throw TilingError(path: label, "lists no usable bands for \(metadata.sensor.mtlName) \(metadata.processingLevel); nothing to tile")
        }
        let common = STACSceneItem.commonNames(sensor: metadata.sensor)
        var paths: [String] = []
        for band in bandSet.bands {
            guard let asset = item.bandAsset(designation: band.designation, sensor: metadata.sensor) else {
                throw TilingError(path: label, "has no asset for band \(band.name)\(common[band.designation].map { " (eo:bands common name '\($0)')" } ?? "")",
                                  hint: "the item must list every band the scene is tiled with (assets: \(item.assets.keys.sorted().joined(separator: ", ")))")
            }
            paths.append(at(asset.readHref))
        }
        var qa: String?
        if let asset = item.qaPixelAsset {
            qa = at(asset.readHref)
        } else if metadata.qaFileName != nil {
            throw TilingError(path: label, "has no qa_pixel asset", hint: "the QA_PIXEL band marks fill pixels; the item must list it (asset key qa_pixel)")
        }
        var source = SceneSource(metadata: metadata, bandSet: bandSet, bandPaths: paths, qaFile: qa, metadataFiles: metadataFiles)
        let href = item.selfHref ?? (RemoteLocation.isRemote(item.location) ? item.location
                                     : URL(fileURLWithPath: item.location).standardizedFileURL.path)
        source.provenance = SceneProvenance(itemHref: href, properties: item.provenanceProperties, extensions: item.extensions)
        return source
    }

    /// Reads a small file (local or remote) through GDAL; errors name the location.
    static func read(_ location: String, what: String) throws -> Data {
        do { return try VirtualFileSystem.read(location) } catch let e as GeoRasterError {
            throw TilingError(path: RemoteLocation.displayURL(e.path ?? location),
                              "cannot read the \(what)\(e.libraryMessages.isEmpty ? "" : " (" + e.libraryMessages.joined(separator: "; ") + ")")",
                              hint: e.hint)
        }
    }

    static func stripQuery(_ s: String) -> String { s.split(separator: "?", maxSplits: 1).first.map(String.init) ?? s }

    static func tilingError(_ error: Error) -> TilingError {
        switch error {
        case let e as TilingError: return e
        case let e as LandsatError: return TilingError(path: e.path, e.message)
        case let e as GeoRasterError: return TilingError(path: e.path ?? "", e.description)
        default: return TilingError(path: "", "\(error)")
        }
    }
}
