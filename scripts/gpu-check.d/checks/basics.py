"""Sections env and selftest."""
import json
import os
import re
import shutil

from checks.harness import CPU_RUN, DEVICE, GIB, PYTHON, RESULTS, SVCO, THREADS, WORK, peer_env, run, svco

# ---------------------------------------------------------------- 1. environment and selftests

def section_env(s):
    r = run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"], 20) \
        if shutil.which("nvidia-smi") else None
    s.row("nvidia-smi", r.text.strip() if r and r.rc == 0 else "not available", ok=CPU_RUN or (r is not None and r.rc == 0))
    probe = ("import json, torch\n"
             "d = {'torch': torch.__version__, 'cuda': torch.version.cuda, 'available': torch.cuda.is_available()}\n"
             "if d['available']:\n"
             "    p = torch.cuda.get_device_properties(0); d.update(gpu=p.name, memory_gib=round(p.total_memory / 2**30, 1), capability=f'{p.major}.{p.minor}')\n"
             "try:\n    import transformers; d['transformers'] = transformers.__version__\n"
             "except Exception as e:\n    d['transformers'] = 'missing: ' + str(e)\n"
             "print(json.dumps(d))")
    r = run([PYTHON, "-c", probe], 60, env=peer_env())
    info = json.loads(r.lines[-1][1]) if r.rc == 0 and r.lines else {}
    RESULTS["environment"] = info
    s.row("python torch / CUDA", f"{info.get('torch')} / {info.get('cuda')} / available {info.get('available')}",
          ok=r.rc == 0 and (CPU_RUN or info.get("available")))
    if info.get("gpu"):
        s.row("GPU", f"{info['gpu']}, {info['memory_gib']} GiB, sm {info['capability']}")
    s.row("transformers", info.get("transformers", "?"), ok="missing" not in str(info.get("transformers", "missing")))
    free = shutil.disk_usage(WORK if os.path.isdir(WORK) else "/tmp").free / GIB
    s.row("disk free for scratch / CPUs", f"{free:.0f} GiB / {os.cpu_count()}")
    s.row("svco binary", SVCO, ok=os.access(SVCO, os.X_OK))


def selftest_counts(r):
    m = re.search(r"(\d+) passed, (\d+) failed", r.text)
    return (int(m.group(1)), int(m.group(2))) if m else (0, -1)


def section_selftest(s):
    runs = [("selftest --device " + DEVICE, ["selftest", "--device", DEVICE] + THREADS)]
    if not CPU_RUN:
        runs.append(("selftest --device cpu", ["selftest", "--device", "cpu", "--threads", "16"]))
        runs.append(("distributed, NCCL, 1 rank", ["launch", "--nproc-per-node", "1", "--master-port", "29531", "--", SVCO,
                                                   "selftest", "--distributed", "--device", "cuda"]))
    runs.append(("distributed, Gloo, 2 ranks (CPU)", ["launch", "--nproc-per-node", "2", "--master-port", "29532", "--", SVCO,
                                                      "selftest", "--distributed", "--device", "cpu", "--threads", "1" if CPU_RUN else "4"]))
    for label, args in runs:
        r = svco(args, 180)
        passed, failed = selftest_counts(r)
        failing = [l for _, l in r.lines if l.startswith("FAIL") or l.startswith("fail ")]
        s.row(label, f"{passed} passed, {failed} failed, {r.seconds:.0f} s" + (f"; {failing[0][:120]}" if failing else "")
              + ("" if r.rc == 0 else f"; exit {r.rc}: {r.tail(2)}"), ok=r.rc == 0 and failed == 0 and passed > 0)
