"""Small stand-ins for the MVC sources and the benchmark downloads, laid out like the real ones, and
what the reference's Python makes of them (run by DataFetchTests at test time with the pinned peers
of scripts/fetch-peers: Pillow 10.2.0, pyarrow 18.0.0).

usage: make_sources.py OUT SHARED_BENCHMARKS
OUT/hub/<type>/<repo>/<path>   files of the fake Hub repositories
OUT/web/<host>/<path>          files the fake mirror serves (SVCO_SOURCE_MIRROR)
OUT/expected/...               the reference's results: CounterCurate's flipped images, RealWorldQA's WebPs
"""
import io, json, os, shutil, sys, tarfile, zipfile
from PIL import Image

out, shared = sys.argv[1], sys.argv[2]
COMMIT = "bc8f941983703f2cb2c9660452eae294e0fada6f"


def put(path, data):
    path = os.path.join(out, path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def picture(w, h, seed, mode="RGB"):
    im = Image.new("RGB", (w, h))
    im.putdata([((x * 13 + seed * 31) % 256, (y * 7 + x * 3 + seed) % 256, (x * y + seed * 5) % 256) for y in range(h) for x in range(w)])
    return im.convert(mode)


def jpeg(w, h, seed, mode="RGB", **kw):
    b = io.BytesIO()
    picture(w, h, seed, mode).save(b, format="JPEG", quality=92, **kw)
    return b.getvalue()


def png(w, h, seed, mode="RGB"):
    b = io.BytesIO()
    picture(w, h, seed, mode if mode != "P" else "RGB").convert(mode).save(b, format="PNG")
    return b.getvalue()


def zip_of(entries):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            if name.endswith("/"):
                z.writestr(zipfile.ZipInfo(name), b"")
            else:
                z.writestr(name, data)
    return b.getvalue()


def tgz_of(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w:gz") as t:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    return b.getvalue()


# -- Flickr30k and CounterCurate -------------------------------------------------------------------
exif_rotated = Image.Exif()
exif_rotated[0x0112] = 6
flickr = {
    "1000092795": jpeg(40, 30, 1),
    "10002456": jpeg(37, 23, 2),                                   # odd width: the middle column stays
    "1000268201": jpeg(32, 24, 3, mode="L"),                       # greyscale stays greyscale
    "1000344755": jpeg(33, 17, 4, comment=b"a COM marker"),        # Pillow keeps the comment
    "1000366164": jpeg(24, 40, 5, exif=exif_rotated.tobytes()),    # EXIF orientation is not applied, EXIF dropped
    "1000523639": jpeg(48, 32, 6, subsampling=0),
}
put("hub/dataset/nlphuji/flickr30k/flickr30k-images.zip",
    zip_of([("flickr30k-images/", b"")] + [(f"flickr30k-images/{k}.jpg", v) for k, v in flickr.items()]))
put("hub/dataset/nlphuji/flickr30k/flickr_annotations_30k.csv", b"raw,sentids,split,filename,img_id\n")
put("hub/dataset/nlphuji/flickr30k/README.md", b"# Flickr30k\n")

left_right = ["10002456", "1000268201", "1000344755", "1000366164"]
counting = ["1000092795", "1000523639"]
up_down = ["1000092795"]
entries = [("train_data", None)]
for task, ids in (("counting", counting), ("up_down", up_down), ("left_right", left_right)):
    entries.append((f"train_data/{task}.json", json.dumps({i: {"caption": f"{task} {i}"} for i in ids}).encode()))
    entries += [(f"train_data/{task}", None), (f"train_data/{task}/pos", None), (f"train_data/{task}/neg", None)]
    if task != "left_right":
        entries += [(f"train_data/{task}/neg/{i}_0.jpg", jpeg(16, 16, 40 + n)) for n, i in enumerate(ids)]
put("hub/dataset/HanSolo9682/Flickr30k-Counterfactuals/train_data.tar.gz", tgz_of(entries))
put("hub/dataset/HanSolo9682/Flickr30k-Counterfactuals/README.md", b"# Flickr30k-Counterfactuals\n")

# The reference's prepare_countercurate_data.py step, verbatim in effect.
work = os.path.join(out, "expected", "flickr")
os.makedirs(work, exist_ok=True)
for i in left_right:
    src = os.path.join(work, f"{i}.jpg")
    with open(src, "wb") as f:
        f.write(flickr[i])
    with Image.open(src) as img:
        flipped = img.transpose(Image.FLIP_LEFT_RIGHT)
    os.makedirs(os.path.join(out, "expected", "left_right_neg"), exist_ok=True)
    with open(os.path.join(out, "expected", "left_right_neg", f"{i}.jpg"), "w") as f:
        flipped.save(f)

# -- FineCops-Ref ---------------------------------------------------------------------------------
put("web/downloads.cs.stanford.edu/nlp/data/gqa/images.zip",
    zip_of([("images/", b""), ("images/2354786.jpg", jpeg(20, 20, 7)), ("images/2368312.jpg", jpeg(22, 18, 8))]))
neg = tgz_of([("neg_images", None), ("neg_images/2354786_neg_0.jpg", jpeg(20, 20, 9))])
put("web/figshare.com/ndownloader/articles/26048050", zip_of([("neg_images.tgz", neg), ("finecops-ref_train.json", b"[]")]))

mvc = [
    {"system_prompt": "", "instruction_prompt": "Which side is the dog on?",
     "chosen_images": ["Flickr30k-Counterfactuals/train_data/left_right/pos/10002456.jpg"],
     "rejected_images": ["Flickr30k-Counterfactuals/train_data/left_right/neg/10002456.jpg"],
     "chosen_response": "Left.", "rejected_response": "Right."},
    {"system_prompt": "", "instruction_prompt": "How many?",
     "chosen_images": ["Flickr30k-Counterfactuals/train_data/counting/pos/1000092795.jpg"],
     "rejected_images": ["Flickr30k-Counterfactuals/train_data/counting/neg/1000092795_0.jpg"],
     "chosen_response": "Two.", "rejected_response": "Three."},
    {"system_prompt": "", "instruction_prompt": "What is on the table?",
     "chosen_images": ["finecops-ref/images/2354786.jpg"], "rejected_images": ["finecops-ref/neg_images/2354786_neg_0.jpg"],
     "chosen_response": "A cup.", "rejected_response": "A plate."},
]
put(f"web/raw.githubusercontent.com/s-vco/s-vco/{COMMIT}/data/mvc.json", json.dumps(mvc, indent=1).encode())

# -- benchmarks -----------------------------------------------------------------------------------
files = {
    "MMVP/Questions.csv": "eval_vlm/playground/data/eval/MMVP/Questions.csv",
    "cvbench/cvbench_test.jsonl": "eval_vlm/playground/data/eval/cvbench/cvbench_test.jsonl",
    "llava-bench-in-the-wild/questions.jsonl": "eval_vlm/playground/data/eval/llava-bench-in-the-wild/questions.jsonl",
    "llava-bench-in-the-wild/answers_gpt4.jsonl": "eval_vlm/playground/data/eval/llava-bench-in-the-wild/answers_gpt4.jsonl",
    "llava-bench-in-the-wild/context.jsonl": "eval_vlm/playground/data/eval/llava-bench-in-the-wild/context.jsonl",
    "llava-bench-in-the-wild/llavabench_gpt_review_rule.json": "eval_vlm/llava/eval/llavabench_gpt_review_rule.json",
    "mm-vet/mm-vet.json": "eval_vlm/playground/data/eval/mm-vet/mm-vet.json",
    "mmhal-bench/mmhal-bench_answer_template.json": "eval_vlm/playground/data/eval/halbench/RLHF-V/eval/data/mmhal-bench_answer_template.json",
    "realworldqa/llava_test_realworldqa.jsonl": "eval_vlm/playground/data/eval/realworldqa/llava_test_realworldqa.jsonl",
    "scienceqa/llava_test_CQM-A.json": "eval_vlm/playground/data/eval/scienceqa/llava_test_CQM-A.json",
    "textvqa/TextVQA_0.5.1_val.json": "eval_vlm/playground/data/eval/textvqa/TextVQA_0.5.1_val.json",
    "textvqa/llava_textvqa_val_v051_ocr.jsonl": "eval_vlm/playground/data/eval/textvqa/llava_textvqa_val_v051_ocr.jsonl",
}
for local, remote in files.items():
    with open(os.path.join(shared, local), "rb") as f:
        put(f"web/raw.githubusercontent.com/s-vco/s-vco/{COMMIT}/{remote}", f.read())

with open(os.path.join(shared, "mmhal-bench/mmhal-bench_answer_template.json")) as f:
    for n, e in enumerate(json.load(f)):
        put("web/" + e["image_src"].split("://", 1)[1], jpeg(8, 8, n))

put("web/github.com/yuweihao/MM-Vet/releases/download/v1/mm-vet.zip",
    zip_of([("mm-vet/", b""), ("mm-vet/mm-vet.json", b"{}"), ("mm-vet/images/", b""), ("mm-vet/images/v1_0.png", png(10, 10, 1)),
            ("mm-vet/images/v1_1.jpg", jpeg(10, 12, 2))]))
put("web/dl.fbaipublicfiles.com/textvqa/images/train_val_images.zip",
    zip_of([("train_images/", b""), ("train_images/003a8ae2ef43b901.jpg", jpeg(12, 10, 3)), ("__MACOSX/._x", b"junk")]))
put("web/scienceqa.s3.us-west-1.amazonaws.com/images/test.zip",
    zip_of([("test/", b""), ("test/5/", b""), ("test/5/image.png", png(14, 9, 4))]))

put("hub/dataset/liuhaotian/llava-bench-in-the-wild/images/001.jpg", jpeg(16, 12, 10))
put("hub/dataset/liuhaotian/llava-bench-in-the-wild/questions.jsonl", b"{}\n")
put("hub/dataset/nyu-visionx/CV-Bench/img/2D/count/ade20k_10.png", png(12, 12, 11))
put("hub/dataset/nyu-visionx/CV-Bench/test.parquet", b"PAR1 not fetched")
put("hub/dataset/MMVP/MMVP/MMVP Images/1.jpg", jpeg(16, 16, 12))
put("hub/dataset/MMVP/MMVP/Questions.csv", b"Index,Question,Options,Correct Answer\n")

# RealWorldQA: an Image feature (struct of bytes and path) as `datasets` writes it, in two files.
import pyarrow as pa, pyarrow.parquet as pq
images = [png(20, 14, 20), jpeg(18, 16, 21), png(12, 12, 22, mode="L"), png(15, 11, 23, mode="P"), jpeg(30, 20, 24), png(9, 7, 25)]
def table(rows):
    return pa.table({
        "image": pa.array([{"bytes": b, "path": None} for b in rows], type=pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
        "question": pa.array([f"q{n}" for n in range(len(rows))]),
        "answer": pa.array(["A"] * len(rows)),
    })
b0, b1 = io.BytesIO(), io.BytesIO()
pq.write_table(table(images[:4]), b0, row_group_size=2, compression="snappy")                         # dictionary pages, v1
pq.write_table(table(images[4:]), b1, compression="none", use_dictionary=False, data_page_version="2.0")  # PLAIN, v2
put("hub/dataset/xai-org/RealworldQA/data/test-00000-of-00002.parquet", b0.getvalue())
put("hub/dataset/xai-org/RealworldQA/data/test-00001-of-00002.parquet", b1.getvalue())
put("hub/dataset/xai-org/RealworldQA/README.md", b"# RealWorldQA\n")
os.makedirs(os.path.join(out, "expected", "realworldqa"), exist_ok=True)
for i, data in enumerate(images):  # the reference's `sample['image'].save(f'{i+1}.webp', format='WEBP')`
    Image.open(io.BytesIO(data)).save(os.path.join(out, "expected", "realworldqa", f"{i + 1}.webp"), format="WEBP")
for i, data in enumerate(images):
    put(f"expected/realworldqa_raw/{i + 1}.bin", data)

# Files the readers must refuse, each by name.
g = io.BytesIO()
pq.write_table(table(images[:1]), g, compression="gzip")
put("bad/gzip.parquet", g.getvalue())
put("bad/truncated.parquet", b0.getvalue()[: len(b0.getvalue()) // 2])
put("bad/evil.zip", zip_of([("ok.txt", b"fine"), ("../evil.txt", b"outside")]))
put("bad/corrupt.zip", zip_of([("a.bin", bytes(range(256)) * 40)])[:-200])
print("ok")
