import Foundation
import GeoRaster
import Landsat

/// What an input path or URL given to `tile`, `map`, `plan` (or a Swift caller) is, decided in one
/// place, and the scenes it holds.
///
/// Kinds: a local Landsat scene folder or MTL file (one scene), a BigEarthNet-style patch folder (one
/// scene per labelled patch), a STAC Item or ItemCollection (local `.json` file or URL; one scene per
/// item), a remote scene prefix or MTL file (`s3://…`, `https://…`; one scene). Adding a kind of input
/// is one new case here, one branch in ``init(path:)`` and its opening in ``open(tileSize:)``; the
/// commands and jobs pass their paths through unchanged.
public enum SceneInput: Sendable, Equatable {
    /// A Landsat scene folder (band GeoTIFFs next to their `*_MTL.txt/.json/.xml`) or the MTL file.
    case landsatScene(path: String)
    /// A BigEarthNet-style folder with `images/` and `labels/` (``BigEarthNetFolder``).
    case bigEarthNetFolder(path: String)
    /// A local `.json` file holding a STAC Item or ItemCollection (``RemoteScenes``).
    case stacDocument(path: String)
    /// A remote location (`s3://`, `http(s)://`): a STAC Item or collection, a scene prefix or an MTL
    /// file, read through GDAL's virtual file systems (``RemoteScenes``, docs/cloud.md).
    case remote(url: String)

    /// Decides what `path` is from its form and what is there (a local `.json` file is read to tell a
    /// STAC document from an MTL in JSON; nothing remote is read).
    public init(path: String) {
        if RemoteLocation.isRemote(path) {
            self = .remote(url: path)
        } else if BigEarthNetFolder.isBigEarthNetFolder(path) {
            self = .bigEarthNetFolder(path: path)
        } else if RemoteScenes.isSTACFile(path) {
            self = .stacDocument(path: path)
        } else {
            self = .landsatScene(path: path)
        }
    }

    /// The path or URL as given.
    public var path: String {
        switch self {
        case .landsatScene(let p), .bigEarthNetFolder(let p), .stacDocument(let p), .remote(let p): return p
        }
    }

    /// True when the input is whole Landsat scenes (mapped as they are), false for patch crops.
    public var isWholeScene: Bool {
        if case .bigEarthNetFolder = self { return false }
        return true
    }

    /// The scenes of this input with what the user should be told about them. `tileSize` is the crop
    /// size of BigEarthNet patches (40). Throws ``TilingError`` naming the path and what is wrong when
    /// the input cannot be read at all (for an input of one scene: when that scene cannot be opened); a
    /// collection's broken items are returned as failed entries next to the good ones.
    public func open(tileSize: Int = 40) throws -> SceneInputs {
        var out = SceneInputs()
        switch self {
        case .landsatScene(let path):
            out.entries.append(.init(input: path, label: path, result: .success(try SceneSource(landsatPath: path)), isCollectionMember: false))
        case .bigEarthNetFolder(let path):
            let folder = try BigEarthNetFolder(path: path)
            if !folder.unlabelled.isEmpty {
                out.warnings.append("\(path): skipping \(folder.unlabelled.count) image(s) without a label file (no acquisition time): \(folder.unlabelled.prefix(5).joined(separator: ", "))\(folder.unlabelled.count > 5 ? ", …" : "")")
            }
            out.entries = try folder.sources(tileSize: tileSize).map {
                .init(input: path, label: path, result: .success($0), isCollectionMember: true)
            }
        case .stacDocument(let path), .remote(let path):
            var warnings: [String] = []
            let entries = try RemoteScenes.resolve(path, warn: { warnings.append($0) })
            out.warnings = warnings
            if entries.count == 1, case .failure(let e) = entries[0].result { throw e }
            out.entries = entries.map { .init(input: path, label: $0.label, result: $0.result, isCollectionMember: entries.count > 1) }
        }
        for case .success(let s) in out.entries.map(\.result) where !s.modelReady && isWholeScene {
            out.notes.append("\(s.id) is not Collection 2 Level-2 surface reflectance SR_B1…SR_B7; it is tiled as \(s.bands.map(\.name).joined(separator: ",")) and marked model_ready=false (see docs/bands.md)")
        }
        return out
    }
}

extension SceneInput {
    /// The one scene of an input that holds exactly one (a scene folder or MTL file, a STAC Item, a
    /// remote prefix), opened through ``SceneInput``; `warn` gets item/MTL disagreements. Throws
    /// ``TilingError`` naming `path` when it cannot be read or holds several scenes (an ItemCollection,
    /// a patch folder).
    public static func openScene(_ path: String, warn: (String) -> Void = { _ in }) throws -> SceneSource {
        let opened = try SceneInput(path: path).open()
        opened.warnings.forEach(warn)
        guard opened.entries.count == 1 else {
            throw TilingError(path: path, "holds \(opened.entries.count) scenes where one is expected",
                              hint: "give one scene: a scene folder, MTL file, STAC Item or remote scene prefix")
        }
        return try opened.entries[0].result.get()
    }
}

/// The scenes of one or more inputs, in the order given, with the warnings (to show always) and notes
/// (progress-level information, e.g. a scene that is not model-ready) that opening them produced.
public struct SceneInputs: Sendable {
    /// One scene of an input, or why it cannot be read.
    public struct Entry: Sendable {
        /// The input path or URL as given.
        public var input: String
        /// Names the scene in messages: the input, plus feature number and item id for collections.
        public var label: String
        public var result: Result<SceneSource, TilingError>
        /// True when the input holds several scenes (an ItemCollection, a patch folder): a broken
        /// member need not stop the others.
        public var isCollectionMember: Bool

        public init(input: String, label: String, result: Result<SceneSource, TilingError>, isCollectionMember: Bool) {
            self.input = input; self.label = label; self.result = result; self.isCollectionMember = isCollectionMember
        }
    }

    public var entries: [Entry] = []
    /// Inputs partly skipped (e.g. patches without a label file) and item/MTL disagreements: one line
    /// each, without a `warning: ` prefix.
    public var warnings: [String] = []
    /// Facts worth telling unless the user asked for quiet (e.g. a scene tiled but not model-ready).
    public var notes: [String] = []

    public init() {}

    /// Every scene; throws the first entry that could not be read (tiling stops on any broken scene).
    public func sources() throws -> [SceneSource] {
        try entries.map { try $0.result.get() }
    }

    /// Opens every path with ``SceneInput``: the one entry point that decides what an input is.
    public static func open(paths: [String], tileSize: Int = 40) throws -> SceneInputs {
        var all = SceneInputs()
        for path in paths {
            let one = try SceneInput(path: path).open(tileSize: tileSize)
            all.entries += one.entries; all.warnings += one.warnings; all.notes += one.notes
        }
        return all
    }
}
