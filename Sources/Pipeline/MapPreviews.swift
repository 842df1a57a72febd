import Foundation
import GeoRaster

/// The PNG quick-looks of one scene's map outputs (`map --preview`), drawn from the rasters just
/// written and encoded by GDAL (``QuickLook``):
/// - `<product>_labels.png`: the label map in its class colours (one square per 40×40 tile, enlarged to
///   at most 520 pixels), with a legend of every probe class (colour and name) and the nodata checkerboard;
/// - `<product>_rgb.png`: a true-colour picture of the scene (OLI SR_B4/B3/B2, TM/ETM+ SR_B3/B2/B1),
///   surface reflectance 0…0.3 stretched to 0…255, at most 1,024 pixels on its longer side, fill
///   transparent; only for Collection 2 Level-2 SR scenes;
/// - `<product>_experts_layer<L>.png` for every layer requested with `--token-experts`: the top-1
///   expert of every patch token in the expert palette, with its legend.
public struct MapPreviews {
    /// Collection 2 Level-2 surface reflectance digital numbers of reflectance 0 and 0.3
    /// (reflectance = 2.75e-5 × DN − 0.2; USGS Landsat 8-9 C2 L2 Science Product Guide, LSDS-1619, §6.1).
    public static let reflectanceStretch: ClosedRange<Double> = ((0 + 0.2) / 2.75e-5)...((0.3 + 0.2) / 2.75e-5)
    /// Longest side of the label and expert images' map part, in pixels.
    public static let mapSide = 520

    public let rasters: MapRasters
    public let scene: MapScene

    public init(rasters: MapRasters, scene: MapScene) { self.rasters = rasters; self.scene = scene }

    var product: String { rasters.product }
    public var labelsName: String { "\(product)_labels.png" }
    public var rgbName: String { "\(product)_rgb.png" }
    public func expertsName(layer: Int) -> String { "\(product)_experts_layer\(layer).png" }

    /// The files ``write(into:)`` produces.
    public var fileNames: [String] {
        var n = [labelsName]
        if scene.trueColorBands != nil { n.append(rgbName) }
        n += rasters.layout.tokenLayers.map { expertsName(layer: $0) }
        return n
    }

    /// Draws every quick-look from the rasters in `directory` (written by ``MapRasters/write(from:into:cancellation:)``)
    /// into the same folder. Returns the names written. Throws ``GeoRasterError`` naming the file.
    @discardableResult
    public func write(into directory: String) throws -> [String] {
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        let layout = rasters.layout
        let classes = zip(layout.classNames, layout.classColors).map { name, rgb in
            QuickLook.LegendEntry(name: name, color: ColorEntry(red: rgb[0], green: rgb[1], blue: rgb[2]))
        }
        try QuickLook.categoricalPNG(source: path(MapProduct.labels.fileName(product: product)), entries: classes, noDataName: "no data / skipped tile",
                                     title: "\(product): land cover", to: path(labelsName), maxSide: Self.mapSide)
        if let rgb = scene.trueColorBands, rgb.count == 3 {
            try QuickLook.trueColorPNG(red: rgb[0], green: rgb[1], blue: rgb[2], to: path(rgbName), range: Self.reflectanceStretch)
        }
        for (i, layer) in layout.tokenLayers.enumerated() {
            let experts = (0..<layout.expertsPerLayer[layer]).map { k in
                let c = MapRasters.expertColors[k % MapRasters.expertColors.count]
                return QuickLook.LegendEntry(name: "expert \(k)", color: ColorEntry(red: c[0], green: c[1], blue: c[2]))
            }
            try QuickLook.categoricalPNG(source: path(MapProduct.tokenExperts.fileName(product: product)), band: i + 1, entries: experts,
                                         noDataName: "no data / skipped tile", title: "\(product): encoder layer \(layer) experts",
                                         to: path(expertsName(layer: layer)), maxSide: Self.mapSide)
        }
        return fileNames
    }

    /// STAC assets of the quick-looks: the label image as `thumbnail`, the others as `overview`.
    public var stacAssets: [String: STACItem.Asset] {
        var a: [String: STACItem.Asset] = [
            "thumbnail": .init(href: "./" + labelsName, type: STACItem.Asset.pngType, title: "Land-cover labels with legend (quick-look)",
                               roles: ["thumbnail", "overview"]),
        ]
        if scene.trueColorBands != nil {
            a["overview_rgb"] = .init(href: "./" + rgbName, type: STACItem.Asset.pngType, title: "True-colour scene (quick-look)",
                                      roles: ["overview"])
        }
        for layer in rasters.layout.tokenLayers {
            a["overview_experts_layer\(layer)"] = .init(href: "./" + expertsName(layer: layer), type: STACItem.Asset.pngType,
                                                       title: "Token expert map of encoder layer \(layer) with legend (quick-look)",
                                                       roles: ["overview"])
        }
        return a
    }
}
