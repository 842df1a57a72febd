import FuzzTargets

/// libFuzzer entry point: one input through `FuzzTargets.resumeState` (docs/reliability.md).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTargets.resumeState(FuzzInput(data, size))
    return 0
}
