import Foundation
import MoEMAE
import SafeTensors

/// The tensors of a weights file (safetensors) or a `torch.save` checkpoint, with the parameter
/// count that counts shared tensors once and the architecture read off the tensor shapes.
///
/// Shared tensors (`docs/model.md`, "Checkpoints"): the reference shares each layer's `V` and
/// `W2` among all its experts and `patch_embed.*` with `encoder.patch_proj.*`; the state dict lists
/// them under every key. In a checkpoint, keys that view the same storage with the same offset,
/// size and stride are one parameter. A safetensors file has no storages, so a key is an alias
/// when it follows one of those two naming rules *and* holds the same dtype, shape and bytes as
/// the key it aliases (`…experts.0.V…`, `encoder.patch_proj.…`).
public struct TensorInventory: Sendable {
    public enum Source: Sendable, Equatable {
        case safetensors(metadata: [String: String])
        case checkpoint(epoch: Int?, bestTrainLoss: Double?, bareStateDict: Bool)
    }

    public struct Item: Sendable, Equatable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        public var elementCount: Int { shape.reduce(1, *) }
        /// The first key (in file order) holding the same parameter, when this key is an alias.
        public var sharedWith: String?
    }

    public let path: String
    public let source: Source
    /// Tensors in file order (state-dict order for checkpoints and for files `moemae weights import` wrote).
    public let items: [Item]
    /// Elements of the distinct parameters (aliases counted once).
    public let parameterCount: Int
    /// Elements of the distinct parameters that an `encoder.*` key holds.
    public let encoderParameterCount: Int
    /// Shapes-derived architecture, nil when the file has no `encoder.pos_embed`.
    public let architecture: InferredArchitecture?

    /// Reads `path`: a zip (`PK\3\4`) or a `.pth`/`.pt` file is read as a `torch.save`
    /// checkpoint (so a legacy or broken one gets the checkpoint reader's message), anything else
    /// as safetensors. Throws ``CheckpointError`` or ``SafeTensorsError``.
    public init(path: String) throws {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        if TensorInventory.isZip(path: path) || ext == "pth" || ext == "pt" {
            try self.init(checkpoint: TorchCheckpoint(path: path))
        } else {
            try self.init(safetensors: SafeTensorsFile(path: path))
        }
    }

    /// Checkpoint: aliases are keys viewing the same storage region.
    public init(checkpoint: TorchCheckpoint) {
        var firstByView: [TorchTensorReference: Int] = [:]
        var group: [Int] = []
        for (i, e) in checkpoint.stateDict.enumerated() {
            var view = e.tensor
            view.requiresGrad = false
            if let g = firstByView[view] { group.append(g) } else { firstByView[view] = i; group.append(i) }
        }
        let items = checkpoint.stateDict.map { Item(name: $0.name, dtype: $0.tensor.dtype, shape: $0.tensor.shape) }
        self.init(path: checkpoint.path,
                  source: .checkpoint(epoch: checkpoint.epoch, bestTrainLoss: checkpoint.bestTrainLoss,
                                      bareStateDict: checkpoint.isBareStateDict),
                  items: items, group: group)
    }

    /// Safetensors: aliases by the naming rules, confirmed byte for byte.
    public init(safetensors file: SafeTensorsFile) {
        let infos = file.tensors
        var index: [String: Int] = [:]
        for (i, t) in infos.enumerated() { index[t.name] = i }
        var group = Array(infos.indices)
        for (i, t) in infos.enumerated() {
            guard let canonical = TensorInventory.aliasTarget(of: t.name), let j = index[canonical], j != i else { continue }
            let u = infos[j]
            guard u.dtype == t.dtype, u.shape == t.shape else { continue }
            let a = file.rawBytes(t), b = file.rawBytes(u)
            guard a.elementsEqual(b) else { continue }
            group[i] = j
        }
        // Point every alias at the first key of its group in file order.
        for i in group.indices {
            var g = group[i]
            while group[g] != g { g = group[g] }
            group[i] = g
        }
        var first: [Int: Int] = [:]
        for i in group.indices where first[group[i]] == nil { first[group[i]] = i }
        group = group.map { first[$0]! }
        let items = infos.map { Item(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
        self.init(path: file.path, source: .safetensors(metadata: file.metadata), items: items, group: group)
    }

    /// `group[i]` is the index of the first item holding item i's parameter (≤ i).
    private init(path: String, source: Source, items rawItems: [Item], group: [Int]) {
        self.path = path
        self.source = source
        var items = rawItems
        var encoderGroups = Set<Int>()
        for (i, g) in group.enumerated() {
            if g != i { items[i].sharedWith = items[g].name }
            if items[i].name.hasPrefix("encoder.") { encoderGroups.insert(g) }
        }
        self.items = items
        var total = 0, encoder = 0
        for (i, g) in group.enumerated() where g == i {
            total += items[i].elementCount
            if encoderGroups.contains(i) { encoder += items[i].elementCount }
        }
        parameterCount = total
        encoderParameterCount = encoder
        architecture = InferredArchitecture(items: items)
    }

    /// The key a shared tensor aliases under the reference's naming, or nil.
    static func aliasTarget(of name: String) -> String? {
        if name.hasPrefix("patch_embed.") {
            return "encoder.patch_proj." + name.dropFirst("patch_embed.".count)
        }
        var parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let e = parts.firstIndex(of: "experts"), e >= 1, parts[e - 1] == "moe",
              e + 2 < parts.count, let expert = Int(parts[e + 1]), expert != 0,
              parts[e + 2] == "V" || parts[e + 2] == "W2" else { return nil }
        parts[e + 1] = "0"
        return parts.joined(separator: ".")
    }

    static func isZip(path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        guard let magic = try? h.read(upToCount: 4) else { return false }
        return magic == Data([0x50, 0x4B, 0x03, 0x04])
    }
}

/// The MoE-MAE architecture as far as tensor shapes reveal it (`docs/model.md`, "Presets").
/// Head counts cannot be read from shapes (only the key/value width `G·D/H` can); the preset is
/// matched against ``ModelConfig/presets`` (their expert-size and expert-count formulas), so the
/// matching rule lives in one place.
public struct InferredArchitecture: Sendable, Equatable {
    /// D, from `encoder.pos_embed` [1, T, D].
    public var embedDim: Int
    /// T (105 = 4 metadata tokens + CLS + 100 patches).
    public var tokenCount: Int
    /// Number of `encoder.layers.i` blocks.
    public var depth: Int
    /// Experts per encoder layer (count of `encoder.layers.i.moe.experts.e.W.weight`).
    public var expertsPerLayer: [Int]
    /// Expert hidden size per encoder layer (rows of `…experts.0.W.weight`).
    public var expertHidden: [Int]
    /// Key/value projection width `G·hd` (rows of `encoder.layers.0.attn.k_proj.weight`).
    public var keyValueDim: Int
    /// Number of `decoder_layers.j` blocks (0 for an encoder-only file).
    public var decoderDepth: Int
    /// Decoder width (rows of `decoder_embed.weight`), when present.
    public var decoderDim: Int?
    /// The preset whose encoder every inferred dimension matches, nil for a custom model.
    public var presetConfig: ModelConfig?
    /// "S", "XS" or "XXS" when ``presetConfig`` matched; nil otherwise.
    public var preset: String? { presetConfig?.preset }

    init?(items: [TensorInventory.Item]) {
        var shapes: [String: [Int]] = [:]
        for item in items { shapes[item.name] = item.shape }
        guard let pos = shapes["encoder.pos_embed"], pos.count == 3 else { return nil }
        embedDim = pos[2]
        tokenCount = pos[1]
        var experts: [Int: Set<Int>] = [:]
        var decoderLayers = Set<Int>()
        for item in items {
            let p = item.name.split(separator: ".")
            if p.count >= 3, p[0] == "encoder", p[1] == "layers", let i = Int(p[2]) {
                if experts[i] == nil { experts[i] = [] }
                if p.count == 8, p[3] == "moe", p[4] == "experts", let e = Int(p[5]), p[6] == "W", p[7] == "weight" {
                    experts[i]!.insert(e)
                }
            } else if p.count >= 2, p[0] == "decoder_layers", let j = Int(p[1]) {
                decoderLayers.insert(j)
            }
        }
        depth = experts.count
        expertsPerLayer = (0..<depth).map { experts[$0]?.count ?? 0 }
        expertHidden = (0..<depth).map { shapes["encoder.layers.\($0).moe.experts.0.W.weight"]?.first ?? 0 }
        keyValueDim = shapes["encoder.layers.0.attn.k_proj.weight"]?.first ?? 0
        decoderDepth = decoderLayers.count
        decoderDim = shapes["decoder_embed.weight"]?.first
        presetConfig = nil
        presetConfig = ModelConfig.presets.first { matches($0) }
    }

    /// True when the encoder's shapes are exactly those `config` builds.
    public func matches(_ config: ModelConfig) -> Bool {
        embedDim == config.embedDim && depth == config.depth && tokenCount == config.tokenCount
            && keyValueDim == config.kvGroups * config.headDim
            && expertsPerLayer == (0..<depth).map(config.expertCount(layer:))
            && expertHidden == (0..<depth).map(config.expertHidden(layer:))
    }
}
