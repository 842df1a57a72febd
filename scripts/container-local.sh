#!/usr/bin/env bash
# Builds the moemae container image here without any container registry, then runs it: the base image
# is Debian 12 made with debootstrap from the Debian mirror and tagged localhost/debian:12-slim; the
# image is deploy/Containerfile.prebuilt over the release binary, the Swift runtime libraries it links
# and the bundled model; buildah with chroot isolation and the vfs storage driver (no daemon, no
# overlay mounts). Checks: `moemae --version` and a map of a shared scene inside the container,
# compared byte for byte with the same map on the host.
#   scripts/container-local.sh [WORK_DIR]        (root; after swift build -c release --product moemae)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/moemae-container}
mkdir -p "$work"
export BUILDAH_ISOLATION=chroot STORAGE_DRIVER=vfs
b() { buildah --storage-driver vfs "$@"; }
command -v buildah >/dev/null && command -v debootstrap >/dev/null || \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends buildah debootstrap
binary=.build/release/moemae
[ -x "$binary" ] || { echo "build the release binary first: swift build -c release --product moemae" >&2; exit 1; }

if ! b inspect --type image localhost/debian:12-slim >/dev/null 2>&1; then
    rm -rf "$work/rootfs"
    debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian
    tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
    ctr=$(b from scratch)
    b add "$ctr" "$work/rootfs.tar" /
    b commit "$ctr" localhost/debian:12-slim
    b rm "$ctr"
fi

ctx="$work/context"
rm -rf "$ctx"; mkdir -p "$ctx/swift-runtime"
cp "$binary" "$ctx/moemae"
swiftlib=$(ldd "$binary" | awk '/libswiftCore.so/ {print $3}' | xargs dirname)
ldd "$binary" | awk -v d="$swiftlib/" 'index($3, d) == 1 {print $3}' | xargs -r cp -t "$ctx/swift-runtime/"
cp -r models/default "$ctx/model"
version=$("$binary" --version)
b bud --isolation chroot --build-arg BASE=localhost/debian:12-slim -f deploy/Containerfile.prebuilt -t "localhost/moemae:$version" "$ctx"

# Inside the container: the version, and a map of a shared scene with the bundled model.
scene=LC08_L2SP_008059_20191201_20200825_02_T1
rm -rf "$work/out-container" "$work/out-host"; mkdir -p "$work/out-container"
ctr=$(b from "localhost/moemae:$version")
trap 'b rm "$ctr" >/dev/null' EXIT
b run --isolation chroot "$ctr" -- moemae --version
b run --isolation chroot -v "$(realpath ../shared/data/scenes/$scene):/data/$scene:ro" -v "$work/out-container:/out" "$ctr" -- \
    moemae map "/data/$scene" --out /out --quiet
"$binary" map "../shared/data/scenes/$scene" --out "$work/out-host" --quiet
for f in "$work/out-host/"*.tif; do
    cmp "$f" "$work/out-container/$(basename "$f")"
done
echo "container map of $scene: $(ls "$work/out-container" | wc -l) files, rasters byte-identical to the host's"
b images
