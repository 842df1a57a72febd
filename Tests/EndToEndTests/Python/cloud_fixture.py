#!/usr/bin/env python3
"""Object storage and a web server on 127.0.0.1 holding shared Landsat scenes as COGs, for the cloud tests.

Usage: cloud_fixture.py WORK_DIR PRODUCT [PRODUCT...]

Starts a real S3 API (moto's server, `moto[server]` from PyPI, installed by scripts/setup.sh) and a
plain HTTP server with byte-range support (GDAL's /vsicurl/ reads COGs by ranges) on free ports of the
loopback interface. Converts each shared C2 L2 scene to COGs (`gdal_translate -of COG`), uploads them
with their MTLs to s3://landsat-cog/collection02/level-2/<product>/ and copies them under the web
server's root, then writes STAC Items for them:

- USGS form (`<work>/items/<product>.usgs.json`, a local file): asset keys coastal, blue, green, red,
  nir08, swir16, swir22, qa_pixel, mtl.txt/mtl.json/mtl.xml; https hrefs on landsatlook.usgs.gov (not
  reachable) with the real copy in alternate.s3.href; eo:bands common names; USGS's Landsat extension
  v1.1.1 in stac_extensions.
- stactools / Planetary Computer form (`http://127.0.0.1:HTTP/items/<product>.json`, served): asset keys
  SR_B1…SR_B7, QA_PIXEL, relative hrefs next to the item, eo:bands common names, no MTL asset (metadata
  from the properties: datetime, platform, instruments, landsat:*, proj:epsg); the community Landsat
  extension v2.0.0 in stac_extensions.

A 3x enlarged copy of the first product P on the web server (`big_http_item`). Fault fixtures (for P): items with a band asset missing, a band href that does not
exist (404), a band object truncated on the server, a datetime one hour off the MTL's, and a
FeatureCollection [good, broken, good].

Prints one JSON line describing everything (ports, URLs, environment for GDAL), then serves until its
standard input closes or it receives a line: `stop-http` (stop the web server), `start-http` (start it
again on the same port), `auth-on`, `auth-off`, `quit`. Each command is answered with a line `ok`.

Between `auth-on` and `auth-off`, moto checks IAM: S3 requests must be signed by a known user, and the
user in `auth` (created at start) has no permission, so every read is refused with HTTP 403
AccessDenied (the requester-pays test); the other tests run with checks off.
"""
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading

import boto3
from moto.server import ThreadedMotoServer
import moto.settings

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "shared", "data", "scenes")
COMMON = {1: "coastal", 2: "blue", 3: "green", 4: "red", 5: "nir08", 6: "swir16", 7: "swir22"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler plus single `Range: bytes=a-b` requests (206), as GDAL's /vsicurl/ needs."""

    def log_message(self, *args):
        pass

    def send_head(self):
        rng = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not rng or not rng.startswith("bytes=") or not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        a, _, b = rng[6:].partition("-")
        start = int(a) if a else max(0, size - int(b))
        end = min(int(b), size - 1) if (a and b) else size - 1
        if start >= size:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.end_headers()
            return None
        f = open(path, "rb")
        f.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Last-Modified", self.date_time_string(int(os.path.getmtime(path))))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self._remaining = end - start + 1
        return f

    def copyfile(self, source, outputfile):
        remaining = getattr(self, "_remaining", None)
        if remaining is None:
            return super().copyfile(source, outputfile)
        while remaining > 0:
            chunk = source.read(min(65536, remaining))
            if not chunk:
                break
            outputfile.write(chunk)
            remaining -= len(chunk)


class WebServer:
    def __init__(self, root, port):
        self.root, self.port, self.httpd = root, port, None

    def start(self):
        handler = lambda *a, **k: RangeHandler(*a, directory=self.root, **k)  # noqa: E731
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def mtl(product):
    with open(os.path.join(SHARED, product, f"{product}_MTL.json")) as f:
        return json.load(f)["LANDSAT_METADATA_FILE"]


def properties(product):
    m = mtl(product)
    img, proj = m["IMAGE_ATTRIBUTES"], m["PROJECTION_ATTRIBUTES"]
    fields = product.split("_")
    props = {
        "datetime": f"{img['DATE_ACQUIRED']}T{img['SCENE_CENTER_TIME']}",
        "platform": img["SPACECRAFT_ID"].lower().replace("_", "-"),
        "instruments": ["oli", "tirs"],
        "eo:cloud_cover": float(img["CLOUD_COVER"]),
        "view:sun_azimuth": float(img["SUN_AZIMUTH"]),
        "view:sun_elevation": float(img["SUN_ELEVATION"]),
        "view:off_nadir": 0,
        "landsat:product_id": product,
        "landsat:correction": fields[1],
        "landsat:collection_number": fields[5],
        "landsat:collection_category": fields[6],
        "landsat:wrs_path": fields[2][:3],
        "landsat:wrs_row": fields[2][3:],
        "landsat:cloud_cover_land": float(img.get("CLOUD_COVER_LAND", img["CLOUD_COVER"])),
        "landsat:scene_id": m["LEVEL1_PROCESSING_RECORD"]["LANDSAT_SCENE_ID"],
        "landsat:wrs_type": str(img["WRS_TYPE"]),
    }
    if proj.get("UTM_ZONE"):
        props["proj:epsg"] = 32600 + int(proj["UTM_ZONE"])
    return props


def band_files(product):
    return {n: f"{product}_SR_B{n}.TIF" for n in range(1, 8)}


def usgs_item(product, s3_prefix):
    assets = {}
    for n, name in band_files(product).items():
        assets[COMMON[n]] = {
            "href": f"https://landsatlook.usgs.gov/data/collection02/level-2/{product}/{name}",
            "type": "image/vnd.stac.geotiff; cloud-optimized=true", "roles": ["data", "reflectance"],
            "eo:bands": [{"name": f"SR_B{n}", "common_name": COMMON[n]}],
            "alternate": {"s3": {"href": f"{s3_prefix}/{name}", "storage:platform": "AWS", "storage:requester_pays": True}},
        }
    assets["qa_pixel"] = {"href": f"https://landsatlook.usgs.gov/data/{product}_QA_PIXEL.TIF", "roles": ["cloud", "cloud-shadow"],
                          "alternate": {"s3": {"href": f"{s3_prefix}/{product}_QA_PIXEL.TIF"}}}
    for ext in ("txt", "json", "xml"):
        assets[f"mtl.{ext}"] = {"href": f"https://landsatlook.usgs.gov/data/{product}_MTL.{ext}", "roles": ["metadata"],
                                "alternate": {"s3": {"href": f"{s3_prefix}/{product}_MTL.{ext}"}}}
    # The extensions the USGS STAC server's items list (its own Landsat extension v1.1.1).
    return feature(product, properties(product), assets, "landsat-c2l2-sr",
                   ["https://landsat.usgs.gov/stac/landsat-extension/v1.1.1/schema.json",
                    "https://stac-extensions.github.io/view/v1.0.0/schema.json",
                    "https://stac-extensions.github.io/projection/v1.0.0/schema.json",
                    "https://stac-extensions.github.io/eo/v1.0.0/schema.json",
                    "https://stac-extensions.github.io/alternate-assets/v1.1.0/schema.json"])


def stactools_item(product):
    assets = {}
    for n, name in band_files(product).items():
        assets[f"SR_B{n}"] = {"href": f"./{name}", "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                              "roles": ["data"], "eo:bands": [{"name": f"SR_B{n}", "common_name": COMMON[n]}],
                              "raster:bands": [{"data_type": "uint16", "nodata": 0, "scale": 2.75e-05, "offset": -0.2}]}
    assets["QA_PIXEL"] = {"href": f"./{product}_QA_PIXEL.TIF", "roles": ["cloud"]}
    # The extensions stactools' Landsat package lists (the community Landsat extension v2.0.0).
    return feature(product, properties(product), assets, "landsat-c2-l2",
                   ["https://stac-extensions.github.io/landsat/v2.0.0/schema.json",
                    "https://stac-extensions.github.io/view/v1.0.0/schema.json",
                    "https://stac-extensions.github.io/projection/v1.0.0/schema.json",
                    "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
                    "https://stac-extensions.github.io/raster/v1.1.0/schema.json"])


def feature(product, props, assets, collection, extensions):
    return {"type": "Feature", "stac_version": "1.0.0", "id": product, "collection": collection,
            "stac_extensions": extensions, "geometry": None, "bbox": None, "properties": props, "links": [], "assets": assets}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    work, products = os.path.abspath(args[0]), args[1:]
    os.makedirs(work, exist_ok=True)
    s3_port, http_port = free_port(), free_port()
    moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    moto_server.start()
    endpoint = f"http://127.0.0.1:{s3_port}"
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                      region_name="us-east-1")
    s3.create_bucket(Bucket="landsat-cog")
    s3.create_bucket(Bucket="moemae-out")
    www = os.path.join(work, "www")
    items = os.path.join(work, "items")
    os.makedirs(items, exist_ok=True)
    out = {"s3_endpoint": f"127.0.0.1:{s3_port}", "http": f"http://127.0.0.1:{http_port}", "scenes": {}}
    for product in products:
        src = os.path.join(SHARED, product)
        cog = os.path.join(www, product)
        os.makedirs(cog, exist_ok=True)
        for name in list(band_files(product).values()) + [f"{product}_QA_PIXEL.TIF"]:
            if not os.path.exists(os.path.join(cog, name)):
                run(["gdal_translate", "-q", "-of", "COG", "-co", "BLOCKSIZE=256", os.path.join(src, name), os.path.join(cog, name)])
        for ext in ("txt", "json", "xml"):
            shutil.copy(os.path.join(src, f"{product}_MTL.{ext}"), cog)
        key_prefix = f"collection02/level-2/{product}"
        for name in sorted(os.listdir(cog)):
            s3.upload_file(os.path.join(cog, name), "landsat-cog", f"{key_prefix}/{name}")
        s3_prefix = f"s3://landsat-cog/{key_prefix}"
        usgs = usgs_item(product, s3_prefix)
        with open(os.path.join(items, f"{product}.usgs.json"), "w") as f:
            json.dump(usgs, f, indent=1)
        pc = stactools_item(product)
        with open(os.path.join(cog, f"{product}.json"), "w") as f:
            json.dump(pc, f, indent=1)
        out["scenes"][product] = {
            "cog_folder": cog,
            "s3_prefix": s3_prefix + "/",
            "usgs_item": os.path.join(items, f"{product}.usgs.json"),
            "http_item": f"http://127.0.0.1:{http_port}/{product}/{product}.json",
            "s3_item": f"{s3_prefix}/{product}.json",
        }
        s3.upload_file(os.path.join(cog, f"{product}.json"), "landsat-cog", f"{key_prefix}/{product}.json")

    # Fault fixtures, from the first product.
    p = products[0]
    base = usgs_item(p, out["scenes"][p]["s3_prefix"].rstrip("/"))
    faults = {}

    def write(name, doc):
        path = os.path.join(items, name)
        with open(path, "w") as f:
            json.dump(doc, f, indent=1)
        faults[name.split(".")[0]] = path

    missing = json.loads(json.dumps(base))
    del missing["assets"]["nir08"]
    write("missing-asset.json", missing)
    notfound = json.loads(json.dumps(base))
    notfound["assets"]["red"]["alternate"]["s3"]["href"] = f"s3://landsat-cog/collection02/level-2/{p}/no-such-object_SR_B4.TIF"
    write("not-found.json", notfound)
    # A band object cut short on the server: its header and first tiles read, the rest fails.
    truncated_key = f"truncated/{p}_SR_B4.TIF"
    full = open(os.path.join(out["scenes"][p]["cog_folder"], f"{p}_SR_B4.TIF"), "rb").read()
    s3.put_object(Bucket="landsat-cog", Key=truncated_key, Body=full[: len(full) * 2 // 3])
    truncated = json.loads(json.dumps(base))
    truncated["assets"]["red"]["alternate"]["s3"]["href"] = f"s3://landsat-cog/{truncated_key}"
    write("truncated.json", truncated)
    late = json.loads(json.dumps(base))
    late["properties"]["datetime"] = late["properties"]["datetime"].replace("T15:", "T16:", 1) if "T15:" in late["properties"]["datetime"] \
        else late["properties"]["datetime"][:11] + "00" + late["properties"]["datetime"][13:]
    write("datetime-off.json", late)
    good = [usgs_item(q, out["scenes"][q]["s3_prefix"].rstrip("/")) for q in products]
    collection = {"type": "FeatureCollection", "features": [good[0], missing, *good[1:]]}
    write("collection-with-broken.json", collection)
    out["faults"] = faults
    # A 3x enlarged copy of P (1,521 tiles) on the web server, long enough to stop the server mid-run.
    big = os.path.join(www, "big", p)
    os.makedirs(big, exist_ok=True)
    for name in list(band_files(p).values()) + [f"{p}_QA_PIXEL.TIF"]:
        if not os.path.exists(os.path.join(big, name)):
            run(["gdal_translate", "-q", "-of", "COG", "-co", "BLOCKSIZE=256", "-r", "nearest", "-outsize", "300%", "300%",
                 os.path.join(SHARED, p, name), os.path.join(big, name)])
    with open(os.path.join(big, f"{p}.json"), "w") as f:
        json.dump(stactools_item(p), f, indent=1)
    out["big_http_item"] = f"http://127.0.0.1:{http_port}/big/{p}/{p}.json"
    iam = boto3.client("iam", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                       region_name="us-east-1")
    iam.create_user(UserName="no-permissions")
    key = iam.create_access_key(UserName="no-permissions")["AccessKey"]
    out["auth"] = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    out["env"] = {"AWS_S3_ENDPOINT": out["s3_endpoint"], "AWS_HTTPS": "NO", "AWS_VIRTUAL_HOSTING": "FALSE",
                  "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
                  "GDAL_HTTP_MAX_RETRY": "0"}
    web = WebServer(www, http_port)
    web.start()
    print(json.dumps(out), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "stop-http":
            web.stop()
        elif cmd == "start-http":
            web.start()
        elif cmd == "auth-on":
            # moto reads this setting on every request: from now on it authenticates and authorises.
            moto.settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        elif cmd == "auth-off":
            moto.settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
        elif cmd == "quit":
            break
        print("ok", flush=True)
    web.stop()
    moto_server.stop()


if __name__ == "__main__":
    main()
