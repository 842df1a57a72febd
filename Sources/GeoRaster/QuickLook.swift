import CGDAL
import Foundation

/// PNG quick-looks of map outputs and scenes, encoded by GDAL's PNG driver
/// (https://gdal.org/drivers/raster/png.html; no image encoder of our own):
/// - ``categoricalPNG(source:band:entries:title:to:maxSide:)``: a class or expert raster in its colours,
///   enlarged with nearest-neighbour, with a legend (colour swatches and names) composed beside it;
/// - ``trueColorPNG(red:green:blue:to:maxSide:range:)``: a true-colour picture of a scene through
///   `GDALBuildVRT` (-separate) and `GDALTranslate` (linear stretch to bytes, nodata as transparency).
///
/// The files carry no georeferencing (PNG cannot; GDAL's `.aux.xml` sidecar is not written): they are
/// for looking at, the GeoTIFFs are the data.
public enum QuickLook {
    /// One legend line: a colour and its name.
    public struct LegendEntry: Sendable, Equatable {
        public var name: String
        public var color: ColorEntry
        public init(name: String, color: ColorEntry) { self.name = name; self.color = color }
    }

    /// Pixel size of an image written by this type.
    public struct ImageSize: Sendable, Equatable {
        public var width: Int
        public var height: Int
    }

    static let background: [UInt8] = [255, 255, 255, 255]
    static let ink: [UInt8] = [32, 32, 32, 255]
    /// Nodata cells are drawn as a white/grey checkerboard of 4-pixel squares (no class colour looks like it).
    static let noDataChecker: ([UInt8], [UInt8]) = ([255, 255, 255, 255], [190, 190, 190, 255])
    /// Text is drawn with ``LegendFont`` glyphs enlarged this many times (10×14 pixels per character).
    static let textScale = 2
    static let margin = 12
    static let lineHeight = 20
    static let wrapColumns = 44

    /// Writes band `band` of the UInt8 raster `source` (values = indices into `entries`; any other value,
    /// e.g. nodata 255, is drawn as a white/grey checkerboard and listed as `noDataName`) as a PNG at `path`: a title line,
    /// the raster enlarged by an integer factor (nearest neighbour) so its longer side is at most
    /// `maxSide` pixels (never reduced below one pixel per cell), and a legend of every entry to its
    /// right. Returns the image size. Throws ``GeoRasterError`` naming the file.
    @discardableResult
    public static func categoricalPNG(source: String, band: Int = 1, entries: [LegendEntry], noDataName: String = "no data",
                                      title: String, to path: String, maxSide: Int = 520) throws -> ImageSize {
        let ds = try RasterDataset(path: source)
        guard (1...ds.bandCount).contains(band) else {
            throw GeoRasterError(.read, path: source, "has \(ds.bandCount) bands; band \(band) does not exist")
        }
        let cells: [UInt8] = try ds.read(band: band, window: RasterWindow(column: 0, row: 0, width: ds.width, height: ds.height))
        let scale = max(1, maxSide / max(ds.width, ds.height))
        let mapW = ds.width * scale, mapH = ds.height * scale

        // Legend lines: each entry's name wrapped at `wrapColumns` characters.
        var legend: [(color: [UInt8]?, lines: [String])] = entries.map {
            ([$0.color.red, $0.color.green, $0.color.blue, 255], wrap($0.name, columns: wrapColumns))
        }
        if cells.contains(where: { Int($0) >= entries.count }) { legend.append((nil, [noDataName])) }
        let glyphW = LegendFont.width * textScale, advance = glyphW + textScale
        let swatchW = 24, swatchH = LegendFont.height * textScale
        let textWidth = max(legend.flatMap(\.lines).map(\.count).max() ?? 0, 1) * advance
        let legendW = swatchW + 8 + textWidth
        let legendH = legend.reduce(0) { $0 + $1.lines.count * lineHeight + 4 }
        let titleH = lineHeight + 8
        let width = margin + mapW + 2 * margin + legendW + margin
        let titleW = margin + title.count * advance + margin
        let imageW = max(width, titleW)
        let imageH = margin + titleH + max(mapH, legendH) + margin

        var image = Canvas(width: imageW, height: imageH)
        image.text(title, x: margin, y: margin)
        let mapX = margin, mapY = margin + titleH
        for r in 0..<ds.height {
            for c in 0..<ds.width {
                let v = Int(cells[r * ds.width + c])
                if v < entries.count {
                    image.fill(x: mapX + c * scale, y: mapY + r * scale, width: scale, height: scale,
                               [entries[v].color.red, entries[v].color.green, entries[v].color.blue, 255])
                } else {
                    image.checker(x: mapX + c * scale, y: mapY + r * scale, width: scale, height: scale)
                }
            }
        }
        image.frame(x: mapX - 1, y: mapY - 1, width: mapW + 2, height: mapH + 2, ink)
        var y = mapY
        let legendX = mapX + mapW + 2 * margin
        for item in legend {
            if let color = item.color {
                image.fill(x: legendX, y: y, width: swatchW, height: swatchH, color)
            } else {
                image.checker(x: legendX, y: y, width: swatchW, height: swatchH)
            }
            image.frame(x: legendX, y: y, width: swatchW, height: swatchH, ink)
            for (i, line) in item.lines.enumerated() {
                image.text(line, x: legendX + swatchW + 8, y: y + i * lineHeight)
            }
            y += item.lines.count * lineHeight + 4
        }
        // The legend as text too (PNG tEXt chunks, read back by GDAL as metadata), for programs that read it.
        var text = ["Title": title]
        for (i, e) in entries.enumerated() { text["legend_\(i)"] = "#" + [e.color.red, e.color.green, e.color.blue].map { String(format: "%02X", $0) }.joined() + " " + e.name }
        try writePNG(rgba: image.pixels, width: imageW, height: imageH, text: text, to: path)
        return ImageSize(width: imageW, height: imageH)
    }

    /// Writes a true-colour PNG of a scene from its red, green and blue band files (same grid): digital
    /// numbers in `range` are stretched linearly to 0…255 (values outside are clipped), the picture is
    /// reduced (average) so that its longer side is at most `maxSide` pixels, and nodata pixels of the red
    /// band (its mask) become transparent (alpha band). Returns the image size. Throws ``GeoRasterError``.
    @discardableResult
    public static func trueColorPNG(red: String, green: String, blue: String, to path: String, maxSide: Int = 1024,
                                    range: ClosedRange<Double>) throws -> ImageSize {
        for f in [red, green, blue] where !FileManager.default.fileExists(atPath: f) {
            throw GeoRasterError(.open, path: f, "no such file", hint: "check the scene folder")
        }
        let vrtPath = "/vsimem/moemae-quicklook-\(UUID().uuidString).vrt"
        return try GDALCall.run { log in
            defer { VSIUnlink(vrtPath) }
            let names = CStringList(strings: [red, green, blue])
            let vrtArgs = CStringList(strings: ["-separate"])
            guard let vrtOptions = GDALBuildVRTOptionsNew(vrtArgs.pointer, nil) else {
                throw GeoRasterError(.write, path: path, "cannot set up GDALBuildVRT", libraryMessages: log.messages)
            }
            defer { GDALBuildVRTOptionsFree(vrtOptions) }
            var usage: Int32 = 0
            guard let vrt = GDALBuildVRT(vrtPath, 3, nil, names.constPointer, vrtOptions, &usage) else {
                throw GeoRasterError(.read, path: red, "cannot stack the red, green and blue bands (\(green), \(blue))", libraryMessages: log.messages)
            }
            defer { GDALClose(vrt) }
            let w = Int(GDALGetRasterXSize(vrt)), h = Int(GDALGetRasterYSize(vrt))
            let factor = max(1.0, Double(max(w, h)) / Double(maxSide))
            let outW = max(1, Int((Double(w) / factor).rounded())), outH = max(1, Int((Double(h) / factor).rounded()))
            try translate(vrt, to: path, arguments: [
                "-of", "PNG", "-ot", "Byte", "-scale", String(range.lowerBound), String(range.upperBound), "0", "255",
                "-b", "1", "-b", "2", "-b", "3", "-b", "mask", "-outsize", String(outW), String(outH), "-r", "average",
            ], log: log)
            return ImageSize(width: outW, height: outH)
        }
    }

    /// `GDALTranslate` of `source` into `path` (written under a temporary name, then renamed), without
    /// a `.aux.xml` sidecar.
    static func translate(_ source: GDALDatasetH, to path: String, arguments: [String], log: GDALMessageLog) throws {
        let args = CStringList(strings: arguments)
        guard let options = GDALTranslateOptionsNew(args.pointer, nil) else {
            throw GeoRasterError(.write, path: path, "cannot set up GDALTranslate", libraryMessages: log.messages)
        }
        defer { GDALTranslateOptionsFree(options) }
        let partial = path + ".partial"
        CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", "NO")
        defer { CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", nil) }
        var usage: Int32 = 0
        guard let out = GDALTranslate(partial, source, options, &usage) else {
            try? FileManager.default.removeItem(atPath: partial)
            throw GeoRasterError(.write, path: path, "cannot write the PNG", libraryMessages: log.messages)
        }
        GDALClose(out)
        try finish(partial: partial, path: path, log: log)
    }

    /// Encodes an RGBA image (row-major, 4 bytes per pixel) as PNG at `path` through a GDAL MEM dataset
    /// and the PNG driver's CreateCopy; `text` becomes PNG tEXt chunks (`WRITE_METADATA_AS_TEXT`).
    static func writePNG(rgba: [UInt8], width: Int, height: Int, text: [String: String] = [:], to path: String) throws {
        precondition(rgba.count == width * height * 4)
        try GDALCall.run { log in
            guard let mem = GDALGetDriverByName("MEM"), let png = GDALGetDriverByName("PNG"),
                  let ds = GDALCreate(mem, "", Int32(width), Int32(height), 4, GDT_Byte, nil) else {
                throw GeoRasterError(.write, path: path, "cannot create the image in memory", libraryMessages: log.messages)
            }
            defer { GDALClose(ds) }
            var bandMap: [Int32] = [1, 2, 3, 4]
            var pixels = rgba
            let err = pixels.withUnsafeMutableBytes { raw in
                GDALDatasetRasterIO(ds, GF_Write, 0, 0, Int32(width), Int32(height), raw.baseAddress, Int32(width), Int32(height),
                                    GDT_Byte, 4, &bandMap, 4, Int32(4 * width), 1)
            }
            guard err == CE_None else { throw GeoRasterError(.write, path: path, "cannot fill the image", libraryMessages: log.messages) }
            for (i, interp) in [GCI_RedBand, GCI_GreenBand, GCI_BlueBand, GCI_AlphaBand].enumerated() {
                GDALSetRasterColorInterpretation(GDALGetRasterBand(ds, Int32(i + 1)), interp)
            }
            for (k, v) in text.sorted(by: { $0.key < $1.key }) { GDALSetMetadataItem(ds, k, v, nil) }
            let partial = path + ".partial"
            CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", "NO")
            defer { CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", nil) }
            let creation = CStringList(options: [("WRITE_METADATA_AS_TEXT", "YES")])
            guard let out = GDALCreateCopy(png, partial, ds, 0, creation.pointer, nil, nil) else {
                try? FileManager.default.removeItem(atPath: partial)
                throw GeoRasterError(.write, path: path, "cannot write the PNG", libraryMessages: log.messages)
            }
            GDALClose(out)
            try finish(partial: partial, path: path, log: log)
        }
    }

    /// Renames a complete PNG into place, or removes it when GDAL reported an error while writing.
    private static func finish(partial: String, path: String, log: GDALMessageLog) throws {
        guard log.errors.isEmpty else {
            let folder = (path as NSString).deletingLastPathComponent
            let hint = DiskSpace.failureHint(folder: folder.isEmpty ? "." : folder)
            try? FileManager.default.removeItem(atPath: partial)
            throw GeoRasterError(.write, path: path, "cannot write the PNG", hint: hint, libraryMessages: log.messages)
        }
        guard rename(partial, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: partial)
            throw GeoRasterError(.write, path: path, "cannot rename \(partial) into place: \(reason)")
        }
    }

    /// `text` split into lines of at most `columns` characters at spaces (a longer word is cut).
    static func wrap(_ text: String, columns: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            var w = String(word)
            while w.count > columns {
                if !line.isEmpty { lines.append(line); line = "" }
                lines.append(String(w.prefix(columns))); w = String(w.dropFirst(columns))
            }
            if line.isEmpty { line = w } else if line.count + 1 + w.count <= columns { line += " " + w } else { lines.append(line); line = w }
        }
        if !line.isEmpty || lines.isEmpty { lines.append(line) }
        return lines
    }

    /// An RGBA drawing surface (white, opaque).
    struct Canvas {
        let width: Int, height: Int
        var pixels: [UInt8]
        init(width: Int, height: Int) {
            self.width = width; self.height = height
            pixels = [UInt8](repeating: 255, count: width * height * 4)
        }
        mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ rgba: [UInt8]) {
            for yy in max(0, y)..<min(height, y + h) {
                for xx in max(0, x)..<min(width, x + w) {
                    let o = (yy * width + xx) * 4
                    pixels[o] = rgba[0]; pixels[o + 1] = rgba[1]; pixels[o + 2] = rgba[2]; pixels[o + 3] = rgba[3]
                }
            }
        }
        /// The nodata checkerboard, aligned to the canvas so neighbouring cells join up.
        mutating func checker(x: Int, y: Int, width w: Int, height h: Int) {
            for yy in max(0, y)..<min(height, y + h) {
                for xx in max(0, x)..<min(width, x + w) {
                    let c = (xx / 4 + yy / 4) % 2 == 0 ? QuickLook.noDataChecker.0 : QuickLook.noDataChecker.1
                    let o = (yy * width + xx) * 4
                    pixels[o] = c[0]; pixels[o + 1] = c[1]; pixels[o + 2] = c[2]; pixels[o + 3] = c[3]
                }
            }
        }
        mutating func frame(x: Int, y: Int, width w: Int, height h: Int, _ rgba: [UInt8]) {
            fill(x: x, y: y, width: w, height: 1, rgba); fill(x: x, y: y + h - 1, width: w, height: 1, rgba)
            fill(x: x, y: y, width: 1, height: h, rgba); fill(x: x + w - 1, y: y, width: 1, height: h, rgba)
        }
        /// Draws `text` with its top-left corner at (x, y).
        mutating func text(_ text: String, x: Int, y: Int) {
            let s = QuickLook.textScale
            for (i, ch) in text.enumerated() {
                let gx = x + i * (LegendFont.width + 1) * s
                for row in 0..<LegendFont.height {
                    for col in 0..<LegendFont.width where LegendFont.ink(ch, x: col, y: row) {
                        fill(x: gx + col * s, y: y + row * s, width: s, height: s, QuickLook.ink)
                    }
                }
            }
        }
    }
}
