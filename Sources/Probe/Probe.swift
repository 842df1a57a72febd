// Probe module: see docs/architecture.md.
