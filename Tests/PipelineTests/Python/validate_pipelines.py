#!/usr/bin/env python3
"""Validates pipeline YAML files against schemas/pipeline.schema.json (jsonschema + PyYAML).

Usage: validate_pipelines.py SCHEMA.json FILE.yaml...   Prints "ok N" or the errors (exit 1).
"""
import json
import sys

import yaml
from jsonschema import Draft202012Validator

schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)
errors = []
for path in sys.argv[2:]:
    doc = yaml.safe_load(open(path))
    for e in validator.iter_errors(doc):
        errors.append(f"{path}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"ok {len(sys.argv) - 2}")
