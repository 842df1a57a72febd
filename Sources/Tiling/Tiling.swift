// Tiling module: see docs/architecture.md.
