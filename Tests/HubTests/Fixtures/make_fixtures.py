"""Expected values for HubTests from Python's hashlib and fnmatch (run: python3 make_fixtures.py).

Data of length n is bytes((i * 7 + 3) % 256 for i in range(n)), the same sequence the Swift test builds.
"""
import fnmatch, hashlib, json

lengths = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65536, 1000003]
digests = []
for n in lengths:
    data = bytes((i * 7 + 3) % 256 for i in range(n))
    digests.append({"length": n, "sha256": hashlib.sha256(data).hexdigest(), "sha1": hashlib.sha1(data).hexdigest(),
                    "git_blob": hashlib.sha1(b"blob %d\0" % n + data).hexdigest()})

patterns = ["*.json", "*.safetensors", "images/*", "images/", "img/*.png", "MMVP Images/*", "data/test-*.parquet", "*",
            "?.txt", "[abc]*", "[!abc]*", "model-0000[1-2]-of-00002.safetensors", "*/*.jpg", "a[", "**/x"]
paths = ["config.json", "model.safetensors", "images/001.jpg", "images/sub/002.jpg", "img/2D/count/a.png", "MMVP Images/1.jpg",
         "data/test-00000-of-00002.parquet", "a.txt", "ab.txt", "bcd", "xyz", "model-00001-of-00002.safetensors",
         "model-00003-of-00002.safetensors", "a[", "deep/er/x", "README.md"]
matches = [{"pattern": p, "path": q, "match": fnmatch.fnmatchcase(q, p if not p.endswith("/") else p + "*")}
           for p in patterns for q in paths]
json.dump({"digests": digests, "fnmatch": matches}, open("expected.json", "w"), indent=0)
