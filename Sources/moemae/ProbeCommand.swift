import ArgumentParser
import Foundation
import MoEMAE
import Pipeline
import Probe
import SafeTensors
import Diagnostics

/// `moemae probe`: fit, import, apply and evaluate linear probes on tile embeddings (docs/probes.md).
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Fit, import, apply and evaluate linear probes (land-cover heads) on tile embeddings.",
        discussion: """
        A probe is a linear head on the encoder's embeddings: softmax regression (multiclass) or one-vs-rest \
        logistic regression (multilabel), L2-regularised with scikit-learn's parameterisation (C). \
        Labels come from a BigEarthNet labels folder, a label raster (any CRS/resolution GDAL reads) or a \
        vector file of labelled polygons. See docs/probes.md.
        """,
        subcommands: [Fit.self, Import.self, Predict.self, Eval.self]
    )
}

extension ProbeTask: ExpressibleByArgument {}
extension ProbeFeature: ExpressibleByArgument {}
extension TileSplit.Part: ExpressibleByArgument {}
extension TileSplit.Unit: ExpressibleByArgument {}

/// Where labels come from, shared by `fit` and `eval`.
struct LabelOptions: ParsableArguments {
    @Option(name: .long, help: "Dataset folder written by `moemae tile` (its manifest places the tiles).")
    var dataset: String

    @Option(name: .long, help: "Embeddings file written by `moemae embed` from that dataset.")
    var embeddings: String

    @Option(name: .long, help: ArgumentHelp("Label source: a BigEarthNet patch folder or its labels/ folder; a label raster; or a vector file of polygons (with --class-field).", valueName: "source"))
    var labels: String

    @Option(name: .long, help: "Class attribute of the polygons when --labels is a vector file.")
    var classField: String?

    @Option(name: .long, help: "Label rasters/polygons, multilabel: a class labels a tile when it covers at least this fraction of the tile's labelled pixels.")
    var minFraction: Double = 0.5

    @Option(name: .long, help: "Use only this part of a hash split of the labelled tiles (train or test); default: all.")
    var split: TileSplit.Part?

    @Option(name: .long, help: "Fraction of keys in the test part of the split.")
    var testFraction: Double = 0.25

    @Option(name: .long, help: "Split key: scene (the scene id, e.g. a BigEarthNet patch name) or tile (scene id/row/col).")
    var splitBy: TileSplit.Unit = .scene

    func validate() throws {
        guard minFraction > 0 && minFraction <= 1 else { throw ValidationError("--min-fraction must lie in (0, 1], got \(minFraction)") }
        guard testFraction > 0 && testFraction < 1 else { throw ValidationError("--test-fraction must lie strictly between 0 and 1, got \(testFraction)") }
    }

    var splitChoice: (TileSplit, TileSplit.Part)? {
        split.map { (TileSplit(testFraction: testFraction, unit: splitBy), $0) }
    }

    func labelledTiles(embeddings table: EmbeddingTable, task: ProbeTask) throws -> LabelledTiles {
        let source = try LabelSource(path: labels, classField: classField)
        return try LabelledTiles(datasetPath: dataset, embeddings: table, source: source, task: task,
                                 minFraction: minFraction, split: splitChoice)
    }
}

/// The command line's advice for an output that exists already (``OutputExists``: one line naming it,
/// exit status 1 — not a usage error, which ArgumentParser would report with the usage text and 64).
let replaceOutputAdvice = "choose another --out or pass --overwrite to replace it"

/// An output whose folder is missing (or is not a folder): one line naming it, exit status 1.
struct OutputFolderMissing: Error, CustomStringConvertible {
    let path: String
    var description: String { "\(path): the folder it goes in does not exist; create it or choose another path" }
}

/// Refuses to replace an existing output unless asked to, and an output whose folder does not exist.
/// Throws ``OutputExists`` or ``OutputFolderMissing``.
func checkOutput(_ path: String, overwrite: Bool) throws {
    if FileManager.default.fileExists(atPath: path) && !overwrite {
        throw OutputExists(path: path, hint: replaceOutputAdvice)
    }
    let folder = (path as NSString).deletingLastPathComponent
    var isDir: ObjCBool = false
    if !folder.isEmpty && !(FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) && isDir.boolValue) {
        throw OutputFolderMissing(path: path)
    }
}

/// Warns (stderr) when the embeddings' model-input encoding differs from the one the probe was fitted
/// on (``ModelInputResolver/mismatches(probe:probePath:table:embeddingsPath:)``).
func warnIfEncodingDiffers(probe: LinearProbe, probePath: String, table: EmbeddingTable, embeddingsPath: String) {
    for w in ModelInputResolver.mismatches(probe: probe, probePath: probePath, table: table, embeddingsPath: embeddingsPath) {
        Advice.print(w)
    }
}

func printNotes(_ notes: [String]) {
    for note in notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
}

extension ProbeCommand {
    struct Fit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fit a probe on labelled embeddings.",
            discussion: """
            Minimises C·Σ log-loss + ½‖W‖² (intercept not penalised) with L-BFGS to a gradient tolerance of 1e-8, \
            as scikit-learn's LogisticRegression(C=C) does. The probe records the encoder weights' SHA-256 from \
            the embeddings file, so `map` refuses it with another encoder. The probe is written to --out \
            (.safetensors).
            """
        )

        @OptionGroup var source: LabelOptions

        @Option(name: .long, help: "multiclass (one class per tile, softmax) or multilabel (one-vs-rest).")
        var task: ProbeTask

        @Option(name: .customLong("C"), help: "Inverse L2 regularisation strength (scikit-learn's C).")
        var c: Double = 1.0

        @Flag(name: .long, help: "Standardise each embedding dimension before fitting (folded into the probe).")
        var standardize = false

        @Option(name: .long, help: "Which embedding to fit on: embedding (mean of the final tokens) or cls.")
        var feature: ProbeFeature = .embedding

        @Option(name: .long, help: "Encoder weights file: its SHA-256 must match the one recorded in the embeddings (or is recorded if they lack it).")
        var weights: String?

        @Option(name: .long, help: "Maximum L-BFGS iterations per optimisation.")
        var maxIterations: Int = 10_000

        /// The probe file to write (.safetensors).
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard c > 0 && c.isFinite else { throw ValidationError("--C must be a positive number, got \(c)") }
            guard maxIterations > 0 else { throw ValidationError("--max-iterations must be positive") }
        }

        func run() throws {
            let out = output.out
            try checkOutput(out, overwrite: output.overwrite)
            let table = try EmbeddingTable(path: source.embeddings, feature: feature)
            var hash = table.weightsSHA256.lowercased()
            if let weights {
                let digest = try FileDigest.sha256(ofFile: weights)
                if !hash.isEmpty && hash != digest {
                    throw ProbeError(path: weights, "has SHA-256 \(digest) but \(table.path) was computed with weights \(hash)")
                }
                hash = digest
            }
            let labelled = try source.labelledTiles(embeddings: table, task: task)
            printNotes(labelled.notes)
            let fitter = ProbeFitter(regression: LogisticRegression(C: c, standardize: standardize, maxIterations: maxIterations))
            let (fitted, report) = try fitter.fit(features: table.features(rows: labelled.rows), labels: labelled.labels,
                                                  classes: labelled.classes, task: task, feature: feature,
                                                  weightsSHA256: hash, source: source.labels)
            var probe = fitted
            // The model-input encoding of the training embeddings: `map` encodes scenes the same way.
            (probe.inputHourPolicy, probe.inputMetadata) = ModelInputResolver.recorded(in: table)
            if !report.droppedClasses.isEmpty {
                printNotes(["classes without a training tile are left out of the probe: " + report.droppedClasses.joined(separator: ", ")])
            }
            let unconverged = report.convergence.enumerated().filter { !$0.element.converged }
            for (i, r) in unconverged {
                let which = task == .multilabel ? "class '\(probe.classes[i].name)'" : "the fit"
                FileHandle.standardError.write(Data("warning: \(which) did not converge: \(r.reason)\n".utf8))
            }
            try probe.write(to: out)
            print("wrote \(out): \(task.rawValue) probe, \(probe.classCount) classes × \(probe.dimension) dimensions (\(feature.rawValue)), fitted on \(report.tiles) tiles, C = \(c)\(standardize ? ", standardised" : "")")
            print("L-BFGS: \(report.allConverged ? "converged" : "NOT converged") (at most \(report.maxIterations) iterations)")
            if hash.isEmpty { print("note: the encoder weights' SHA-256 is unknown (the embeddings do not record it; pass --weights)") }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a probe from a NumPy archive with `coef` [C, D] and `intercept` [C] (e.g. from scikit-learn).",
            discussion: "np.savez('coef.npz', coef=clf.coef_, intercept=clf.intercept_); float32/float64, C or Fortran order. The probe is written to --out (.safetensors)."
        )

        @Argument(help: "The .npz archive.")
        var archive: String

        @Option(name: .long, help: "Class names, comma-separated, in the order of the rows of coef.")
        var classes: String?

        @Option(name: .long, help: "JSON file with the class names (a list, or an object with a \"classes\" list).")
        var classesFile: String?

        @Option(name: .long, help: "multiclass or multilabel.")
        var task: ProbeTask = .multiclass

        @Option(name: .long, help: "Which embedding the coefficients apply to: embedding or cls.")
        var feature: ProbeFeature = .embedding

        @Option(name: .long, help: "Decision threshold of every class (multilabel).")
        var threshold: Double = LinearProbe.defaultThreshold

        @Option(name: .long, help: "Encoder weights file the coefficients were fitted for (its SHA-256 is recorded; a safetensors weights file must have the probe's embedding dimension).")
        var weights: String?

        /// The probe file to write (.safetensors).
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard (classes == nil) != (classesFile == nil) else {
                throw ValidationError("give the class names with exactly one of --classes or --classes-file")
            }
        }

        func run() throws {
            let out = output.out
            try checkOutput(out, overwrite: output.overwrite)
            let names: [String]
            if let classes {
                names = classes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            } else {
                names = try LinearProbe.classNames(fromFile: classesFile!)
            }
            let hash = try weights.map { try FileDigest.sha256(ofFile: $0) } ?? ""
            let probe = try LinearProbe.imported(npz: archive, classNames: names, task: task, feature: feature,
                                                 weightsSHA256: hash, threshold: threshold)
            if let weights { try ProbeCommand.checkDimension(of: probe, archive: archive, weights: weights) }
            try probe.write(to: out)
            print("wrote \(out): \(task.rawValue) probe, \(probe.classCount) classes × \(probe.dimension) dimensions (\(feature.rawValue))")
            if hash.isEmpty { print("note: no --weights given: the probe does not record which encoder it belongs to") }
        }
    }

    /// `probe import --weights`: when `weights` is a safetensors file it must be MoE-MAE weights whose embedding dimension D is
    /// the probe's (coef [C, D]); `moemae map` would refuse the pair later. Any other file (e.g. a
    /// checkpoint kept elsewhere) only lends its SHA-256, and a note says the dimension is unchecked.
    static func checkDimension(of probe: LinearProbe, archive: String, weights: String) throws {
        guard (try? SafeTensorsFile(path: weights)) != nil else {
            print("note: --weights \(weights) is not a safetensors file: only its SHA-256 is recorded; the probe's dimension (\(probe.dimension)) is not checked against it")
            return
        }
        let config = try ModelConfig.infer(from: try StateDict.load(path: weights))
        guard probe.dimension == config.embedDim else {
            throw CommandFailure("\(archive): coef has \(probe.dimension) columns (embedding dimension) but --weights \(weights) is a \(config.preset) encoder of dimension \(config.embedDim); fit the coefficients on embeddings of these weights")
        }
    }
}

extension ProbeCommand {
    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score embeddings with a probe: class probabilities and labels per tile.",
            discussion: "Writes --out (.safetensors): scores f32 [N,C], labels, row/col/scene."
        )

        @Option(name: .long, help: "Embeddings file written by `moemae embed`.")
        var embeddings: String

        @Option(name: .long, help: "Probe file; default: the bundled 19-class BigEarthNet probe (docs/model-card.md).")
        var probe: String?

        /// The scores file to write (.safetensors): scores [N,C], labels, row/col/scene.
        @OptionGroup var output: OutputOptions

        func run() throws {
            let out = output.out
            try checkOutput(out, overwrite: output.overwrite)
            let probe = try BundledModel.resolve(weights: nil, probe: self.probe, needsWeights: false, note: MapCommand.note).probe
            let p = try LinearProbe(contentsOf: probe)
            let table = try EmbeddingTable(path: embeddings, feature: p.feature)
            try p.checkCompatible(dimension: table.dimension, weightsSHA256: table.weightsSHA256, source: embeddings)
            warnIfEncodingDiffers(probe: p, probePath: probe, table: table, embeddingsPath: embeddings)
            try ProbeScores.write(probe: p, embeddings: table, probePath: probe, to: out)
            print("wrote \(out): \(table.count) tiles × \(p.classCount) classes (\(p.task.rawValue))")
        }
    }

    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate a probe on labelled embeddings, next to the majority-class baseline.",
            discussion: """
            multiclass: overall accuracy, macro-F1, per-class precision/recall, confusion matrix. multilabel: micro and \
            macro mAP (scikit-learn's average_precision_score), micro and macro F1 at the probe's thresholds.
            """
        )

        @OptionGroup var source: LabelOptions

        @Option(name: .long, help: "Probe file.")
        var probe: String

        @Option(name: .long, help: "Also write the figures as JSON here (schemas/probe-eval.schema.json).")
        var json: String?

        @OptionGroup var replace: OverwriteOptions

        func run() throws {
            if let json { try checkOutput(json, overwrite: replace.overwrite) }
            let p = try LinearProbe(contentsOf: probe)
            let table = try EmbeddingTable(path: source.embeddings, feature: p.feature)
            try p.checkCompatible(dimension: table.dimension, weightsSHA256: table.weightsSHA256, source: source.embeddings)
            warnIfEncodingDiffers(probe: p, probePath: probe, table: table, embeddingsPath: source.embeddings)
            let labelled = try source.labelledTiles(embeddings: table, task: p.task)
            printNotes(labelled.notes)
            let scores = p.scores(table.floatFeatures(rows: labelled.rows), count: labelled.rows.count)
            let evaluation = try ProbeEvaluation(probe: p, scores: scores, truth: labelled.labels,
                                                 labelClasses: labelled.classes.map(\.name))
            print(evaluation.table)
            if let json {
                let data = try evaluation.jsonData()
                let partial = json + ".partial"
                try data.write(to: URL(fileURLWithPath: partial))
                _ = try? FileManager.default.removeItem(atPath: json)
                try FileManager.default.moveItem(atPath: partial, toPath: json)
            }
        }
    }
}
