#!/usr/bin/env python3
"""Regenerate the golden signature and delta files in this directory with rdiff.

Usage: python3 tests/golden/make.py [--rdiff PATH]

The inputs are never committed: every input is described by a "data spec"
string (format at the top of cases.txt, implemented again in
tests/common/mod.rs) built from one deterministic generator, xorshift64:

    state = seed (u64, never 0)
    for every 8 output bytes: x ^= x << 13; x ^= x >> 7; x ^= x << 17
                              (u64, wrapping), then emit x as 8 little-endian bytes
    truncate to the wanted length

This script writes
    cases.txt           the manifest (one case per line)
    sig/NAME.sig        rdiff ARGS signature INPUT
    delta/NAME.sig      rdiff ARGS signature BASIS
    delta/NAME.delta    rdiff delta delta/NAME.sig NEW
and checks that rdiff patch BASIS delta/NAME.delta gives NEW back.

rdiff always runs on real regular files: its default block length (and the
-S -1 minimum) depend on the basis size, which it only knows for a regular
file. It must be librsync 2.3.x (the goldens are byte-for-byte 2.3.2).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

MASK = (1 << 64) - 1
HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- generator

class Rng:
    """xorshift64, the same sequence as tests/common/mod.rs's Rng."""

    def __init__(self, seed):
        if not (0 < seed <= MASK):
            raise ValueError("seed must be a nonzero u64")
        self.x = seed

    def next_u64(self):
        x = self.x
        x ^= (x << 13) & MASK
        x ^= x >> 7
        x ^= (x << 17) & MASK
        self.x = x
        return x

    def below(self, n):
        """A number in 0..n (n > 0), by plain modulo (same as the Rust side)."""
        return self.next_u64() % n


def gen_bytes(seed, length):
    rng = Rng(seed)
    out = bytearray()
    while len(out) < length:
        out += rng.next_u64().to_bytes(8, "little")
    del out[length:]
    return bytes(out)


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & MASK
    return h


# ---------------------------------------------------------------- data specs

def build(spec):
    """Materialise a data spec (see cases.txt's header) into bytes."""
    parts = spec.split(",")
    base, edits = parts[0], parts[1:]
    kind, nums = base[0], [int(v) for v in base[1:].split(":")]
    if kind == "g":
        seed, length = nums
        buf = bytearray(gen_bytes(seed, length))
    elif kind == "p":
        seed, plen, length = nums
        pat = gen_bytes(seed, plen)
        buf = bytearray((pat * (length // plen + 1))[:length])
    else:
        raise ValueError("bad base in spec %r" % spec)
    for e in edits:
        op, nums = e[0], [int(v) for v in e[1:].split(":")]
        if op == "r":
            off, n, seed = nums
            assert off + n <= len(buf), spec
            buf[off:off + n] = gen_bytes(seed, n)
        elif op == "i":
            off, n, seed = nums
            assert off <= len(buf), spec
            buf[off:off] = gen_bytes(seed, n)
        elif op == "d":
            off, n = nums
            assert off + n <= len(buf), spec
            del buf[off:off + n]
        else:
            raise ValueError("bad edit %r in spec %r" % (e, spec))
    return bytes(buf)


def scattered(base_spec, length, seed, count, max_len):
    """Overwrite `count` runs of 1..max_len bytes at pseudo-random offsets."""
    rng = Rng(seed)
    edits = []
    for k in range(count):
        n = 1 + rng.below(max_len)
        n = min(n, length)
        off = rng.below(length - n + 1)
        edits.append("r%d:%d:%d" % (off, n, seed * 1000 + k + 1))
    return ",".join([base_spec] + edits)


def shifting(base_spec, length, seed, count, max_len):
    """Inserts and deletes of 1..max_len bytes: they shift block alignment."""
    rng = Rng(seed)
    edits = []
    cur = length
    for k in range(count):
        n = 1 + rng.below(max_len)
        if k % 2 == 0 or cur < n:
            off = rng.below(cur + 1)
            edits.append("i%d:%d:%d" % (off, n, seed * 1000 + k + 1))
            cur += n
        else:
            off = rng.below(cur - n + 1)
            edits.append("d%d:%d" % (off, n))
            cur -= n
    return ",".join([base_spec] + edits)


# ---------------------------------------------------------------- the cases

DEFAULT_SIZES = [0, 1, 255, 256, 257, 2047, 2048, 2049, 4095, 4096, 4097,
                 65536, 65537, 1048576, 1048577]

# (label used in case names, rdiff options, sizes)
SIG_SETS = [
    ("default", "", DEFAULT_SIZES),
    ("b64", "-b 64", [0, 1, 63, 64, 65, 255, 256, 257, 4096, 4097]),
    ("b512", "-b 512", [0, 1, 511, 512, 513, 2048, 2049, 65537]),
    ("b4096", "-b 4096", [0, 1, 4095, 4096, 4097, 65537, 1048577]),
    ("S8", "-S 8", [0, 1, 255, 256, 257, 4097, 65536, 65537, 1048577]),
    ("S16", "-S 16", [0, 256, 257, 4097, 65537, 1048576]),
    # the recommended minimum is 5 below 256 bytes, 6 from 256, 7 at 1 MiB
    ("Sm1", "-S -1", [0, 1, 255, 256, 257, 2048, 65536, 65537, 1048576, 1048577]),
    # with 64-byte blocks the minimum goes 6 -> 7 between these two sizes
    ("b64-Sm1", "-b 64 -S -1", [32703, 32704]),
    ("md4", "-H md4", [0, 1, 256, 257, 2049, 65537, 1048577]),
    ("md4-Sm1", "-H md4 -S -1", [0, 257, 1048577]),
    ("rollsum", "-R rollsum", [0, 1, 256, 257, 2049, 65537, 1048577]),
    ("md4-rollsum-b2048-S8", "-H md4 -R rollsum -b 2048 -S 8",
     [0, 1, 2047, 2048, 2049, 65537, 1048577]),
    ("b0", "-b 0", [65537]),
    # other spellings rdiff (popt) accepts
    ("long-b512-S8", "--block-size=512 --sum-size=8", [4097]),
    ("long-hash-rollsum", "--hash=md4 --rollsum=rollsum", [4097]),
    ("joined-b512", "-b512", [4097]),
]


def sig_cases():
    cases = []
    for label, args, sizes in SIG_SETS:
        for size in sizes:
            # one seed per size, so equal sizes share data across option sets
            seed = 1000 + size
            cases.append(("%s-%d" % (label, size), "g%d:%d" % (seed, size), args))
    return cases


def delta_cases():
    c = []
    b = "g101:200000"
    c.append(("scattered", b, scattered(b, 200000, 11, 20, 200), ""))
    b = "g102:150000"
    c.append(("shifting", b, shifting(b, 150000, 12, 12, 3000), ""))
    b = "g103:300000"
    c.append(("identical", b, b, ""))
    c.append(("unrelated", "g104:70000", "g105:70000", ""))
    c.append(("empty-new", "g106:5000", "g107:0", ""))
    c.append(("empty-basis", "g108:0", "g109:3000", ""))
    c.append(("both-empty", "g110:0", "g111:0", ""))
    c.append(("one-to-two", "g112:1", "g113:2", ""))
    b = "g114:10000"
    c.append(("append", b, b + ",i10000:777:114001", ""))
    c.append(("prepend", b, b + ",i0:777:114002", ""))
    b = "p115:1024:100000"
    c.append(("repetitive", b, scattered(b, 100000, 15, 6, 50), ""))
    b = "g116:1048576"
    c.append(("md4-rollsum-b2048-S8", b, scattered(b, 1048576, 16, 8, 100),
              "-H md4 -R rollsum -b 2048 -S 8"))
    b = "g117:50000"
    c.append(("b64-shifting", b, shifting(b, 50000, 17, 10, 300), "-b 64"))
    b = "g118:65537"
    c.append(("S8-scattered", b, scattered(b, 65537, 18, 5, 40), "-S 8"))
    return c


HEADER = """\
# Golden cases for tests/golden.rs, written by tests/golden/make.py: do not edit,
# change make.py and run `python3 tests/golden/make.py` (needs rdiff 2.3.x).
#
# One case per line, fields separated by single TABs; '#' lines are comments.
#   sig    NAME  INPUT  INPUT_FNV  ARGS
#   delta  NAME  BASIS  BASIS_FNV  NEW  NEW_FNV  ARGS
# ARGS: rdiff options, split on spaces, possibly empty; they go before the
#   command word: `rdiff ARGS signature INPUT sig/NAME.sig`.
# sig:   sig/NAME.sig is rdiff's signature of INPUT.
# delta: delta/NAME.sig is `rdiff ARGS signature BASIS`, delta/NAME.delta is
#   `rdiff delta delta/NAME.sig NEW`; `rdiff patch BASIS delta/NAME.delta`
#   gives NEW.
# *_FNV: FNV-1a 64 of the generated bytes, 16 lowercase hex digits: a check
#   that the Rust and Python generators agree.
#
# INPUT, BASIS and NEW are data specs: a base, then edits, joined by ','.
#   gSEED:LEN        gen_bytes(SEED, LEN): xorshift64 (x^=x<<13; x^=x>>7;
#                    x^=x<<17 on a u64 whose start value is SEED, never 0),
#                    each state emitted as 8 little-endian bytes, truncated
#   pSEED:PLEN:LEN   gen_bytes(SEED, PLEN) repeated, truncated to LEN bytes
#   rOFF:LEN:SEED    overwrite LEN bytes at OFF with gen_bytes(SEED, LEN)
#   iOFF:LEN:SEED    insert gen_bytes(SEED, LEN) before byte OFF
#   dOFF:LEN         delete LEN bytes at OFF
# Edits apply in order; each OFF is into the data as the previous edits left it.
"""


# ---------------------------------------------------------------- running rdiff

def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit("make.py: %s failed with status %d: %s"
                 % (" ".join(cmd), r.returncode, r.stderr.decode(errors="replace")))
    return r


def rdiff_sig(rdiff, args, infile, outfile):
    run([rdiff, "-f"] + args.split() + ["signature", infile, outfile])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rdiff", default=shutil.which("rdiff") or "/usr/bin/rdiff")
    opts = ap.parse_args()
    rdiff = opts.rdiff
    version = run([rdiff, "--version"]).stdout.decode()
    if "librsync 2.3." not in version:
        sys.exit("make.py: need rdiff from librsync 2.3.x, got: " + version.splitlines()[0])

    # self-check of the generator (the Rust tests pin the same values)
    assert gen_bytes(1, 16).hex() == "41208240000000004114010c06410010"
    assert gen_bytes(0xDEADBEEFCAFEBABE, 20).hex() == "4b28042d1b5cdc27db52eb7a723996a2be52edeb"
    assert fnv1a64(gen_bytes(42, 1000)) == 0xF9975F82CDE17BB0

    sig_dir = os.path.join(HERE, "sig")
    delta_dir = os.path.join(HERE, "delta")
    for d in (sig_dir, delta_dir):
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            if f.endswith(".sig") or f.endswith(".delta"):
                os.remove(os.path.join(d, f))

    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec, args in sig_cases():
            data = build(spec)
            inp = os.path.join(tmp, "in")
            with open(inp, "wb") as f:
                f.write(data)
            rdiff_sig(rdiff, args, inp, os.path.join(sig_dir, name + ".sig"))
            lines.append("\t".join(["sig", name, spec, "%016x" % fnv1a64(data), args]))

        for name, bspec, nspec, args in delta_cases():
            basis, new = build(bspec), build(nspec)
            bpath, npath = os.path.join(tmp, "basis"), os.path.join(tmp, "new")
            out = os.path.join(tmp, "out")
            with open(bpath, "wb") as f:
                f.write(basis)
            with open(npath, "wb") as f:
                f.write(new)
            sig = os.path.join(delta_dir, name + ".sig")
            delta = os.path.join(delta_dir, name + ".delta")
            rdiff_sig(rdiff, args, bpath, sig)
            run([rdiff, "-f", "delta", sig, npath, delta])
            run([rdiff, "-f", "patch", bpath, delta, out])
            with open(out, "rb") as f:
                if f.read() != new:
                    sys.exit("make.py: rdiff patch of %s does not give NEW" % name)
            lines.append("\t".join(["delta", name, bspec, "%016x" % fnv1a64(basis),
                                    nspec, "%016x" % fnv1a64(new), args]))

    with open(os.path.join(HERE, "cases.txt"), "w") as f:
        f.write(HEADER)
        f.write("# rdiff: %s\n" % version.splitlines()[0])
        for line in lines:
            f.write(line + "\n")

    total = sum(os.path.getsize(os.path.join(d, f))
                for d in (sig_dir, delta_dir) for f in os.listdir(d))
    print("make.py: %d cases, %d bytes of golden files" % (len(lines), total))


if __name__ == "__main__":
    main()
