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

    public var labelsName: String { "\(product)_labels.tif" }
    public var expertsName: String { "\(product)_experts.tif" }
    public var tokenExpertsName: String { "\(product)_token_experts.tif" }
    public var scoresName: String { "\(product)_scores.tif" }
    public var embeddingsName: String { "\(product)_embeddings.tif" }
    /// Colour tables and category names of every band of the expert rasters (a TIFF cannot hold them).
    public var expertsVRTName: String { "\(product)_experts.vrt" }
    public var tokenExpertsVRTName: String { "\(product)_token_experts.vrt" }

    /// The raster files this layout produces.
    public var fileNames: [String] {
        var n = [labelsName, expertsName, expertsVRTName]
        if !layout.tokenLayers.isEmpty { n += [tokenExpertsName, tokenExpertsVRTName] }
        if layout.writeScores { n.append(scoresName) }
        if layout.embeddingDimension != nil { n.append(embeddingsName) }
        return n
    }

    /// Reads every row of `store` and writes the rasters into `directory`. Returns the names of the files
    /// written: ``fileNames`` plus GDAL's `.aux.xml` sidecars (category names of a GeoTIFF live there).
    @discardableResult
    public func write(from store: RowStore, into directory: String, cancellation: CancellationToken? = nil) throws -> [String] {
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        let L = layout.layers, cols = layout.gridCols, rows = layout.gridRows
        let p = TileRouting.patchesPerSide
        guard store.count == rows else {
            throw OutputError(path: store.path, "holds \(store.count) of \(rows) tile rows; the scene is incomplete")
        }
        let byteCOG = RasterCreationOptions.cog
        var floatCOG = RasterCreationOptions.cog
        floatCOG.overviewResampling = .average
        floatCOG.predictor = 3
        let noDataEntry = ColorEntry(red: 0, green: 0, blue: 0, alpha: 0)

        let labels = try RasterWriter(path: path(labelsName), width: cols, height: rows, bandCount: 1, dataType: .uint8, options: byteCOG)
        try georeference(labels, tileGeoTransform)
        try labels.setNoData(band: 1, Double(MapOutputLayout.byteNoData))
        try labels.setDescription(band: 1, "land-cover class (probe arg-max)")
        var palette = layout.classColors.map { ColorEntry(red: $0[0], green: $0[1], blue: $0[2]) }
        palette += Array(repeating: noDataEntry, count: 256 - palette.count)
        try labels.setColorTable(band: 1, palette)
        try labels.setCategoryNames(band: 1, layout.classNames)

        let experts = try RasterWriter(path: path(expertsName), width: cols, height: rows, bandCount: L, dataType: .uint8, options: byteCOG)
        try georeference(experts, tileGeoTransform)
        let expertPalette = Self.expertColors.map { ColorEntry(red: $0[0], green: $0[1], blue: $0[2]) }
            + Array(repeating: noDataEntry, count: 256 - Self.expertColors.count)
        for l in 0..<L {
            try experts.setNoData(band: l + 1, Double(MapOutputLayout.byteNoData))
            try experts.setDescription(band: l + 1, "encoder layer \(l) (\(layout.expertsPerLayer[l]) experts): majority top-1 expert of the 100 patch tokens")
        }

        var tokens: RasterWriter?
        if !layout.tokenLayers.isEmpty {
            let t = try RasterWriter(path: path(tokenExpertsName), width: cols * p, height: rows * p, bandCount: layout.tokenLayers.count,
                                     dataType: .uint8, options: byteCOG)
            try georeference(t, tokenGeoTransform)
            for (i, l) in layout.tokenLayers.enumerated() {
                try t.setNoData(band: i + 1, Double(MapOutputLayout.byteNoData))
                try t.setDescription(band: i + 1, "encoder layer \(l) (\(layout.expertsPerLayer[l]) experts): top-1 expert of each patch token")
            }
            tokens = t
        }

        var scores: RasterWriter?
        if layout.writeScores {
            let s = try RasterWriter(path: path(scoresName), width: cols, height: rows, bandCount: layout.classCount, dataType: .float32, options: floatCOG)
            try georeference(s, tileGeoTransform)
            for (k, name) in layout.classNames.enumerated() {
                try s.setNoData(band: k + 1, Double.nan)
                try s.setDescription(band: k + 1, name)
            }
            scores = s
        }

        var embeddings: RasterWriter?
        if let D = layout.embeddingDimension {
            let e = try RasterWriter(path: path(embeddingsName), width: cols, height: rows, bandCount: D, dataType: .float32, options: floatCOG)
            try georeference(e, tileGeoTransform)
            for k in 0..<D {
                try e.setNoData(band: k + 1, Double.nan)
                try e.setDescription(band: k + 1, "embedding dimension \(k)")
            }
            embeddings = e
        }

        let record = UnsafeMutableRawBufferPointer.allocate(byteCount: layout.recordBytes, alignment: 16)
        defer { record.deallocate() }
        for r in 0..<rows {
            try cancellation?.check()
            try store.read(r, into: record)
            let bytes = UnsafeBufferPointer(start: record.baseAddress!.assumingMemoryBound(to: UInt8.self), count: layout.recordBytes)
            let rowWindow = RasterWindow(column: 0, row: r, width: cols, height: 1)
            try labels.write(band: 1, window: rowWindow, from: UnsafeBufferPointer(rebasing: bytes[layout.labelsOffset..<(layout.labelsOffset + cols)]))
            for l in 0..<L {
                let o = layout.expertsOffset + l * cols
                try experts.write(band: l + 1, window: rowWindow, from: UnsafeBufferPointer(rebasing: bytes[o..<(o + cols)]))
            }
            if let tokens {
                let window = RasterWindow(column: 0, row: r * p, width: cols * p, height: p)
                for i in 0..<layout.tokenLayers.count {
                    let o = layout.tokenOffset + i * p * p * cols
                    try tokens.write(band: i + 1, window: window, from: UnsafeBufferPointer(rebasing: bytes[o..<(o + p * p * cols)]))
                }
            }
            if let scores {
                let f = UnsafeBufferPointer(start: (record.baseAddress! + layout.scoresOffset).assumingMemoryBound(to: Float.self),
                                            count: layout.classCount * cols)
                for k in 0..<layout.classCount {
                    try scores.write(band: k + 1, window: rowWindow, from: UnsafeBufferPointer(rebasing: f[(k * cols)..<((k + 1) * cols)]))
                }
            }
            if let embeddings, let D = layout.embeddingDimension {
                let f = UnsafeBufferPointer(start: (record.baseAddress! + layout.embeddingsOffset).assumingMemoryBound(to: Float.self),
                                            count: D * cols)
                for k in 0..<D {
                    try embeddings.write(band: k + 1, window: rowWindow, from: UnsafeBufferPointer(rebasing: f[(k * cols)..<((k + 1) * cols)]))
                }
            }
        }
        try labels.finish()
        try experts.finish()
        try PalettedVRT.write(source: path(expertsName), to: path(expertsVRTName), palettes: (0..<L).map { l in
            .init(band: l + 1, colors: expertPalette, categories: (0..<layout.expertsPerLayer[l]).map { "expert \($0)" })
        })
        try tokens?.finish()
        if tokens != nil {
            try PalettedVRT.write(source: path(tokenExpertsName), to: path(tokenExpertsVRTName),
                                  palettes: layout.tokenLayers.enumerated().map { i, l in
                .init(band: i + 1, colors: expertPalette, categories: (0..<layout.expertsPerLayer[l]).map { "expert \($0)" })
            })
        }
        try scores?.finish()
        try embeddings?.finish()
        return fileNames.flatMap { name in
            FileManager.default.fileExists(atPath: path(name + ".aux.xml")) ? [name, name + ".aux.xml"] : [name]
        }
    }

    private func georeference(_ w: RasterWriter, _ t: GeoTransform) throws {
        try w.setGeoTransform(t)
        try w.setCRS(crs)
    }
}
