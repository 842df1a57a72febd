/// Pickle opcodes (CPython `Lib/pickletools.py`, protocols 0–5), by byte. The reader implements
/// the subset `torch.save` emits (protocol 2, plus the protocol 3–4 forms of strings, bytes,
/// FRAME and MEMOIZE); the rest are named only so that a refusal can say what it met.
enum PickleOpcode: UInt8 {
    // Implemented.
    case proto = 0x80, frame = 0x95, stop = 0x2E            // \x80 \x95 .
    case mark = 0x28, pop = 0x30, popMark = 0x31, dup = 0x32 // ( 0 1 2
    case none = 0x4E, newTrue = 0x88, newFalse = 0x89       // N \x88 \x89
    case binInt = 0x4A, binInt1 = 0x4B, binInt2 = 0x4D      // J K M
    case long1 = 0x8A, long4 = 0x8B
    case binFloat = 0x47                                     // G
    case binUnicode = 0x58, shortBinUnicode = 0x8C, binUnicode8 = 0x8D // X \x8c \x8d
    case binString = 0x54, shortBinString = 0x55             // T U (Python 2 str)
    case binBytes = 0x42, shortBinBytes = 0x43, binBytes8 = 0x8E // B C \x8e
    case emptyTuple = 0x29, tuple = 0x74, tuple1 = 0x85, tuple2 = 0x86, tuple3 = 0x87 // ) t
    case emptyList = 0x5D, list = 0x6C, append = 0x61, appends = 0x65 // ] l a e
    case emptyDict = 0x7D, dict = 0x64, setItem = 0x73, setItems = 0x75 // } d s u
    case binGet = 0x68, longBinGet = 0x6A, binPut = 0x71, longBinPut = 0x72, memoize = 0x94 // h j q r
    case global = 0x63, stackGlobal = 0x93                   // c
    case reduce = 0x52, build = 0x62                         // R b
    case binPersId = 0x51                                    // Q
    // Known but refused: object construction, extension registry, text forms, sets, buffers.
    case int = 0x49, long = 0x4C, string = 0x53, unicode = 0x56, float = 0x46 // I L S V F
    case get = 0x67, put = 0x70, persId = 0x50               // g p P
    case inst = 0x69, obj = 0x6F, newObj = 0x81, newObjEx = 0x92 // i o
    case ext1 = 0x82, ext2 = 0x83, ext4 = 0x84
    case emptySet = 0x8F, addItems = 0x90, frozenSet = 0x91
    case byteArray8 = 0x96, nextBuffer = 0x97, readonlyBuffer = 0x98

    /// The name `pickletools` uses.
    var name: String {
        switch self {
        case .proto: return "PROTO"
        case .frame: return "FRAME"
        case .stop: return "STOP"
        case .mark: return "MARK"
        case .pop: return "POP"
        case .popMark: return "POP_MARK"
        case .dup: return "DUP"
        case .none: return "NONE"
        case .newTrue: return "NEWTRUE"
        case .newFalse: return "NEWFALSE"
        case .binInt: return "BININT"
        case .binInt1: return "BININT1"
        case .binInt2: return "BININT2"
        case .long1: return "LONG1"
        case .long4: return "LONG4"
        case .binFloat: return "BINFLOAT"
        case .binUnicode: return "BINUNICODE"
        case .shortBinUnicode: return "SHORT_BINUNICODE"
        case .binUnicode8: return "BINUNICODE8"
        case .binString: return "BINSTRING"
        case .shortBinString: return "SHORT_BINSTRING"
        case .binBytes: return "BINBYTES"
        case .shortBinBytes: return "SHORT_BINBYTES"
        case .binBytes8: return "BINBYTES8"
        case .emptyTuple: return "EMPTY_TUPLE"
        case .tuple: return "TUPLE"
        case .tuple1: return "TUPLE1"
        case .tuple2: return "TUPLE2"
        case .tuple3: return "TUPLE3"
        case .emptyList: return "EMPTY_LIST"
        case .list: return "LIST"
        case .append: return "APPEND"
        case .appends: return "APPENDS"
        case .emptyDict: return "EMPTY_DICT"
        case .dict: return "DICT"
        case .setItem: return "SETITEM"
        case .setItems: return "SETITEMS"
        case .binGet: return "BINGET"
        case .longBinGet: return "LONG_BINGET"
        case .binPut: return "BINPUT"
        case .longBinPut: return "LONG_BINPUT"
        case .memoize: return "MEMOIZE"
        case .global: return "GLOBAL"
        case .stackGlobal: return "STACK_GLOBAL"
        case .reduce: return "REDUCE"
        case .build: return "BUILD"
        case .binPersId: return "BINPERSID"
        case .int: return "INT"
        case .long: return "LONG"
        case .string: return "STRING"
        case .unicode: return "UNICODE"
        case .float: return "FLOAT"
        case .get: return "GET"
        case .put: return "PUT"
        case .persId: return "PERSID"
        case .inst: return "INST"
        case .obj: return "OBJ"
        case .newObj: return "NEWOBJ"
        case .newObjEx: return "NEWOBJ_EX"
        case .ext1: return "EXT1"
        case .ext2: return "EXT2"
        case .ext4: return "EXT4"
        case .emptySet: return "EMPTY_SET"
        case .addItems: return "ADDITEMS"
        case .frozenSet: return "FROZENSET"
        case .byteArray8: return "BYTEARRAY8"
        case .nextBuffer: return "NEXT_BUFFER"
        case .readonlyBuffer: return "READONLY_BUFFER"
        }
    }
}
