import Diagnostics
import Foundation
import SafeTensors

/// One feature per tile from an embeddings file written by `moemae embed`: `embedding` or `cls` F32
/// [N, D], with `row`, `col`, `scene` I32 [N] (tile position: grid row/column and index into the
/// dataset manifest's `scenes`) and `__metadata__` `weights_sha256` and `dataset`.
public struct EmbeddingTable: Sendable {
    public let path: String
    public let feature: ProbeFeature
    /// N.
    public let count: Int
    /// D.
    public let dimension: Int
    /// [N, D] row-major.
    public let values: [Float]
    /// Grid row, grid column and scene index of each tile; nil when the file lacks them.
    public let row: [Int]?
    public let col: [Int]?
    public let scene: [Int]?
    /// SHA-256 of the encoder weights (metadata `weights_sha256`), "" when absent.
    public let weightsSHA256: String
    /// The dataset the embeddings were computed from (metadata `dataset`), when recorded.
    public let datasetPath: String?
    public let metadata: [String: String]

    /// Reads `feature` and the tile positions. Throws naming the file when a tensor is missing or has
    /// the wrong shape.
    public init(path: String, feature: ProbeFeature) throws {
        let file = try SafeTensorsFile(path: path)
        guard let info = file.info(feature.rawValue) else {
            let have = file.names.filter { ["embedding", "cls"].contains($0) }
            throw Failure(.read, path: path, "no '\(feature.rawValue)' tensor" + (have.isEmpty ? "; this is not an embeddings file written by `moemae embed`" : " (it has \(have.joined(separator: ", "))); choose that feature"),
                          settings: have.isEmpty ? [] : [.feature])
        }
        guard info.shape.count == 2, info.shape[1] > 0 else {
            throw ProbeError(path: path, "tensor '\(feature.rawValue)' has shape \(info.shape), expected [N, D]")
        }
        let n = info.shape[0]
        self.path = path
        self.feature = feature
        count = n
        dimension = info.shape[1]
        values = try file.floats(feature.rawValue)
        func positions(_ name: String) throws -> [Int]? {
            guard file.info(name) != nil else { return nil }
            try file.check(name, shape: [n])
            return try file.ints(name)
        }
        row = try positions("row")
        col = try positions("col")
        scene = try positions("scene")
        metadata = file.metadata
        weightsSHA256 = file.metadata["weights_sha256"] ?? ""
        datasetPath = file.metadata["dataset"]
    }

    /// The tile positions; throws when the file does not record them (label sources need them).
    public func tiles() throws -> [TileRef] {
        guard let row, let col, let scene else {
            throw ProbeError(path: path, "the embeddings file has no row/col/scene tensors, so its tiles cannot be matched to labels")
        }
        return (0..<count).map { TileRef(scene: scene[$0], row: row[$0], col: col[$0]) }
    }

    /// Features of rows `indices`, in Double for the solvers.
    public func features(rows indices: [Int]) -> FeatureMatrix {
        var out = [Double]()
        out.reserveCapacity(indices.count * dimension)
        for i in indices { for j in 0..<dimension { out.append(Double(values[i * dimension + j])) } }
        return FeatureMatrix(rows: indices.count, columns: dimension, values: out)
    }

    /// Float features of rows `indices`, for scoring.
    public func floatFeatures(rows indices: [Int]) -> [Float] {
        var out = [Float]()
        out.reserveCapacity(indices.count * dimension)
        for i in indices { out.append(contentsOf: values[i * dimension..<(i + 1) * dimension]) }
        return out
    }
}

/// A tile's place: the scene (index into the dataset manifest's `scenes`) and its grid row and column.
public struct TileRef: Sendable, Hashable {
    public var scene: Int
    public var row: Int
    public var col: Int
    public init(scene: Int, row: Int, col: Int) { self.scene = scene; self.row = row; self.col = col }
}
