import CGDAL
import Diagnostics
import Foundation

/// Burns labelled polygons of a vector file (any format OGR reads: GeoJSON, GeoPackage, Shapefile, …)
/// onto raster grids with `GDALRasterizeGeometries` (gdal_alg.h; the algorithm behind `gdal_rasterize`).
///
/// The polygons are those of the file's first layer; each carries its class in the attribute
/// `classField`. A pixel is burned when its centre lies inside a polygon (GDAL's default, no
/// `ALL_TOUCHED`); where polygons overlap, the later feature in the file wins. Pixels no polygon covers
/// are ``LabelGrid/noLabel``. Geometries are transformed from the layer's CRS to the grid's CRS with OGR
/// (`OCTNewCoordinateTransformation`, traditional GIS axis order), once per target CRS.
///
/// Owns the OGR dataset and geometries: one rasterizer per thread.
public final class PolygonRasterizer {
    public let path: String
    public let classField: String
    /// The distinct class values, sorted (numerically when all are integers). The burned value of a pixel
    /// is the index of its class in this list.
    public let classValues: [String]
    /// Features left out: no geometry, a geometry that is not areal, or no class value.
    public let skippedFeatures: Int

    private let dataset: GDALDatasetH
    private let layerSRS: SpatialReference
    /// Geometries in the layer's CRS and their class index, in file order.
    private var geometries: [OGRGeometryH] = []
    private var classIndex: [Double] = []
    /// Transformed clones per target CRS (WKT2).
    private var transformed: [String: [OGRGeometryH]] = [:]

    /// Opens `path` and reads every feature of its first layer. Throws ``GeoRasterError`` naming the file
    /// when it is not a vector file OGR reads, has no layer or CRS, lacks `classField` (the error lists
    /// the fields it has), or holds no polygon with a class.
    public init(path: String, classField: String) throws {
        self.path = path
        self.classField = classField
        dataset = try GDALCall.openReadOnly(path, kind: GDAL_OF_VECTOR, failure: "cannot open as a vector file",
                                            hint: "is it GeoJSON, GeoPackage, a Shapefile or another format OGR reads?")
        let ds = dataset
        let (layer, srsHandle): (OGRLayerH, OGRSpatialReferenceH) = try GDALCall.run { _ in
            guard GDALDatasetGetLayerCount(ds) > 0, let layer = GDALDatasetGetLayer(ds, 0) else {
                GDALClose(ds)
                throw GeoRasterError(.open, path: path, "has no vector layer")
            }
            guard let srs = OGR_L_GetSpatialRef(layer), let clone = OSRClone(srs) else {
                GDALClose(ds)
                throw GeoRasterError(.crs, path: path, "the layer has no coordinate reference system", hint: "assign one, e.g. ogr2ogr -a_srs EPSG:xxxx")
            }
            return (layer, clone)
        }
        layerSRS = SpatialReference(owning: srsHandle)
        var values: [String] = []
        var skipped = 0
        var raw: [(OGRGeometryH, String)] = []
        try GDALCall.run { _ in
            let definition = OGR_L_GetLayerDefn(layer)
            let field = OGR_FD_GetFieldIndex(definition, classField)
            guard field >= 0 else {
                let names = (0..<OGR_FD_GetFieldCount(definition)).compactMap { i in
                    OGR_FD_GetFieldDefn(definition, i).flatMap { OGR_Fld_GetNameRef($0) }.map { String(cString: $0) }
                }
                GDALClose(ds)
                throw GeoRasterError(.invalidArgument, path: path, "the layer has no attribute '\(classField)'",
                                     hint: "choose the class attribute among the layer's: \(names.joined(separator: ", "))", settings: [.classField])
            }
            OGR_L_ResetReading(layer)
            while let feature = OGR_L_GetNextFeature(layer) {
                defer { OGR_F_Destroy(feature) }
                guard OGR_F_IsFieldSetAndNotNull(feature, field) != 0,
                      let text = OGR_F_GetFieldAsString(feature, field).map({ String(cString: $0) }), !text.isEmpty,
                      let geometry = OGR_F_GetGeometryRef(feature), OGR_G_GetDimension(geometry) == 2,
                      let clone = OGR_G_Clone(geometry) else {
                    skipped += 1
                    continue
                }
                raw.append((clone, text))
                values.append(text)
            }
        }
        let distinct = Array(Set(values))
        let ints = distinct.compactMap { Int($0) }
        let sorted = ints.count == distinct.count ? ints.sorted().map(String.init) : distinct.sorted()
        guard !sorted.isEmpty else {
            raw.forEach { OGR_G_DestroyGeometry($0.0) }
            GDALClose(ds)
            throw GeoRasterError(.invalidArgument, path: path, "the layer holds no polygon with a '\(classField)' value")
        }
        let index = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, Double($0)) })
        geometries = raw.map(\.0)
        classIndex = raw.map { index[$0.1]! }
        classValues = sorted
        skippedFeatures = skipped
    }

    deinit {
        for g in geometries { OGR_G_DestroyGeometry(g) }
        for list in transformed.values { for g in list { OGR_G_DestroyGeometry(g) } }
        GDALClose(dataset)
    }

    /// The class index of each pixel of `grid` (row-major), ``LabelGrid/noLabel`` where no polygon lies.
    public func rasterize(onto grid: LabelGrid) throws -> [Int32] {
        let shapes = try geometries(in: grid.crs)
        let target = try MemoryLabelRaster(grid: grid)
        var bands: [Int32] = [1]
        try GDALCall.run { log in
            let err = shapes.withUnsafeBufferPointer { g in
                classIndex.withUnsafeBufferPointer { burn in
                    GDALRasterizeGeometries(target.handle, 1, &bands, Int32(g.count),
                                            UnsafeRawPointer(g.baseAddress!).assumingMemoryBound(to: OGRGeometryH?.self),
                                            nil, nil, burn.baseAddress, nil, nil, nil)
                }
            }
            guard err == CE_None else {
                throw GeoRasterError(.read, path: path, "GDAL could not rasterize the polygons onto the tile grid", libraryMessages: log.messages)
            }
        }
        return try target.values()
    }

    /// The geometries transformed to `crs` (cached).
    private func geometries(in crs: CoordinateReferenceSystem) throws -> [OGRGeometryH] {
        if let cached = transformed[crs.wkt2] { return cached }
        let target = try SpatialReference(definition: crs.wkt2)
        let path = self.path
        let out: [OGRGeometryH] = try GDALCall.run { log in
            guard let ct = OCTNewCoordinateTransformation(layerSRS.handle, target.handle) else {
                throw GeoRasterError(.transform, path: path, "cannot transform the polygons' CRS to \(crs)", libraryMessages: log.messages)
            }
            defer { OCTDestroyCoordinateTransformation(ct) }
            var list: [OGRGeometryH] = []
            for g in geometries {
                guard let clone = OGR_G_Clone(g) else { continue }
                if OGR_G_Transform(clone, ct) != OGRERR_NONE {
                    // A polygon that cannot be expressed in the tiles' CRS (e.g. far outside its area of use)
                    // cannot cover any tile: leave it out.
                    OGR_G_DestroyGeometry(clone)
                    let empty = OGR_G_CreateGeometry(wkbPolygon)!
                    list.append(empty)
                    continue
                }
                list.append(clone)
            }
            return list
        }
        transformed[crs.wkt2] = out
        return out
    }
}

@available(*, unavailable, message: "OGR handles must not be shared across threads; open one rasterizer per thread")
extension PolygonRasterizer: Sendable {}
