/// Element types of the safetensors format, spelled as the format spells them
/// (https://github.com/huggingface/safetensors, "Format").
public enum DType: String, Sendable, CaseIterable, Codable {
    case bool = "BOOL"
    case u8 = "U8", i8 = "I8"
    case u16 = "U16", i16 = "I16", f16 = "F16", bf16 = "BF16"
    case u32 = "U32", i32 = "I32", f32 = "F32"
    case u64 = "U64", i64 = "I64", f64 = "F64"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .bool, .u8, .i8: return 1
        case .u16, .i16, .f16, .bf16: return 2
        case .u32, .i32, .f32: return 4
        case .u64, .i64, .f64: return 8
        }
    }

    /// True for the floating-point element types.
    public var isFloatingPoint: Bool {
        switch self {
        case .f16, .bf16, .f32, .f64: return true
        default: return false
        }
    }
}

/// A Swift scalar type that has a safetensors element type.
public protocol SafeTensorScalar: Sendable {
    static var dtype: DType { get }
}

extension UInt8: SafeTensorScalar { public static var dtype: DType { .u8 } }
extension Int8: SafeTensorScalar { public static var dtype: DType { .i8 } }
extension UInt16: SafeTensorScalar { public static var dtype: DType { .u16 } }
extension Int16: SafeTensorScalar { public static var dtype: DType { .i16 } }
extension UInt32: SafeTensorScalar { public static var dtype: DType { .u32 } }
extension Int32: SafeTensorScalar { public static var dtype: DType { .i32 } }
extension UInt64: SafeTensorScalar { public static var dtype: DType { .u64 } }
extension Int64: SafeTensorScalar { public static var dtype: DType { .i64 } }
extension Float: SafeTensorScalar { public static var dtype: DType { .f32 } }
extension Double: SafeTensorScalar { public static var dtype: DType { .f64 } }
#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
extension Float16: SafeTensorScalar { public static var dtype: DType { .f16 } }
#endif
