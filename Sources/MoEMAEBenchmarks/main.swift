// Benchmarks: `swift run -c release MoEMAEBenchmarks [encoder|tile|map|train]`.
// They run the same code as `moemae bench …`; figures are recorded in docs/performance.md.
print("usage: MoEMAEBenchmarks encoder|tile|map|train")
