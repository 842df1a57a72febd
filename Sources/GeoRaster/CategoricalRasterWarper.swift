import CGDAL
import Foundation

/// Resamples one band of a categorical raster (class codes) onto other grids with GDAL's warper, nearest
/// neighbour (`GDALCreateWarpOperation` + `GDALChunkAndWarpImage` with a `GDALGenImgProjTransformer2`
/// between the two CRSs; GDAL "Warp API tutorial", https://gdal.org/tutorials/warp_tut.html).
///
/// Any CRS, resolution and format GDAL reads. Source pixels equal to the band's nodata value, and target
/// pixels outside the source, become ``LabelGrid/noLabel``. Values are read as Int32; a band of another
/// type is truncated toward zero by GDAL's conversion.
///
/// Owns the source dataset: one warper per thread.
public final class CategoricalRasterWarper {
    public let dataset: RasterDataset
    public let band: Int
    /// The source band's nodata value, if any.
    public let nodata: Double?
    public let crs: CoordinateReferenceSystem

    /// Opens `path` (band `band`, 1-based). Throws ``GeoRasterError`` when the file is not a raster GDAL
    /// reads, lacks the band, or has no CRS or geotransform (it could not be placed on the tiles).
    public init(path: String, band: Int = 1) throws {
        dataset = try RasterDataset(path: path)
        self.band = band
        let info = try dataset.band(band)
        nodata = info.nodata
        guard let crs = try dataset.crs() else {
            throw GeoRasterError(.crs, path: path, "the label raster has no coordinate reference system",
                                 hint: "assign one, e.g. gdal_edit.py -a_srs EPSG:xxxx")
        }
        guard dataset.geoTransform != nil else {
            throw GeoRasterError(.invalidArgument, path: path, "the label raster has no geotransform", hint: "it must be georeferenced")
        }
        self.crs = crs
    }

    /// The class name of each code from the band's category names (`GDALGetRasterCategoryNames`: entry
    /// i names code i), empty entries left out.
    public func categoryNames() -> [Int: String] {
        guard let b = try? dataset.bandHandle(band) else { return [:] }
        let names = GDALCall.run { _ in CStringList.strings(GDALGetRasterCategoryNames(b)) }
        var out: [Int: String] = [:]
        for (i, n) in names.enumerated() where !n.isEmpty { out[i] = n }
        return out
    }

    /// The colour of each code from the band's colour table (`GDALGetRasterColorTable`), if it has one.
    public func colorTable() -> [Int: ColorEntry] {
        guard let b = try? dataset.bandHandle(band) else { return [:] }
        return GDALCall.run { _ in
            guard let table = GDALGetRasterColorTable(b) else { return [:] }
            var out: [Int: ColorEntry] = [:]
            for i in 0..<Int(GDALGetColorEntryCount(table)) {
                guard let e = GDALGetColorEntry(table, Int32(i))?.pointee else { continue }
                out[i] = ColorEntry(red: UInt8(clamping: e.c1), green: UInt8(clamping: e.c2), blue: UInt8(clamping: e.c3),
                                    alpha: UInt8(clamping: e.c4))
            }
            return out
        }
    }

    /// The class codes on `grid`, row-major `grid.width × grid.height`, ``LabelGrid/noLabel`` where there
    /// is none. Throws ``GeoRasterError`` with GDAL's message when the warp fails.
    public func resample(onto grid: LabelGrid) throws -> [Int32] {
        let target = try MemoryLabelRaster(grid: grid)
        let path = dataset.path
        try GDALCall.run { log in
            guard let options = GDALCreateWarpOptions() else {
                throw GeoRasterError(.invalidArgument, path: path, "cannot allocate GDAL warp options")
            }
            defer { GDALDestroyWarpOptions(options) }
            options.pointee.hSrcDS = dataset.handle
            options.pointee.hDstDS = target.handle
            options.pointee.eResampleAlg = GRA_NearestNeighbour
            options.pointee.eWorkingDataType = GDT_Int32
            options.pointee.nBandCount = 1
            // GDALDestroyWarpOptions frees these with CPLFree: allocate them with CPLMalloc.
            let src = CPLMalloc(MemoryLayout<Int32>.size)!.assumingMemoryBound(to: Int32.self)
            src.pointee = Int32(band)
            options.pointee.panSrcBands = src
            let dst = CPLMalloc(MemoryLayout<Int32>.size)!.assumingMemoryBound(to: Int32.self)
            dst.pointee = 1
            options.pointee.panDstBands = dst
            if let nodata {
                let p = CPLMalloc(MemoryLayout<Double>.size)!.assumingMemoryBound(to: Double.self)
                p.pointee = nodata
                options.pointee.padfSrcNoDataReal = p
            }
            let d = CPLMalloc(MemoryLayout<Double>.size)!.assumingMemoryBound(to: Double.self)
            d.pointee = Double(LabelGrid.noLabel)
            options.pointee.padfDstNoDataReal = d
            options.pointee.papszWarpOptions = CSLSetNameValue(options.pointee.papszWarpOptions, "INIT_DEST", "NO_DATA")
            guard let transformer = GDALCreateGenImgProjTransformer2(dataset.handle, target.handle, nil) else {
                throw GeoRasterError(.transform, path: path, "cannot transform from the label raster's CRS \(crs) to \(grid.crs)",
                                     libraryMessages: log.messages)
            }
            defer { GDALDestroyGenImgProjTransformer(transformer) }
            options.pointee.pTransformerArg = transformer
            options.pointee.pfnTransformer = GDALGenImgProjTransform
            guard let operation = GDALCreateWarpOperation(options) else {
                throw GeoRasterError(.read, path: path, "cannot set up the GDAL warp onto the tile grid", libraryMessages: log.messages)
            }
            defer { GDALDestroyWarpOperation(operation) }
            guard GDALChunkAndWarpImage(operation, 0, 0, Int32(grid.width), Int32(grid.height)) == CE_None else {
                throw GeoRasterError(.read, path: path, "GDAL could not resample the label raster onto the tile grid",
                                     hint: "the file may be corrupt", libraryMessages: log.messages)
            }
        }
        return try target.values()
    }
}
