#!/usr/bin/env python3
"""Loads a `moemae tile` dataset folder with numpy + safetensors and prints what it holds.

Usage: python3 examples/load_dataset.py DATASET_FOLDER

Every shard listed in manifest.json is read with safetensors.numpy; the tensors follow the contract in
docs/tiling.md: pixels u16 [N,bands,S,S] raw digital numbers, valid u8 [N,S,S] (1 = valid), lat/lon f64
degrees (tile centre), week i32 (ISO-8601), hour f32 (true UTC hour), row/col/scene i32, valid_fraction f32.
"""
import json
import sys

import numpy as np
from safetensors.numpy import load_file


def main(folder):
    manifest = json.load(open(f"{folder}/manifest.json"))
    assert manifest["format"] == "moemae-dataset", "not a moemae dataset folder"
    size, bands = manifest["tile_size"], manifest["bands"]
    if manifest.get("layout") == "geotiff":
        sys.exit(f"{folder} holds GeoTIFF chips (images/, labels/), not shards: open them with GDAL or rasterio")
    total = 0
    for shard in manifest["shards"]:
        t = load_file(f"{folder}/{shard['file']}")
        n = shard["tiles"]
        assert t["pixels"].shape == (n, len(bands), size, size) and t["pixels"].dtype == np.uint16
        assert t["valid"].shape == (n, size, size) and t["valid"].dtype == np.uint8
        fraction = t["valid"].reshape(n, -1).mean(axis=1)
        assert np.allclose(fraction, t["valid_fraction"], atol=1e-6)
        total += n
    print(json.dumps({
        "tiles": total,
        "bands": bands,
        "tile_size": size,
        "scenes": [{"id": s["id"], "acquired": s["acquired"], "epsg": s["epsg"], "grid": [s["grid_rows"], s["grid_cols"]],
                    "model_ready": s["model_ready"]} for s in manifest["scenes"]],
    }))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: load_dataset.py DATASET_FOLDER")
    main(sys.argv[1])
