/// Turns scenes into a dataset folder: what `moemae tile` does, as a library call.
public enum DatasetBuilder {
    /// Progress after each tile row: scene index, tile row, rows in the scene, tiles written so far.
    public typealias Progress = (_ scene: Int, _ row: Int, _ rows: Int, _ tiles: Int) -> Void

    /// Tiles every source in order (streaming, one tile row at a time) into `output`.
    ///
    /// Opens and checks every scene before writing any tile, so a bad band file fails fast. On any
    /// error the partial output is removed and nothing with the final name exists (unless it existed
    /// before and `overwrite` was not set).
    @discardableResult
    public static func build(sources: [SceneSource], output: String, options: TilingOptions, layout: DatasetLayout = .safetensors,
                             shardSize: Int = 4096, overwrite: Bool = false, progress: Progress? = nil) throws -> DatasetManifest {
        guard !sources.isEmpty else { throw TilingError(path: output, "no scenes to tile") }
        try options.validate()
        // Check every scene's files first (cheap: opens headers only).
        for s in sources { _ = try SceneRasters(source: s) }
        let writer = try DatasetWriter(path: output, options: options, layout: layout, shardSize: shardSize, overwrite: overwrite)
        do {
            for (i, s) in sources.enumerated() {
                let reader = try TileStripReader(source: s, options: options)
                let index = try writer.addScene(reader.rasters, grid: reader.grid)
                for r in 0..<reader.grid.rows {
                    try writer.add(try reader.readRow(r), scene: index)
                    progress?(i, r, reader.grid.rows, writer.tileCount)
                }
            }
            return try writer.finish()
        } catch {
            writer.abort()
            throw error
        }
    }
}
