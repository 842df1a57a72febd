import Foundation
import GeoRaster

/// Writes a scene's map rasters from its ``RowStore`` as Cloud Optimized GeoTIFFs (GDAL COG driver,
/// DEFLATE, 512×512 internal tiles, overviews) with the scene's CRS. The labels raster (one band)
/// carries its colour table and category names; the multi-band expert rasters carry band descriptions
/// and nodata, and a VRT beside each (``PalettedVRT``) gives every band its colour table and category
/// names, because TIFF holds a palette only for single-band images.
///
/// Grids (GDAL geotransform, pixel-is-area):
/// - tile resolution (labels, experts, scores, embeddings): the scene's geotransform with every linear
///   term × tile size (40) and the same origin, so output pixel (c, r) covers exactly tile (c, r);
/// - token resolution (token experts): linear terms × patch size (4), pixel (10c + j, 10r + i) = patch
///   (i, j) of tile (c, r).
public struct MapRasters {
    public let layout: MapOutputLayout
    public let crs: CoordinateReferenceSystem
    public let sceneGeoTransform: GeoTransform
    public let tileSize: Int
    public let product: String

    public init(layout: MapOutputLayout, crs: CoordinateReferenceSystem, sceneGeoTransform: GeoTransform, tileSize: Int, product: String) {
        self.layout = layout; self.crs = crs; self.sceneGeoTransform = sceneGeoTransform; self.tileSize = tileSize; self.product = product
    }

    /// The palette of expert indices (tab10's first colours; experts per layer ≤ 5 in every preset).
    public static let expertColors: [[UInt8]] = [
        [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
        [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
    ]

    /// `geotransform` with its linear terms multiplied by `factor` (same origin).
    public static func scaled(_ t: GeoTransform, by factor: Double) -> GeoTransform {
        GeoTransform(originX: t.originX, pixelWidth: t.pixelWidth * factor, rowRotation: t.rowRotation * factor,
                     originY: t.originY, columnRotation: t.columnRotation * factor, pixelHeight: t.pixelHeight * factor)
    }

    public var tileGeoTransform: GeoTransform { Self.scaled(sceneGeoTransform, by: Double(tileSize)) }
    public var tokenGeoTransform: GeoTransform {
        Self.scaled(sceneGeoTransform, by: Double(tileSize) / Double(TileRouting.patchesPerSide))
    }

    /// The written products' file names, in ``MapProduct/all`` order: the TIFF, then the VRT of its legend.
    public var fileNames: [String] { layout.parts.flatMap { $0.product.fileNames(product: product) } }

    /// The grid (geotransform) of a product's raster.
    public func geoTransform(_ grid: MapProduct.Grid) -> GeoTransform { grid == .tile ? tileGeoTransform : tokenGeoTransform }

    /// Reads every row of `store` and writes the rasters into `directory`. Returns the names of the files
    /// written: ``fileNames`` plus GDAL's `.aux.xml` sidecars (category names of a GeoTIFF live there).
    @discardableResult
    public func write(from store: RowStore, into directory: String, cancellation: CancellationToken? = nil) throws -> [String] {
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        let cols = layout.gridCols, rows = layout.gridRows
        guard store.count == rows else {
            throw OutputError(path: store.path, "holds \(store.count) of \(rows) tile rows; the scene is incomplete")
        }
        let noDataEntry = ColorEntry(red: 0, green: 0, blue: 0, alpha: 0)
        let expertPalette = Self.expertColors.map { ColorEntry(red: $0[0], green: $0[1], blue: $0[2]) }
            + Array(repeating: noDataEntry, count: 256 - Self.expertColors.count)

        let parts = layout.parts
        var writers: [RasterWriter] = []
        for part in parts {
            let product = part.product
            var options = RasterCreationOptions.cog
            if product.sampleType == .float32 {
                options.overviewResampling = .average
                options.predictor = 3
            }
            let s = product.grid.pixelsPerTileSide
            let w = try RasterWriter(path: path(product.fileName(product: self.product)), width: cols * s, height: rows * s,
                                     bandCount: part.bands, dataType: product.sampleType.rasterDataType, options: options)
            try georeference(w, geoTransform(product.grid))
            for (i, band) in product.bands(layout).enumerated() {
                try w.setNoData(band: i + 1, product.sampleType.noData)
                try w.setDescription(band: i + 1, band.description)
            }
            if product.legend == .classes {
                var palette = layout.classColors.map { ColorEntry(red: $0[0], green: $0[1], blue: $0[2]) }
                palette += Array(repeating: noDataEntry, count: 256 - palette.count)
                try w.setColorTable(band: 1, palette)
                try w.setCategoryNames(band: 1, layout.classNames)
            }
            writers.append(w)
        }

        // A record is read into 16-byte aligned memory; each band plane is copied into a typed buffer
        // (a part may start at any byte offset, so it is never read through a typed pointer in place).
        let record = UnsafeMutableRawBufferPointer.allocate(byteCount: layout.recordBytes, alignment: 16)
        defer { record.deallocate() }
        let widest = parts.map { $0.width * $0.height }.max() ?? 0
        var bytePlane = [UInt8](repeating: 0, count: widest)
        var floatPlane = [Float](repeating: 0, count: widest)
        for r in 0..<rows {
            try cancellation?.check()
            try store.read(r, into: record)
            for (part, w) in zip(parts, writers) {
                let window = RasterWindow(column: 0, row: r * part.height, width: part.width, height: part.height)
                let samples = part.width * part.height
                let planeBytes = samples * part.product.sampleType.size
                for band in 0..<part.bands {
                    let source = UnsafeRawBufferPointer(rebasing: record[(part.offset + band * planeBytes)..<(part.offset + (band + 1) * planeBytes)])
                    switch part.product.sampleType {
                    case .uint8:
                        bytePlane.withUnsafeMutableBytes { $0.copyMemory(from: source) }
                        try bytePlane.withUnsafeBufferPointer {
                            try w.write(band: band + 1, window: window, from: UnsafeBufferPointer(rebasing: $0[0..<samples]))
                        }
                    case .float32:
                        floatPlane.withUnsafeMutableBytes { $0.copyMemory(from: source) }
                        try floatPlane.withUnsafeBufferPointer {
                            try w.write(band: band + 1, window: window, from: UnsafeBufferPointer(rebasing: $0[0..<samples]))
                        }
                    }
                }
            }
        }
        for (part, w) in zip(parts, writers) {
            try w.finish()
            if let vrt = part.product.legendFileName(product: product) {
                let bands = part.product.bands(layout)
                try PalettedVRT.write(source: path(part.product.fileName(product: product)), to: path(vrt), palettes: bands.enumerated().map { i, band in
                    .init(band: i + 1, colors: expertPalette, categories: (0..<layout.expertsPerLayer[band.layer ?? 0]).map { "expert \($0)" })
                })
            }
        }
        return fileNames.flatMap { name in
            FileManager.default.fileExists(atPath: path(name + ".aux.xml")) ? [name, name + ".aux.xml"] : [name]
        }
    }

    private func georeference(_ w: RasterWriter, _ t: GeoTransform) throws {
        try w.setGeoTransform(t)
        try w.setCRS(crs)
    }
}
