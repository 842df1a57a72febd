import Diagnostics
import Foundation
import GeoRaster
import Landsat
import MoEMAE
import Tiling
import Yams

/// An error in a pipeline YAML file: the file, the line when known, and what is wrong.
public struct PipelineFileError: Error, CustomStringConvertible {
    public let path: String
    public let line: Int?
    public let message: String
    public init(path: String, line: Int?, _ message: String) { self.path = path; self.line = line; self.message = message }
    public var description: String { line.map { "\(path):\($0): \(message)" } ?? "\(path): \(message)" }
}

extension PipelineFileError: DiagnosedError {
    public var kind: FailureKind { .read }
    public var file: String? { line.map { "\(path):\($0)" } ?? path }
}

/// A declarative `moemae map` run: a YAML mapping whose keys are the `map` option names
/// (``MapOptions/fieldNames``) plus an optional `description`. Schema: `schemas/pipeline.schema.json`.
///
/// Relative paths (`scenes`, `weights`, `probe`, `out`) are resolved against the folder holding the YAML
/// file, so a pipeline runs the same from any working directory.
public enum PipelineFile {
    /// Keys allowed besides the option names.
    public static let extraFields = ["description"]

    /// Largest pipeline file read, in bytes (1 MiB; the shipped pipelines are under 2 KB).
    public static let maxBytes = 1 << 20
    /// Deepest nesting accepted (indentation columns + block indicators + open flow brackets on a
    /// line). Yams builds its node tree recursively, so an unbounded nesting would overflow the stack.
    public static let maxNesting = 64

    /// Refuses a file larger than ``maxBytes`` or nested deeper than ``maxNesting`` before Yams sees it
    /// (docs/reliability.md, "Limits"). The depth is over-estimated, never under-estimated: every nesting
    /// level needs one more indentation column, one more `- `/`? ` indicator or one more open `[`/`{`.
    static func checkLimits(_ text: String, path: String) throws {
        guard text.utf8.count <= maxBytes else {
            throw PipelineFileError(path: path, line: nil, "the file has \(text.utf8.count) bytes, more than the \(maxBytes) a pipeline file may have")
        }
        var flow = 0
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = Substring(line)
            var depth = 0
            while let c = rest.first, c == " " || c == "\t" { depth += 1; rest = rest.dropFirst() }
            while rest.hasPrefix("- ") || rest.hasPrefix("? ") || rest.hasPrefix(": ") {
                depth += 2
                rest = rest.dropFirst(2)
                while rest.first == " " { rest = rest.dropFirst() }
            }
            var quote: Character?
            var previous: Character = " "
            for c in rest {
                defer { previous = c }
                if let q = quote { if c == q { quote = nil }; continue }
                if c == "#", previous == " " || previous == "\t" { break }  // a comment
                switch c {
                case "\"", "'": quote = c
                case "[", "{": flow += 1
                case "]", "}": flow = max(0, flow - 1)
                default: break
                }
                if depth + flow > maxNesting { break }
            }
            if depth + flow > maxNesting {
                throw PipelineFileError(path: path, line: number + 1, "nested deeper than \(maxNesting) levels; a pipeline file is a flat mapping of options (limit: docs/reliability.md)")
            }
        }
    }

    /// Reads, validates and resolves a pipeline file. Throws ``PipelineFileError`` naming the file
    /// and line of the first problem (unknown field, wrong type, value out of range, missing field).
    public static func load(path: String, note: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws -> MapOptions {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineFileError(path: path, line: nil, "cannot read the pipeline file (does it exist?)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PipelineFileError(path: path, line: nil, "not UTF-8 text")
        }
        let base = (URL(fileURLWithPath: path).deletingLastPathComponent().path as NSString).standardizingPath
        return try parse(yaml: text, path: path, baseDirectory: base, note: note)
    }

    /// Parses pipeline YAML text; `path` is only used in messages.
    /// `weights` and `probe` left out: the bundled model (``BundledModel/resolve(weights:probe:needsProbe:executablePath:environment:note:)``;
    /// `note` gets the line saying so).
    public static func parse(yaml text: String, path: String, baseDirectory: String?,
                             note: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws -> MapOptions {
        try checkLimits(text, path: path)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw PipelineFileError(path: path, line: nil, "not valid YAML: \(error)")
        }
        guard let root, case .mapping(let mapping) = root else {
            throw PipelineFileError(path: path, line: root?.mark?.line, "the file must be a YAML mapping of map options (see schemas/pipeline.schema.json)")
        }
        var fields: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else {
                throw PipelineFileError(path: path, line: keyNode.mark?.line, "field names must be strings")
            }
            guard MapOptions.fieldNames.contains(key) || extraFields.contains(key) else {
                let hint = suggestion(for: key).map { " (did you mean '\($0)'?)" } ?? ""
                throw PipelineFileError(path: path, line: keyNode.mark?.line,
                                        "unknown field '\(key)'\(hint); allowed: \((MapOptions.fieldNames + extraFields).joined(separator: ", "))")
            }
            if fields[key] != nil {
                throw PipelineFileError(path: path, line: keyNode.mark?.line, "field '\(key)' appears twice")
            }
            fields[key] = value
        }
        for required in ["scenes", "out"] where fields[required] == nil {
            throw PipelineFileError(path: path, line: nil, "required field '\(required)' is missing")
        }
        let reader = FieldReader(path: path, fields: fields, base: baseDirectory)
        // weights and probe: the bundled demonstration model when left out (``BundledModel``).
        let model: (weights: String, probe: String)
        do {
            model = try BundledModel.resolve(weights: fields["weights"] == nil ? nil : try reader.path("weights"),
                                             probe: fields["probe"] == nil ? nil : try reader.path("probe"), note: note)
        } catch let e as MapOptionsError {
            throw PipelineFileError(path: path, line: nil, e.message)   // names the fields weights and probe
        }
        var o = MapOptions(scenes: try reader.paths("scenes"), weights: model.weights, probe: model.probe,
                           out: try reader.path("out"))
        if let v = try reader.int("workers") { o.workers = v }
        if let v = try reader.int("batch-size") { o.batchSize = v }
        if let v = try reader.int("blas-threads") { o.blasThreads = v }
        if let v = try reader.int("queue-depth") { o.queueDepth = v }
        if let v = try reader.string("precision") {
            guard let p = Precision(rawValue: v) else {
                throw PipelineFileError(path: path, line: fields["precision"]?.mark?.line,
                                        "'precision' must be one of \(Precision.allCases.map(\.rawValue).joined(separator: ", ")) (found '\(v)')")
            }
            o.precision = p
        }
        if let v = try reader.number("min-valid") { o.minValid = v }
        if let v = try reader.tokenExperts("token-experts") { o.tokenExperts = v }
        if let v = try reader.bool("scores") { o.scores = v }
        if let v = try reader.bool("embeddings") { o.embeddings = v }
        if let v = try reader.bool("preview") { o.preview = v }
        if let v = try reader.bool("resume") { o.resume = v }
        if let v = try reader.bool("quiet") { o.quiet = v }
        if let v = try reader.string("hour") {
            guard let policy = HourPolicy(rawValue: v) else {
                throw PipelineFileError(path: path, line: fields["hour"]?.mark?.line,
                                        "'hour' must be one of \(HourPolicy.allCases.map(\.rawValue).joined(separator: ", ")) (found '\(v)')")
            }
            o.hour = policy
        }
        if let v = try reader.bool("no-metadata") { o.noMetadata = v }
        if let v = try reader.bool("allow-non-sr") { o.allowNonSR = v }
        if let v = try reader.bool("overwrite") { o.overwrite = v }
        _ = try reader.string("description")
        do {
            try o.validate()
        } catch let e as MapOptionsError {
            throw PipelineFileError(path: path, line: nil, e.message)
        }
        return o
    }

    private static func suggestion(for key: String) -> String? {
        let normalized = key.replacingOccurrences(of: "_", with: "-").lowercased()
        if MapOptions.fieldNames.contains(normalized) { return normalized }
        return MapOptions.fieldNames.first { $0.hasPrefix(String(normalized.prefix(4))) }
    }

    private struct FieldReader {
        let path: String
        let fields: [String: Node]
        let base: String?

        func fail(_ key: String, _ what: String) -> PipelineFileError {
            let found = fields[key].map { " (found \(describe($0)))" } ?? ""
            return PipelineFileError(path: path, line: fields[key]?.mark?.line, "'\(key)' must be \(what)\(found)")
        }

        func describe(_ node: Node) -> String {
            switch node {
            case .scalar(let s): return "'\(s.string)'"
            case .sequence: return "a list"
            case .mapping: return "a mapping"
            }
        }

        func isNull(_ node: Node) -> Bool { node.tag.isKind(Tag.Name.null) }

        func string(_ key: String) throws -> String? {
            guard let n = fields[key], !isNull(n) else { return nil }
            guard case .scalar = n, n.tag.isKind(Tag.Name.str) else { throw fail(key, "a string") }
            return n.string
        }

        func resolve(_ p: String) -> String {
            // URLs (s3://, https://; docs/cloud.md) are not paths.
            if RemoteLocation.isRemote(p) { return p }
            let expanded = (p as NSString).expandingTildeInPath
            guard let base, !expanded.hasPrefix("/") else { return expanded }
            return ((base as NSString).appendingPathComponent(expanded) as NSString).standardizingPath
        }

        func path(_ key: String) throws -> String {
            guard let s = try string(key), !s.isEmpty else { throw fail(key, "a non-empty path") }
            return resolve(s)
        }

        func paths(_ key: String) throws -> [String] {
            guard let n = fields[key] else { return [] }
            if case .scalar = n, n.tag.isKind(Tag.Name.str), let s = n.string, !s.isEmpty { return [resolve(s)] }
            guard case .sequence(let seq) = n, !seq.isEmpty else { throw fail(key, "a non-empty list of paths") }
            return try seq.map { item in
                guard case .scalar = item, item.tag.isKind(Tag.Name.str), let s = item.string, !s.isEmpty else {
                    throw PipelineFileError(path: path, line: item.mark?.line, "every entry of '\(key)' must be a path (found \(describe(item)))")
                }
                return resolve(s)
            }
        }

        func int(_ key: String) throws -> Int? {
            guard let n = fields[key], !isNull(n) else { return nil }
            guard n.tag.isKind(Tag.Name.int), let v = n.int else { throw fail(key, "an integer") }
            return v
        }

        func number(_ key: String) throws -> Double? {
            guard let n = fields[key], !isNull(n) else { return nil }
            if n.tag.isKind(Tag.Name.int), let v = n.int { return Double(v) }
            guard n.tag.isKind(Tag.Name.float), let v = n.float else { throw fail(key, "a number") }
            return v
        }

        func bool(_ key: String) throws -> Bool? {
            guard let n = fields[key], !isNull(n) else { return nil }
            guard n.tag.isKind(Tag.Name.bool), let v = n.bool else { throw fail(key, "true or false") }
            return v
        }

        func tokenExperts(_ key: String) throws -> TokenExpertLayers? {
            guard let n = fields[key], !isNull(n) else { return nil }
            if n.tag.isKind(Tag.Name.str), let s = n.string {
                guard s == "all" else { throw fail(key, "'all' or a list of layer indices") }
                return .all
            }
            if n.tag.isKind(Tag.Name.int), let v = n.int, v >= 0 { return .layers([v]) }
            guard case .sequence(let seq) = n, !seq.isEmpty else { throw fail(key, "'all' or a non-empty list of layer indices") }
            return .layers(try seq.map { item in
                guard item.tag.isKind(Tag.Name.int), let v = item.int, v >= 0 else {
                    throw PipelineFileError(path: path, line: item.mark?.line, "every entry of '\(key)' must be a layer index ≥ 0 (found \(describe(item)))")
                }
                return v
            })
        }
    }
}

extension Tag {
    /// True when the node's resolved tag is `name` (Yams keeps `Tag.name` internal; its description is the name).
    func isKind(_ name: Tag.Name) -> Bool { description == name.rawValue }
}
