import FuzzTargets

/// libFuzzer entry point: one input through `FuzzTargets.bigearthnetLabels` (docs/reliability.md).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTargets.bigearthnetLabels(FuzzInput(data, size))
    return 0
}
