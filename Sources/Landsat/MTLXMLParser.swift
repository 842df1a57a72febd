import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parser for the XML encoding of Landsat MTL files (`*_MTL.xml`, Collection 2), using Foundation's
/// `XMLParser`. Elements with child elements are groups; leaf elements hold values (white space
/// around the text trimmed). Attributes and namespaces are ignored.
enum MTLXMLParser {
    static func parse(_ data: Data, path: String) throws -> [MTLDocument.Entry] {
        let parser = XMLParser(data: data)
        let delegate = Delegate()
        parser.delegate = delegate
        parser.shouldProcessNamespaces = false
        let ok = parser.parse()
        if !ok || delegate.failure != nil {
            let reason = delegate.failure ?? parser.parserError.map { ($0 as NSError).localizedDescription } ?? "unknown XML error"
            throw LandsatError(.malformed, path: path,
                               "not valid XML at line \(parser.lineNumber): \(reason); re-download the scene's *_MTL.xml")
        }
        return delegate.entries
    }

    private final class Delegate: NSObject, XMLParserDelegate {
        var entries: [MTLDocument.Entry] = []
        var failure: String?
        /// Open elements, outermost first, with whether each has had a child element.
        private var stack: [(name: String, hasChildren: Bool)] = []
        private var text = ""

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            if !stack.isEmpty { stack[stack.count - 1].hasChildren = true }
            stack.append((elementName, false))
            text = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            text += string
        }

        func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
            text += String(decoding: CDATABlock, as: UTF8.self)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?) {
            guard let top = stack.popLast() else { return }
            if !top.hasChildren {
                if stack.isEmpty {
                    failure = "root element <\(top.name)> holds no metadata groups"
                    parser.abortParsing()
                    return
                }
                entries.append(.init(groups: stack.map(\.name), key: top.name,
                                     value: text.trimmingCharacters(in: .whitespacesAndNewlines)))
            }
            text = ""
        }

        func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
            if failure == nil { failure = (parseError as NSError).localizedDescription }
        }
    }
}
