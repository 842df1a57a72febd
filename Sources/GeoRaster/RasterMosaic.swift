import CGDAL
import Foundation

/// Mosaics of many per-scene rasters through GDAL's own utilities (`gdal_utils.h`): a VRT that refers
/// to the scene files (``buildVRT(sources:to:paletteSource:)``, GDAL's `gdalbuildvrt`) and one Cloud Optimized
/// GeoTIFF warped into one CRS (``warpToCOG(sources:to:crs:resolution:paletteSource:)``, GDAL's `gdalwarp -of COG`).
///
/// Both keep what a class map needs: nearest-neighbour resampling only, the nodata value, and each
/// band's colour table and category names (copied from the first source, which GDAL's utilities
/// do not do for category names). Outputs are written under a temporary name in the same folder and
/// renamed when complete; a failure removes them and throws ``GeoRasterError`` with GDAL's messages.
public enum RasterMosaic {
    /// Writes a VRT mosaic of `sources` (same CRS and band count; GDAL checks and reports otherwise)
    /// at `vrtPath`. Source paths are stored relative to the VRT when they are in its folder or below.
    /// Reads only the sources' headers, never their pixels.
    /// - Parameter paletteSource: file whose bands' colour tables and category names the VRT's bands get
    ///   (default: the first source). For multi-band expert rasters this is the scene's paletted `.vrt`.
    public static func buildVRT(sources: [String], to vrtPath: String, paletteSource: String? = nil) throws {
        guard !sources.isEmpty else { throw GeoRasterError(.invalidArgument, path: vrtPath, "no source rasters to mosaic") }
        let partial = partialName(vrtPath, ext: "vrt")
        let names = CStringList(strings: sources)
        let argv = CStringList(strings: ["-r", "nearest"])
        try GDALCall.run { log in
            guard let options = GDALBuildVRTOptionsNew(argv.pointer, nil) else {
                throw GeoRasterError(.invalidArgument, path: vrtPath, "GDAL refused the VRT options", libraryMessages: log.messages)
            }
            defer { GDALBuildVRTOptionsFree(options) }
            var usageError: Int32 = 0
            guard let vrt = GDALBuildVRT(partial, Int32(sources.count), nil, names.constPointer, options, &usageError) else {
                throw GeoRasterError(.write, path: vrtPath, "cannot build the VRT mosaic of \(sources.count) rasters", libraryMessages: log.messages)
            }
            GDALClose(vrt)
        }
        do {
            try copyPalettes(from: paletteSource ?? sources[0], to: partial)
            try publish(partial, as: vrtPath)
        } catch {
            discard(partial); throw error
        }
    }

    /// Warps `sources` into one Cloud Optimized GeoTIFF in `crs` (`EPSG:32633`, WKT, PROJ string) with
    /// square pixels of `resolution` CRS units, nearest neighbour, the sources' nodata kept (255 for
    /// moemae class maps), DEFLATE compression and nearest-neighbour overviews. Reads the source pixels
    /// that fall in the output, once.
    /// - Parameter paletteSource: file whose bands' colour tables and category names the mosaic gets
    ///   (default: the first source).
    public static func warpToCOG(sources: [String], to path: String, crs: String, resolution: Double, paletteSource: String? = nil) throws {
        guard !sources.isEmpty else { throw GeoRasterError(.invalidArgument, path: path, "no source rasters to mosaic") }
        guard resolution > 0, resolution.isFinite else {
            throw GeoRasterError(.invalidArgument, path: path, "the resolution must be a positive number of CRS units (got \(resolution))")
        }
        let partial = partialName(path, ext: "tif")
        let argv = CStringList(strings: [
            "-t_srs", crs, "-tr", String(resolution), String(resolution), "-r", "near", "-of", "COG",
            "-co", "COMPRESS=DEFLATE", "-co", "RESAMPLING=NEAREST", "-co", "OVERVIEW_RESAMPLING=NEAREST",
            "-co", "BIGTIFF=IF_SAFER", "-wo", "INIT_DEST=NO_DATA", "-overwrite",
        ])
        do {
            try GDALCall.run { log in
                var handles: [GDALDatasetH?] = []
                defer { for h in handles { GDALClose(h) } }
                for s in sources {
                    guard let h = GDALCall.withSiblingFiles(of: s, { GDALOpenEx(s, UInt32(GDAL_OF_RASTER) | UInt32(GDAL_OF_READONLY) | UInt32(GDAL_OF_VERBOSE_ERROR), nil, nil, nil) }) else {
                        throw GeoRasterError(.open, path: s, "cannot open for the mosaic", libraryMessages: log.messages)
                    }
                    handles.append(h)
                }
                guard let options = GDALWarpAppOptionsNew(argv.pointer, nil) else {
                    throw GeoRasterError(.invalidArgument, path: path, "GDAL refused the warp options (is '\(crs)' a CRS GDAL knows?)",
                                         libraryMessages: log.messages)
                }
                defer { GDALWarpAppOptionsFree(options) }
                var usageError: Int32 = 0
                let out = handles.withUnsafeMutableBufferPointer { buf in
                    GDALWarp(partial, nil, Int32(sources.count), buf.baseAddress, options, &usageError)
                }
                guard let out else {
                    throw GeoRasterError(.write, path: path, "cannot warp \(sources.count) rasters into \(crs)", libraryMessages: log.messages)
                }
                GDALClose(out)
                if !log.errors.isEmpty {
                    throw GeoRasterError(.write, path: path, "GDAL reported errors while warping", libraryMessages: log.messages)
                }
            }
            try copyPalettes(from: paletteSource ?? sources[0], to: partial)
            try publish(partial, as: path)
        } catch {
            discard(partial); throw error
        }
    }

    /// Gives every band of `target` the colour table and category names of the same band of `source`
    /// (when it has them). GDAL keeps them in the target itself (VRT) or in its `.aux.xml` sidecar (GeoTIFF).
    static func copyPalettes(from source: String, to target: String) throws {
        try GDALCall.run { log in
            guard let src = GDALCall.withSiblingFiles(of: source, { GDALOpenEx(source, UInt32(GDAL_OF_RASTER) | UInt32(GDAL_OF_READONLY), nil, nil, nil) }) else {
                throw GeoRasterError(.open, path: source, "cannot open to read its colour tables", libraryMessages: log.messages)
            }
            defer { GDALClose(src) }
            // VRT: update in place. GeoTIFF (COG): read-only, so GDAL writes the palette to the PAM
            // sidecar instead of rewriting the file's cloud-optimised layout.
            let update = target.lowercased().hasSuffix(".vrt")
            let flags = UInt32(GDAL_OF_RASTER) | UInt32(update ? GDAL_OF_UPDATE : GDAL_OF_READONLY)
            guard let dst = GDALOpenEx(target, flags, nil, nil, nil) else {
                throw GeoRasterError(.open, path: target, "cannot open to set its colour tables", libraryMessages: log.messages)
            }
            let bands = min(GDALGetRasterCount(src), GDALGetRasterCount(dst))
            if bands > 0 {
                for i in 1...bands {
                    guard let sb = GDALGetRasterBand(src, i), let db = GDALGetRasterBand(dst, i) else { continue }
                    if let table = GDALGetRasterColorTable(sb), GDALGetRasterColorTable(db) == nil || !update {
                        _ = GDALSetRasterColorTable(db, table)
                        GDALSetRasterColorInterpretation(db, GCI_PaletteIndex)
                    }
                    let names = GDALGetRasterCategoryNames(sb)
                    if names != nil { _ = GDALSetRasterCategoryNames(db, names) }
                    if let d = GDALGetDescription(sb), !String(cString: d).isEmpty { GDALSetDescription(db, d) }
                }
            }
            GDALClose(dst)
            if !log.errors.isEmpty {
                throw GeoRasterError(.write, path: target, "cannot set the colour tables and class names", libraryMessages: log.messages)
            }
        }
    }

    static func partialName(_ path: String, ext: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".moemae-partial-\(ProcessInfo.processInfo.processIdentifier)-\(url.lastPathComponent).\(ext)").path
    }

    /// Renames the partial file (and its `.aux.xml`) to the final name; a VRT refers to its sources by
    /// paths relative to its folder, which the rename within one folder keeps valid.
    static func publish(_ partial: String, as path: String) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: partial + ".aux.xml") {
            guard rename(partial + ".aux.xml", path + ".aux.xml") == 0 else {
                throw GeoRasterError(.write, path: path + ".aux.xml", "cannot rename into place: \(String(cString: strerror(errno)))")
            }
        } else if fm.fileExists(atPath: path + ".aux.xml") {
            try? fm.removeItem(atPath: path + ".aux.xml")   // a stale sidecar of an earlier mosaic
        }
        guard rename(partial, path) == 0 else {
            throw GeoRasterError(.write, path: path, "cannot rename into place: \(String(cString: strerror(errno)))")
        }
    }

    static func discard(_ partial: String) {
        for f in [partial, partial + ".aux.xml"] { try? FileManager.default.removeItem(atPath: f) }
    }
}
