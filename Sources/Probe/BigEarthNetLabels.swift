import Foundation

/// Labels from a BigEarthNet patch folder: one `<patch>_labels_metadata.json` per patch, whose `labels`
/// list names CORINE Land Cover classes, mapped to the 19-class nomenclature
/// (``BigEarthNetNomenclature``). A tile is matched to its label file by its scene id, which
/// `moemae tile` sets to the patch's file stem.
public struct BigEarthNetLabels: Sendable {
    /// The folder holding the label files (the patch folder's `labels/`).
    public let folder: String

    /// `path` is the `labels/` folder or the patch folder holding it. Throws when neither holds a
    /// `*_labels_metadata.json` file.
    public init(path: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw ProbeError(path: path, "no such BigEarthNet labels folder")
        }
        let nested = (path as NSString).appendingPathComponent("labels")
        var folder = path
        if fm.fileExists(atPath: nested, isDirectory: &isDir), isDir.boolValue { folder = nested }
        let entries = (try? fm.contentsOfDirectory(atPath: folder)) ?? []
        guard entries.contains(where: { $0.hasSuffix(Self.suffix) }) else {
            throw ProbeError(path: path, "no *\(Self.suffix) file here or in labels/: not a BigEarthNet labels folder")
        }
        self.folder = folder
    }

    static let suffix = "_labels_metadata.json"

    /// The label file of a patch, if present.
    public func labelFile(patch: String) -> String? {
        let p = (folder as NSString).appendingPathComponent(patch + Self.suffix)
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    /// The 19-class indices of one label file (sorted, unique; empty when every label is dropped).
    /// Throws naming the file when it is not JSON with a `labels` list of strings, or names a label that
    /// is neither one of the 43 CORINE labels nor one of the 19 classes.
    public static func classes(ofFile path: String) throws -> [Int] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProbeError(path: path, "cannot read the label file")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let labels = object["labels"] as? [String] else {
            throw ProbeError(path: path, "not a BigEarthNet label file: expected a JSON object with a \"labels\" list of CORINE class names")
        }
        var out = Set<Int>()
        var unknown: [String] = []
        for label in labels {
            switch BigEarthNetNomenclature.lookup(label) {
            case .mapped(let c): out.insert(c)
            case .dropped: break
            case .unknown: unknown.append(label)
            }
        }
        if !unknown.isEmpty {
            throw ProbeError(path: path, "names \(unknown.map { "'\($0)'" }.joined(separator: ", ")), not one of the 43 CORINE Land Cover labels of BigEarthNet nor of its 19 classes (see docs/probes.md)")
        }
        return out.sorted()
    }

    /// Labels of `tiles`, whose scenes are named by `sceneIDs` (index = ``TileRef/scene``).
    /// Multi-class keeps only tiles with exactly one of the 19 classes.
    public func labels(for tiles: [TileRef], sceneIDs: [String], task: ProbeTask) throws -> TileLabels {
        var cache: [Int: [Int]?] = [:]
        var missing = 0, empty = 0, several = 0
        var labels: [[Int]?] = []
        for t in tiles {
            if cache[t.scene] == nil {
                guard t.scene >= 0 && t.scene < sceneIDs.count else {
                    throw ProbeError(path: folder, "a tile refers to scene \(t.scene) but the dataset has \(sceneIDs.count) scenes")
                }
                cache[t.scene] = try labelFile(patch: sceneIDs[t.scene]).map { try Self.classes(ofFile: $0) }
            }
            guard let entry = cache[t.scene], let set = entry else { missing += 1; labels.append(nil); continue }
            if set.isEmpty { empty += 1; labels.append(nil); continue }
            if task == .multiclass && set.count != 1 { several += 1; labels.append(nil); continue }
            labels.append(set)
        }
        var notes: [String] = []
        if missing > 0 { notes.append("\(missing) tile(s) have no label file in \(folder)") }
        if empty > 0 { notes.append("\(empty) tile(s) have only labels without a 19-class target (left out)") }
        if several > 0 { notes.append("\(several) tile(s) have several classes and are left out of the multi-class task") }
        if missing == tiles.count {
            let example = tiles.first.map { sceneIDs[$0.scene] } ?? "?"
            throw ProbeError(path: folder, "no tile matches a label file: e.g. scene '\(example)' has no \(example)\(Self.suffix); the dataset's scene ids must be the patch names (tile the patch folder with `moemae tile`)")
        }
        return TileLabels(classes: BigEarthNetNomenclature.classes, labels: labels, notes: notes)
    }
}
