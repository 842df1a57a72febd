import Foundation
import MoEMAE
import MoEMAETraining
import Tiling

/// `moemae tile` datasets as pretraining input: every tile of every shard whose `valid_fraction`
/// reaches `minValid` (tiles of shards without that column are all kept), read on demand from the
/// memory-mapped shards.
final class DatasetTileSource: PretrainingTileSource {
    struct Location { var shard: Int; var tile: Int }
    private var shards: [TileShard] = []
    private var shardHasMetadata: [Bool] = []
    private var week: [[Int]] = [], hour: [[Double]] = [], lat: [[Double]] = [], lon: [[Double]] = []
    private(set) var locations: [Location] = []
    /// Tiles skipped for a valid fraction below the threshold.
    private(set) var skipped = 0

    var count: Int { locations.count }

    init(datasets: [Dataset], minValid: Double) throws {
        for ds in datasets {
            for i in ds.shardPaths.indices {
                let shard = try ds.shard(i)
                let s = shards.count
                shards.append(shard); shardHasMetadata.append(ds.hasMetadata)
                week.append(try shard.week()); hour.append(try shard.hour()); lat.append(try shard.lat()); lon.append(try shard.lon())
                let fractions: [Float]? = shard.file.info("valid_fraction") == nil ? nil : try shard.file.floats("valid_fraction")
                for t in 0..<shard.count {
                    if let f = fractions, Double(f[t]) < minValid { skipped += 1; continue }
                    locations.append(Location(shard: s, tile: t))
                }
            }
        }
    }

    func tiles(_ indices: [Int]) throws -> RawTiles {
        var raw = RawTiles(pixels: [], week: [], hour: [], lat: [], lon: [], hasMetadata: [])
        for i in indices {
            let l = locations[i]
            raw.pixels += try shards[l.shard].pixels(l.tile..<(l.tile + 1))
            raw.week.append(week[l.shard][l.tile]); raw.hour.append(hour[l.shard][l.tile])
            raw.lat.append(lat[l.shard][l.tile]); raw.lon.append(lon[l.shard][l.tile])
            raw.hasMetadata.append(shardHasMetadata[l.shard])
        }
        return raw
    }
}
