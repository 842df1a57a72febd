import SafeTensors

/// Float tensors by state-dict key (the published PyTorch names, e.g.
/// `encoder.layers.3.attn.q_proj.weight`), converted to Float32 on load.
///
/// Read from a safetensors file (``load(path:)``: F32, F16, BF16 and F64 accepted) or built in
/// memory (by a checkpoint importer or a training loop).
public struct StateDict: Sendable {
    public struct Entry: Sendable, Equatable {
        public var shape: [Int]
        public var values: [Float]
        public init(shape: [Int], values: [Float]) { self.shape = shape; self.values = values }
    }

    /// Where the tensors came from (a file path, or a description); used in error messages.
    public var source: String
    public var entries: [String: Entry]

    public init(source: String, entries: [String: Entry] = [:]) {
        self.source = source; self.entries = entries
    }

    /// Reads every tensor of a safetensors weights file. The file's header is validated by
    /// ``SafeTensorsFile`` (truncated data, overlapping or out-of-range offsets, unknown dtypes all
    /// throw ``SafeTensorsError`` naming the tensor); a tensor whose dtype is not floating point throws
    /// ``ModelError/unsupportedWeightDType(path:key:dtype:)``.
    public static func load(path: String) throws -> StateDict {
        let file = try SafeTensorsFile(path: path)
        var entries: [String: Entry] = [:]
        for info in file.tensors {
            switch info.dtype {
            case .f32, .f16, .bf16, .f64:
                entries[info.name] = Entry(shape: info.shape, values: try file.floats(info.name))
            default:
                throw ModelError.unsupportedWeightDType(path: path, key: info.name, dtype: info.dtype.rawValue)
            }
        }
        return StateDict(source: path, entries: entries)
    }

    /// Shape of `key`, or nil.
    public func shape(_ key: String) -> [Int]? { entries[key]?.shape }

    /// The values of `key`, checked against `shape`. Throws ``ModelError`` naming the key.
    public func tensor(_ key: String, shape: [Int]) throws -> [Float] {
        guard let e = entries[key] else { throw ModelError.missingWeight(path: source, key: key) }
        guard e.shape == shape else {
            throw ModelError.wrongWeightShape(path: source, key: key, expected: shape, found: e.shape)
        }
        return e.values
    }

    /// A `Linear` from `prefix.weight` `[out, in]` and `prefix.bias` `[out]`.
    public func linear(_ prefix: String, in inFeatures: Int, out outFeatures: Int) throws -> Linear {
        Linear(inFeatures: inFeatures, outFeatures: outFeatures,
               weight: try tensor(prefix + ".weight", shape: [outFeatures, inFeatures]),
               bias: try tensor(prefix + ".bias", shape: [outFeatures]))
    }

    /// A `LayerNorm` from `prefix.weight` and `prefix.bias` `[dim]`.
    public func layerNorm(_ prefix: String, dim: Int, epsilon: Float) throws -> LayerNorm {
        LayerNorm(dim: dim, weight: try tensor(prefix + ".weight", shape: [dim]),
                  bias: try tensor(prefix + ".bias", shape: [dim]), epsilon: epsilon)
    }
}
