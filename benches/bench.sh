#!/usr/bin/env bash
# Side-by-side benchmark: Debian's rdiff vs rsync-tool, same command lines.
# Needs bash, python3 >= 3.9, GNU time (/usr/bin/time) and rdiff.
#
#   benches/bench.sh [--runs N] [--big] [--quick] [--only SUBSTRING]
#
# Environment:
#   RSYNC_TOOL  tool under test (default: cargo build --release, then
#               <repo>/target/release/rsync-tool)
#   RDIFF       reference rdiff (default: rdiff on PATH)
#   BENCH_RUNS  timed runs per tool per row (default 5; 3 with --quick);
#               rows that take under BENCH_MIN_TIME seconds (default 1) for
#               all runs of one tool get more runs, up to 20x (0: off)
#   BENCH_BIG=1 same as --big
#   BENCH_DIR   work directory; kept afterwards, and generated data in it is
#               reused by later runs (default: a mktemp -d, removed on exit)
#
# Rows: signature / delta (edited, unrelated, identical NEW) / patch on a
# 256 MiB random basis (64 MiB with --quick), a cp floor for patch, 1 KiB and
# 1 MiB signature/delta/patch, and with --big the three steps on 1 GiB and a
# 5 GiB sparse signature (equal to rdiff's) and round trip.
# Each row runs rdiff and rsync-tool alternately after one warm-up run each
# (each run starts with its output deleted, its inputs read through into the
# page cache and a sync, all untimed);
# wall time is per tool process, peak RSS from GNU time on the warm-up run
# (see benches/bench_helper.py).
# Outputs are checked outside the timing; mismatches are flagged loudly and
# make the script exit 1 after the table.
#
# Data (deterministic, seeded PRNG): random basis; NEW "edited" = basis with
# 1% of its bytes rewritten in 64-byte runs at random positions plus 8 inserts
# and 8 deletes of 1-8 KiB; "unrelated" = other random bytes; "identical" = a
# copy.  Beware: at 256 MiB rdiff's block is 16 KiB, so the ~42,000 scattered
# runs touch ~92% of the blocks and the edited delta is ~93% literal; that
# row measures the miss path nearly as much as "unrelated" does.
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p;}' "$0"
	exit "${1:-0}"
}

RUNS=""
BIG=${BENCH_BIG:-0}
QUICK=0
ONLY=""
while (($#)); do
	case $1 in
	--runs)
		[[ $# -ge 2 ]] || usage 2
		RUNS=$2
		shift 2
		;;
	--runs=*)
		RUNS=${1#*=}
		shift
		;;
	--big)
		BIG=1
		shift
		;;
	--quick)
		QUICK=1
		shift
		;;
	--only)
		[[ $# -ge 2 ]] || usage 2
		ONLY=$2
		shift 2
		;;
	--only=*)
		ONLY=${1#*=}
		shift
		;;
	-h | --help) usage 0 ;;
	*)
		echo "bench.sh: unknown argument: $1" >&2
		usage 2
		;;
	esac
done
if [[ -z $RUNS ]]; then
	if [[ -n ${BENCH_RUNS:-} ]]; then
		RUNS=$BENCH_RUNS
	elif ((QUICK)); then
		RUNS=3
	else
		RUNS=5
	fi
fi
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || {
	echo "bench.sh: --runs wants a positive integer, got '$RUNS'" >&2
	exit 2
}
[[ $BIG == 1 ]] || BIG=0
MIN_TIME=${BENCH_MIN_TIME:-1}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
HELPER=(python3 "$HERE/bench_helper.py")
python3 -c 'import sys; sys.exit(sys.version_info < (3, 9))' || {
	echo "bench.sh: needs python3 >= 3.9 (random.randbytes, os.waitstatus_to_exitcode)" >&2
	exit 2
}

RDIFF=$(command -v "${RDIFF:-rdiff}") || {
	echo "bench.sh: rdiff not found (apt-get install rdiff, or set RDIFF)" >&2
	exit 2
}
if [[ -z ${RSYNC_TOOL:-} ]]; then
	echo "bench.sh: building rsync-tool (cargo build --release)" >&2
	(cd "$ROOT" && cargo build --release)
	RSYNC_TOOL=$ROOT/target/release/rsync-tool
	# a build's writeback and heat skew the first rows (signature 0.21x on a
	# settled machine, 0.25-0.29x right after a build): let them pass
	sync
	sleep 15
fi
OURS=$(command -v "$RSYNC_TOOL") || {
	echo "bench.sh: RSYNC_TOOL '$RSYNC_TOOL' is not executable" >&2
	exit 2
}

if [[ -n ${BENCH_DIR:-} ]]; then
	mkdir -p "$BENCH_DIR"
	D=$(cd "$BENCH_DIR" && pwd)
else
	D=$(mktemp -d "${TMPDIR:-/tmp}/rsync-tool-bench.XXXXXX")
	trap 'rm -rf -- "$D"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
fi
DATA=$D/data-v1 # bump when the data recipe in bench_helper.py changes
OUT=$D/out
rm -rf -- "$OUT" # outputs never carry over: a rebuilt tool must redo its signatures
mkdir -p "$DATA" "$OUT"
RESULTS=$OUT/results.jsonl
NOTES=$OUT/notes.txt
: >"$RESULTS"
: >"$NOTES"
FAILED=0
WARM=()

if ((QUICK)); then MAIN=64M; else MAIN=256M; fi

log() { printf '%s\n' "bench.sh: $*" >&2; }
note() { printf '%s\n' "$*" >>"$NOTES"; }
fail() {
	FAILED=1
	printf '\n!!! MISMATCH: %s\n\n' "$*" >&2
	note "**MISMATCH: $***"
}
want() { [[ -z $ONLY || $1 == *"$ONLY"* ]]; }

bytes_of() {
	case $1 in
	1K) echo 1024 ;;
	1M) echo 1048576 ;;
	64M) echo 67108864 ;;
	256M) echo 268435456 ;;
	1G) echo 1073741824 ;;
	5G) echo 5368709120 ;;
	*)
		echo "bench.sh: unknown size $1" >&2
		exit 2
		;;
	esac
}

# ---------------------------------------------------------------- data
# Files are written under a temporary name and renamed, so an existing file
# is complete; a kept BENCH_DIR reuses them.
basis() {
	local f=$DATA/basis.$1
	if [[ ! -e $f ]]; then
		log "generating $f"
		"${HELPER[@]}" gen-random "$f" "$(bytes_of "$1")" "basis-$1"
	fi
	printf '%s\n' "$f"
}

# new KIND SIZE -> path of NEW (edited | unrelated | identical)
new() {
	local kind=$1 sz=$2 f=$DATA/new-$1.$2 b
	if [[ ! -e $f ]]; then
		b=$(basis "$sz")
		log "generating $f"
		case $kind in
		edited) "${HELPER[@]}" gen-edit "$b" "$f" "edit-$sz" ;;
		unrelated) "${HELPER[@]}" gen-random "$f" "$(bytes_of "$sz")" "unrelated-$sz" ;;
		identical)
			cp --reflink=never "$b" "$f.tmp"
			mv "$f.tmp" "$f"
			;;
		esac
	fi
	printf '%s\n' "$f"
}

# sig TOOLNAME SIZE -> that tool's signature of the basis (made untimed if absent)
sig() {
	local who=$1 sz=$2 f=$OUT/sig.$1.$2 b bin
	if [[ ! -e $f ]]; then
		b=$(basis "$sz")
		bin=$RDIFF
		[[ $who == ours ]] && bin=$OURS
		"$bin" -f signature "$b" "$f"
	fi
	printf '%s\n' "$f"
}

# the edited pair's delta, made by rdiff against rdiff's signature: both
# tools patch this same delta
ref_delta() {
	local sz=$1 f=$OUT/refdelta.$1 s n
	if [[ ! -e $f ]]; then
		s=$(sig rdiff "$sz")
		n=$(new edited "$sz")
		"$RDIFF" -f delta "$s" "$n" "$f"
	fi
	printf '%s\n' "$f"
}

# make all inputs of a row exist before timing, then flush them to disk so
# writeback of fresh data does not land inside timed runs (the page cache
# stays warm; the warm-up run re-reads anything that was evicted)
settle() { sync; }

# measure ROW BYTES OUT_RDIFF OUT_OURS -- rdiff-args... @@ ours-args...
# The files in the array WARM (the row's inputs) are read into the page cache
# before every run, untimed: this VM pages out cold file pages by itself.
measure() {
	local row=$1 nbytes=$2 oa=$3 ob=$4
	shift 4
	log "row: $row (at least $RUNS runs each, alternating)"
	if ! "${HELPER[@]}" measure --row "$row" --bytes "$nbytes" --runs "$RUNS" \
		--min-time "$MIN_TIME" --names rdiff rsync-tool --outs "$oa" "$ob" --results "$RESULTS" \
		--errfile "$OUT/stderr.txt" --warm "${WARM[@]}" -- "$@"; then
		FAILED=1
		note "**$row: a run FAILED (see stderr above)**"
		return 1
	fi
}

# ---------------------------------------------------------------- rows
row_signature() {
	local sz=$1 row="signature $1" b oa ob
	want "$row" || return 0
	b=$(basis "$sz")
	oa=$OUT/sig.rdiff.$sz
	ob=$OUT/sig.ours.$sz
	WARM=("$b")
	settle
	measure "$row" "$(bytes_of "$sz")" "$oa" "$ob" \
		"$RDIFF" -f signature "$b" "$oa" @@ "$OURS" -f signature "$b" "$ob" || return 0
	if ! cmp -s "$oa" "$ob"; then
		fail "$row: rsync-tool's signature differs from rdiff's"
	fi
}

# row_delta KIND SIZE ROWNAME
row_delta() {
	local kind=$1 sz=$2 row=$3 b n sa sb oa ob
	want "$row" || return 0
	b=$(basis "$sz")
	n=$(new "$kind" "$sz")
	sa=$(sig rdiff "$sz")
	sb=$(sig ours "$sz")
	oa=$OUT/delta.rdiff.$kind.$sz
	ob=$OUT/delta.ours.$kind.$sz
	WARM=("$sa" "$sb" "$n")
	settle
	measure "$row" "$(stat -c %s "$n")" "$oa" "$ob" \
		"$RDIFF" -f delta "$sa" "$n" "$oa" @@ "$OURS" -f delta "$sb" "$n" "$ob" || return 0
	if ! cmp -s "$sa" "$sb"; then
		note "$row: the two signatures differ, so each tool deltas against a different signature"
	fi
	if ! cmp -s "$oa" "$ob"; then
		note "$row: deltas differ ($(stat -c %s "$oa") bytes rdiff, $(stat -c %s "$ob") bytes rsync-tool)"
	fi
	# each tool's patch of its own delta must give NEW back (untimed)
	if ! { "$RDIFF" -f patch "$b" "$oa" "$OUT/check" && cmp -s "$OUT/check" "$n"; }; then
		fail "$row: rdiff's patch of its own delta does not reproduce NEW"
	fi
	if ! { "$OURS" -f patch "$b" "$ob" "$OUT/check" && cmp -s "$OUT/check" "$n"; }; then
		fail "$row: rsync-tool's patch of its own delta does not reproduce NEW"
	fi
	rm -f "$OUT/check"
}

# row_patch SIZE ROWNAME
row_patch() {
	local sz=$1 row=$2 b n d oa ob
	want "$row" || return 0
	b=$(basis "$sz")
	n=$(new edited "$sz")
	d=$(ref_delta "$sz")
	oa=$OUT/patched.rdiff.$sz
	ob=$OUT/patched.ours.$sz
	WARM=("$b" "$d")
	settle
	measure "$row" "$(stat -c %s "$n")" "$oa" "$ob" \
		"$RDIFF" -f patch "$b" "$d" "$oa" @@ "$OURS" -f patch "$b" "$d" "$ob" || return 0
	cmp -s "$oa" "$n" || fail "$row: rdiff's patch output differs from NEW"
	cmp -s "$ob" "$n" || fail "$row: rsync-tool's patch output differs from NEW"
	rm -f "$oa" "$ob"
}

# floor for patch: copying NEW (what patch writes) with cp
row_cp() {
	local sz=$1 row="cp NEW $1 (patch floor)" n o
	want "$row" || return 0
	n=$(new edited "$sz")
	o=$OUT/cp.$sz
	settle
	log "row: $row (at least $RUNS runs)"
	"${HELPER[@]}" measure --row "$row" --bytes "$(stat -c %s "$n")" --runs "$RUNS" \
		--min-time "$MIN_TIME" --names cp --outs "$o" --results "$RESULTS" --errfile "$OUT/stderr.txt" \
		--warm "$n" -- cp --reflink=never "$n" "$o" || FAILED=1
	rm -f "$o"
}

# A 5 GiB sparse basis (1 MiB of data at 4.5 GiB) and NEW (the same with
# 64 KiB written into the hole at 4.6 GiB), for 64-bit offsets: the
# signature is a timed row and must equal rdiff's; rsync-tool's delta must
# patch back to NEW with both tools (untimed).
row_sparse() {
	local row="signature sparse 5G" b=$DATA/sparse-basis.5G n=$DATA/sparse-new.5G oa ob d bin
	want "$row" || return 0
	if [[ ! -e $n ]]; then
		log "generating $b and $n"
		"${HELPER[@]}" gen-random "$DATA/sparse-data" 1048576 sparse-data
		"${HELPER[@]}" gen-random "$DATA/sparse-edit" 65536 sparse-edit
		truncate -s 5G "$b.tmp"
		dd if="$DATA/sparse-data" of="$b.tmp" bs=1M seek=4608 conv=notrunc status=none
		mv "$b.tmp" "$b"
		cp --sparse=always "$b" "$n.tmp"
		dd if="$DATA/sparse-edit" of="$n.tmp" bs=64K seek=75366 conv=notrunc status=none
		mv "$n.tmp" "$n"
		rm -f "$DATA/sparse-data" "$DATA/sparse-edit"
	fi
	oa=$OUT/sig.rdiff.sparse
	ob=$OUT/sig.ours.sparse
	WARM=()
	settle
	measure "$row" "$(bytes_of 5G)" "$oa" "$ob" \
		"$RDIFF" -f signature "$b" "$oa" @@ "$OURS" -f signature "$b" "$ob" || return 0
	cmp -s "$oa" "$ob" || fail "$row: rsync-tool's signature differs from rdiff's"
	d=$OUT/delta.ours.sparse
	if ! "$OURS" -f delta "$ob" "$n" "$d"; then
		fail "sparse 5G: rsync-tool's delta failed"
		return 0
	fi
	note "sparse 5G: rsync-tool's delta of NEW is $(stat -c %s "$d") bytes; patched back to NEW by both tools."
	for bin in "$OURS" "$RDIFF"; do
		if ! { "$bin" -f patch "$b" "$d" "$OUT/check" && cmp -s "$OUT/check" "$n"; }; then
			fail "sparse 5G: $(basename "$bin")'s patch of rsync-tool's delta does not reproduce NEW"
		fi
	done
	rm -f "$OUT/check" "$d"
	# the holes were read as 10 GiB of cached zeros: give the memory back
	"${HELPER[@]}" drop-cache "$b" "$n"
}

# drop one size's big outputs once its rows are done
tidy() { rm -f "$OUT"/delta.*."$1" "$OUT"/patched.*."$1"; }

# ---------------------------------------------------------------- run
START=$(date +%s)
log "work dir $D; rdiff=$RDIFF; rsync-tool=$OURS; runs=$RUNS"

row_signature "$MAIN"
row_delta edited "$MAIN" "delta edited $MAIN"
row_delta unrelated "$MAIN" "delta unrelated $MAIN"
row_delta identical "$MAIN" "delta identical $MAIN"
row_patch "$MAIN" "patch edited $MAIN"
row_cp "$MAIN"
tidy "$MAIN"
for sz in 1K 1M; do
	row_signature "$sz"
	row_delta edited "$sz" "delta $sz"
	row_patch "$sz" "patch $sz"
done
if ((BIG)); then
	row_signature 1G
	row_delta edited 1G "delta edited 1G"
	row_patch 1G "patch edited 1G"
	tidy 1G
	row_sparse
fi

if [[ ! -s $RESULTS ]]; then
	echo "bench.sh: no row matched --only '$ONLY'" >&2
	exit 2
fi

MACHINE="Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1),"
MACHINE+=" $(uname -sr), load average at end $(cut -d' ' -f1-3 /proc/loadavg),"
MACHINE+=" bench dir on $(stat -f -c %T "$D"), $(($(date +%s) - START)) s total."
VERSIONS="Versions: $("$RDIFF" --version 2>&1 | head -1) ($RDIFF); $("$OURS" --version 2>&1 | head -1) ($OURS)."

echo
"${HELPER[@]}" report "$RESULTS" "$NOTES" "$MACHINE" "$VERSIONS"

if ((FAILED)); then
	echo >&2
	echo "bench.sh: !!! some checks or runs FAILED; see the notes above" >&2
	exit 1
fi
