#!/usr/bin/env python3
"""Validates a STAC Item JSON file against the vendored STAC schemas (schemas/stac/), offline.

Usage: validate_stac_item.py SCHEMAS_STAC_DIR ITEM.json
Validates the core Item schema (v1.0.0) and every extension listed in `stac_extensions`. Remote
`$ref`s resolve to the vendored files through a `referencing.Registry`; any other remote reference
fails (no network at test time). Prints "ok" and exits 0, or prints the errors and exits 1.
"""
import json
import sys
from pathlib import Path

from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

root = Path(sys.argv[1])
item = json.loads(Path(sys.argv[2]).read_text())

STAC = "https://schemas.stacspec.org/v1.0.0/item-spec/json-schema/"
PROJ = "https://stac-extensions.github.io/projection/v1.0.0/schema.json"
CLASSIFICATION = "https://stac-extensions.github.io/classification/v1.1.0/schema.json"
CLASSIFICATION_AS_RELEASED = "https://stac-extensions.github.io/classification/v1.0.0/schema.json"

local = {STAC + name: root / "stac-spec/v1.0.0" / name
         for name in ["item.json", "basics.json", "datetime.json", "instrument.json", "licensing.json", "provider.json"]}
local["https://geojson.org/schema/Feature.json"] = root / "geojson/Feature.json"
local["https://geojson.org/schema/Geometry.json"] = root / "geojson/Geometry.json"
local[PROJ] = root / "extensions/projection/v1.0.0/schema.json"
local[CLASSIFICATION] = root / "extensions/classification/v1.1.0/schema.json"
# The source scene's properties an output Item keeps (landsat:*, view:*): docs/cloud.md, provenance.
local["https://stac-extensions.github.io/view/v1.0.0/schema.json"] = root / "extensions/view/v1.0.0/schema.json"
local["https://stac-extensions.github.io/landsat/v2.0.0/schema.json"] = root / "extensions/landsat/v2.0.0/schema.json"


def load(uri):
    text = local[uri].read_text()
    if uri == CLASSIFICATION:
        # The v1.1.0 release still names itself v1.0.0 (see schemas/stac/README.md); use its intended URL.
        text = text.replace(CLASSIFICATION_AS_RELEASED, CLASSIFICATION)
    contents = json.loads(text)
    # Register under the public URL; drop "$id" so relative refs ("basics.json") resolve against that URL.
    contents.pop("$id", None)
    return contents


def retrieve(uri):
    raise LookupError(f"remote schema {uri} is not vendored (no network in tests)")


registry = Registry(retrieve=retrieve).with_resources(
    [(uri, Resource.from_contents(load(uri), default_specification=DRAFT7)) for uri in local])

errors = []
schemas = [STAC + "item.json"] + list(item.get("stac_extensions", []))
for uri in schemas:
    if uri not in local:
        errors.append(f"extension {uri} has no vendored schema")
        continue
    validator = Draft7Validator({"$ref": uri}, registry=registry, format_checker=FormatChecker())
    for e in validator.iter_errors(item):
        errors.append(f"{uri}: {'/'.join(map(str, e.absolute_path))}: {e.message}")

# Checks the schemas cannot express: every prefixed property is covered by a listed extension (STAC best
# practice; the view and landsat schemas as released do not check it themselves); geometry inside bbox.
PREFIXES = {"proj": "/projection/", "classification": "/classification/", "view": "/view/", "landsat": "landsat"}
for key in item["properties"]:
    prefix = key.split(":", 1)[0] if ":" in key else None
    if prefix in PREFIXES and not any(PREFIXES[prefix] in u for u in item.get("stac_extensions", [])):
        errors.append(f"properties/{key}: no extension for the {prefix}: prefix in stac_extensions")
w, s, e, n = item["bbox"]
for lon, lat in item["geometry"]["coordinates"][0]:
    if not (w - 1e-9 <= lon <= e + 1e-9 and s - 1e-9 <= lat <= n + 1e-9):
        errors.append(f"geometry point {lon},{lat} outside bbox")
if errors:
    print("\n".join(errors))
    sys.exit(1)
print("ok")
