// MoEMAE module: see docs/architecture.md.
