import Foundation
import SafeTensors
import MoEMAE

/// The state of a pretraining run, saved so that `--resume` continues exactly where it stopped.
///
/// `DIR/checkpoint.safetensors`: every unique parameter under its canonical state-dict key (F32),
/// AdamW's moments as `optimizer.exp_avg` and `optimizer.exp_avg_sq` (F32 `[P]`, in
/// ``ParameterLayout`` order), and in `__metadata__`: `format` = `moemae-checkpoint`, `format_version`,
/// `step` (optimizer steps done), `run` (``PretrainingRun`` JSON: seed, batch size, epochs, mask ratio,
/// …), the ``WeightsMetadata`` keys, and `rng` — the description of the counter-based random streams
/// (their state is a function of the seed and the step, so nothing else needs saving).
/// Written under a temporary name and renamed (``SafeTensorsStreamWriter``).
public struct TrainingCheckpoint: Sendable {
    public var store: ParameterStore
    public var optimizer: AdamW
    public var run: PretrainingRun
    public var weightsMetadata: WeightsMetadata

    public static let formatName = "moemae-checkpoint"
    public static let fileName = "checkpoint.safetensors"
    public static let rngDescription = "xoshiro256** seeded by SplitMix64 from (seed, stream, counter): step s → gate noise and dropout, epoch e → masks and shuffle"

    public init(store: ParameterStore, optimizer: AdamW, run: PretrainingRun, weightsMetadata: WeightsMetadata) {
        self.store = store; self.optimizer = optimizer; self.run = run; self.weightsMetadata = weightsMetadata
    }

    public func write(folder: String) throws {
        var meta = weightsMetadata.dictionary
        meta["format"] = Self.formatName
        meta["format_version"] = "1"
        meta["step"] = String(optimizer.step)
        meta["rng"] = Self.rngDescription
        // Sorted keys: the same run gives the same checkpoint bytes in every process (KillTests).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(run)
        meta["run"] = String(data: data, encoding: .utf8) ?? "{}"
        var tensors: [Tensor] = store.layout.entries.map { e in
            Tensor(e.name, Array(store.values[e.offset..<(e.offset + e.count)]), shape: e.shape)
        }
        tensors.append(Tensor("optimizer.exp_avg", optimizer.m, shape: [optimizer.m.count]))
        tensors.append(Tensor("optimizer.exp_avg_sq", optimizer.v, shape: [optimizer.v.count]))
        try SafeTensors.write(tensors, metadata: meta, to: (folder as NSString).appendingPathComponent(Self.fileName))
    }

    /// Reads `DIR/checkpoint.safetensors`. Throws naming the file and what is wrong.
    public static func read(folder: String) throws -> TrainingCheckpoint {
        let path = (folder as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else {
            throw ModelError.invalidInput("\(folder): no \(fileName) to resume from (is it the output folder of an earlier pretraining run?)")
        }
        let file = try SafeTensorsFile(path: path)
        guard file.metadata["format"] == formatName else {
            throw ModelError.invalidInput("\(path): not a moemae training checkpoint (__metadata__ format is '\(file.metadata["format"] ?? "")')")
        }
        guard let runJSON = file.metadata["run"]?.data(using: .utf8), let run = try? JSONDecoder().decode(PretrainingRun.self, from: runJSON),
              let step = file.metadata["step"].flatMap({ Int($0) }), step >= 0 else {
            throw ModelError.invalidInput("\(path): __metadata__ 'run' or 'step' is missing or malformed")
        }
        guard let wm = try WeightsMetadata.read(metadata: file.metadata, source: path), let config = wm.config else {
            throw ModelError.invalidInput("\(path): __metadata__ lacks the model configuration and normalisation")
        }
        let layout = try ParameterLayout(config: config)
        var entries: [String: StateDict.Entry] = [:]
        for e in layout.entries {
            entries[e.name] = StateDict.Entry(shape: try file.check(e.name, shape: e.shape).shape, values: try file.floats(e.name))
        }
        let store = try ParameterStore(layout: layout, weights: StateDict(source: path, entries: entries))
        var optimizer = AdamW(parameterCount: layout.totalCount, weightDecay: Float(run.weightDecay))
        try file.check("optimizer.exp_avg", shape: [layout.totalCount]); try file.check("optimizer.exp_avg_sq", shape: [layout.totalCount])
        optimizer.m = try file.floats("optimizer.exp_avg")
        optimizer.v = try file.floats("optimizer.exp_avg_sq")
        optimizer.step = step
        return TrainingCheckpoint(store: store, optimizer: optimizer, run: run, weightsMetadata: wm)
    }
}

/// Writes a weights file: every published state-dict key (shared tensors repeated under each alias,
/// so any MoE-MAE loader reads it), F32 or F16, with the ``WeightsMetadata`` in `__metadata__`.
public enum WeightsWriter {
    public static func write(_ store: ParameterStore, metadata: WeightsMetadata, to path: String, half: Bool = false) throws {
        var tensors: [Tensor] = []
        for e in store.layout.entries {
            let values = Array(store.values[e.offset..<(e.offset + e.count)])
            for key in [e.name] + e.aliases {
                if half {
                    let bits = values.map(\.halfBits)
                    tensors.append(Tensor(key, dtype: .f16, shape: e.shape, bytes: bits.withUnsafeBytes { Array($0) }))
                } else {
                    tensors.append(Tensor(key, values, shape: e.shape))
                }
            }
        }
        try SafeTensors.write(tensors, metadata: metadata.dictionary, to: path)
    }
}
