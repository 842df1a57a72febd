import CGDAL
import Foundation

/// A GDAL VRT next to a multi-band index raster that gives every band its own colour table and
/// category names.
///
/// TIFF stores a colour table (photometric palette) only for single-sample images, so a GeoTIFF with
/// one band per encoder layer cannot carry a palette per band (GDAL: "SetColorTable() not supported for
/// multi-sample TIFF files"). The VRT (GDAL's virtual format: an XML file whose bands read the TIFF's
/// bands, https://gdal.org/drivers/raster/vrt.html) adds them, so QGIS or `gdalinfo` show a legend for
/// every band while the pixels stay in the Cloud Optimized GeoTIFF.
public enum PalettedVRT {
    public struct BandPalette: Sendable {
        /// 1-based band index.
        public var band: Int
        public var colors: [ColorEntry]
        public var categories: [String]
        public init(band: Int, colors: [ColorEntry], categories: [String]) {
            self.band = band; self.colors = colors; self.categories = categories
        }
    }

    /// Writes `vrtPath` describing `sourcePath` (same folder: the VRT refers to it by file name, so both
    /// can be moved together) with the given palettes. Throws ``GeoRasterError`` with GDAL's message.
    public static func write(source sourcePath: String, to vrtPath: String, palettes: [BandPalette]) throws {
        try GDALCall.run { log in
            guard let src = GDALCall.withSiblingFiles(of: sourcePath, { GDALOpenEx(sourcePath, UInt32(GDAL_OF_RASTER) | UInt32(GDAL_OF_READONLY), nil, nil, nil) }) else {
                throw GeoRasterError(.open, path: sourcePath, "cannot open to describe it in a VRT", libraryMessages: log.messages)
            }
            defer { GDALClose(src) }
            guard let driver = GDALGetDriverByName("VRT"),
                  let vrt = GDALCreateCopy(driver, vrtPath, src, 0, nil, nil, nil) else {
                throw GeoRasterError(.write, path: vrtPath, "cannot create the VRT", libraryMessages: log.messages)
            }
            var failed: String?
            for p in palettes {
                guard let band = GDALGetRasterBand(vrt, Int32(p.band)) else { failed = "band \(p.band) does not exist"; break }
                guard let table = GDALCreateColorTable(GPI_RGB) else { failed = "cannot allocate a colour table"; break }
                for (i, c) in p.colors.enumerated() {
                    var e = GDALColorEntry(c1: Int16(c.red), c2: Int16(c.green), c3: Int16(c.blue), c4: Int16(c.alpha))
                    GDALSetColorEntry(table, Int32(i), &e)
                }
                let ok = GDALSetRasterColorTable(band, table) == CE_None
                GDALDestroyColorTable(table)
                GDALSetRasterColorInterpretation(band, GCI_PaletteIndex)
                let names = CStringList(strings: p.categories)
                if !ok || GDALSetRasterCategoryNames(band, names.pointer) != CE_None {
                    failed = "cannot set the palette of band \(p.band)"; break
                }
            }
            GDALClose(vrt)
            if let failed {
                try? FileManager.default.removeItem(atPath: vrtPath)
                throw GeoRasterError(.write, path: vrtPath, failed, libraryMessages: log.messages)
            }
            if !log.errors.isEmpty {
                // Measured before the partial file is removed (removing it frees space).
                let folder = (vrtPath as NSString).deletingLastPathComponent
                let hint = DiskSpace.failureHint(folder: folder.isEmpty ? "." : folder)
                try? FileManager.default.removeItem(atPath: vrtPath)
                throw GeoRasterError(.write, path: vrtPath, "cannot write the VRT", hint: hint, libraryMessages: log.messages)
            }
        }
    }
}
