/// White-space trimming for the MTL parsers, over Unicode scalars.
///
/// The same sets as Foundation's `CharacterSet.whitespaces` (general category Zs, tab, and — in
/// swift-corelibs-foundation's table — U+200B ZERO WIDTH SPACE) and
/// `.whitespacesAndNewlines` (those plus U+000A–U+000D, U+0085, U+2028 and U+2029), without
/// `trimmingCharacters(in:)`, which on Linux bridges every string through `NSString` and UTF-16:
/// it was most of the time spent reading an MTL file (issue 13's fuzz runs: ~4 ms per 15 KB file).
extension Substring {
    /// The text without leading and trailing white space (`CharacterSet.whitespaces`).
    func trimmingWhitespace() -> String { trimming(newlines: false) }

    /// The text without leading and trailing white space or line ends (`CharacterSet.whitespacesAndNewlines`).
    func trimmingWhitespaceAndNewlines() -> String { trimming(newlines: true) }

    private func trimming(newlines: Bool) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0, newlines: newlines) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0, newlines: newlines) })!
        return String(scalars[first...last])
    }
}

extension String {
    /// The text without leading and trailing white space (`CharacterSet.whitespaces`).
    func trimmingWhitespace() -> String { self[...].trimmingWhitespace() }

    /// The text without leading and trailing white space or line ends (`CharacterSet.whitespacesAndNewlines`).
    func trimmingWhitespaceAndNewlines() -> String { self[...].trimmingWhitespaceAndNewlines() }
}

private func isSpace(_ scalar: Unicode.Scalar, newlines: Bool) -> Bool {
    switch scalar.value {
    case 0x09, 0x20, 0x200B: return true
    case 0x0A...0x0D, 0x85, 0x2028, 0x2029: return newlines
    case 0...0x7F: return false
    default: return scalar.properties.generalCategory == .spaceSeparator
    }
}
