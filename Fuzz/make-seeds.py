#!/usr/bin/env python3
"""Writes the fuzz seed corpora (one folder per target) from the real files in ../shared.

Usage: Fuzz/make-seeds.py OUT_FOLDER [MOEMAE_BINARY]
Seeds are made at test time and never committed (docs/reliability.md, "Fuzzing"). Large real files
are cut down (few tensors, empty storages, 64x64 GeoTIFF windows) so each run spends its budget on
mutations rather than on reading megabytes.
"""
import collections, glob, io, json, os, pickle, shutil, subprocess, sys, types, zipfile

out = sys.argv[1]
moemae = sys.argv[2] if len(sys.argv) > 2 else None
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
shared = os.path.join(os.path.dirname(repo), "shared")
data, golden = os.path.join(shared, "data"), os.path.join(shared, "golden")


def folder(name):
    path = os.path.join(out, name)
    os.makedirs(path, exist_ok=True)
    return path


def copy(files, target):
    for f in files:
        shutil.copy(f, os.path.join(folder(target), os.path.basename(f)))


mtls = sorted(glob.glob(f"{data}/scenes/*/*_MTL.*") + glob.glob(f"{data}/mtl/*_MTL.*"))
copy([f for f in mtls if f.endswith(".txt")], "mtl-odl")
copy([f for f in mtls if f.endswith(".json")], "mtl-json")
copy([f for f in mtls if f.endswith(".xml")], "mtl-xml")
copy(sorted(glob.glob(f"{data}/patches/bigearthnet-l-sample/labels/*.json"))[:20], "bigearthnet-labels")
copy(sorted(glob.glob(f"{repo}/pipelines/*.yaml")), "pipeline-yaml")

# safetensors: the first tensors of the real weights files (names, dtypes, metadata as published).
import numpy as np
from safetensors.numpy import load_file, save_file
from safetensors import safe_open
for name in ["weights-xxs-public.safetensors", "golden-xxs-public.safetensors"]:
    path = os.path.join(golden, name)
    with safe_open(path, "np") as f:
        keys = sorted(f.keys(), key=lambda k: f.get_slice(k).get_shape() != [] and np.prod(f.get_slice(k).get_shape()))[:6]
        tensors = {k: f.get_tensor(k) for k in keys}
        meta = f.metadata()
    tensors = {k: (v.reshape(-1)[:16] if v.size > 16 else v).copy() for k, v in tensors.items()}
    save_file(tensors, os.path.join(folder("safetensors"), name), metadata=meta)
save_file({"a": np.arange(6, dtype=np.float16).reshape(2, 3), "b": np.array([1, 2], dtype=np.int64),
           "c": np.zeros((0, 4), dtype=np.uint8)}, os.path.join(folder("safetensors"), "dtypes.safetensors"))

# checkpoint: the real torch.save pickle with emptied storages, and a tiny complete one written the
# way torch.save writes it (protocol 2, persistent ids, _rebuild_tensor_v2), without torch.
with zipfile.ZipFile(os.path.join(golden, "checkpoint-xxs-public.pth")) as z, \
        zipfile.ZipFile(os.path.join(folder("checkpoint"), "xxs-pickle-only.pth"), "w") as w:
    for info in z.infolist():
        w.writestr(info.filename, b"" if "/data/" in info.filename else z.read(info))
torch = types.ModuleType("torch"); utils = types.ModuleType("torch._utils")
sys.modules["torch"], sys.modules["torch._utils"] = torch, utils
class FloatStorage: pass
FloatStorage.__module__ = "torch"; torch.FloatStorage = FloatStorage
def _rebuild_tensor_v2(*args): pass
_rebuild_tensor_v2.__module__ = "torch._utils"; utils._rebuild_tensor_v2 = _rebuild_tensor_v2
class Storage:
    def __init__(self, key, n): self.key, self.n = key, n
class Tensor:
    def __init__(self, key, shape): self.storage, self.shape = Storage(key, int(np.prod(shape))), shape
    def __reduce__(self):
        stride = tuple(int(np.prod(self.shape[i + 1:])) for i in range(len(self.shape)))
        return (_rebuild_tensor_v2, (self.storage, 0, self.shape, stride, False, collections.OrderedDict()))
class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        return ("storage", FloatStorage, obj.key, "cpu", obj.n) if isinstance(obj, Storage) else None
buf = io.BytesIO()
Pickler(buf, protocol=2).dump({"epoch": 3, "model_state": collections.OrderedDict(w=Tensor("0", (2, 3)), b=Tensor("1", (3,))),
                              "best_train_loss": float("inf")})
with zipfile.ZipFile(os.path.join(folder("checkpoint"), "tiny.pth"), "w") as w:
    w.writestr("archive/data.pkl", buf.getvalue())
    w.writestr("archive/byteorder", "little")
    w.writestr("archive/data/0", np.arange(6, dtype="<f4").tobytes())
    w.writestr("archive/data/1", np.ones(3, dtype="<f4").tobytes())
    w.writestr("archive/version", "3\n")

# npz: what `probe import` reads (scikit-learn coef_/intercept_ saved with numpy.savez).
np.savez(os.path.join(folder("npz"), "probe.npz"), coef=np.ones((3, 4), dtype=np.float64), intercept=np.zeros(3))
np.savez_compressed(os.path.join(folder("npz"), "probe-compressed.npz"), coef=np.ones((2, 4), dtype=np.float32).T, intercept=np.zeros(2, dtype=np.float32))

# resume state: the progress file a map job writes.
copy_stats = {"tilesMapped": 12, "skipped": {}, "classCounts": [1, 2, 3], "expertUsage": {}}
with open(os.path.join(folder("resume-state"), "progress.json"), "w") as f:
    json.dump({"format": "moemae-map-progress", "formatVersion": 1, "fingerprint": "ab" * 32, "gridRows": 4,
               "gridCols": 5, "finishedRows": 2, "statistics": copy_stats}, f, sort_keys=True)

# GeoTIFF bands: real BigEarthNet patches and 64x64 windows of a real scene band in several encodings.
copy(sorted(glob.glob(f"{data}/patches/bigearthnet-l-sample/images/*.tif"))[:4], "geotiff-band")
band = glob.glob(f"{data}/scenes/LC08_L2SP_008059_20191201_20200825_02_T1/*_SR_B4.TIF")[0]
for opts in [["-co", "COMPRESS=DEFLATE"], ["-co", "COMPRESS=LZW", "-co", "TILED=YES", "-co", "BLOCKXSIZE=16", "-co", "BLOCKYSIZE=16"],
             ["-co", "COMPRESS=NONE"]]:
    name = "b4-" + (opts[1].split("=")[1].lower()) + ".tif"
    subprocess.run(["gdal_translate", "-q", "-srcwin", "200", "200", "64", "64", *opts, band,
                    os.path.join(folder("geotiff-band"), name)], check=True)

# STAC: Items for the real scenes in the two published forms (stactools: SR_Bn keys with eo:bands
# common names; USGS: common-name keys, S3 alternates, MTL assets), and an ItemCollection of both with
# one broken feature. Properties come from the scene's own MTL JSON.
common = ["coastal", "blue", "green", "red", "nir08", "swir16", "swir22"]
items = []
for mtl in sorted(glob.glob(f"{data}/scenes/*/*_MTL.json")):
    product = os.path.basename(mtl)[:-len("_MTL.json")]
    with open(mtl) as f:
        m = json.load(f)["LANDSAT_METADATA_FILE"]
    attrs = m.get("IMAGE_ATTRIBUTES", {})
    time = attrs.get("SCENE_CENTER_TIME", "00:00:00Z").strip('"')
    props = {"datetime": f"{attrs.get('DATE_ACQUIRED')}T{time}",
             "platform": attrs.get("SPACECRAFT_ID", "LANDSAT_8").lower().replace("_", "-"), "instruments": ["oli", "tirs"],
             "landsat:correction": m.get("PRODUCT_CONTENTS", {}).get("PROCESSING_LEVEL", "L2SP"),
             "landsat:collection_number": "02", "landsat:wrs_path": attrs.get("WRS_PATH"), "landsat:wrs_row": attrs.get("WRS_ROW"),
             "view:sun_elevation": float(attrs.get("SUN_ELEVATION", 0)), "proj:epsg": 32618, "eo:cloud_cover": float(attrs.get("CLOUD_COVER", 0))}
    stactools = {f"SR_B{i + 1}": {"href": f"./{product}_SR_B{i + 1}.TIF", "eo:bands": [{"name": f"SR_B{i + 1}", "common_name": c}], "roles": ["data"]}
                 for i, c in enumerate(common)}
    stactools["QA_PIXEL"] = {"href": f"./{product}_QA_PIXEL.TIF"}
    usgs = {c: {"href": f"https://landsatlook.usgs.gov/data/{product}_SR_B{i + 1}.TIF", "eo:bands": [{"common_name": c}],
                "alternate": {"s3": {"href": f"s3://usgs-landsat/{product}_SR_B{i + 1}.TIF"}}} for i, c in enumerate(common)}
    usgs["qa_pixel"] = {"href": f"s3://usgs-landsat/{product}_QA_PIXEL.TIF"}
    usgs["mtl.json"] = {"href": f"s3://usgs-landsat/{product}_MTL.json"}
    for form, assets in [("stactools", stactools), ("usgs", usgs)]:
        item = {"type": "Feature", "stac_version": "1.0.0", "id": product, "properties": props, "assets": assets,
                "links": [{"rel": "self", "href": f"https://example.org/items/{product}"}]}
        items.append(item)
        with open(os.path.join(folder("stac-item"), f"{product}-{form}.json"), "w") as f:
            json.dump(item, f, indent=1)
with open(os.path.join(folder("stac-item"), "collection.json"), "w") as f:
    json.dump({"type": "FeatureCollection", "features": items[:2] + [{"type": "Feature", "id": "broken"}, 7]}, f)

# dataset manifest: written by `moemae tile` on a real scene (when the binary is given).
if moemae:
    tmp = os.path.join(out, ".tile")
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run([moemae, "tile", os.path.join(data, "scenes/LC08_L2SP_008059_20191201_20200825_02_T1"),
                    "--out", tmp, "--quiet"], check=True, stdout=subprocess.DEVNULL)
    shutil.copy(os.path.join(tmp, "manifest.json"), os.path.join(folder("dataset-manifest"), "manifest.json"))
    shutil.rmtree(tmp)
for name in sorted(os.listdir(out)):
    if not name.startswith("."):
        print(f"{name}: {len(os.listdir(os.path.join(out, name)))} seeds")
