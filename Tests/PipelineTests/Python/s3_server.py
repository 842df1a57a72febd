#!/usr/bin/env python3
"""A real S3 API on 127.0.0.1 for the object-storage cluster tests: moto's server (`moto[server]`,
installed by scripts/setup.sh) on a free port, with the buckets named on the command line created.

Usage: s3_server.py BUCKET [BUCKET...]

Prints one JSON line {"endpoint": "127.0.0.1:PORT", "env": {...GDAL/AWS settings...}}, then serves until
its standard input closes.
"""
import json
import socket
import sys

import boto3
from moto.server import ThreadedMotoServer


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=f"http://{endpoint}", region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    for bucket in sys.argv[1:]:
        client.create_bucket(Bucket=bucket)
    env = {"AWS_S3_ENDPOINT": endpoint, "AWS_HTTPS": "NO", "AWS_VIRTUAL_HOSTING": "FALSE",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
           "AWS_DEFAULT_REGION": "us-east-1"}
    print(json.dumps({"endpoint": endpoint, "env": env}), flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
