#!/usr/bin/env python3
"""Validates a STAC Collection (moemae gather's collection.json) and every Item it links to against the
vendored STAC schemas (schemas/stac/), offline.

Usage: validate_stac_collection.py SCHEMAS_STAC_DIR COLLECTION.json
The Collection is checked against collection-spec v1.0.0; each `rel: item` link is resolved relative to
the Collection and checked with Tests/PipelineTests/Python/validate_stac_item.py's rules (core Item
schema plus the extensions it lists). Prints "ok N items" and exits 0, or the errors and exits 1.
"""
import json
import subprocess
import sys
from pathlib import Path

from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

root = Path(sys.argv[1])
path = Path(sys.argv[2])
collection = json.loads(path.read_text())

URI = "https://schemas.stacspec.org/v1.0.0/collection-spec/json-schema/collection.json"
contents = json.loads((root / "stac-spec/v1.0.0/collection.json").read_text())
contents.pop("$id", None)


def retrieve(uri):
    raise LookupError(f"remote schema {uri} is not vendored (no network in tests)")


# The draft-07 meta-schema the Collection schema refers to (summaries as JSON Schema) is jsonschema's own.
registry = Registry(retrieve=retrieve).with_resource(URI, Resource.from_contents(contents, default_specification=DRAFT7))
errors = [f"collection: {'/'.join(map(str, e.absolute_path))}: {e.message}"
          for e in Draft7Validator({"$ref": URI}, registry=registry, format_checker=FormatChecker()).iter_errors(collection)]

item_script = Path(__file__).resolve().parents[3] / "Tests/PipelineTests/Python/validate_stac_item.py"
items = [l["href"] for l in collection.get("links", []) if l.get("rel") == "item"]
for href in items:
    r = subprocess.run([sys.executable, str(item_script), str(root), str(path.parent / href)], capture_output=True, text=True)
    if r.returncode != 0:
        errors.append(f"{href}: {r.stdout.strip()} {r.stderr.strip()}")

if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"ok {len(items)} items")
