import Foundation
import Landsat
import SafeTensors

/// What a weights file written by `moemae pretrain` records about how its model was trained, in the
/// safetensors `__metadata__` (all values strings): `format` = `moemae-weights`, `preset`, `config`
/// (ModelConfig JSON), `normalization_mean` / `normalization_std` (JSON lists, one per band),
/// `bands` (JSON list), `hour_policy` (`utc` | `published`), `metadata` (`true` | `false`: whether the
/// model was fed the week/hour/lat/lon tokens), `trained_steps`.
///
/// `embed` and `map` should build their ``InputEncoding`` from ``inputEncoding`` when a weights file
/// carries these keys, and fall back to the published conventions otherwise (imported published
/// weights carry none: BigEarthNet-Landsat statistics, and the published hour convention is the
/// user's choice, docs/model.md "Known quirks").
public struct WeightsMetadata: Sendable, Equatable {
    public var preset: String
    public var config: ModelConfig?
    public var mean: [Float]
    public var std: [Float]
    public var bands: [String]
    public var hour: HourPolicy
    public var metadata: Bool
    public var trainedSteps: Int?

    public static let formatName = "moemae-weights"
    /// The bands recorded when none are given: the model's band list (``LandsatBandSet/modelBandNames``).
    public static var defaultBands: [String] { LandsatBandSet.modelBandNames }

    public init(preset: String, config: ModelConfig?, encoding: InputEncoding, bands: [String] = WeightsMetadata.defaultBands,
                trainedSteps: Int?) {
        self.preset = preset; self.config = config; self.mean = encoding.mean; self.std = encoding.std
        self.bands = bands; self.hour = encoding.hour; self.metadata = encoding.metadata; self.trainedSteps = trainedSteps
    }

    /// The input encoding the model was trained with.
    public var inputEncoding: InputEncoding { InputEncoding(hour: hour, metadata: metadata, mean: mean, std: std) }

    /// The `__metadata__` entries.
    public var dictionary: [String: String] {
        func json<T: Encodable>(_ v: T) -> String {
            (try? JSONEncoder().encode(v)).flatMap { String(data: $0, encoding: .utf8) } ?? "null"
        }
        var d: [String: String] = [
            "format": Self.formatName, "preset": preset, "normalization_mean": json(mean.map(Double.init)),
            "normalization_std": json(std.map(Double.init)), "bands": json(bands), "hour_policy": hour.rawValue,
            "metadata": metadata ? "true" : "false",
        ]
        if let config, let data = try? config.jsonData(), let s = String(data: data, encoding: .utf8) { d["config"] = s }
        if let trainedSteps { d["trained_steps"] = String(trainedSteps) }
        return d
    }

    /// Reads the training record of a weights file; nil when the file carries none (e.g. imported
    /// published weights). Throws when the keys are present but malformed, naming the file and key.
    public static func read(path: String) throws -> WeightsMetadata? {
        try read(metadata: try SafeTensorsFile(path: path).metadata, source: path)
    }

    public static func read(metadata m: [String: String], source: String) throws -> WeightsMetadata? {
        guard m["format"] == formatName || m["normalization_mean"] != nil else { return nil }
        func list<T: Decodable>(_ key: String, _ type: T.Type) throws -> T {
            guard let s = m[key], let data = s.data(using: .utf8), let v = try? JSONDecoder().decode(T.self, from: data) else {
                throw ModelError.invalidConfig("\(source): __metadata__ '\(key)' is missing or not valid JSON")
            }
            return v
        }
        let mean = try list("normalization_mean", [Double].self).map(Float.init)
        let std = try list("normalization_std", [Double].self).map(Float.init)
        guard mean.count == std.count, !mean.isEmpty, !std.contains(where: { $0 <= 0 }) else {
            throw ModelError.invalidConfig("\(source): __metadata__ normalization_mean/std must be equally long with positive std")
        }
        guard let hour = HourPolicy(rawValue: m["hour_policy"] ?? "utc") else {
            throw ModelError.invalidConfig("\(source): __metadata__ hour_policy '\(m["hour_policy"] ?? "")' is not utc or published")
        }
        var config: ModelConfig? = nil
        if let s = m["config"], let data = s.data(using: .utf8) {
            do { config = try JSONDecoder().decode(ModelConfig.self, from: data) } catch {
                throw ModelError.invalidConfig("\(source): __metadata__ 'config' is not a model configuration: \(error)")
            }
        }
        let bands = m["bands"] == nil ? defaultBands : try list("bands", [String].self)
        var w = WeightsMetadata(preset: m["preset"] ?? config?.preset ?? "custom", config: config,
                                encoding: InputEncoding(hour: hour, metadata: m["metadata"] != "false", mean: mean, std: std),
                                bands: bands, trainedSteps: m["trained_steps"].flatMap { Int($0) })
        w.metadata = m["metadata"] != "false"
        return w
    }
}
