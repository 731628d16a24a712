#!/usr/bin/env python3
"""Helper for benches/bench.sh: data generation, timing, and the report table.

Subcommands (all called by bench.sh, not meant to be used by hand):

  gen-random OUT SIZE SEED      SIZE bytes from random.Random(SEED)
  gen-edit   IN OUT SEED        IN with ~1% of bytes rewritten in 64-byte runs,
                                then 8 inserts and 8 deletes (1-8 KiB, capped
                                at len/128 for small files)
  measure    ...                time two commands alternately (see --help)
  report     RESULTS NOTES MACHINE VERSIONS   print the Markdown table

Timing: wall time is time.perf_counter() around posix_spawn + wait4 of the
tool's own process (whole-process: exec, run, exit), with nothing in between.

Peak RSS comes from the warm-up run, which runs under GNU time (`%M`).  It
cannot come from wait4 of the timed runs: posix_spawn starts the child on the
parent's address space (vfork), and Linux folds the pre-exec address space's
high-water mark into the child's ru_maxrss, so every tool would show at least
Python's ~13 MiB.  GNU time forks from a ~1 MiB process instead (so ~1 MiB is
the floor of the column).  It is not used for the timed runs because it adds
~0.7 ms per run, more than half of a 1 KiB row.
"""

import argparse
import json
import math
import os
import random
import statistics
import sys
import time

CHUNK = 16 << 20


# --------------------------------------------------------------------------
# data generation


def gen_random(out, size, seed):
    rng = random.Random(seed)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        left = size
        while left > 0:
            n = min(CHUNK, left)
            f.write(rng.randbytes(n))
            left -= n
    os.replace(tmp, out)


def gen_edit(inp, out, seed):
    rng = random.Random(seed)
    n = os.path.getsize(inp)
    buf = bytearray(n)  # read in place: one copy of a 1 GiB basis, not two
    with open(inp, "rb") as f:
        if f.readinto(buf) != n:
            sys.exit(f"gen-edit: short read of {inp}")

    # 1% of the bytes rewritten, in 64-byte runs at random positions (runs may
    # occasionally overlap; at 1% density that is negligible).
    run = 64
    if n >= run:
        count = max(1, round(n * 0.01 / run))
        fresh = rng.randbytes(count * run)
        for i in range(count):
            p = rng.randrange(0, n - run + 1)
            buf[p : p + run] = fresh[i * run : (i + 1) * run]

    # 8 inserts and 8 deletes of 1-8 KiB (scaled down for tiny files), at
    # random positions of the rewritten buffer.
    hi = max(1, min(8192, n // 128))
    lo = max(1, hi // 8)
    edits = []
    for _ in range(8):
        edits.append((rng.randrange(0, n + 1), 1, rng.randbytes(rng.randint(lo, hi))))
    for _ in range(8):
        edits.append((rng.randrange(0, n + 1), 0, rng.randint(lo, hi)))
    edits.sort(key=lambda e: (e[0], e[1]))

    tmp = out + ".tmp"
    mv = memoryview(buf)
    with open(tmp, "wb") as f:
        cur = 0
        for pos, is_insert, x in edits:
            pos = max(pos, cur)  # a delete may have swallowed this position
            f.write(mv[cur:pos])
            cur = pos
            if is_insert:
                f.write(x)
            else:
                cur = min(n, pos + x)
        f.write(mv[cur:])
    os.replace(tmp, out)


# --------------------------------------------------------------------------
# timing


class RunFailed(Exception):
    pass


GNU_TIME = os.environ.get("BENCH_GNU_TIME", "/usr/bin/time")


def warm_up(paths):
    """Read each file through, so that it is in the page cache: this VM's
    kernel pages out cold file pages on its own (DAMON), and a benchmark
    that assumes a warm cache would otherwise read from disk now and then."""
    buf = bytearray(1 << 20)
    for path in paths:
        with open(path, "rb", buffering=0) as f:
            while f.readinto(buf):
                pass


def drop_cache(paths):
    """Ask the kernel to drop these files from the page cache."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def run_once(argv, errfile, do_sync, rss_file=None, out=None, warm=()):
    """Run argv once; return (wall seconds, peak RSS KiB or None).  Only with
    rss_file does it run under GNU time and measure RSS.  The previous output
    `out` is deleted first, outside the timing: truncating a cached 64 MiB
    file inside the tool's run cost 15-20 ms and made patch times bimodal.
    The files in `warm` are read first, also outside the timing."""
    warm_up(warm)
    if out:
        try:
            os.unlink(out)
        except FileNotFoundError:
            pass
    if rss_file:
        argv = [GNU_TIME, "-f", "%M", "-o", rss_file, "--"] + argv
    if do_sync:
        os.sync()  # flush the previous run's dirty pages outside the timing
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, errfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
    ]
    t0 = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    _, status, _ = os.wait4(pid, 0)
    t1 = time.perf_counter()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        try:
            with open(errfile, errors="replace") as f:
                err = f.read().strip()
        except OSError:
            err = ""
        raise RunFailed(f"exit status {code}: {' '.join(argv)}\n{err}")
    if rss_file:
        with open(rss_file) as f:
            return t1 - t0, int(f.read().split()[-1])
    return t1 - t0, None


def cmd_measure(args):
    cmds = []
    cur = []
    for a in args.cmd:
        if a == "@@":
            cmds.append(cur)
            cur = []
        else:
            cur.append(a)
    cmds.append(cur)
    if len(cmds) != len(args.names) or any(not c for c in cmds):
        sys.exit("measure: need one non-empty command per --names entry, separated by @@")

    errfile = args.errfile
    outs = (args.outs or []) + [None] * len(cmds)
    times = [[] for _ in cmds]
    rss = [[] for _ in cmds]
    rec = {"row": args.row, "bytes": args.bytes, "names": args.names, "ok": True}
    try:
        # warm-up (page cache, dynamic loader, output files), which also
        # gives the peak RSS
        have_time = os.access(GNU_TIME, os.X_OK)
        if not have_time:
            print(f"measure: no {GNU_TIME}; peak RSS not measured", file=sys.stderr)
        warm = []
        for i, c in enumerate(cmds):
            t, m = run_once(c, errfile, False, errfile + ".rss" if have_time else None,
                            outs[i], args.warm)
            warm.append(t)
            if m is not None:
                rss[i].append(m)
        # Short rows get more runs: a 1 ms process is at the mercy of the
        # scheduler, and more samples cost nothing.  Enough runs to fill
        # --min-time seconds per tool (judged by the faster warm-up), never
        # fewer than --runs, at most 20 x --runs.
        runs = args.runs
        if args.min_time > 0:
            t = min(warm)
            if t * runs < args.min_time:
                runs = min(20 * args.runs, math.ceil(args.min_time / max(t, 1e-6)))
        # timed runs, alternating: a, b, a, b, ...
        for _ in range(runs):
            for i, c in enumerate(cmds):
                times[i].append(run_once(c, errfile, args.sync, None, outs[i],
                                         args.warm)[0])
    except RunFailed as e:
        print(f"\n!!! {args.row}: run FAILED, {e}\n", file=sys.stderr)
        rec["ok"] = False
        rec["error"] = str(e).splitlines()[0]
    rec["times"] = times
    rec["rss_kib"] = rss
    rec["out_sizes"] = [os.path.getsize(p) if p and os.path.exists(p) else None
                        for p in outs[: len(cmds)]]
    with open(args.results, "a") as f:
        f.write(json.dumps(rec) + "\n")
    if not rec["ok"]:
        sys.exit(1)


# --------------------------------------------------------------------------
# report


def fmt_s(t):
    if t is None:
        return "—"
    if t >= 1:
        return f"{t:.3f}"
    return f"{t:.4f}" if t >= 0.01 else f"{t:.5f}"


def fmt_mbs(nbytes, t):
    if t is None or t <= 0:
        return "—"
    v = nbytes / t / 1e6
    return f"{v:,.0f}" if v >= 10 else f"{v:.2f}"


def fmt_mib(kib):
    return "—" if kib is None else f"{kib / 1024:.1f}"


def fmt_size(n):
    return "—" if n is None else f"{n:,}"


def cmd_report(args):
    rows = []
    with open(args.results) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))

    print("| row | rdiff median s | rsync-tool median s | ratio (ours/rdiff) "
          "| MB/s rdiff | MB/s ours | rdiff peak RSS MiB | ours peak RSS MiB "
          "| output bytes rdiff | output bytes ours |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    floors = []
    for r in rows:
        med = [statistics.median(t) if t else None for t in r["times"]]
        peak = [max(m) if m else None for m in r["rss_kib"]]
        if len(r["names"]) == 1:
            floors.append((r, med[0], peak[0]))
            continue
        ratio = "—"
        if med[0] and med[1] is not None:
            ratio = f"{med[1] / med[0]:.2f}"
        name = r["row"] if r["ok"] else f"{r['row']} **FAILED**"
        cells = [name, fmt_s(med[0]), fmt_s(med[1]), ratio,
                 fmt_mbs(r["bytes"], med[0]), fmt_mbs(r["bytes"], med[1]),
                 fmt_mib(peak[0]), fmt_mib(peak[1])]
        sizes = r["out_sizes"] + [None] * (2 - len(r["out_sizes"]))
        cells += [fmt_size(sizes[0]), fmt_size(sizes[1])]
        print("| " + " | ".join(cells) + " |")
    print()
    print("MB/s = 10^6 bytes of the file processed (basis for signature, NEW for "
          "delta and patch) / median wall time. Each tool's runs alternate with "
          "the other's after one warm-up run each; before each run the previous "
          "output is deleted, the row's inputs are read into the page cache and "
          "sync(2) is called, all untimed; peak RSS is GNU "
          "time's %M of the warm-up run (about 1 MiB is GNU time's own floor).")
    for r, med, peak in floors:
        print(f"\nFloor, {r['row']}: median {fmt_s(med)} s, "
              f"{fmt_mbs(r['bytes'], med)} MB/s, peak RSS {fmt_mib(peak)} MiB.")

    notes = []
    if os.path.exists(args.notes):
        with open(args.notes) as f:
            notes = [l.rstrip("\n") for l in f if l.strip()]
    if notes:
        print("\nNotes:")
        for n in notes:
            print(f"- {n}")

    print("\nPer-run wall times, s (alternating order; rows under ~1 s in total "
          "get extra runs):")
    for r in rows:
        parts = []
        for name, ts in zip(r["names"], r["times"]):
            if not ts:
                parts.append(f"{name} (failed)")
            elif len(ts) <= 10:
                parts.append(f"{name} [" + " ".join(fmt_s(t) for t in ts) + "]")
            else:
                q = statistics.quantiles(ts, n=4)
                parts.append(f"{name} {len(ts)} runs: min {fmt_s(min(ts))}, "
                             f"quartiles {fmt_s(q[0])} / {fmt_s(q[1])} / {fmt_s(q[2])}, "
                             f"max {fmt_s(max(ts))}")
        print(f"- {r['row']}: " + "; ".join(parts))

    print()
    print(args.machine)
    print(args.versions)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="sub", required=True)

    g = sub.add_parser("gen-random")
    g.add_argument("out")
    g.add_argument("size", type=int)
    g.add_argument("seed")

    e = sub.add_parser("gen-edit")
    e.add_argument("inp")
    e.add_argument("out")
    e.add_argument("seed")

    m = sub.add_parser("measure", help="time commands alternately")
    m.add_argument("--row", required=True)
    m.add_argument("--bytes", type=int, required=True, help="bytes for MB/s")
    m.add_argument("--runs", type=int, required=True)
    m.add_argument("--names", nargs="+", required=True)
    m.add_argument("--outs", nargs="*",
                   help="output file of each command: deleted before each run, sized after")
    m.add_argument("--results", required=True, help="JSON-lines file to append to")
    m.add_argument("--errfile", required=True, help="scratch file for stderr")
    m.add_argument("--min-time", type=float, default=1.0,
                   help="rows faster than this (per tool, all runs) get more runs; 0: off")
    m.add_argument("--no-sync", dest="sync", action="store_false",
                   help="do not sync(2) before each timed run")
    m.add_argument("--warm", nargs="*", default=[],
                   help="input files to read into the page cache before each run")
    m.add_argument("cmd", nargs=argparse.REMAINDER,
                   help="-- cmdA ... [@@ cmdB ...]")

    dr = sub.add_parser("drop-cache", help="drop files from the page cache")
    dr.add_argument("paths", nargs="+")

    r = sub.add_parser("report")
    r.add_argument("results")
    r.add_argument("notes")
    r.add_argument("machine")
    r.add_argument("versions")

    a = p.parse_args()
    if a.sub == "gen-random":
        gen_random(a.out, a.size, a.seed)
    elif a.sub == "gen-edit":
        gen_edit(a.inp, a.out, a.seed)
    elif a.sub == "drop-cache":
        drop_cache(a.paths)
    elif a.sub == "measure":
        if a.cmd and a.cmd[0] == "--":
            a.cmd = a.cmd[1:]
        cmd_measure(a)
    else:
        cmd_report(a)


if __name__ == "__main__":
    main()
