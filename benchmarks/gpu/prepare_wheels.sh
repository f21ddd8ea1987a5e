#!/usr/bin/env bash
# Download, here, the wheels the GPU machine lacks into .whl/ (ignored by git), for `carry: [".whl"]`.
#
#   bash benchmarks/gpu/prepare_wheels.sh        # from the repository root
#
# That machine has Python 3.12 with torch 2.11+cu130, torchvision, numpy, opencv-python-headless,
# onnx, onnxruntime (CPU), onnxscript, safetensors, tqdm, pyyaml, matplotlib, pillow, requests and
# pytest (/work/.library/device/KINDS.md); of what vidstyle imports it lacks PyAV and
# facenet-pytorch. facenet-pytorch pins torch<2.3 and numpy<2, so it comes without its
# dependencies (as in the Makefile); PyAV's wheel bundles FFmpeg (libx264 included) and needs
# nothing else. Everything a device call sends (tracked and untracked files plus carried paths)
# must stay under 64 MiB: checked at the end.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
PY=${PYTHON:-/work/main/.venv/bin/python}
[ -x "$PY" ] || PY=python3
WHEELS=("av==18.1.0" "facenet-pytorch==2.6.0")

exclude="$(git rev-parse --git-common-dir)/info/exclude"     # a worktree's .git is a file
mkdir -p "$(dirname "$exclude")"
grep -qx '/.whl/' "$exclude" 2>/dev/null || echo '/.whl/' >> "$exclude"
rm -rf .whl && mkdir -p .whl
for spec in "${WHEELS[@]}"; do
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform any -d .whl "$spec" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
done
ls -l .whl

# The same install the device makes, against a Python 3.12 target: proves tags and one version each
rm -rf /tmp/vidstyle-site312
"$PY" -m pip install -q --no-index --no-deps --no-compile --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --target /tmp/vidstyle-site312 .whl/*.whl
ls /tmp/vidstyle-site312 | grep -E '^(av|facenet_pytorch)$'
test -f /tmp/vidstyle-site312/facenet_pytorch/data/onet.pt   # MTCNN's weights ship in the wheel

# What a device call sends: tracked + untracked-not-ignored files + .whl
sent=$( (git ls-files -z --cached --others --exclude-standard; printf '%s\0' .whl/*) \
        | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
limit=$((64 * 1024 * 1024))
printf 'device call payload: %.1f MiB of %d MiB (wheels %.1f MiB)\n' \
  "$(echo "$sent / 1048576" | bc -l)" 64 "$(du -cb .whl/* | tail -1 | cut -f1 | awk '{print $1/1048576}')"
[ "$sent" -lt "$limit" ] || { echo "over the 64 MiB limit: carry less" >&2; exit 1; }
