import CGDAL
import Foundation

/// Creates a GeoTIFF (plain or Cloud Optimized) and writes it atomically: everything goes to
/// `path + ".partial"` (and, for COG output, a temporary tiled GeoTIFF next to it) and ``finish()``
/// renames the result to `path`. A writer dropped without `finish()` removes its partial files.
///
/// Owns a `GDALDatasetH` created with `GDALCreate`; one writer per thread.
///
///     let w = try RasterWriter(path: "labels.tif", width: 7800, height: 7900, bandCount: 1, dataType: .uint8, options: .cog)
///     try w.setGeoTransform(t); try w.setCRS(crs)
///     try w.setColorTable(band: 1, colors); try w.setCategoryNames(band: 1, names); try w.setNoData(band: 1, 255)
///     try w.write(band: 1, window: strip, values: bytes)   // any order, any windows
///     try w.finish()
public final class RasterWriter {
    public let path: String
    public let width: Int
    public let height: Int
    public let bandCount: Int
    public let dataType: RasterDataType
    public let options: RasterCreationOptions
    private var handle: GDALDatasetH?
    /// The file GDALCreate wrote (`path.partial`, or the temporary tiled GeoTIFF for COG).
    private let workingPath: String
    private let partialPath: String
    private var finished = false

    public init(path: String, width: Int, height: Int, bandCount: Int, dataType: RasterDataType,
                options: RasterCreationOptions = RasterCreationOptions()) throws {
        guard width > 0, height > 0, bandCount > 0 else {
            throw GeoRasterError(.invalidArgument, path: path, "cannot create a \(width)×\(height) raster with \(bandCount) bands")
        }
        self.path = path; self.width = width; self.height = height; self.bandCount = bandCount
        self.dataType = dataType; self.options = options
        partialPath = path + ".partial"
        workingPath = options.layout == .cloudOptimizedGeoTIFF ? path + ".partial-tiled.tif" : partialPath
        let workingPath = self.workingPath
        var creation = options.gtiffOptions(width: width, height: height)
        if dataType == .int8 { creation.append(("PIXELTYPE", "SIGNEDBYTE")) }
        let list = CStringList(options: creation)
        handle = try GDALCall.run { log in
            guard let driver = GDALGetDriverByName("GTiff") else {
                throw GeoRasterError(.write, path: path, "GDAL has no GTiff driver", libraryMessages: log.messages)
            }
            guard let h = GDALCreate(driver, workingPath, Int32(width), Int32(height), Int32(bandCount), dataType.gdal, list.pointer) else {
                throw GeoRasterError(.write, path: path, "cannot create the GeoTIFF", hint: "check that the folder exists and is writable",
                                     libraryMessages: log.messages)
            }
            return h
        }
    }

    deinit {
        if !finished { abort() }
    }

    private func open() throws -> GDALDatasetH {
        guard let handle, !finished else { throw GeoRasterError(.invalidArgument, path: path, "writer already finished") }
        return handle
    }

    private func band(_ index: Int) throws -> GDALRasterBandH {
        let h = try open()
        guard index >= 1, index <= bandCount, let b = GDALGetRasterBand(h, Int32(index)) else {
            throw GeoRasterError(.invalidArgument, path: path, "has no band \(index) (it has \(bandCount))")
        }
        return b
    }

    private func check(_ err: CPLErr, _ what: String, _ log: GDALMessageLog) throws {
        guard err == CE_None else { throw GeoRasterError(.write, path: path, "cannot \(what)", libraryMessages: log.messages) }
    }

    public func setGeoTransform(_ t: GeoTransform) throws {
        let h = try open()
        try GDALCall.run { log in
            var c = t.gdal
            try check(GDALSetGeoTransform(h, &c), "set the geotransform", log)
        }
    }

    public func setCRS(_ crs: CoordinateReferenceSystem) throws {
        let h = try open()
        let srs = try SpatialReference(definition: crs.wkt2)
        try GDALCall.run { log in try check(GDALSetSpatialRef(h, srs.handle), "set the CRS", log) }
    }

    public func setNoData(band index: Int, _ value: Double) throws {
        let b = try band(index)
        try GDALCall.run { log in try check(GDALSetRasterNoDataValue(b, value), "set nodata of band \(index)", log) }
    }

    /// The band's description (GDAL stores it in the GeoTIFF's GDAL_METADATA tag), e.g. "SR_B4".
    public func setDescription(band index: Int, _ text: String) throws {
        let b = try band(index)
        GDALCall.run { _ in GDALSetDescription(b, text) }
    }

    /// A colour table (palette) for a one-byte or two-byte band: entry i colours value i.
    public func setColorTable(band index: Int, _ colors: [ColorEntry]) throws {
        let b = try band(index)
        try GDALCall.run { log in
            guard let table = GDALCreateColorTable(GPI_RGB) else { throw GeoRasterError(.write, path: path, "cannot allocate a colour table") }
            defer { GDALDestroyColorTable(table) }
            for (i, c) in colors.enumerated() {
                var e = GDALColorEntry(c1: Int16(c.red), c2: Int16(c.green), c3: Int16(c.blue), c4: Int16(c.alpha))
                GDALSetColorEntry(table, Int32(i), &e)
            }
            try check(GDALSetRasterColorTable(b, table), "set the colour table of band \(index)", log)
        }
    }

    /// Class names: value i is called `names[i]` (`GDALSetRasterCategoryNames`; QGIS shows them).
    public func setCategoryNames(band index: Int, _ names: [String]) throws {
        let b = try band(index)
        let list = CStringList(strings: names)
        try GDALCall.run { log in try check(GDALSetRasterCategoryNames(b, list.pointer), "set category names of band \(index)", log) }
    }

    /// A metadata item of the dataset (band nil) or of one band.
    public func setMetadataItem(_ key: String, _ value: String, band index: Int? = nil, domain: String? = nil) throws {
        let target: GDALMajorObjectH = try index.map { try band($0) } ?? open()
        try GDALCall.run { log in try check(GDALSetMetadataItem(target, key, value, domain), "set metadata \(key)", log) }
    }

    /// Writes `buffer` into `window` of band `index`: pixel (c, r) of the window comes from
    /// `buffer[r * lineStride + c]` (lineStride defaults to the window width).
    public func write<T: RasterScalar>(band index: Int, window: RasterWindow, from buffer: UnsafeBufferPointer<T>, lineStride: Int? = nil) throws {
        let b = try band(index)
        guard window.fits(width: width, height: height) else {
            throw GeoRasterError(.invalidArgument, path: path, "window \(window) is outside the \(width)×\(height) raster")
        }
        let stride = lineStride ?? window.width
        guard stride >= window.width, buffer.count >= (window.height - 1) * stride + window.width, let base = buffer.baseAddress else {
            throw GeoRasterError(.invalidArgument, path: path, "buffer of \(buffer.count) values is too small for \(window)")
        }
        let size = MemoryLayout<T>.stride
        try GDALCall.run { log in
            let err = GDALRasterIO(b, GF_Write, Int32(window.column), Int32(window.row), Int32(window.width), Int32(window.height),
                                   UnsafeMutableRawPointer(mutating: base), Int32(window.width), Int32(window.height),
                                   T.rasterDataType.gdal, Int32(size), Int32(stride * size))
            try check(err, "write band \(index), \(window)", log)
        }
    }

    public func write<T: RasterScalar>(band index: Int, window: RasterWindow, values: [T]) throws {
        try values.withUnsafeBufferPointer { try write(band: index, window: window, from: $0) }
    }

    /// Writes all bands of `window` from a band-sequential buffer `[bandCount][height][width]`.
    public func write<T: RasterScalar>(window: RasterWindow, bandSequential values: [T]) throws {
        guard values.count == bandCount * window.pixelCount else {
            throw GeoRasterError(.invalidArgument, path: path, "\(values.count) values do not fill \(bandCount) bands of \(window)")
        }
        try values.withUnsafeBufferPointer { all in
            for i in 0..<bandCount {
                let part = UnsafeBufferPointer(rebasing: all[(i * window.pixelCount)..<((i + 1) * window.pixelCount)])
                try write(band: i + 1, window: window, from: part)
            }
        }
    }

    /// Writes a per-dataset validity mask (GDAL's `GMF_PER_DATASET` mask band, stored inside the
    /// GeoTIFF as an internal mask: `GDAL_TIFF_INTERNAL_MASK=YES`): `valid[r * window.width + c]` non-zero
    /// marks pixel (c, r) of `window` valid (written as 255), zero invalid (0). GDAL, QGIS and
    /// rasterio (`dataset_mask()`, `read_masks()`) read it in place of the nodata value
    /// (GDAL RFC 15: band masks). Creates the mask on first use.
    public func writeMask(window: RasterWindow, valid: [UInt8]) throws {
        let h = try open()
        guard window.fits(width: width, height: height), valid.count == window.pixelCount else {
            throw GeoRasterError(.invalidArgument, path: path, "\(valid.count) mask values do not fill \(window) of the \(width)×\(height) raster")
        }
        let first = try band(1)
        var bytes = valid.map { $0 == 0 ? UInt8(0) : 255 }
        try GDALCall.run { log in
            if GDALGetMaskFlags(first) & GMF_PER_DATASET == 0 {
                CPLSetThreadLocalConfigOption("GDAL_TIFF_INTERNAL_MASK", "YES")
                defer { CPLSetThreadLocalConfigOption("GDAL_TIFF_INTERNAL_MASK", nil) }
                try check(GDALCreateDatasetMaskBand(h, GMF_PER_DATASET), "create the mask band", log)
            }
            guard let mask = GDALGetMaskBand(first) else {
                throw GeoRasterError(.write, path: path, "has no mask band after creating one", libraryMessages: log.messages)
            }
            let err = bytes.withUnsafeMutableBytes { buf in
                GDALRasterIO(mask, GF_Write, Int32(window.column), Int32(window.row), Int32(window.width), Int32(window.height),
                             buf.baseAddress, Int32(window.width), Int32(window.height), GDT_Byte, 0, 0)
            }
            try check(err, "write the mask, \(window)", log)
        }
    }

    /// Flushes and closes the file; for COG output copies it with the COG driver; renames the result
    /// (and any `.aux.xml` sidecar GDAL wrote) to the final name. GDAL reports most write failures (a
    /// full disk, a file-size limit) only when its cache is flushed, so every flush and close is checked;
    /// on failure the partial files are removed and the error names the file, quotes GDAL and says
    /// whether the disk is full (``DiskSpace``).
    public func finish() throws {
        let h = try open()
        let closeErrors: [String] = GDALCall.run { log in
            GDALFlushCache(h)
            GDALClose(h)   // returns void in GDAL 3.6: failures show only as error messages
            return log.errors
        }
        handle = nil
        if !closeErrors.isEmpty { throw failure("cannot write the GeoTIFF", closeErrors) }
        if options.layout == .cloudOptimizedGeoTIFF {
            let cogOptions = CStringList(options: options.cogOptions)
            let (partial, working) = (partialPath, workingPath)
            guard let driver = GDALCall.run({ _ in GDALGetDriverByName("COG") }) else {
                abort()
                throw GeoRasterError(.write, path: path, "GDAL has no COG driver (GDAL ≥ 3.1 needed)")
            }
            let copyErrors: [String] = GDALCall.run { log in
                guard let src = GDALCall.withSiblingFiles(of: working, { GDALOpenEx(working, UInt32(GDAL_OF_RASTER) | UInt32(GDAL_OF_READONLY), nil, nil, nil) }) else {
                    return ["cannot reopen the intermediate GeoTIFF"] + log.messages
                }
                defer { GDALClose(src) }
                guard let dst = GDALCreateCopy(driver, partial, src, 0, cogOptions.pointer, nil, nil) else {
                    return log.errors.isEmpty ? ["GDALCreateCopy with the COG driver failed"] + log.messages : log.errors
                }
                GDALFlushCache(dst)
                GDALClose(dst)
                return log.errors
            }
            if !copyErrors.isEmpty { throw failure("cannot write the Cloud Optimized GeoTIFF", copyErrors) }
            removeFiles(workingPath)
        }
        do {
            try publishPartialFile(partialPath, as: path)
            if FileManager.default.fileExists(atPath: partialPath + ".aux.xml") {
                try publishPartialFile(partialPath + ".aux.xml", as: path + ".aux.xml")
            }
        } catch {
            abort()
            throw error
        }
        finished = true
    }

    /// A write error naming the file, with GDAL's messages and what the disk says; removes the partial
    /// files after measuring the free space (removing them frees it).
    private func failure(_ what: String, _ messages: [String]) -> GeoRasterError {
        let folder = (path as NSString).deletingLastPathComponent
        let hint = DiskSpace.failureHint(folder: folder.isEmpty ? "." : folder)
        abort()
        return GeoRasterError(.write, path: path, what, hint: hint, libraryMessages: messages)
    }

    private func removeFiles(_ p: String) {
        for f in [p, p + ".aux.xml"] where FileManager.default.fileExists(atPath: f) { try? FileManager.default.removeItem(atPath: f) }
    }

    /// Abandons the file: closes it and removes every partial file.
    public func abort() {
        if let handle { GDALCall.run { _ in GDALClose(handle) } }
        handle = nil
        removeFiles(workingPath); removeFiles(partialPath)
        finished = true
    }
}

@available(*, unavailable, message: "GDAL dataset handles must not be shared across threads")
extension RasterWriter: Sendable {}
