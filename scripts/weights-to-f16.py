#!/usr/bin/env python3
"""Convert a moemae weights file to float16 (every tensor), keeping its __metadata__.

usage: scripts/weights-to-f16.py IN.safetensors OUT.safetensors

Used to make the bundled default model small (models/default/). moemae reads F16 weights
(converted to Float32 on load). Needs numpy and safetensors.
"""
import json
import struct
import sys

import numpy as np
from safetensors.numpy import load_file, save_file


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        meta = json.loads(f.read(n)).get("__metadata__", {})
    tensors = load_file(src)
    half = {k: v.astype(np.float16) for k, v in tensors.items()}
    for k, v in half.items():
        if not np.all(np.isfinite(v)):
            sys.exit(f"{src}: tensor {k} overflows float16")
    meta = dict(meta)
    meta["dtype_note"] = "float16 copy of float32 training weights"
    save_file(half, dst, metadata=meta)


if __name__ == "__main__":
    main()
