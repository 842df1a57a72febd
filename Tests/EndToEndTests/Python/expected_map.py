#!/usr/bin/env python3
"""Independent expectation for `moemae map`: from a `moemae tile` dataset, its `moemae embed`
embeddings and a probe file, computes for every tile of the grid the label (arg-max of the probe's
softmax/sigmoid scores; 255 when the tile has no valid pixel) and per encoder layer the expert most of
the 100 patch tokens chose first (ties -> lower index), with numpy only.

Usage: expected_map.py DATASET_DIR EMBEDDINGS PROBE  -> JSON on stdout:
{"rows": R, "cols": C, "labels": [...R*C], "margins": [...], "experts": [[...R*C] per layer]}
"""
import json
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from safetensors import safe_open

dataset, emb_path, probe_path = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
manifest = json.loads((dataset / "manifest.json").read_text())
scene = manifest["scenes"][0]
R, C = scene["grid_rows"], scene["grid_cols"]
valid_fraction = {}
for shard in manifest["shards"]:
    t = load_file(str(dataset / shard["file"]))
    for r, c, f in zip(t["row"], t["col"], t["valid_fraction"]):
        valid_fraction[(int(r), int(c))] = float(f)

e = load_file(emb_path)
p = load_file(probe_path)
with safe_open(probe_path, "np") as f:
    meta = f.metadata()
feature = e["cls"] if meta["feature"] == "cls" else e["embedding"]
logits = feature.astype(np.float64) @ p["weight"].astype(np.float64).T + p["bias"].astype(np.float64)
if meta["task"] == "multiclass":
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    scores = z / z.sum(axis=1, keepdims=True)
else:
    scores = 1 / (1 + np.exp(-logits))
order = np.argsort(-scores, axis=1, kind="stable")
top = scores[np.arange(len(scores)), order[:, 0]]
second = scores[np.arange(len(scores)), order[:, 1]] if scores.shape[1] > 1 else np.zeros(len(scores))
labels = np.full(R * C, 255, dtype=int)
margins = np.full(R * C, 1.0)
L = e["experts"].shape[1]
experts = np.full((L, R * C), 255, dtype=int)
for i, (r, c) in enumerate(zip(e["row"], e["col"])):
    k = int(r) * C + int(c)
    if valid_fraction.get((int(r), int(c)), 0.0) <= 0:
        continue
    labels[k] = int(np.argmax(scores[i]))        # first maximum on ties
    margins[k] = float(top[i] - second[i])
    first = e["experts"][i, :, 5:, 0]             # [L, 100] first choice of the patch tokens
    for l in range(L):
        experts[l, k] = int(np.argmax(np.bincount(first[l], minlength=8)))   # ties -> lower index
print(json.dumps({"rows": R, "cols": C, "labels": labels.tolist(), "margins": margins.tolist(),
                  "experts": experts.tolist()}))
