import Foundation
import XCTest

/// Locates `../shared/data` beside the repository root and reads MTL values straight from file text
/// (regular expressions), independently of the parser under test.
enum SharedData {
    /// `<repo>/../shared/data`.
    static let root: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { break }
            dir = dir.deletingLastPathComponent()
        }
        return dir.deletingLastPathComponent().appendingPathComponent("shared/data")
    }()

    static var scenesFolder: URL { root.appendingPathComponent("scenes") }
    static var mtlFolder: URL { root.appendingPathComponent("mtl") }

    static func contents(_ folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map { folder.appendingPathComponent($0) }
    }

    /// Every scene folder.
    static func sceneFolders() throws -> [URL] { try contents(scenesFolder) }

    /// Every MTL file: the scene folders' (all encodings) and `mtl/`.
    static func allMTLFiles() throws -> [URL] {
        var files = try contents(mtlFolder)
        for scene in try sceneFolders() {
            files += try contents(scene).filter { $0.lastPathComponent.contains("_MTL.") }
        }
        return files
    }

    static func text(_ url: URL) throws -> String {
        String(decoding: try Data(contentsOf: url), as: UTF8.self)
    }

    /// The text of a group (`GROUP = NAME … END_GROUP = NAME`, `<NAME> … </NAME>`, or the JSON object
    /// `"NAME": { … }`, which holds no nested objects in MTL files), nil when absent.
    static func section(_ group: String, in text: String) -> String? {
        let patterns = [
            #"GROUP = \#(group)\s*\n(.*?)\n\s*END_GROUP = \#(group)\b"#,
            #"<\#(group)>(.*?)</\#(group)>"#,
            #""\#(group)": \{([^{}]*)\}"#,
        ]
        for p in patterns {
            if let m = firstMatch(p, in: text) { return m }
        }
        return nil
    }

    /// Values of `key` in file order, in whichever encoding `text` is: `KEY = value` / `KEY = "value"`,
    /// `<KEY>value</KEY>`, `"KEY": "value"`.
    static func values(_ key: String, in text: String) -> [String] {
        let patterns = [
            #"(?m)^\s*\#(key) = "?([^"\n]*?)"?\s*$"#,
            #"<\#(key)>([^<]*)</\#(key)>"#,
            #""\#(key)": "([^"]*)""#,
        ]
        for p in patterns {
            let found = allMatches(p, in: text)
            if !found.isEmpty { return found }
        }
        return []
    }

    /// First value of `key`, optionally inside `group`.
    static func value(_ key: String, in text: String, group: String? = nil) -> String? {
        if let group {
            guard let s = section(group, in: text) else { return nil }
            return values(key, in: s).first
        }
        return values(key, in: text).first
    }

    static func firstMatch(_ pattern: String, in text: String) -> String? {
        allMatches(pattern, in: text, limit: 1).first
    }

    static func allMatches(_ pattern: String, in text: String, limit: Int = .max) -> [String] {
        guard let re = try? NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators]) else {
            XCTFail("bad test regex \(pattern)")
            return []
        }
        let ns = text as NSString
        var out: [String] = []
        for m in re.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            out.append(ns.substring(with: m.range(at: 1)))
            if out.count >= limit { break }
        }
        return out
    }
}

/// A temporary folder removed at the end of the test.
final class TemporaryFolder {
    let url: URL
    init() throws {
        url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("landsat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    @discardableResult
    func write(_ name: String, _ data: Data) throws -> URL {
        let u = file(name)
        try data.write(to: u)
        return u
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> URL { try write(name, Data(text.utf8)) }
}
