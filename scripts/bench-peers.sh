#!/usr/bin/env bash
# The peer benchmark of docs/performance.md ("Peers"): the authors' encoder exported to ONNX
# (../shared/golden/encoder-public.onnx, see ../shared/golden/README.md) timed with ONNX Runtime and
# OpenVINO (both from PyPI, in a virtual environment this script creates), and `moemae bench encoder`
# on the same weights, batch size and thread count, in the same run; prints tiles/s and the ratios.
#
# Usage: scripts/bench-peers.sh [BATCH] [THREADS] [SECONDS]     (defaults 64, 2, 10)
#   moemae runs THREADS workers × 1 BLAS thread (the `map` default); ONNX Runtime runs with THREADS
#   intra-op threads; OpenVINO with INFERENCE_NUM_THREADS=THREADS, the model reshaped to a static batch
#   (its best case), FP32, and BF16 (INFERENCE_PRECISION_HINT=bf16) where the CPU has AVX512_BF16/AMX.
#   moemae's --precision bf16 runs only where the CPU has AVX512_BF16 (else it is reported as refused).
#   Environment: PEERS_VENV (default .build/peers-venv), MOEMAE (default .build/release/moemae).
#   Unset OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for OpenBLAS's fastest kernel (docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
batch=${1:-64}; threads=${2:-2}; seconds=${3:-10}
golden=../shared/golden
onnx=$golden/encoder-public.onnx
weights=$golden/weights-public.safetensors
venv=${PEERS_VENV:-.build/peers-venv}
bin=${MOEMAE:-.build/release/moemae}
[ -f "$onnx" ] || { echo "error: $onnx not found (the shared golden fixtures)" >&2; exit 1; }
[ -x "$bin" ] || swift build -j 1 -c release --product moemae
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c 'import onnxruntime, openvino, numpy' 2>/dev/null \
  || "$venv/bin/pip" install --quiet onnxruntime openvino numpy
work=$(mktemp -d /tmp/moemae-bench-peers.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average: $(cut -d' ' -f1-3 /proc/loadavg); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "batch $batch, $threads threads, $seconds s per runtime"

# moemae first (FP32, then BF16), so the peers' timings sit between them.
moemae_rate() {  # $1 = precision; prints tiles/s or "refused: …"
  local log="$work/moemae-$1.txt"
  if "$bin" bench encoder --weights "$weights" --batch-size "$batch" --workers "$threads" --blas-threads 1 \
       --seconds "$seconds" --precision "$1" > "$log" 2>&1; then
    sed -n 's/^  .*: \([0-9.]*\) tiles\/s, .*= \([0-9]*%\) of the.*/\1 \2/p' "$log" | tail -1
  else
    echo "refused: $(grep -m1 'error' "$log" | cut -c1-300)"
  fi
}
m32=$(moemae_rate fp32)
echo "moemae FP32 ($threads workers × 1 BLAS thread): ${m32%% *} tiles/s (${m32#* } of the measured sgemm peak)"

"$venv/bin/python" - "$onnx" "$golden/golden-public.safetensors" "$batch" "$threads" "$seconds" > "$work/peers.txt" <<'PY'
import json, struct, sys, time
import numpy as np
onnx, golden, batch, threads, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])

def tensors(path):  # safetensors: 8-byte little-endian header length, JSON header, raw data
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n)); data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__": continue
        dt = {"F32": np.float32, "I32": np.int32, "U16": np.uint16}.get(v["dtype"])
        if dt is None: continue
        a, b = v["data_offsets"]; out[k] = np.frombuffer(data[a:b], dtype=dt).reshape(v["shape"])
    return out

g = tensors(golden)
reps = -(-batch // g["x_norm"].shape[0])
def tile(a): return np.ascontiguousarray(np.concatenate([a] * reps)[:batch])
meta = g["meta"]
feeds = {"x": tile(g["x_norm"]), "week": tile(meta[:, 0:2]), "hour": tile(meta[:, 2:4]),
         "lat": tile(meta[:, 4:6]), "lon": tile(meta[:, 6:8])}

def rate(run):
    run(); run()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        run(); n += batch
    return n / (time.perf_counter() - t0)

import onnxruntime as ort
so = ort.SessionOptions(); so.intra_op_num_threads = threads; so.inter_op_num_threads = 1
so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
s = ort.InferenceSession(onnx, so, providers=["CPUExecutionProvider"])
print(f"onnxruntime {ort.__version__} FP32\t{rate(lambda: s.run(None, feeds)):.1f}", flush=True)

import openvino as ov
core = ov.Core()
caps = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
def ov_rate(precision):
    m = core.read_model(onnx)
    m.reshape({i.get_any_name(): ov.PartialShape([batch] + list(feeds[i.get_any_name()].shape[1:])) for i in m.inputs})
    c = core.compile_model(m, "CPU", {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": precision,
                                      "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1})
    r = c.create_infer_request()
    return rate(lambda: r.infer(feeds))
print(f"openvino {ov.__version__} FP32\t{ov_rate('f32'):.1f}", flush=True)
if "BF16" in caps:
    print(f"openvino {ov.__version__} BF16\t{ov_rate('bf16'):.1f}", flush=True)
else:
    print(f"openvino {ov.__version__} BF16\tunsupported (CPU capabilities: {' '.join(caps)})", flush=True)
PY
cat "$work/peers.txt" | tr '\t' ' ' | sed 's/^/peer /; s/$/ tiles\/s/; s/unsupported\(.*\) tiles\/s$/unsupported\1/'

m16=$(moemae_rate bf16)
case "$m16" in
  refused*) echo "moemae BF16: $m16" ;;
  *) echo "moemae BF16 ($threads workers × 1 BLAS thread): ${m16%% *} tiles/s" ;;
esac

python3 - "$work/peers.txt" "${m32%% *}" "${m16%% *}" <<'PY'
import sys
peers = {}
for line in open(sys.argv[1]):
    name, value = line.rstrip("\n").split("\t")
    try: peers[name] = float(value)
    except ValueError: pass
def num(s):
    try: return float(s)
    except ValueError: return None
m32, m16 = num(sys.argv[2]), num(sys.argv[3])
print("ratios (moemae / peer, same batch and threads, same run):")
for name, v in peers.items():
    if m32: print(f"  moemae FP32 / {name}: {m32 / v:.2f}")
    if m16: print(f"  moemae BF16 / {name}: {m16 / v:.2f}")
if m32 and m16: print(f"  moemae BF16 / moemae FP32: {m16 / m32:.2f}")
PY
