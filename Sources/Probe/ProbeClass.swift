/// A class of a probe: its name and the RGB colour map outputs draw it in.
public struct ProbeClass: Sendable, Equatable, Hashable {
    public var name: String
    public var color: RGB

    public init(name: String, color: RGB) { self.name = name; self.color = color }
}

/// An 8-bit sRGB colour.
public struct RGB: Sendable, Equatable, Hashable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public var components: [UInt8] { [r, g, b] }
}

extension ProbeClass {
    /// The default palette for classes without a colour of their own: matplotlib's qualitative `tab20`
    /// (the classic Tableau 20 colours), repeated cyclically beyond 20 classes.
    public static let defaultPalette: [RGB] = [
        RGB(31, 119, 180), RGB(174, 199, 232), RGB(255, 127, 14), RGB(255, 187, 120), RGB(44, 160, 44),
        RGB(152, 223, 138), RGB(214, 39, 40), RGB(255, 152, 150), RGB(148, 103, 189), RGB(197, 176, 213),
        RGB(140, 86, 75), RGB(196, 156, 148), RGB(227, 119, 194), RGB(247, 182, 210), RGB(127, 127, 127),
        RGB(199, 199, 199), RGB(188, 189, 34), RGB(219, 219, 141), RGB(23, 190, 207), RGB(158, 218, 229),
    ]

    /// Classes named `names`, coloured with ``defaultPalette`` in order.
    public static func withDefaultColors(_ names: [String]) -> [ProbeClass] {
        names.enumerated().map { ProbeClass(name: $1, color: defaultPalette[$0 % defaultPalette.count]) }
    }
}
