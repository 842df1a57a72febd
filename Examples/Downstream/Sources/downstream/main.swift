// `swift run --package-path Examples/Downstream downstream WEIGHTS.safetensors SCENE_FOLDER`:
// loads encoder weights, cuts the first tile row of a Landsat scene into 40×40 tiles and encodes the
// first valid tile, through the public library API only.
import Diagnostics
import Foundation
import MoEMAE
import Tiling

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: downstream WEIGHTS.safetensors SCENE_FOLDER\n".utf8))
    exit(64)
}
do {
    let model = try MoEMAEModel.load(path: arguments[arguments.startIndex])
    let config = model.config
    print("\(config.preset) encoder: D \(config.embedDim), \(config.depth) layers, \(config.tokenCount) tokens per tile")

    let scene = try SceneSource(landsatPath: arguments[arguments.index(after: arguments.startIndex)])
    let reader = try TileStripReader(source: scene, options: TilingOptions())
    print("\(scene.id): \(reader.grid.rows) × \(reader.grid.cols) tiles")
    guard let tile = try reader.readRow(reader.grid.rows / 2).first(where: { $0.validFraction > 0.5 }) else {
        throw Failure(.read, path: scene.id, "no tile with valid pixels in the middle tile row")
    }
    let batch = try EncoderBatch(dn: tile.pixels, channels: config.inChannels, pixelsPerBand: config.imageSize * config.imageSize,
                                 week: [tile.metadata.week], hour: [tile.metadata.hour], lat: [tile.metadata.lat],
                                 lon: [tile.metadata.lon], encoding: InputEncoding())
    let result = try InferenceEngine(model: model).encode(batch)
    let e = result.embedding
    print(String(format: "tile (%d, %d): embedding of %d values, first %.4f, mean %.4f", tile.metadata.row, tile.metadata.col,
                 e.count, e[0], e.reduce(0, +) / Float(e.count)))
} catch let e as DiagnosedError {
    FileHandle.standardError.write(Data("error: \(e.diagnosis)\n".utf8))
    exit(1)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
