#!/usr/bin/env bash
# Build a TensorRT engine for every bundled style into DIR (run on the deployment GPU, e.g. in the
# GPU image). Extra arguments go to `vidstyle export` (e.g. --fp16, --max-size 3840x2160).
set -euo pipefail
out=${1:?usage: build_engines.sh DIR [vidstyle export options]}
shift
mkdir -p "$out"
vidstyle models list --json | python3 -c 'import json,sys; [print(e["name"]) for e in json.load(sys.stdin) if e["source"] == "bundled"]' |
while read -r name; do
    echo "== $name"
    vidstyle export "$name" --format tensorrt -o "$out/${name//:/-}.engine" "$@"
done
