#!/usr/bin/env bash
# Regenerates the committed seed corpus in seeds/<target>/ with Debian's rdiff
# (librsync 2.3.2), from the fixed basis and NEW the targets use, and one
# delta with rsync-tool ($RSYNC_TOOL, default ../target/release/rsync-tool).
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo run -q --example write_inputs -- "$work"
b=$work/basis n=$work/new
rm -rf seeds && mkdir -p seeds/delta_sig seeds/patch_delta seeds/argv

# delta_sig: signatures of the basis (and of NEW, and of an empty file) with
# every hash, rollsum and a range of block and strong-sum lengths.
s=seeds/delta_sig
rdiff signature "$b" $s/default.sig
rdiff -b 64 signature "$b" $s/b64.sig
rdiff -b 1 -S 4 signature "$b" $s/b1-s4.sig
rdiff -H md4 signature "$b" $s/md4.sig
rdiff -R rollsum signature "$b" $s/rollsum.sig
rdiff -H md4 -R rollsum -b 7 -S 4 signature "$b" $s/md4-rollsum-b7.sig
rdiff -S -1 -b 100 signature "$b" $s/min-b100.sig
rdiff -b 4096 signature "$b" $s/b4096.sig
rdiff signature "$n" $s/of-new.sig
rdiff signature /dev/null $s/empty-basis.sig

# patch_delta: rdiff's deltas of several files against the basis, and a few
# hand-written ones with every parameter width.
d=seeds/patch_delta
rdiff signature "$b" $work/b.sig
rdiff -b 64 signature "$b" $work/b64.sig
rdiff delta $work/b.sig "$n" $d/new.delta
rdiff delta $work/b64.sig "$n" $d/new-b64.delta
rdiff delta $work/b.sig "$b" $d/identical.delta
rdiff delta $work/b.sig /dev/null $d/empty.delta
head -c 700 /dev/zero | tr '\0' 'x' > $work/text
rdiff delta $work/b.sig $work/text $d/literal.delta
# rsync-tool's own delta, which ends with the verification trailer.
"${RSYNC_TOOL:-../target/release/rsync-tool}" delta $work/b.sig "$n" $d/new-trailer.delta
printf 'rs\x026\x44\x00\x00\x00\x00\x00\x00\x00\x03abc\x54\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x20\x00' > $d/wide.delta
printf 'rs\x026\x42\x01\x00%0256d\x4e\x00\x00\x00\x05\x00\x07\x4a\x0a\x00\x01\x00' 0 > $d/mixed.delta

# argv: NUL-separated command lines.
a=seeds/argv
printf 'signature\0basis\0basis.sig' > $a/signature
printf -- '-b\0512\0s\0a\0b' > $a/short-value
printf -- '-fsb\x0064\0pat\0x\0y\0z' > $a/bundle
printf -- '--hash=md4\0del\0-\0-\0-' > $a/long-eq
printf -- '--rollsum\0rollsum\0-S\0-1\0d\0sig\0new\0out' > $a/long-space
printf -- '-?' > $a/help
printf -- '-V' > $a/version
printf -- 'p\0--\0-basis\0-delta' > $a/double-dash
printf -- '-z\0signature' > $a/gzip
printf -- '-I\0-1\0-O\x001\0signature\0a' > $a/buffers
echo "seeds written: $(find seeds -type f | wc -l) files"
