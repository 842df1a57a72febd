import Diagnostics
import Foundation
import Landsat
import MoEMAE
import Probe
import Tiling

/// What every scene of a map run shares, loaded and checked once: the encoder weights (immutable,
/// shared read-only by the encoder workers of every scene), the probe, their SHA-256s, the input
/// encoding (normalisation, hour policy, metadata), the output layout's model facts and the run
/// fingerprint's options. ``MapJob`` maps its scenes with one session; ``ClusterMapJob`` keeps one
/// for all the manifest lines of an array task instead of loading the weights again per scene.
public final class MapSession: @unchecked Sendable {
    public let options: MapOptions
    public let model: MoEMAEModel
    public let probe: LinearProbe
    public let weightsSHA256: String
    public let probeSHA256: String
    /// The options as run for run summaries: the hour policy actually used, not "default (…)".
    public let summaryOptions: [String: String]
    let encoding: InputEncoding
    let tokenLayers: [Int]
    let expertsPerLayer: [Int]
    let fingerprintOptions: [String: String]
    let runFacts: [String: String]
    let progressMode: ProgressReporter.Mode

    /// Checks and loads everything that does not depend on a scene: weights and probe readable, the
    /// probe fitted on these weights (SHA-256) and of their dimension, at most 255 classes; sets the
    /// process's BLAS thread count (``BLAS/setThreads(_:)``).
    /// - Throws: ``MapError`` or the loaders' errors, naming the file, before any output is written.
    public init(options: MapOptions, moemaeVersion: String, note: @escaping (Notice) -> Void) throws {
        try options.validate()
        for (what, setting, path) in [("weights", Setting.weights, options.weights), ("probe", .probe, options.probe)]
        where !FileManager.default.isReadableFile(atPath: path) {
            throw MapError(path: path, "cannot read the \(what) file (does it exist?)", settings: [setting])
        }
        let probe = try LinearProbe(contentsOf: options.probe)
        // Load the weights before comparing fingerprints: a truncated or foreign --weights file is
        // reported as such, not as a probe mismatch (its hash differs from everything).
        // bf16 on a CPU without AVX512_BF16 is refused here, before any output exists.
        let model = try MoEMAEModel.load(path: options.weights).converted(to: options.precision)
        let config = model.config
        let weightsSHA = try FileDigest.sha256(ofFile: options.weights)
        let probeSHA = try FileDigest.sha256(ofFile: options.probe)
        if probe.weightsSHA256.isEmpty {
            note(.warning("\(options.probe) does not record which encoder weights it was fitted on; cannot check that it matches \(options.weights)"))
        } else if probe.weightsSHA256.lowercased() != weightsSHA {
            throw MapError(path: options.probe, "was fitted on embeddings of encoder weights with SHA-256 \(probe.weightsSHA256.prefix(12))…, but the weights \(options.weights) have SHA-256 \(weightsSHA.prefix(12))…; give the weights the probe was fitted on, or fit a probe on these weights (moemae embed, then moemae probe fit)",
                           settings: [.weights, .probe])
        }
        guard probe.classCount >= 1, probe.classCount <= 255 else {
            throw MapError(path: options.probe, "has \(probe.classCount) classes; label maps are UInt8 with 255 as nodata, so at most 255 classes")
        }
        guard probe.dimension == config.embedDim else {
            throw MapError(path: options.probe, "expects \(probe.dimension)-dimensional embeddings but the weights \(options.weights) are a \(config.preset) encoder of dimension \(config.embedDim); fit the probe on embeddings of these weights",
                           settings: [.weights, .probe])
        }

        // The model input (ModelInputResolver.forMapping): the chosen hour policy, else the one the probe's
        // training embeddings used, else the weights' (pretrain records normalisation and hour policy),
        // else utc; metadata unless noMetadata; warnings where this differs from what the probe was fitted on.
        let trained = try WeightsMetadata.read(path: options.weights)
        let encoding = ModelInputResolver.forMapping(probe: probe, probePath: options.probe, trained: trained, hour: options.hour,
                                                     noMetadata: options.noMetadata, warn: note).encoding
        let hour = encoding.hour
        // OpenBLAS's thread count is process-wide: set once for the whole job (every worker uses it).
        BLAS.setThreads(options.blasThreads)
        var fingerprintOptions = options.outputAffecting
        fingerprintOptions["hour"] = hour.rawValue
        var summaryOptions = options.summaryFields
        summaryOptions["hour"] = hour.rawValue

        self.options = options
        self.model = model
        self.probe = probe
        self.weightsSHA256 = weightsSHA
        self.probeSHA256 = probeSHA
        self.summaryOptions = summaryOptions
        self.encoding = encoding
        self.tokenLayers = try options.tokenExperts.resolve(layerCount: config.depth)
        self.expertsPerLayer = (0..<config.depth).map { config.expertCount(layer: $0) }
        self.fingerprintOptions = fingerprintOptions
        self.runFacts = ["weights": MapJob.absolutePath(options.weights), "probe": MapJob.absolutePath(options.probe),
                         "weights_sha256": weightsSHA, "probe_sha256": probeSHA, "preset": config.preset,
                         "hour_policy": hour.rawValue, "metadata": String(!options.noMetadata), "moemae_version": moemaeVersion,
                         "precision": options.precision.rawValue]
        self.progressMode = ProgressReporter.mode(quiet: options.quiet)
    }

    /// The per-scene refusals (``MapJob``): not model-ready unless `allowNonSR` (``NotModelReady``; with
    /// it, a warning), or a band count the encoder does not take. `input` names the scene in messages.
    public func check(_ s: SceneSource, input: String, note: (Notice) -> Void) throws {
        try MapJob.check(s, input: input, options: options, inChannels: model.config.inChannels, weights: options.weights, note: note)
    }

    /// The run fingerprint of `s` with this session's weights, probe and output-affecting options
    /// (``RunFingerprint``): what its STAC Item must carry for the scene to count as complete.
    public func fingerprint(of s: SceneSource) throws -> String {
        RunFingerprint.compute(inputs: s.files, weightsSHA256: weightsSHA256, probeSHA256: probeSHA256, options: fingerprintOptions)
    }

    /// Maps one scene into `options.out` (``SceneMapper``) with this session's model and probe.
    /// `options` supplies the per-call output settings (`out`, `resume`, `overwrite`); the encoder and
    /// output-affecting settings are the session's.
    public func map(_ s: SceneSource, options callOptions: MapOptions, fingerprint: String, cancellation: CancellationToken,
                    note: @escaping (Notice) -> Void) throws -> SceneMapResult {
        let config = model.config
        let source = try StripReaderSource(scene: s, tileSize: config.imageSize, metadata: !options.noMetadata)
        let scene = source.mapScene()
        let layout = MapOutputLayout(gridRows: source.gridRows, gridCols: source.gridCols, expertsPerLayer: expertsPerLayer,
                                     tokens: config.tokenCount, slots: 2, classNames: probe.classes.map(\.name),
                                     classColors: probe.classes.map(\.color.components), tokenLayers: tokenLayers,
                                     writeScores: options.scores, embeddingDimension: options.embeddings ? config.embedDim : nil)
        let (model, probe, encoding, options) = (self.model, self.probe, self.encoding, self.options)
        return try SceneMapper.run(scene: scene, source: source, layout: layout, options: callOptions, fingerprint: fingerprint,
                                   cancellation: cancellation, progressMode: progressMode, runFacts: runFacts, note: note) { _ in
            MoEMAEBatchEncoder(model: model, probe: probe, encoding: encoding, keepScores: options.scores, keepEmbeddings: options.embeddings)
        }
    }
}
