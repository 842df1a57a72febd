import Foundation

/// Parser for the ODL text encoding of Landsat MTL files (`*_MTL.txt`).
///
/// The subset USGS writes (Landsat Level-1/Level-2 Data Format Control Books, "MTL file" appendix):
/// ```
/// GROUP = LANDSAT_METADATA_FILE
///   GROUP = IMAGE_ATTRIBUTES
///     DATE_ACQUIRED = 2019-12-01
///     SCENE_CENTER_TIME = "15:13:51.8610990Z"
///   END_GROUP = IMAGE_ATTRIBUTES
/// END_GROUP = LANDSAT_METADATA_FILE
/// END
/// ```
/// Values may be quoted (`"…"`, quotes removed) or bare; a parenthesised list `( a, b )` may continue
/// over several lines and is kept as written. Blank lines and `/* … */` comment lines are skipped;
/// text after the final `END` (e.g. padding) is ignored. `\r\n` line ends are accepted.
/// Line length, value length, nesting and entry count are bounded by ``MTLLimits``.
enum ODLParser {
    static func parse(_ text: String, path: String) throws -> [MTLDocument.Entry] {
        var entries: [MTLDocument.Entry] = []
        var groups: [String] = []
        let lines = splitLines(text)
        var i = 0
        func fail(_ line: Int, _ what: String) -> LandsatError {
            LandsatError(.malformed, path: path, "line \(line): \(what) (not a valid ODL MTL file; re-download the scene's *_MTL.txt)")
        }
        while i < lines.count {
            let lineNumber = i + 1
            guard lines[i].utf8.count <= MTLLimits.maxLineBytes else {
                throw fail(lineNumber, "line of \(lines[i].utf8.count) bytes is longer than \(MTLLimits.maxLineBytes) bytes (limit: docs/reliability.md)")
            }
            var line = lines[i].trimmingWhitespace()
            i += 1
            if line.isEmpty || line.hasPrefix("/*") { continue }
            if line == "END" {
                guard groups.isEmpty else {
                    throw fail(lineNumber, "END reached while group \(groups.joined(separator: "/")) is still open")
                }
                return entries
            }
            guard let eq = line.firstIndex(of: "=") else {
                throw fail(lineNumber, "expected KEY = value, found '\(line.prefix(60))'")
            }
            let key = line[..<eq].trimmingWhitespace()
            var value = line[line.index(after: eq)...].trimmingWhitespace()
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw fail(lineNumber, "invalid key '\(key.prefix(60))'")
            }
            // A quoted string or a parenthesised list may continue on the following lines. Each line is
            // scanned once: rescanning the whole value for every line cost ~10^9 character steps for one
            // 64 KiB value continued over one-character lines, and a 4 MiB file holds 64 such values.
            var open = OpenValue()
            open.scan(value)
            while open.isOpen, i < lines.count {
                line = lines[i].trimmingWhitespace()
                i += 1
                value += (value.hasSuffix("(") || value.hasSuffix(",") ? "" : " ") + line
                open.scan(line)
                guard value.utf8.count <= MTLLimits.maxLineBytes else {
                    throw fail(lineNumber, "value of \(key.prefix(60)) continues past \(MTLLimits.maxLineBytes) bytes (limit: docs/reliability.md)")
                }
            }
            if open.isOpen {
                throw fail(lineNumber, "value of \(key) is not closed (missing \" or ) before the end of the file)")
            }
            switch key {
            case "GROUP", "BEGIN_GROUP", "OBJECT":
                let name = unquote(value)
                guard !name.isEmpty else { throw fail(lineNumber, "GROUP without a name") }
                guard groups.count < MTLLimits.maxNesting else {
                    throw fail(lineNumber, "groups nested deeper than \(MTLLimits.maxNesting) levels (limit: docs/reliability.md)")
                }
                groups.append(name)
            case "END_GROUP", "END_OBJECT":
                let name = unquote(value)
                guard let open = groups.last else { throw fail(lineNumber, "END_GROUP = \(name) without an open GROUP") }
                guard name.isEmpty || name == open else {
                    throw fail(lineNumber, "END_GROUP = \(name) closes group \(open)")
                }
                groups.removeLast()
            default:
                guard !groups.isEmpty else {
                    throw fail(lineNumber, "\(key) is outside any GROUP")
                }
                guard entries.count < MTLLimits.maxEntries else {
                    throw fail(lineNumber, "more than \(MTLLimits.maxEntries) values (limit: docs/reliability.md)")
                }
                entries.append(.init(groups: groups, key: key, value: unquote(value)))
            }
        }
        guard groups.isEmpty else {
            throw LandsatError(.malformed, path: path,
                               "file ends while group \(groups.joined(separator: "/")) is still open (truncated MTL file? re-download it)")
        }
        return entries
    }

    /// The lines of `text`, split at `\n`, `\r\n` or `\r` (a line end is a grapheme cluster of its own,
    /// so splitting the UTF-8 bytes gives the same lines as splitting the characters, without the
    /// grapheme breaking).
    static func splitLines(_ text: String) -> [Substring] {
        var lines: [Substring] = []
        let utf8 = text.utf8
        var start = utf8.startIndex
        var i = start
        while i != utf8.endIndex {
            let byte = utf8[i]
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                lines.append(text[start..<i])
                var next = utf8.index(after: i)
                if byte == UInt8(ascii: "\r"), next != utf8.endIndex, utf8[next] == UInt8(ascii: "\n") { next = utf8.index(after: next) }
                start = next
                i = next
            } else {
                i = utf8.index(after: i)
            }
        }
        lines.append(text[start..<utf8.endIndex])
        return lines
    }

    /// Whether a value read so far is still open: an unclosed `"`, or more `(` than `)` outside quotes.
    /// Fed each piece of a value once, so a value continued over n lines costs O(its length).
    private struct OpenValue {
        private var inQuote = false
        private var depth = 0
        var isOpen: Bool { inQuote || depth > 0 }

        /// `"`, `(` and `)` are ASCII, so their bytes never occur inside a multi-byte UTF-8 character.
        mutating func scan(_ text: String) {
            for byte in text.utf8 {
                if byte == UInt8(ascii: "\"") { inQuote.toggle() } else if !inQuote {
                    if byte == UInt8(ascii: "(") { depth += 1 } else if byte == UInt8(ascii: ")") { depth -= 1 }
                }
            }
        }
    }

    /// Removes one pair of surrounding double quotes.
    static func unquote(_ value: String) -> String {
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
            return String(value.dropFirst().dropLast())
        }
        return value
    }
}
