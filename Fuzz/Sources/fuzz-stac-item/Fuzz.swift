import FuzzTargets

/// libFuzzer entry point: one input through `FuzzTargets.stacItem` (docs/reliability.md).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTargets.stacItem(FuzzInput(data, size))
    return 0
}
