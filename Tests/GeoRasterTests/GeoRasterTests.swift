// Tests for GeoRaster.
