import Foundation
import Landsat

/// The one place where raw tile values become model input (docs/model.md, "Input normalisation"
/// and "Encoder forward" step 2).
public struct InputEncoding: Sendable, Equatable {
    /// Per-band mean and standard deviation of raw Collection 2 Level-2 SR digital numbers,
    /// SR_B1…SR_B7 (BigEarthNet-Landsat statistics, docs/model.md).
    public var mean: [Float]
    public var std: [Float]
    public var hour: HourPolicy
    /// False: every metadata 2-vector is zero (the token is its Linear's bias), as for a dataset
    /// written with `--no-metadata` or the EuroSAT-Landsat evaluation.
    public var metadata: Bool

    public static let bigEarthNetLandsatMean: [Float] = [9405.194, 9649.677, 10425.686, 10444.589, 16067.627, 12699.184, 10596.475]
    public static let bigEarthNetLandsatStd: [Float] = [6016.344, 6095.472, 5839.462, 6068.493, 6271.440, 4256.046, 3130.776]

    public init(hour: HourPolicy = .utc, metadata: Bool = true,
                mean: [Float] = InputEncoding.bigEarthNetLandsatMean, std: [Float] = InputEncoding.bigEarthNetLandsatStd) {
        self.hour = hour; self.metadata = metadata; self.mean = mean; self.std = std
    }

    /// z-scores raw digital numbers `[tiles, C, P]` (P = S·S pixels per band) into `out` of the same
    /// shape, band by band: `x = (Float(dn) − mean[c]) / std[c]` in Float, like the reference.
    public func normalize(_ dn: UnsafeBufferPointer<UInt16>, channels: Int, pixelsPerBand: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(channels == mean.count && channels == std.count, "normalisation statistics are for \(mean.count) bands, not \(channels)")
        let tiles = dn.count / (channels * pixelsPerBand)
        for t in 0..<tiles {
            for c in 0..<channels {
                let m = mean[c], s = std[c]
                let base = (t * channels + c) * pixelsPerBand
                for i in 0..<pixelsPerBand { out[base + i] = (Float(dn[base + i]) - m) / s }
            }
        }
    }

    /// z-scored pixels of `dn` (`[tiles, C, S, S]` flattened, S·S = `pixelsPerBand`).
    public func normalize(_ dn: [UInt16], channels: Int = 7, pixelsPerBand: Int = 1600) -> [Float] {
        [Float](unsafeUninitializedCapacity: dn.count) { buf, n in
            dn.withUnsafeBufferPointer { normalize($0, channels: channels, pixelsPerBand: pixelsPerBand, into: buf.baseAddress!) }
            n = dn.count
        }
    }

    /// The 8 metadata inputs `(sin θ, cos θ, sin φ, cos φ, sin λ, cos λ, sin μ, cos μ)` with
    /// θ = 2π·week/52, φ = 2π·hour/24 (after the hour policy), λ = lat and μ = lon in radians;
    /// computed in Double, then rounded to Float. All zeros when `metadata` is false.
    public func metadataVector(week: Int, hour utcHour: Double, lat: Double, lon: Double) -> [Float] {
        guard metadata else { return [Float](repeating: 0, count: 8) }
        let theta = 2 * Double.pi * Double(week) / 52
        let phi = 2 * Double.pi * hour.modelHour(utcHour) / 24
        let lambda = lat * Double.pi / 180, mu = lon * Double.pi / 180
        return [sin(theta), cos(theta), sin(phi), cos(phi), sin(lambda), cos(lambda), sin(mu), cos(mu)].map { Float($0) }
    }

    /// Metadata vectors `[tiles, 8]` for columns of tile values.
    public func metadata(week: [Int], hour: [Double], lat: [Double], lon: [Double]) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(8 * week.count)
        for i in week.indices { out += metadataVector(week: week[i], hour: hour[i], lat: lat[i], lon: lon[i]) }
        return out
    }
}
