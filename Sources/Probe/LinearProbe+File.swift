import Foundation
import Landsat
import SafeTensors

extension LinearProbe {
    /// Reads and validates a probe file. Throws ``ProbeError`` (or ``SafeTensorsError``) naming the file
    /// and the offending tensor or metadata key.
    public init(contentsOf path: String) throws {
        let file = try SafeTensorsFile(path: path)
        let meta = file.metadata
        func key(_ name: String) throws -> String {
            guard let v = meta[name] else {
                throw ProbeError(path: path, "not a probe file: __metadata__ has no '\(name)' (write probes with `moemae probe fit` or `moemae probe import`)")
            }
            return v
        }
        func json(_ name: String) throws -> Any {
            let text = try key(name)
            guard let data = text.data(using: .utf8), let v = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
                throw ProbeError(path: path, "__metadata__ '\(name)' is not valid JSON: \(text.prefix(80))")
            }
            return v
        }
        if let format = meta["format"], format != Self.formatName {
            throw ProbeError(path: path, "__metadata__ format is '\(format)', expected '\(Self.formatName)'")
        }
        if let v = meta["format_version"], let n = Int(v), n > Self.formatVersion {
            throw ProbeError(path: path, "probe format_version \(n) is newer than this moemae reads (\(Self.formatVersion))")
        }
        guard let task = ProbeTask(rawValue: try key("task")) else {
            throw ProbeError(path: path, "__metadata__ task is '\(meta["task"] ?? "")', expected multiclass or multilabel")
        }
        guard let feature = ProbeFeature(rawValue: try key("feature")) else {
            throw ProbeError(path: path, "__metadata__ feature is '\(meta["feature"] ?? "")', expected embedding or cls")
        }
        guard let names = try json("classes") as? [String] else {
            throw ProbeError(path: path, "__metadata__ classes is not a JSON list of strings")
        }
        let w = try file.require("weight")
        guard w.shape.count == 2, w.shape[0] == names.count, w.shape[0] >= 1 else {
            throw ProbeError(path: path, "tensor 'weight' has shape \(w.shape); expected [C, D] with C = \(names.count) classes")
        }
        let b = try file.require("bias")
        guard b.shape == [names.count] else {
            throw ProbeError(path: path, "tensor 'bias' has shape \(b.shape); expected [\(names.count)]")
        }
        guard let colorList = try json("colors") as? [[Any]], colorList.count == names.count else {
            throw ProbeError(path: path, "__metadata__ colors must be a JSON list of \(names.count) [r, g, b] triples")
        }
        var colors: [RGB] = []
        for triple in colorList {
            let v = triple.compactMap { ($0 as? NSNumber)?.intValue }
            guard v.count == 3, v.allSatisfy({ (0...255).contains($0) }) else {
                throw ProbeError(path: path, "__metadata__ colors holds \(triple), not an [r, g, b] triple of 0…255")
            }
            colors.append(RGB(UInt8(v[0]), UInt8(v[1]), UInt8(v[2])))
        }
        guard let thresholdList = try json("thresholds") as? [Any] else {
            throw ProbeError(path: path, "__metadata__ thresholds is not a JSON list")
        }
        let thresholds = thresholdList.compactMap { ($0 as? NSNumber)?.doubleValue }
        guard thresholds.count == thresholdList.count else {
            throw ProbeError(path: path, "__metadata__ thresholds holds non-numbers")
        }
        if task == .multilabel && thresholds.count != names.count {
            throw ProbeError(path: path, "__metadata__ thresholds has \(thresholds.count) values for \(names.count) classes")
        }
        let hash = try key("weights_sha256")
        guard hash.isEmpty || (hash.count == 64 && hash.allSatisfy(\.isHexDigit)) else {
            throw ProbeError(path: path, "__metadata__ weights_sha256 '\(hash)' is not 64 hex digits")
        }
        var frequencies: [Double]?
        if meta["class_frequencies"] != nil, let list = try json("class_frequencies") as? [NSNumber], list.count == names.count {
            frequencies = list.map(\.doubleValue)
        }
        let weight = try file.floats("weight")
        let bias = try file.floats("bias")
        guard weight.allSatisfy(\.isFinite), bias.allSatisfy(\.isFinite) else {
            throw ProbeError(path: path, "weight or bias holds NaN or infinite values")
        }
        self.init(task: task, classes: zip(names, colors).map { ProbeClass(name: $0, color: $1) },
                  thresholds: task == .multilabel ? thresholds : [], feature: feature, weightsSHA256: hash.lowercased(),
                  dimension: w.shape[1], weight: weight, bias: bias, classFrequencies: frequencies,
                  trainingTiles: meta["training_tiles"].flatMap { Int($0) }, C: meta["C"].flatMap { Double($0) },
                  standardized: meta["standardized"].map { $0 == "true" }, source: meta["source"])
        if let text = meta["hour_policy"] {
            guard let hour = HourPolicy(rawValue: text) else {
                throw ProbeError(path: path, "__metadata__ hour_policy is '\(text)', expected utc or published")
            }
            inputHourPolicy = hour
        }
        if let m = meta["metadata"] {
            guard m == "true" || m == "false" else {
                throw ProbeError(path: path, "__metadata__ metadata is '\(m)', expected true or false")
            }
            inputMetadata = m == "true"
        }
    }

    /// The `__metadata__` map written to the file.
    public var fileMetadata: [String: String] {
        var m: [String: String] = [
            "format": Self.formatName,
            "format_version": String(Self.formatVersion),
            "task": task.rawValue,
            "classes": jsonText(classes.map(\.name)),
            "colors": jsonText(classes.map { $0.color.components.map(Int.init) }),
            "thresholds": jsonText(thresholds),
            "feature": feature.rawValue,
            "weights_sha256": weightsSHA256,
        ]
        if let classFrequencies { m["class_frequencies"] = jsonText(classFrequencies) }
        if let trainingTiles { m["training_tiles"] = String(trainingTiles) }
        if let C { m["C"] = String(C) }
        if let standardized { m["standardized"] = standardized ? "true" : "false" }
        if let source { m["source"] = source }
        if let inputHourPolicy { m["hour_policy"] = inputHourPolicy.rawValue }
        if let inputMetadata { m["metadata"] = inputMetadata ? "true" : "false" }
        return m
    }

    /// Writes the probe atomically (temporary name, then rename).
    public func write(to path: String) throws {
        try SafeTensors.write([
            Tensor("weight", weight, shape: [classCount, dimension]),
            Tensor("bias", bias, shape: [classCount]),
        ], metadata: fileMetadata, to: path)
    }
}

/// Compact JSON text of a list (the probe's metadata values).
func jsonText(_ value: Any) -> String {
    guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.withoutEscapingSlashes]),
          let s = String(data: data, encoding: .utf8) else { return "[]" }
    return s
}
