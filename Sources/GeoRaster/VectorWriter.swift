import CGDAL
import Foundation

/// An attribute column of a vector layer (OGR field definition).
public struct VectorField: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case integer, integer64, real, string }
    public var name: String
    public var kind: Kind
    public init(_ name: String, _ kind: Kind) { self.name = name; self.kind = kind }

    var ogrType: OGRFieldType {
        switch kind {
        case .integer: return OFTInteger
        case .integer64: return OFTInteger64
        case .real: return OFTReal
        case .string: return OFTString
        }
    }
}

/// One attribute value of a feature.
public enum VectorFieldValue: Sendable, Equatable {
    case integer(Int)
    case real(Double)
    case string(String)
    case null
}

/// Writes polygons with attributes into the layers of a new vector file through OGR (GeoPackage by
/// default, any OGR driver that can create files otherwise), atomically: the file is written at
/// `path + ".partial.<ext>"` in batched transactions and renamed to `path` by ``finish()``.
///
/// A layer has one CRS (GeoPackage rule); write tiles of scenes in different CRSs into one layer per CRS.
/// Owns the `GDALDatasetH`; one writer per thread.
public final class VectorWriter {
    public let path: String
    private var handle: GDALDatasetH?
    private var layers: [(layer: OGRLayerH, fields: [VectorField])] = []
    private let partialPath: String
    private var finished = false
    private var inTransaction = false
    private var pending = 0
    /// Features per transaction (SQLite-based formats are slow without batching).
    private let batchSize = 50_000

    /// The fields of the first layer.
    public var fields: [VectorField] { layers.first?.fields ?? [] }

    /// Creates an empty file; add layers with ``createLayer(name:crs:fields:)``.
    /// `driver` is an OGR short name ("GPKG", "GeoJSON", "FlatGeobuf").
    public init(path: String, driver driverName: String = "GPKG") throws {
        self.path = path
        let ext = (path as NSString).pathExtension
        partialPath = path + ".partial" + (ext.isEmpty ? "" : "." + ext)
        let partialPath = self.partialPath
        if FileManager.default.fileExists(atPath: partialPath) { try? FileManager.default.removeItem(atPath: partialPath) }
        handle = try GDALCall.run { log in
            guard let driver = GDALGetDriverByName(driverName) else {
                throw GeoRasterError(.write, path: path, "GDAL has no '\(driverName)' vector driver")
            }
            guard let ds = GDALCreate(driver, partialPath, 0, 0, 0, GDT_Unknown, nil) else {
                throw Self.writeError(path, "cannot create the vector file", log.messages)
            }
            return ds
        }
    }

    /// Creates the file with one layer (index 0).
    public convenience init(path: String, driver driverName: String = "GPKG", layerName: String, crs: CoordinateReferenceSystem,
                            fields: [VectorField]) throws {
        try self.init(path: path, driver: driverName)
        _ = try createLayer(name: layerName, crs: crs, fields: fields)
    }

    /// Adds a polygon layer and returns its index for ``addPolygon(_:values:layer:)``.
    public func createLayer(name layerName: String, crs: CoordinateReferenceSystem, fields: [VectorField]) throws -> Int {
        guard let ds = handle, !finished else { throw GeoRasterError(.invalidArgument, path: path, "writer already finished") }
        let srs = try SpatialReference(definition: crs.wkt2)
        let layer: OGRLayerH = try GDALCall.run { log in
            if inTransaction { _ = GDALDatasetCommitTransaction(ds); inTransaction = false; pending = 0 }
            guard let layer = GDALDatasetCreateLayer(ds, layerName, srs.handle, wkbPolygon, nil) else {
                throw Self.writeError(path, "cannot create layer '\(layerName)'", log.messages)
            }
            for f in fields {
                guard let def = OGR_Fld_Create(f.name, f.ogrType) else { continue }
                defer { OGR_Fld_Destroy(def) }
                if OGR_L_CreateField(layer, def, 1) != OGRERR_NONE {
                    throw Self.writeError(path, "cannot create field '\(f.name)'", log.messages)
                }
            }
            return layer
        }
        layers.append((layer, fields))
        return layers.count - 1
    }

    deinit { if !finished { abort() } }

    /// Adds one polygon (an outer ring of map coordinates in the layer's CRS; it is closed here) with
    /// `values` in the order of the layer's fields.
    public func addPolygon(_ ring: [(x: Double, y: Double)], values: [VectorFieldValue], layer index: Int = 0) throws {
        guard let ds = handle, !finished else { throw GeoRasterError(.invalidArgument, path: path, "writer already finished") }
        guard layers.indices.contains(index) else { throw GeoRasterError(.invalidArgument, path: path, "has no layer \(index)") }
        let (layer, fields) = layers[index]
        guard values.count == fields.count, ring.count >= 3 else {
            throw GeoRasterError(.invalidArgument, path: path, "a polygon needs ≥ 3 points and \(fields.count) values")
        }
        try GDALCall.run { log in
            if !inTransaction { _ = GDALDatasetStartTransaction(ds, 0); inTransaction = true }
            guard let feature = OGR_F_Create(OGR_L_GetLayerDefn(layer)) else {
                throw GeoRasterError(.write, path: path, "cannot allocate a feature")
            }
            defer { OGR_F_Destroy(feature) }
            for (i, v) in values.enumerated() {
                switch v {
                case .integer(let n): OGR_F_SetFieldInteger64(feature, Int32(i), GIntBig(n))
                case .real(let d): OGR_F_SetFieldDouble(feature, Int32(i), d)
                case .string(let s): OGR_F_SetFieldString(feature, Int32(i), s)
                case .null: OGR_F_SetFieldNull(feature, Int32(i))
                }
            }
            let polygon = OGR_G_CreateGeometry(wkbPolygon)
            let linearRing = OGR_G_CreateGeometry(wkbLinearRing)
            for p in ring { OGR_G_AddPoint_2D(linearRing, p.x, p.y) }
            OGR_G_AddPoint_2D(linearRing, ring[0].x, ring[0].y)
            OGR_G_AddGeometryDirectly(polygon, linearRing)
            OGR_F_SetGeometryDirectly(feature, polygon)
            guard OGR_L_CreateFeature(layer, feature) == OGRERR_NONE else {
                throw Self.writeError(path, "cannot write a feature", log.messages)
            }
            pending += 1
            if pending >= batchSize {
                _ = GDALDatasetCommitTransaction(ds); inTransaction = false; pending = 0
            }
        }
    }

    /// Commits, closes and renames the file to its final name.
    public func finish() throws {
        guard let ds = handle, !finished else { return }
        let errors: [String] = GDALCall.run { log in
            let committed = !inTransaction || GDALDatasetCommitTransaction(ds) == OGRERR_NONE
            GDALClose(ds)
            return committed && log.errors.isEmpty ? [] : log.messages.isEmpty ? ["the transaction was not committed"] : log.messages
        }
        handle = nil
        if !errors.isEmpty {
            let error = Self.writeError(path, "cannot commit the vector file", errors)   // measures the disk before abort() frees it
            abort()
            throw error
        }
        do { try publishPartialFile(partialPath, as: path) } catch {
            abort()
            throw error
        }
        finished = true
    }

    /// A write failure naming the file, quoting GDAL (SQLite's messages on a full disk name a missing
    /// table rather than the disk) and saying whether the disk is full (``DiskSpace``).
    static func writeError(_ path: String, _ what: String, _ messages: [String]) -> GeoRasterError {
        let folder = (path as NSString).deletingLastPathComponent
        return GeoRasterError(.write, path: path, what, hint: DiskSpace.failureHint(folder: folder.isEmpty ? "." : folder),
                              libraryMessages: messages)
    }

    /// Abandons the file and removes it.
    public func abort() {
        if let ds = handle { GDALCall.run { _ in GDALClose(ds) } }
        handle = nil
        finished = true
        try? FileManager.default.removeItem(atPath: partialPath)
    }
}

@available(*, unavailable, message: "GDAL dataset handles must not be shared across threads")
extension VectorWriter: Sendable {}
