// Landsat module: see docs/architecture.md.
