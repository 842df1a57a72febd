// Tests for MoEMAE.
