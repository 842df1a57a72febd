import Diagnostics
import Foundation
import Landsat
import MoEMAE
import Probe
import Tiling

/// A refusal of the model-input policy (inputs that contradict each other), in the shape of
/// ``DiagnosedError``: what is wrong and the settings that fix it; the command line names its flags.
public struct ModelInputError: DiagnosedError, Sendable {
    public var kind: FailureKind { .incompatible }
    public var message: String
    public var hint: String?
    public var settings: [Setting]
    public init(_ message: String, hint: String? = nil, settings: [Setting] = []) {
        self.message = message; self.hint = hint; self.settings = settings
    }

    /// `<message>; <hint>`.
    public var description: String { message + (hint.map { "; " + $0 } ?? "") + Setting.mention(settings) }
}

/// A refusal of inputs that are not what the model was trained on (not Collection 2 Level-2 surface
/// reflectance SR_B1…SR_B7), in the shape of ``DiagnosedError``. The caller may accept such inputs anyway
/// (`allowNonSR`); saying how is its advice (``withHint(_:)``: `moemae` names `--allow-non-sr`).
public struct NotModelReady: DiagnosedError, Sendable {
    public var kind: FailureKind { .incompatible }
    public var file: String?
    public var message: String
    public var hint: String?
    public init(path: String, _ message: String, hint: String? = nil) { self.file = path; self.message = message; self.hint = hint }

    /// `<path>: <message>. <Hint>.`
    public var description: String { diagnosis }

    /// The same refusal with the caller's advice.
    public func withHint(_ hint: String) -> NotModelReady { NotModelReady(path: file ?? "", message, hint: hint) }
}

/// How raw tiles become model input in one run: normalisation statistics (per band, in the model's
/// band order), hour policy and metadata on/off (``InputEncoding``).
public struct ModelInput: Sendable, Equatable {
    public var encoding: InputEncoding
    /// The band order the statistics are for (``LandsatBandSet/modelBandNames`` unless the weights
    /// record others).
    public var bands: [String]

    public init(encoding: InputEncoding, bands: [String] = LandsatBandSet.modelBandNames) {
        self.encoding = encoding; self.bands = bands
    }
}

/// The model-input decisions of `tile`, `embed`, `map`, `pretrain` and `probe`, made in one place:
/// whether an input may feed the model (readiness: Collection 2 Level-2 surface reflectance
/// SR_B1…SR_B7, or `allowNonSR`), the hour policy (an explicit choice, else the one recorded with the
/// inputs), metadata on or off, and the normalisation statistics (recorded in weights from `moemae
/// pretrain`, else the BigEarthNet-Landsat statistics of ``InputEncoding``).
///
/// Warnings (inputs accepted although not model-ready, encodings that differ from a probe's) go to
/// `warn` as ``Notice``s (level warning, with the settings concerned; the command line names its flags).
public enum ModelInputResolver {
    /// What `tile` records in a dataset: the hour policy chosen (default utc) and whether the tiles
    /// carry metadata.
    public static func tiling(hour: HourPolicy?, noMetadata: Bool) -> (hour: HourPolicy, metadata: Bool) {
        (hour ?? .utc, !noMetadata)
    }

    /// The start encoding of weights: the normalisation (and hour policy and metadata) recorded by
    /// `moemae pretrain`, else the published conventions.
    static func base(_ trained: WeightsMetadata?) -> ModelInput {
        guard let trained else { return ModelInput(encoding: InputEncoding()) }
        return ModelInput(encoding: trained.inputEncoding, bands: trained.bands)
    }

    /// `embed`: refuses a dataset whose bands are not the model's or whose scenes are not model-ready
    /// unless `allowNonSR` (then warns). Throws ``NotModelReady`` naming `path`.
    public static func checkDataset(_ data: Dataset, path: String, allowNonSR: Bool, warn: (Notice) -> Void) throws {
        let modelBands = LandsatBandSet.modelBandNames
        if !allowNonSR {
            if data.bands != modelBands {
                throw NotModelReady(path: path, "bands are \(data.bands.joined(separator: ",")), the model expects \(modelBands.joined(separator: ",")) (Collection 2 Level-2 surface reflectance)")
            }
            if let bad = data.manifest?.scenes.first(where: { !$0.modelReady }) {
                throw NotModelReady(path: path, "scene \(bad.id) is not model_ready (not Collection 2 Level-2 SR_B1…SR_B7)")
            }
        } else {
            // docs/bands.md: with --allow-non-sr the outputs are less reliable, and the command says so.
            let notReady = data.manifest?.scenes.filter { !$0.modelReady }.map(\.id) ?? []
            if data.bands != modelBands || !notReady.isEmpty {
                let what = data.bands != modelBands ? "bands \(data.bands.joined(separator: ","))"
                    : "scene(s) \(notReady.prefix(3).joined(separator: ", "))\(notReady.count > 3 ? ", …" : "") not model_ready"
                warn(.warning("\(path): \(what); embedded anyway because non-SR inputs are allowed: the model was trained on Collection 2 Level-2 SR_B1…SR_B7, so these embeddings are not meaningful",
                              settings: [.allowNonSR]))
            }
        }
    }

    /// `embed`: hour policy `hour`, else the weights', else the dataset's; metadata when the dataset has
    /// it and `noMetadata` is off. Weights written by `moemae pretrain` record the normalisation and
    /// hour policy they were trained with: those are used. Others (e.g. imported published weights):
    /// BigEarthNet statistics and the dataset's hour policy.
    public static func forDataset(_ data: Dataset, trained: WeightsMetadata?, hour: HourPolicy?, noMetadata: Bool) -> ModelInput {
        var input = base(trained)
        input.encoding.hour = hour ?? trained?.hour ?? data.hourPolicy
        input.encoding.metadata = data.hasMetadata && !noMetadata
        return input
    }

    /// `map`, per scene: refuses a scene that is not Collection 2 Level-2 surface reflectance unless
    /// `allowNonSR` (then warns). Throws ``NotModelReady`` naming `path`.
    public static func checkScene(_ s: SceneSource, path: String, allowNonSR: Bool, warn: (Notice) -> Void) throws {
        guard !s.modelReady else { return }
        let what = "\(s.id) is not Collection 2 Level-2 surface reflectance (\(s.facts.processingLevel), bands \(s.bands.map(\.name).joined(separator: ",")))"
        if !allowNonSR {
            throw NotModelReady(path: path, "\(what): the model was trained on SR_B1…SR_B7 only")
        }
        // docs/bands.md: with --allow-non-sr the outputs are less reliable, and the command says so.
        warn(.warning("\(path): \(what); mapped anyway because non-SR inputs are allowed: its values get the surface-reflectance normalisation, so its maps are not meaningful",
                      settings: [.allowNonSR]))
    }

    /// `map`: hour policy `hour`, else the one the probe's training embeddings used (so scenes are
    /// encoded as the probe's training tiles were), else the weights', else utc; metadata unless
    /// `noMetadata`. Warns when the choice differs from what the probe was fitted on.
    public static func forMapping(probe: LinearProbe, probePath: String, trained: WeightsMetadata?, hour: HourPolicy?,
                                  noMetadata: Bool, warn: (Notice) -> Void) -> ModelInput {
        let probeHour = probe.inputHourPolicy
        let chosen = hour ?? probeHour ?? trained?.hour ?? .utc
        if let probeHour, chosen != probeHour {
            warn(.warning("\(probePath) was fitted on embeddings made with hour policy \(probeHour.rawValue), but hour policy \(chosen.rawValue) is chosen: the probe sees other inputs than it was fitted on",
                          settings: [.hour]))
        }
        if let m = probe.inputMetadata, m == noMetadata {
            warn(.warning("\(probePath) was fitted on embeddings made \(m ? "with" : "without") metadata (week, hour, lat, lon), but this run \(noMetadata ? "zeroes it" : "uses it"); \(m ? "keep" : "zero") the metadata to map as the probe was fitted",
                          settings: [.noMetadata]))
        }
        var input = base(trained)
        input.encoding.hour = chosen
        input.encoding.metadata = !noMetadata
        return input
    }

    /// `pretrain`, new run: starts from `start`'s recorded encoding (`--init` weights) or the published
    /// conventions; hour policy `hour`, else the datasets' (which must agree); metadata when any
    /// dataset has it and `noMetadata` is off. Throws ``ModelInputError`` when the datasets' hour
    /// policies differ and none is chosen.
    public static func forTraining(datasets: [Dataset], paths: [String], start: WeightsMetadata?, hour: HourPolicy?,
                                   noMetadata: Bool) throws -> ModelInput {
        var input = base(start)
        if let hour {
            input.encoding.hour = hour
        } else {
            let policies = Set(datasets.map(\.hourPolicy.rawValue))
            guard policies.count <= 1 else {
                throw ModelInputError("the datasets \(paths.joined(separator: ", ")) use different hour policies (\(policies.sorted().joined(separator: ", ")))", settings: [.hour])
            }
            input.encoding.hour = datasets.first?.hourPolicy ?? .utc
        }
        input.encoding.metadata = datasets.contains { $0.hasMetadata } && !noMetadata
        return input
    }

    /// `probe fit`: the model-input encoding the embeddings were made with (recorded in the probe so
    /// `map` encodes scenes the same way); nil parts when the embeddings do not record them.
    public static func recorded(in table: EmbeddingTable) -> (hour: HourPolicy?, metadata: Bool?) {
        (table.metadata["hour_policy"].flatMap(HourPolicy.init(rawValue:)),
         table.metadata["metadata"].flatMap { $0 == "true" ? true : $0 == "false" ? false : nil })
    }

    /// `probe predict` / `eval`: warnings when the embeddings' model-input encoding differs from the
    /// one the probe was fitted on (its scores are then computed on other features than it learned).
    /// Unknown on either side: no warning.
    public static func mismatches(probe: LinearProbe, probePath: String, table: EmbeddingTable, embeddingsPath: String) -> [Notice] {
        var out: [Notice] = []
        if let fitted = probe.inputHourPolicy, let used = table.metadata["hour_policy"], fitted.rawValue != used {
            out.append(.warning("\(probePath) was fitted on embeddings made with hour policy \(fitted.rawValue), but \(embeddingsPath) was made with \(used); its scores are not comparable (tile with hour policy \(fitted.rawValue) and embed again)",
                                settings: [.hour]))
        }
        if let fitted = probe.inputMetadata, let used = table.metadata["metadata"], (fitted ? "true" : "false") != used {
            out.append(.warning("\(probePath) was fitted on embeddings made \(fitted ? "with" : "without") metadata (week, hour, lat, lon), but \(embeddingsPath) was made \(used == "true" ? "with" : "without") it; its scores are not comparable"))
        }
        return out
    }
}
