import CGDAL
import Foundation

/// A raster file opened read-only through GDAL; owns the `GDALDatasetH` and closes it in `deinit`.
///
/// GDAL dataset handles are re-entrant but not thread-safe (GDAL FAQ, "Is GDAL thread-safe?"): open one
/// `RasterDataset` per thread and never share it (the type is deliberately not `Sendable`).
///
/// Errors are ``GeoRasterError`` values naming the file and carrying GDAL's own messages.
public final class RasterDataset {
    /// The path as given.
    public let path: String
    let handle: GDALDatasetH
    /// Raster size in pixels.
    public let width: Int
    public let height: Int
    public let bandCount: Int

    /// Opens `path` read-only (`GDALOpenEx` with `GDAL_OF_RASTER | GDAL_OF_READONLY`); GDAL virtual
    /// paths (`/vsizip/…`, `/vsicurl/…`) are passed through.
    /// Throws `.open` when the file is missing, unreadable or not a raster GDAL can read.
    public init(path: String) throws {
        self.path = path
        handle = try GDALCall.openReadOnly(path, kind: GDAL_OF_RASTER, failure: "cannot open as a raster",
                                           hint: "is it a complete GeoTIFF (or another format GDAL reads)?")
        width = Int(GDALGetRasterXSize(handle))
        height = Int(GDALGetRasterYSize(handle))
        bandCount = Int(GDALGetRasterCount(handle))
        if bandCount == 0 {
            GDALClose(handle)
            throw GeoRasterError(.open, path: path, "has no raster bands")
        }
    }

    deinit { GDALClose(handle) }

    /// The GDAL driver's short name, e.g. "GTiff".
    public var driverName: String {
        GDALCall.run { _ in GDALGetDatasetDriver(handle).flatMap { GDALGetDriverShortName($0) }.map { String(cString: $0) } ?? "" }
    }

    /// The geotransform, or nil when the file has none (`GDALGetGeoTransform` fails and reports the
    /// default identity transform).
    public var geoTransform: GeoTransform? {
        GDALCall.run { _ in
            var c = [Double](repeating: 0, count: 6)
            guard GDALGetGeoTransform(handle, &c) == CE_None else { return nil }
            return GeoTransform(gdal: c)
        }
    }

    /// The CRS (WKT2 + EPSG code), or nil when the file has none. Throws `.crs` when GDAL cannot export it.
    public func crs() throws -> CoordinateReferenceSystem? {
        let h: OGRSpatialReferenceH? = GDALCall.run { _ in
            guard let s = GDALGetSpatialRef(handle) else { return nil }
            return OSRClone(s)
        }
        guard let h else { return nil }
        do {
            return try SpatialReference(owning: h).describe()
        } catch var e as GeoRasterError {
            e.path = path
            throw e
        }
    }

    /// Facts about band `index` (1-based).
    public func band(_ index: Int) throws -> RasterBandInfo {
        let b = try bandHandle(index)
        return GDALCall.run { _ in
            var bw: Int32 = 0, bh: Int32 = 0
            GDALGetBlockSize(b, &bw, &bh)
            var hasNodata: Int32 = 0
            let nodata = GDALGetRasterNoDataValue(b, &hasNodata)
            return RasterBandInfo(index: index, dataType: RasterDataType(gdal: GDALGetRasterDataType(b)),
                                  blockWidth: Int(bw), blockHeight: Int(bh),
                                  nodata: hasNodata != 0 ? nodata : nil,
                                  description: String(cString: GDALGetDescription(b)))
        }
    }

    /// A metadata item of the dataset (`GDALGetMetadataItem`), e.g. `AREA_OR_POINT`.
    public func metadataItem(_ key: String, domain: String? = nil) -> String? {
        GDALCall.run { _ in GDALGetMetadataItem(handle, key, domain).map { String(cString: $0) } }
    }

    func bandHandle(_ index: Int) throws -> GDALRasterBandH {
        guard index >= 1, index <= bandCount, let b = GDALGetRasterBand(handle, Int32(index)) else {
            throw GeoRasterError(.invalidArgument, path: path, "has no band \(index) (it has \(bandCount))")
        }
        return b
    }

    private func checkWindow(_ window: RasterWindow) throws {
        guard window.fits(width: width, height: height) else {
            throw GeoRasterError(.invalidArgument, path: path, "window \(window) is outside the \(width)×\(height) raster")
        }
    }

    /// Reads `window` of band `band` (1-based) into `buffer`, converting to `T` as `GDALRasterIO` does.
    ///
    /// Pixel (c, r) of the window goes to `buffer[r * lineStride + c]`; `lineStride` defaults to the
    /// window width, and a larger one writes into the top-left part of a wider buffer (e.g. a padded
    /// tile). Throws `.read` with GDAL's message for unreadable data (truncated or corrupt files).
    public func read<T: RasterScalar>(band: Int, window: RasterWindow, into buffer: UnsafeMutableBufferPointer<T>,
                                      lineStride: Int? = nil) throws {
        try checkWindow(window)
        let stride = lineStride ?? window.width
        guard stride >= window.width, buffer.count >= (window.height - 1) * stride + window.width, let base = buffer.baseAddress else {
            throw GeoRasterError(.invalidArgument, path: path, "buffer of \(buffer.count) values is too small for window \(window) with line stride \(stride)")
        }
        let b = try bandHandle(band)
        let size = MemoryLayout<T>.stride
        try GDALCall.run { log in
            let err = GDALRasterIO(b, GF_Read, Int32(window.column), Int32(window.row), Int32(window.width), Int32(window.height),
                                   base, Int32(window.width), Int32(window.height), T.rasterDataType.gdal,
                                   Int32(size), Int32(stride * size))
            guard err == CE_None else {
                throw GeoRasterError(.read, path: path, "cannot read band \(band), \(window)",
                                     hint: "the file may be truncated or corrupt; download it again", libraryMessages: log.messages)
            }
        }
    }

    /// Reads `window` of band `band` (1-based) as a new array of `window.width * window.height` values, row-major.
    public func read<T: RasterScalar>(band: Int, window: RasterWindow, as type: T.Type = T.self) throws -> [T] {
        try [T](unsafeUninitializedCapacity: window.pixelCount) { buf, n in
            try read(band: band, window: window, into: buf)
            n = window.pixelCount
        }
    }

    /// Reads `window` of several bands at once (`GDALDatasetRasterIO`), band-sequential:
    /// value (band i, row r, column c) goes to `buffer[i * window.pixelCount + r * window.width + c]`.
    public func read<T: RasterScalar>(bands: [Int], window: RasterWindow, into buffer: UnsafeMutableBufferPointer<T>) throws {
        try checkWindow(window)
        guard buffer.count >= bands.count * window.pixelCount, let base = buffer.baseAddress else {
            throw GeoRasterError(.invalidArgument, path: path, "buffer of \(buffer.count) values is too small for \(bands.count) bands of \(window)")
        }
        for i in bands { _ = try bandHandle(i) }
        var map = bands.map { Int32($0) }
        let size = MemoryLayout<T>.stride
        try GDALCall.run { log in
            let err = GDALDatasetRasterIO(handle, GF_Read, Int32(window.column), Int32(window.row), Int32(window.width), Int32(window.height),
                                          base, Int32(window.width), Int32(window.height), T.rasterDataType.gdal,
                                          Int32(bands.count), &map, Int32(size), Int32(window.width * size),
                                          Int32(window.pixelCount * size))
            guard err == CE_None else {
                throw GeoRasterError(.read, path: path, "cannot read bands \(bands), \(window)",
                                     hint: "the file may be truncated or corrupt; download it again", libraryMessages: log.messages)
            }
        }
    }
}

@available(*, unavailable, message: "GDAL dataset handles must not be shared across threads; open one per thread")
extension RasterDataset: Sendable {}
