#!/usr/bin/env python3
"""Helper for benches/bench.sh: data generation, timing, and the report table.

Subcommands (all called by bench.sh, not meant to be used by hand):

  gen-random OUT SIZE SEED      SIZE bytes from random.Random(SEED)
  gen-edit   IN OUT SEED        IN with ~1% of bytes rewritten in 64-byte runs,
                                then 8 inserts and 8 deletes (1-8 KiB, capped
                                at len/128 for small files)
  gen-sqlite BASIS NEW SEED     a ~66 MB SQLite database, and a copy after
                                3,000 inserts, 3,000 updates, 1,000 deletes
  gen-log    BASIS NEW SEED     ~64 MiB of log lines, and the same + ~1 MiB
  gen-tar    BASIS NEW SEED     a tar of a ~64 MiB synthetic source tree, and
                                of the tree after 40 edits, 8 adds, 8 removes
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
# real-shaped data: a SQLite database, a log, a tar of a source tree.  Each
# generator writes BASIS and then NEW (both via a temporary name and a
# rename), from random.Random(SEED) only: no clock, no environment, no
# directory listing, so the bytes are the same on every run with the same
# Python and SQLite library.

WORDS = ("the a of to and in is it for on with as at by from this that be are "
         "was not or have has had were which will can all an more one new when "
         "account order payment invoice customer shipped pending refund credit "
         "delivery address updated created deleted review note urgent follow up "
         "call email request support ticket closed open priority low high normal "
         "contract renewal discount price quantity product stock warehouse return "
         "damaged replaced confirmed cancelled processed billing monthly annual "
         "trial upgrade downgrade feedback complaint resolved escalated manager").split()
FIRST = ("Ada Alan Alice Bob Carol Dan Erin Eve Frank Grace Heidi Ivan Judy Ken "
         "Liam Mallory Nina Oscar Peggy Quinn Rupert Sybil Trent Uma Victor "
         "Walter Xena Yusuf Zoe").split()
LAST = ("Smith Jones Brown Taylor Wilson Davies Evans Thomas Johnson Roberts "
        "Walker Wright Robinson Thompson White Hughes Edwards Green Hall Wood "
        "Harris Lewis Martin Jackson Clarke Clark Turner Hill Scott Cooper").split()
CITIES = ("London Paris Berlin Madrid Rome Vienna Prague Warsaw Lisbon Dublin "
          "Oslo Stockholm Helsinki Copenhagen Amsterdam Brussels Zurich Athens "
          "Budapest Bucharest Sofia Zagreb Riga Tallinn Vilnius").split()

SQLITE_ROWS = 192_000  # ~66 MB with the schema below
SQLITE_SCHEMA = """
CREATE TABLE customers(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    city TEXT NOT NULL,
    created INTEGER NOT NULL,
    balance REAL NOT NULL,
    notes TEXT NOT NULL);
CREATE INDEX customers_email ON customers(email);
"""


def _customer(rng, i):
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    email = f"{name.split()[0].lower()}.{name.split()[1].lower()}{rng.randrange(100000)}@example.{rng.choice(('com', 'org', 'net'))}"
    notes = " ".join(rng.choices(WORDS, k=rng.randint(10, 60)))
    return (i, name, email, rng.choice(CITIES), 1_600_000_000 + rng.randrange(100_000_000),
            round(rng.uniform(-1000, 100000), 2), notes)


def gen_sqlite(basis, new, seed):
    """BASIS: SQLITE_ROWS seeded random customers inserted in id order in one
    transaction into a fresh database (default page size and journal).  NEW:
    a copy of BASIS, then 3,000 inserts (new ids), 3,000 updates (balance and
    notes of existing rows) and 1,000 deletes (other existing rows), shuffled
    together, committed in batches of 100.  Neither file is VACUUMed: freed
    pages stay on the freelist, as in an application's database."""
    import shutil
    import sqlite3

    rng = random.Random(seed)
    for path in (basis, new):
        for suffix in (".tmp", ".tmp-journal"):
            if os.path.exists(path + suffix):
                os.unlink(path + suffix)

    tmp = basis + ".tmp"
    con = sqlite3.connect(tmp, isolation_level=None)
    # a 256 MiB page cache (not stored in the file): with the default 2 MiB,
    # the random-order index inserts spend most of their time in the OS
    con.execute("PRAGMA cache_size = -262144")
    con.executescript(SQLITE_SCHEMA)
    con.execute("BEGIN")
    con.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?)",
                    (_customer(rng, i) for i in range(1, SQLITE_ROWS + 1)))
    con.execute("COMMIT")
    con.close()
    os.replace(tmp, basis)

    tmp = new + ".tmp"
    shutil.copyfile(basis, tmp)
    picked = rng.sample(range(1, SQLITE_ROWS + 1), 4000)
    ops = ([("ins", SQLITE_ROWS + 1 + k) for k in range(3000)]
           + [("upd", i) for i in picked[:3000]] + [("del", i) for i in picked[3000:]])
    rng.shuffle(ops)
    con = sqlite3.connect(tmp, isolation_level=None)
    con.execute("PRAGMA cache_size = -262144")
    for b in range(0, len(ops), 100):
        con.execute("BEGIN")
        for op, i in ops[b:b + 100]:
            if op == "ins":
                con.execute("INSERT INTO customers VALUES (?,?,?,?,?,?,?)", _customer(rng, i))
            elif op == "upd":
                con.execute("UPDATE customers SET balance = ?, notes = notes || ? WHERE id = ?",
                            (round(rng.uniform(-1000, 100000), 2),
                             " " + " ".join(rng.choices(WORDS, k=rng.randint(1, 12))), i))
            else:
                con.execute("DELETE FROM customers WHERE id = ?", (i,))
        con.execute("COMMIT")
    con.close()
    os.replace(tmp, new)


LOG_COMPONENTS = ("http", "db", "cache", "auth", "scheduler", "mailer", "billing", "search")
LOG_PATHS = ("/api/v1/items", "/api/v1/orders", "/api/v1/users", "/login", "/static/app.js",
             "/api/v1/search", "/health", "/api/v2/invoices")


def _log_lines(rng):
    """Endless log-like lines: increasing millisecond timestamps, a few line
    shapes (HTTP access, slow query, cache, job).  Random numbers come from
    rng.randbytes in batches (12 words a line): per-call randrange made 64 MiB
    of lines take 15 s."""
    import array

    ms = 1_700_000_000_000
    sec = None
    stamp = ""
    levels = ("INFO", "INFO", "INFO", "INFO", "DEBUG", "DEBUG", "WARN", "ERROR")
    methods = ("GET", "GET", "POST", "PUT", "DELETE")
    codes = (200, 200, 200, 201, 204, 304, 404, 500)
    nc, np_, nw = len(LOG_COMPONENTS), len(LOG_PATHS), len(WORDS)
    while True:
        r = array.array("I", rng.randbytes(4 * 12 * 4096))
        for j in range(0, len(r), 12):
            a, b, c, d, e, f, g, h, i, k, l, m = r[j:j + 12]
            ms += 1 + a % 39
            if ms // 1000 != sec:
                sec = ms // 1000
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
            head = (f"{stamp}.{ms % 1000:03d}Z {levels[b & 7]:<5} "
                    f"[{LOG_COMPONENTS[(b >> 3) % nc]}-{(b >> 16) & 15}] ")
            kind = c % 6
            if kind < 3:
                body = (f"{methods[d % 5]} {LOG_PATHS[(d >> 8) % np_]}/{e % 1_000_000} "
                        f"{codes[f & 7]} {50 + (f >> 3) % 200_000}B {1 + g % 900}ms "
                        f"req={h:08x}{i:08x} user=u{k % 100_000} "
                        f"ip=10.{l & 255}.{(l >> 8) & 255}.{(l >> 16) & 255}")
            elif kind == 3:
                body = (f"query took {100 + d % 4900}ms: SELECT * FROM "
                        f"{('orders', 'users', 'items')[e % 3]} WHERE id = {f % 10**7}")
            elif kind == 4:
                body = (f"cache {('hit', 'miss', 'evict')[d % 3]} key="
                        f"{('item', 'user', 'page')[e % 3]}:{f % 10**6} "
                        f"size={100 + g % 65436}")
            else:
                body = (f"job {('reindex', 'send-digest', 'rollup', 'gc')[d & 3]} "
                        f"#{e % 10**5} {('started', 'finished', 'retrying')[f % 3]} "
                        + " ".join(WORDS[x % nw] for x in (g, h, i, k, l, m)[: m % 7]))
            yield (head + body + "\n").encode()


def _write_lines(f, lines, size):
    """Write lines until at least size bytes; return the count written."""
    done = 0
    batch = []
    for line in lines:
        batch.append(line)
        done += len(line)
        if len(batch) >= 4096 or done >= size:
            f.write(b"".join(batch))
            batch = []
            if done >= size:
                return done


def gen_log(basis, new, seed, size=64 << 20, extra=1 << 20):
    """BASIS: log lines up to the first line end at or past SIZE bytes.  NEW:
    BASIS plus the next lines of the same log, up to EXTRA bytes more."""
    rng = random.Random(seed)
    lines = _log_lines(rng)
    tmp = basis + ".tmp"
    with open(tmp, "wb") as f:
        _write_lines(f, lines, size)
    tmpn = new + ".tmp"
    with open(tmp, "rb") as src, open(tmpn, "wb") as dst:
        while True:
            chunk = src.read(CHUNK)
            if not chunk:
                break
            dst.write(chunk)
        _write_lines(dst, lines, extra)
    os.replace(tmp, basis)
    os.replace(tmpn, new)


SRC_TOKENS = ("let mut if else for while return fn struct impl pub use match self "
              "Some None Ok Err Vec String usize u64 i32 bool true false len push "
              "insert get unwrap map iter collect buf data offset count result "
              "error config value index node next prev key hash block size state "
              "reader writer flush read write open close parse format debug info").split()


def _src_pool(rng, n):
    """n distinct-ish source-like lines (indentation, tokens, punctuation)."""
    pool = []
    ops = (" = ", " + ", " - ", " == ", " != ", " < ", ".", "(", ", ", ") ", "; ", " {", "}")
    for _ in range(n):
        depth = rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 4))
        k = rng.randint(1, 9)
        toks = rng.choices(SRC_TOKENS, k=k)
        parts = []
        for t in toks:
            parts.append(t)
            if rng.random() < 0.3:
                parts.append(str(rng.randrange(4096)))
            parts.append(rng.choice(ops))
        line = "    " * depth + "".join(parts).rstrip()
        if rng.random() < 0.1:
            line = "    " * depth + "// " + " ".join(rng.choices(WORDS, k=rng.randint(3, 12)))
        if rng.random() < 0.08:
            line = ""
        pool.append(line + "\n")
    return pool


def _src_file(rng, pool, path, nbytes):
    out = [f"// {path}\n// generated for the rsync-tool benchmark\n\n"]
    done = len(out[0])
    while done < nbytes:
        chunk = rng.choices(pool, k=64)
        out.extend(chunk)
        done += sum(map(len, chunk))
    return "".join(out).encode()


def _write_tar(out, files, mtimes):
    """Tar the in-memory tree: sorted paths, directories first as they
    appear, fixed owners, modes and mtimes, GNU format."""
    import io
    import tarfile

    def info(name, mtime, size=0, isdir=False):
        ti = tarfile.TarInfo(name)
        ti.mtime = mtime
        ti.uid = ti.gid = 1000
        ti.uname = ti.gname = "dev"
        if isdir:
            ti.type = tarfile.DIRTYPE
            ti.mode = 0o755
        else:
            ti.mode = 0o644
            ti.size = size
        return ti

    tmp = out + ".tmp"
    seen = set()
    with tarfile.open(tmp, "w", format=tarfile.GNU_FORMAT) as tf:
        for path in sorted(files):
            parts = path.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i]) + "/"
                if d not in seen:
                    seen.add(d)
                    tf.addfile(info(d, TAR_MTIME, isdir=True))
            data = files[path]
            tf.addfile(info(path, mtimes.get(path, TAR_MTIME), len(data)), io.BytesIO(data))
    os.replace(tmp, out)


TAR_MTIME = 1_700_000_000


def gen_tar(basis, new, seed, size=64 << 20):
    """BASIS: a tar of a synthetic source tree of ~SIZE bytes (project/
    crateNN/src/modNN/fileNNN.rs and docs, sizes 1-64 KiB, lines drawn from a
    seeded pool of source-like lines).  NEW: the same tree with 40 files
    edited (a few hunks each: lines replaced, inserted, deleted; their mtime
    moves a day on), 8 files added and 8 removed, re-tarred."""
    rng = random.Random(seed)
    pool = _src_pool(rng, 20000)
    files = {}
    total = 0
    c = 0
    while total < size:
        for m in range(rng.randint(3, 12)):
            for k in range(rng.randint(4, 30)):
                if total >= size:
                    break
                ext = rng.choice(("rs", "rs", "rs", "rs", "md", "toml"))
                path = f"project/crate{c:02d}/src/mod{m:02d}/file{k:03d}.{ext}"
                data = _src_file(rng, pool, path, int(1024 * 2 ** rng.uniform(0, 6)))
                files[path] = data
                total += len(data)
        c += 1
    _write_tar(basis, files, {})

    paths = sorted(files)
    chosen = rng.sample(paths, 48)
    mtimes = {}
    for path in chosen[:40]:
        lines = files[path].decode().splitlines(keepends=True)
        for _ in range(rng.randint(1, 4)):  # hunks
            at = rng.randrange(3, max(4, len(lines)))
            cut = rng.randint(0, 6)
            lines[at:at + cut] = rng.choices(pool, k=rng.randint(0, 10))
        files[path] = "".join(lines).encode()
        mtimes[path] = TAR_MTIME + 86400
    for path in chosen[40:]:
        del files[path]
    for k in range(8):
        base = rng.choice(paths).rsplit("/", 1)[0]
        path = f"{base}/added{k}.rs"
        files[path] = _src_file(rng, pool, path, int(1024 * 2 ** rng.uniform(0, 5)))
        mtimes[path] = TAR_MTIME + 86400
    _write_tar(new, files, mtimes)


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
    # rows "X -j 1" next to "X": what the default number of workers buys
    by_name = {r["row"]: r for r in rows}
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count()
    for r in rows:
        if not r["row"].endswith(" -j 1") or len(r["names"]) != 2:
            continue
        base = by_name.get(r["row"][: -len(" -j 1")])
        one = statistics.median(r["times"][1]) if r["ok"] and r["times"][1] else None
        if base is None or not base["ok"] or not base["times"][1] or one is None:
            notes.append(f"{r['row']}: no speed-up of the default -j over -j 1 "
                         f"(the row without -j 1 did not run or failed)")
            continue
        dflt = statistics.median(base["times"][1])
        notes.append(f"Speed-up of rsync-tool's default -j ({cpus} CPUs available here, "
                     f"so -j {cpus}) over -j 1, {base['row']}: {fmt_s(one)} s / "
                     f"{fmt_s(dflt)} s = {one / dflt:.2f}x (what the extra cores buy "
                     f"only shows on an otherwise idle machine: see the load average).")
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

    for name in ("gen-sqlite", "gen-log", "gen-tar"):
        r = sub.add_parser(name)
        r.add_argument("basis")
        r.add_argument("new")
        r.add_argument("seed")

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
    elif a.sub == "gen-sqlite":
        gen_sqlite(a.basis, a.new, a.seed)
    elif a.sub == "gen-log":
        gen_log(a.basis, a.new, a.seed)
    elif a.sub == "gen-tar":
        gen_tar(a.basis, a.new, a.seed)
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
