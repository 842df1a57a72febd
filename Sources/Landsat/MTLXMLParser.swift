import CLibXML2
import Foundation

/// Parser for the XML encoding of Landsat MTL files (`*_MTL.xml`, Collection 2), using libxml2's
/// tree parser directly. Elements with child elements are groups; leaf elements hold values (white
/// space around the text trimmed). Attributes and namespaces are ignored.
///
/// Foundation's `XMLParser` is not used: on Linux a few changed bytes inside a tag name made it trap
/// (SIGILL) instead of reporting an error (issue 13; the inputs are replayed by
/// `MTLHostileInputTests`). libxml2 is asked for no network access, no DTD loading and no entity
/// substitution, and a document with a `<!DOCTYPE …>` is refused outright (USGS never writes one), so
/// entity expansion cannot amplify the input. Nesting deeper than ``MTLLimits/maxNesting`` and more
/// than ``MTLLimits/maxEntries`` values are refused (docs/reliability.md).
enum MTLXMLParser {
    static func parse(_ data: Data, path: String) throws -> [MTLDocument.Entry] {
        guard data.count <= Int(Int32.max) else {
            throw LandsatError(.malformed, path: path, "XML MTL of \(data.count) bytes is too large")
        }
        // Refused before libxml2 sees it: a DTD is where entity declarations (and their expansion) live.
        if data.range(of: Data("<!DOCTYPE".utf8)) != nil {
            throw doctypeError(path)
        }
        guard let context = xmlNewParserCtxt() else {
            throw LandsatError(.malformed, path: path, "cannot create an XML parser (out of memory?)")
        }
        defer { xmlFreeParserCtxt(context) }
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue
            | XML_PARSE_NOCDATA.rawValue | XML_PARSE_NOBLANKS.rawValue)
        let document: xmlDocPtr? = data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return nil }
            return xmlCtxtReadMemory(context, base.assumingMemoryBound(to: CChar.self), Int32(raw.count), path, nil, options)
        }
        guard let document, context.pointee.wellFormed != 0 else {
            if let document { xmlFreeDoc(document) }
            let error = context.pointee.lastError
            let reason = error.message.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "unknown XML error"
            throw LandsatError(.malformed, path: path,
                               "not valid XML at line \(error.line): \(reason); re-download the scene's *_MTL.xml")
        }
        defer { xmlFreeDoc(document) }
        if document.pointee.intSubset != nil || document.pointee.extSubset != nil { throw doctypeError(path) }
        guard let root = xmlDocGetRootElement(document) else {
            throw LandsatError(.malformed, path: path, "XML MTL has no root element; re-download the scene's *_MTL.xml")
        }
        var entries: [MTLDocument.Entry] = []
        var groups: [String] = []
        let rootName = name(of: root)
        guard firstChildElement(of: root) != nil else {
            throw LandsatError(.malformed, path: path, "root element <\(rootName)> holds no metadata groups")
        }
        try walk(root, groups: &groups, into: &entries, path: path)
        return entries
    }

    /// Depth-first walk; recursion depth is bounded by ``MTLLimits/maxNesting``.
    private static func walk(_ element: xmlNodePtr, groups: inout [String], into entries: inout [MTLDocument.Entry],
                             path: String) throws {
        let elementName = name(of: element)
        guard firstChildElement(of: element) != nil else {
            guard entries.count < MTLLimits.maxEntries else {
                throw LandsatError(.malformed, path: path, "more than \(MTLLimits.maxEntries) values; not an MTL file (limit: docs/reliability.md)")
            }
            entries.append(.init(groups: groups, key: elementName,
                                 value: text(of: element).trimmingWhitespaceAndNewlines()))
            return
        }
        guard groups.count < MTLLimits.maxNesting else {
            throw LandsatError(.malformed, path: path,
                               "groups nested deeper than \(MTLLimits.maxNesting) levels at <\(elementName)>; not an MTL file (limit: docs/reliability.md)")
        }
        groups.append(elementName)
        defer { groups.removeLast() }
        var child = element.pointee.children
        while let node = child {
            if node.pointee.type == XML_ELEMENT_NODE { try walk(node, groups: &groups, into: &entries, path: path) }
            child = node.pointee.next
        }
    }

    private static func doctypeError(_ path: String) -> LandsatError {
        LandsatError(.malformed, path: path,
                     "XML MTL has a <!DOCTYPE> declaration, which USGS MTL files never have (entities are not expanded); re-download the scene's *_MTL.xml")
    }

    private static func firstChildElement(of element: xmlNodePtr) -> xmlNodePtr? {
        var child = element.pointee.children
        while let node = child {
            if node.pointee.type == XML_ELEMENT_NODE { return node }
            child = node.pointee.next
        }
        return nil
    }

    /// The element's own text and CDATA children, concatenated (entity references are not expanded).
    private static func text(of element: xmlNodePtr) -> String {
        var result = ""
        var child = element.pointee.children
        while let node = child {
            if node.pointee.type == XML_TEXT_NODE || node.pointee.type == XML_CDATA_SECTION_NODE,
               let content = node.pointee.content {
                result += String(cString: content)
            }
            child = node.pointee.next
        }
        return result
    }

    private static func name(of node: xmlNodePtr) -> String {
        node.pointee.name.map { String(cString: $0) } ?? ""
    }
}
