// Tests for Tiling.
