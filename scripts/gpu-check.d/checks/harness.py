"""The acceptance run's settings (environment variables), its process runner with time boxes, the
results table and JSON, and small file readers: what every section uses."""
import array
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))  # checks/ -> gpu-check.d -> scripts -> root
DEVICE = os.environ.get("GPU_CHECK_DEVICE", "cuda")
CPU_RUN = DEVICE == "cpu"
ONLY = [s for s in os.environ.get("GPU_CHECK_ONLY", "").split(",") if s]
WORK = os.environ.get("GPU_CHECK_WORK", "/tmp/gpu-check-work")
BUDGET = float(os.environ.get("GPU_CHECK_BUDGET", "480"))
RUN_BUDGET = BUDGET  # BUDGET shrinks to each section's time box while it runs; this stays the whole run's
STARTED = time.monotonic()
PEAK_BF16_FLOPS = 989e12  # H100/H200 SXM dense bf16 tensor-core peak
U_BF16 = 2.0 ** -8        # bf16 unit roundoff (8 significand bits)
GIB = 1024 ** 3


def default_svco():
    for p in (".gpu/svco", ".build/release/svco", ".build/debug/svco"):
        if os.access(os.path.join(ROOT, p), os.X_OK):
            return os.path.join(ROOT, p)
    return os.path.join(ROOT, ".gpu/svco")


SVCO = os.environ.get("GPU_CHECK_SVCO", default_svco())
PYTHON = os.environ.get("GPU_CHECK_PYTHON", sys.executable)
THREADS = ["--threads", "2"] if CPU_RUN else []


def peer_env():
    env = dict(os.environ)
    extra = os.path.join(ROOT, ".deps", "gpu-check-py")
    if CPU_RUN and os.path.isdir(extra):
        env["PYTHONPATH"] = extra + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


# ---------------------------------------------------------------- processes

class Ran:
    def __init__(self, rc, lines, seconds, maxrss, timed_out):
        self.rc, self.lines, self.seconds, self.maxrss, self.timed_out = rc, lines, seconds, maxrss, timed_out

    @property
    def text(self):
        return "\n".join(l for _, l in self.lines)

    def tail(self, n=6):
        return " | ".join(l for _, l in self.lines[-n:])


def run(cmd, timeout, env=None, stop=None, cwd=ROOT, outlives_section=False):
    """Runs cmd (stdout and stderr together), timestamping each line; kills its process group after
    `timeout` seconds or once stop(lines) returns True. Returns a Ran (maxrss in bytes, from wait4).
    The timeout is cut to what is left of the running section's time box, or with `outlives_section`
    (work started in the background for later sections) of the whole run's budget."""
    left = RUN_BUDGET - (time.monotonic() - STARTED) if outlives_section else remaining()
    timeout = max(1.0, min(timeout, left))
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd, env=env,
                         start_new_session=True, text=True, errors="replace")
    state = {"timed_out": False, "stopped": False}

    def kill(reason):
        # No p.poll() here: it could reap the child before wait4 below reads its resource usage.
        state[reason] = True
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, kill, ("timed_out",))
    timer.start()
    lines = []
    for line in p.stdout:
        lines.append((time.monotonic() - start, line.rstrip("\n")))
        if stop is not None and not state["stopped"] and stop(lines):
            kill("stopped")
    _, status, usage = os.wait4(p.pid, 0)
    timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    rc = 0 if state["stopped"] else p.returncode
    timed_out = state["timed_out"] and not state["stopped"] and p.returncode != 0
    return Ran(rc, lines, time.monotonic() - start, usage.ru_maxrss * 1024, timed_out)


def remaining():
    return BUDGET - (time.monotonic() - STARTED)


def svco(args, timeout, **kw):
    return run([SVCO] + args, timeout, **kw)


def must(r, what):
    if r.timed_out:
        raise Failure(f"{what}: timed out after {r.seconds:.0f} s ({r.tail(3)})")
    if r.rc != 0:
        raise Failure(f"{what}: exit {r.rc}: {r.tail(4)}")
    return r


class Failure(Exception):
    pass


# ---------------------------------------------------------------- results

RESULTS = {"device": DEVICE, "dry_run": CPU_RUN, "svco": SVCO, "started_unix": time.time(), "sections": {}}


class Section:
    def __init__(self, name):
        self.name, self.rows, self.notes = name, [], []

    def row(self, check, value, ok=True, limit=""):
        self.rows.append({"check": check, "value": value, "limit": limit, "ok": bool(ok)})
        print(f"  [{'ok' if ok else 'FAIL'}] {check}: {value}" + (f"  (limit {limit})" if limit else ""), flush=True)

    def note(self, text):
        self.notes.append(text)
        print("  note: " + text, flush=True)


def run_section(name, fn, limit):
    global BUDGET
    if not selected(name):
        return
    section = Section(name)
    print(f"== {name}", flush=True)
    start = time.monotonic()
    status, error = "ok", None
    if remaining() < min(20, limit):  # the arithmetic (10 s box) always fits
        status, error = "skipped", f"the run's budget ({BUDGET:.0f} s) is spent"
    else:
        saved, BUDGET = BUDGET, min(BUDGET, time.monotonic() - STARTED + limit)
        try:
            fn(section)
        except Failure as e:
            status, error = "fail", str(e)
        except Exception as e:  # a bug here must not stop the later sections either
            status, error = "fail", f"{type(e).__name__}: {e}"
        finally:
            timed_out = remaining() <= 1
            BUDGET = saved
        if status == "ok" and timed_out:
            status, error = "fail", f"section time box of {limit:.0f} s reached"
    if status == "ok" and any(not r["ok"] for r in section.rows):
        status = "fail"
    seconds = time.monotonic() - start
    if error:
        print(f"  {status}: {error}", flush=True)
    RESULTS["sections"][name] = {"status": status, "seconds": round(seconds, 1), "error": error,
                                 "rows": section.rows, "notes": section.notes}
    write_json()


def write_json():
    """$OUT/gpu-check.json (for bench/results/) and $OUT/gpu-check.md, the same rows as a markdown table
    (for the README), when $OUT is set."""
    out = os.environ.get("OUT")
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "gpu-check.json"), "w") as f:
            json.dump(RESULTS, f, indent=1)
        with open(os.path.join(out, "gpu-check.md"), "w") as f:
            f.write(markdown_table())


def markdown_table():
    def cell(text):
        return str(text).replace("|", "\\|").replace("\n", " ")
    env = RESULTS.get("environment", {})
    lines = [f"svco gpu-check on {DEVICE}" + (f" ({env['gpu']}, {env.get('memory_gib')} GiB)" if env.get("gpu") else "")
             + f", {RESULTS.get('seconds', 0):.0f} s", "", "| section | check | result | limit |", "|---|---|---|---|"]
    for name, s in RESULTS["sections"].items():
        lines.append(f"| {name} | **{s['status']}** ({s['seconds']:.0f} s) | {cell(s['error'] or '')} | |")
        for r in s["rows"]:
            lines.append(f"| | {'' if r['ok'] else '**FAIL** '}{cell(r['check'])} | {cell(r['value'])} | {cell(r['limit'])} |")
    return "\n".join(lines) + "\n"


def print_table():
    print("\n== summary: svco gpu-check on " + DEVICE + (" (dry run: tiny models, few steps)" if CPU_RUN else ""))
    w1 = max([len(n) for n in RESULTS["sections"]] + [7])
    rows = []
    for name, s in RESULTS["sections"].items():
        rows.append((name, f"{s['status']} ({s['seconds']:.0f} s)", "", ""))
        for r in s["rows"]:
            rows.append(("", ("ok  " if r["ok"] else "FAIL") + " " + r["check"], str(r["value"]), r["limit"]))
        if s["error"]:
            rows.append(("", "error", s["error"][:160], ""))
    w2 = max(len(r[1]) for r in rows) if rows else 10
    for a, b, c, d in rows:
        print(f"{a:<{w1}}  {b:<{w2}}  {c}" + (f"   [{d}]" if d else ""))
    bad = [n for n, s in RESULTS["sections"].items() if s["status"] != "ok"]
    print(f"sections: {len(RESULTS['sections']) - len(bad)} ok" + (f", not ok: {', '.join(bad)}" if bad else ""))
    print(f"total {time.monotonic() - STARTED:.0f} s")


# ---------------------------------------------------------------- small readers

def read_safetensors(path):
    """name -> (dtype, shape, list of floats) for F32/BF16/F16 tensors (no numpy or torch needed)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[a:b]
        if info["dtype"] == "F32":
            values = array.array("f")
            values.frombytes(raw)
        elif info["dtype"] == "BF16":
            halves = array.array("H")
            halves.frombytes(raw)
            values = array.array("f")
            values.frombytes(b"".join(struct.pack("<I", h << 16) for h in halves))
        else:
            continue
        out[name] = (info["dtype"], info["shape"], values)
    return out


def jsonl(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def rel(a, b, scale):
    return abs(a - b) / max(scale, 1e-30)


def selected(name):
    """Whether GPU_CHECK_ONLY (empty: every section) names this section or its kind (scale, peer)."""
    return not ONLY or name in ONLY or name.split("-", 1)[0] in ONLY
