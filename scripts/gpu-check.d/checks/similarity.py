"""Section similarity: svco data similarity throughput."""
import json
import os
import shutil
import struct

from checks.harness import CPU_RUN, DEVICE, ROOT, THREADS, WORK, must, svco

def section_similarity(s):
    work = os.path.join(WORK, "similarity")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "img"))
    pairs, batch = (8, 4) if CPU_RUN else (int(os.environ.get("GPU_CHECK_SIM_PAIRS", "512")), int(os.environ.get("GPU_CHECK_SIM_BATCH", "64")))
    if CPU_RUN:
        models = {m: os.path.join(ROOT, "Tests/ModelsTests/Fixtures/vision-similarity", m) for m in ("siglip-tiny", "dinov2-tiny")}
    else:
        models = {}
        for m in ("siglip-so400m-patch14-384", "dinov2-large"):
            models[m] = os.path.join(work, m)
            must(svco(["init", "--config", os.path.join(ROOT, "configs/image-encoders", m, "config.json"), "--out", models[m]], 120), f"svco init {m}")
    # 256 distinct 480x320 noise PNGs and PAIRS pairs over them (a batch of up to 128 pairs holds distinct images).
    import zlib
    files = []
    for i in range(32 if CPU_RUN else 256):
        raw = b"".join(b"\x00" + os.urandom(480 * 3) for _ in range(320))
        chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
        path = os.path.join(work, "img", f"{i}.png")
        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 480, 320, 8, 2, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))
        files.append(path)
    n = len(files)
    json.dump([{"images": [files[(2 * i) % n], files[(2 * i + 1) % n]]} for i in range(pairs)], open(os.path.join(work, "pairs.json"), "w"))
    siglip, dinov2 = list(models.values())
    for dtype in ("float32", "bfloat16"):
        r = must(svco(["data", "similarity", "--data", os.path.join(work, "pairs.json"), "--siglip", siglip, "--dinov2", dinov2,
                       "--out", os.path.join(work, f"scored-{dtype}.json"), "--batch-size", str(batch), "--device", DEVICE,
                       "--dtype", dtype] + THREADS, 240), f"svco data similarity ({dtype})")
        rate = [l for _, l in r.lines if "images/s" in l or "pairs/s" in l]
        s.row(f"similarity {dtype}, {pairs} pairs, batch {batch}" + (" (tiny fixture models)" if CPU_RUN else " (so400m-384 + DINOv2-large)"),
              rate[-1].strip() if rate else f"{2 * pairs / r.seconds:.1f} images/s over the whole command ({r.seconds:.0f} s)")
