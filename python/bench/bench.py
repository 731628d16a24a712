#!/usr/bin/env python3
"""Side-by-side benchmark of the rsync-tool CLI and the Python package.

    python python/bench/bench.py [--runs N] [--size 256M] [--big] [--dir DIR]

On the CLI benchmark's data (benches/bench.sh's generator: a random basis
and NEW = the basis with 1% of its bytes rewritten plus inserts and
deletes), times signature, delta and patch for: the CLI
(target/release/rsync-tool), rsync_tool by paths (signature_file...), by
file objects (signature(f, s)...), by bytes (signature_bytes..., inputs
read into memory untimed) and python-rsync (PyPI python-rsync) if it
imports. Each run is a fresh process; Python rows time the call only (not
interpreter start-up); the CLI row times the process. Median of --runs
after one warm-up; the runs go in rounds over the variants, so a change of
the machine's load hits all of them alike; peak RSS of the warm-up. --big
(or --big-only) adds the streaming API (SignatureReader/DeltaReader/
PatchReader copied to a file in 1 MiB reads) against the CLI on 1 GiB, for
peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
HELPER = ROOT / "benches" / "bench_helper.py"
SIZES = {"64M": 64 << 20, "256M": 256 << 20, "1G": 1 << 30}
STEPS = ("signature", "delta", "patch")


def cli_path() -> Path:
    tool = Path(os.environ.get("RSYNC_TOOL", ROOT / "target" / "release" / "rsync-tool"))
    if not tool.exists():
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    return tool


def data(directory: Path, size: str) -> dict:
    """The basis, NEW, and the CLI's signature and delta of them (made once)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {k: directory / f"{k}.{size}" for k in ("basis", "new", "sig", "delta")}
    if not files["basis"].exists():
        subprocess.run([sys.executable, HELPER, "gen-random", files["basis"], str(SIZES[size]), f"basis-{size}"], check=True)
    if not files["new"].exists():
        subprocess.run([sys.executable, HELPER, "gen-edit", files["basis"], files["new"], f"edit-{size}"], check=True)
    tool = str(cli_path())
    if not files["sig"].exists():
        subprocess.run([tool, "signature", files["basis"], files["sig"]], check=True)
    if not files["delta"].exists():
        subprocess.run([tool, "delta", files["sig"], files["new"], files["delta"]], check=True)
    return {k: str(v) for k, v in files.items()}


def run_one(variant: str, step: str, f: dict, out: str) -> float:
    """One timed call in this process; returns seconds."""
    if variant == "cli":
        args = {
            "signature": ["signature", f["basis"], out],
            "delta": ["delta", f["sig"], f["new"], out],
            "patch": ["patch", f["basis"], f["delta"], out],
        }[step]
        start = time.perf_counter()
        subprocess.run([str(cli_path()), *args], check=True)
        return time.perf_counter() - start
    if variant == "pyrsync":
        import pyrsync

        if step == "signature":
            magic, block_len, strong_len = pyrsync.get_signature_args(os.path.getsize(f["basis"]))
            start = time.perf_counter()
            with open(f["basis"], "rb") as i, open(out, "wb") as o:
                pyrsync.signature(i, o, strong_len, magic, block_len)
        elif step == "delta":
            start = time.perf_counter()
            with open(f["new"], "rb") as i, open(f["sig"], "rb") as s, open(out, "wb") as o:
                pyrsync.delta(i, s, o)
        else:
            start = time.perf_counter()
            with open(f["basis"], "rb") as i, open(f["delta"], "rb") as d, open(out, "wb") as o:
                pyrsync.patch(i, d, o)
        return time.perf_counter() - start

    import rsync_tool

    if variant == "paths":
        start = time.perf_counter()
        if step == "signature":
            rsync_tool.signature_file(f["basis"], out)
        elif step == "delta":
            rsync_tool.delta_file(f["sig"], f["new"], out)
        else:
            rsync_tool.patch_file(f["basis"], f["delta"], out)
        return time.perf_counter() - start
    if variant == "fileobj":
        start = time.perf_counter()
        if step == "signature":
            with open(f["basis"], "rb") as i, open(out, "wb") as o:
                rsync_tool.signature(i, o, block_size=0)
        elif step == "delta":
            with open(f["new"], "rb") as i, open(f["sig"], "rb") as s, open(out, "wb") as o:
                rsync_tool.delta(i, s, o)
        else:
            with open(f["basis"], "rb") as i, open(f["delta"], "rb") as d, open(out, "wb") as o:
                rsync_tool.patch(i, d, o)
        return time.perf_counter() - start
    if variant == "bytes":
        read = lambda k: Path(f[k]).read_bytes()  # noqa: E731
        if step == "signature":
            basis = read("basis")
            start = time.perf_counter()
            rsync_tool.signature_bytes(basis)
        elif step == "delta":
            sig, new = read("sig"), read("new")
            start = time.perf_counter()
            rsync_tool.delta_bytes(sig, new)
        else:
            basis, delta = read("basis"), read("delta")
            start = time.perf_counter()
            rsync_tool.patch_bytes(basis, delta)
        return time.perf_counter() - start
    if variant == "stream":
        readers = {
            "signature": lambda: rsync_tool.SignatureReader(open(f["basis"], "rb")),
            "delta": lambda: rsync_tool.DeltaReader(f["sig"], open(f["new"], "rb")),
            "patch": lambda: rsync_tool.PatchReader(f["basis"], open(f["delta"], "rb")),
        }
        start = time.perf_counter()
        with readers[step]() as r, open(out, "wb") as o:
            while chunk := r.read(1 << 20):
                o.write(chunk)
        return time.perf_counter() - start
    raise SystemExit(f"unknown variant {variant}")


def measure(variant: str, step: str, f: dict, out: str) -> dict:
    """Runs one call in a fresh process: its time and peak RSS. As in
    benches/bench.sh, the previous output is deleted and sync(2) called
    first, so that no run pays for another's writeback."""
    if os.path.exists(out):
        os.unlink(out)
    os.sync()
    code = (
        "import json, resource, sys; sys.path.insert(0, %r); import bench; "
        "t = bench.run_one(%r, %r, json.loads(%r), %r); "
        "who = resource.RUSAGE_CHILDREN if %r == 'cli' else resource.RUSAGE_SELF; "
        "print(json.dumps({'time': t, 'rss_kib': resource.getrusage(who).ru_maxrss}))"
    ) % (str(HERE), variant, step, json.dumps(f), out, variant)
    got = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    if os.path.exists(out):
        os.unlink(out)
    return json.loads(got.stdout.strip().splitlines()[-1])


def available(variant: str) -> bool:
    module = {"pyrsync": "pyrsync", "cli": None}.get(variant, "rsync_tool")
    if module is None:
        return True
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def table(results: dict, variants: list, size: str, runs: int) -> str:
    names = {
        "cli": "CLI",
        "paths": "paths",
        "fileobj": "file objects",
        "bytes": "bytes",
        "pyrsync": "python-rsync 0.1.2",
        "stream": "streaming readers",
    }
    lines = [
        f"{size} files, median of {runs} runs; time (x CLI), peak RSS",
        "",
        "| step | " + " | ".join(names[v] for v in variants) + " |",
        "|---|" + "---|" * len(variants),
    ]
    for step in STEPS:
        cells = []
        cli = results[("cli", step)]["time"]
        for v in variants:
            r = results.get((v, step))
            if r is None:
                cells.append("n/a")
                continue
            ratio = "" if v == "cli" else f" ({r['time'] / cli:.2f}x)"
            cells.append(f"{r['time']:.3f} s{ratio}, {r['rss_kib'] / 1024:.0f} MiB")
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def bench(size: str, variants: list, runs: int, directory: Path) -> str:
    f = data(directory, size)
    out = str(directory / "out")
    results = {}
    for step in STEPS:
        # Warm-ups first, then the runs in rounds over the variants: on a
        # shared machine the load drifts, and each round sees about the same.
        warm = {v: measure(v, step, f, out) for v in variants}
        times = {v: [] for v in variants}
        for _ in range(runs):
            for v in variants:
                times[v].append(measure(v, step, f, out)["time"])
        for v in variants:
            results[(v, step)] = {"time": statistics.median(times[v]), "rss_kib": warm[v]["rss_kib"]}
            spread = f"{min(times[v]):.3f}-{max(times[v]):.3f}"
            print(f"  {step:9} {v:8} {results[(v, step)]['time']:.3f} s ({spread})  {warm[v]['rss_kib'] / 1024:.0f} MiB", file=sys.stderr)
    return table(results, variants, size, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", default="256M", choices=sorted(SIZES))
    parser.add_argument("--big", action="store_true", help="also the streaming API against the CLI on 1 GiB")
    parser.add_argument("--big-only", action="store_true", help="only the 1 GiB streaming check")
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("BENCH_DIR", "/tmp/rsync-tool-pybench")))
    args = parser.parse_args()
    variants = [v for v in ("cli", "paths", "fileobj", "bytes", "pyrsync") if available(v)]
    if not args.big_only:
        print(bench(args.size, variants, args.runs, args.dir))
    if args.big or args.big_only:
        print()
        print(bench("1G", ["cli", "stream"], max(1, args.runs // 3), args.dir))


if __name__ == "__main__":
    main()
