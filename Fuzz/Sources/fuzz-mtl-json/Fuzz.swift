import FuzzTargets

/// libFuzzer entry point: one input through `FuzzTargets.mtlJson` (docs/reliability.md).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTargets.mtlJson(FuzzInput(data, size))
    return 0
}
