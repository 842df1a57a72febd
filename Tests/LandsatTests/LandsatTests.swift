// Tests for Landsat.
