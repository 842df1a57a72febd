import Diagnostics
import Landsat

/// How scenes are cut into tiles and which metadata the tiles carry (`moemae tile` options).
public struct TilingOptions: Sendable, Equatable, Codable {
    /// Tile edge in pixels (the model's input is 40×40: docs/model.md).
    public var tileSize: Int
    /// Partial right/bottom tiles: padded with fill and flagged (`pad`) or dropped (`drop`).
    public var edge: EdgePolicy
    /// Tiles whose valid fraction is below this (0…1) are skipped.
    public var minValid: Double
    /// Recorded in the manifest; the stored hour is always the true UTC hour (see ``HourPolicy``).
    public var hourPolicy: HourPolicy
    /// False for `--no-metadata`: lat/lon/week/hour are written as zeros.
    public var metadata: Bool

    public init(tileSize: Int = 40, edge: EdgePolicy = .pad, minValid: Double = 0, hourPolicy: HourPolicy = .utc, metadata: Bool = true) {
        self.tileSize = tileSize; self.edge = edge; self.minValid = minValid; self.hourPolicy = hourPolicy; self.metadata = metadata
    }

    /// Throws when an option is out of range.
    public func validate() throws {
        guard tileSize >= 1, tileSize <= 4096 else {
            throw Failure(.invalidArgument, "tile size \(tileSize) is out of range", hint: "use a size between 1 and 4096 (the model expects 40)", settings: [.tileSize])
        }
        guard minValid >= 0, minValid <= 1 else {
            throw Failure(.invalidArgument, "minimum valid fraction \(minValid) is not between 0 and 1", settings: [.minValid])
        }
    }
}
