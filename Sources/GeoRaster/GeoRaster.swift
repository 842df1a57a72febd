// GeoRaster module: see docs/architecture.md.
