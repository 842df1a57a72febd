import CGDAL
import Foundation

/// A raster grid that labels are resampled or burned onto: a CRS, a geotransform and a size.
/// Used to bring label rasters and polygons onto the pixels of a tile or a strip of tiles.
public struct LabelGrid: Sendable, Equatable {
    public var crs: CoordinateReferenceSystem
    public var geoTransform: GeoTransform
    public var width: Int
    public var height: Int

    public init(crs: CoordinateReferenceSystem, geoTransform: GeoTransform, width: Int, height: Int) {
        self.crs = crs; self.geoTransform = geoTransform; self.width = width; self.height = height
    }

    /// The value marking pixels without a label in the arrays returned by ``CategoricalRasterWarper`` and
    /// ``PolygonRasterizer``.
    public static let noLabel = Int32.min
}

/// An in-memory single-band Int32 raster on a ``LabelGrid`` (GDAL's `MEM` driver), pre-filled with
/// ``LabelGrid/noLabel`` (also its nodata value). Owns the dataset handle.
final class MemoryLabelRaster {
    let handle: GDALDatasetH
    let grid: LabelGrid

    init(grid: LabelGrid) throws {
        self.grid = grid
        guard grid.width > 0, grid.height > 0 else {
            throw GeoRasterError(.invalidArgument, "label grid of \(grid.width)×\(grid.height) pixels is empty")
        }
        handle = try GDALCall.run { log in
            guard let driver = GDALGetDriverByName("MEM"),
                  let ds = GDALCreate(driver, "", Int32(grid.width), Int32(grid.height), 1, GDT_Int32, nil) else {
                throw GeoRasterError(.write, "cannot create an in-memory \(grid.width)×\(grid.height) raster", libraryMessages: log.messages)
            }
            var gt = grid.geoTransform.gdal
            GDALSetGeoTransform(ds, &gt)
            guard GDALSetProjection(ds, grid.crs.wkt2) == CE_None else {
                GDALClose(ds)
                throw GeoRasterError(.crs, "cannot set the CRS \(grid.crs) on an in-memory raster", libraryMessages: log.messages)
            }
            let band = GDALGetRasterBand(ds, 1)
            GDALSetRasterNoDataValue(band, Double(LabelGrid.noLabel))
            GDALFillRaster(band, Double(LabelGrid.noLabel), 0)
            return ds
        }
    }

    deinit { GDALClose(handle) }

    /// The band's values, row-major.
    func values() throws -> [Int32] {
        let n = grid.width * grid.height
        return try [Int32](unsafeUninitializedCapacity: n) { buf, count in
            try GDALCall.run { log in
                let err = GDALRasterIO(GDALGetRasterBand(handle, 1), GF_Read, 0, 0, Int32(grid.width), Int32(grid.height),
                                       buf.baseAddress, Int32(grid.width), Int32(grid.height), GDT_Int32, 0, 0)
                guard err == CE_None else {
                    throw GeoRasterError(.read, "cannot read an in-memory raster", libraryMessages: log.messages)
                }
            }
            count = n
        }
    }
}
