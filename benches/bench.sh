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
# 256 MiB random basis (64 MiB with --quick; patch of rdiff's delta, and
# "verified": of rsync-tool's delta, whose trailer it checks), signature and delta edited of
# it again with rsync-tool -j 1 (the notes give the default -j's speed-up),
# a cp floor for patch, 1 KiB and 1 MiB signature/delta/patch, then
# signature / delta / patch on real-shaped data (row names in quotes, for
# --only; each tool deltas against its own signature, both patch rdiff's
# delta):
#   "sqlite", "sqlite -b 512"  a ~66 MB SQLite database (Python's sqlite3,
#       192,000 seeded random rows, one index), NEW = a copy after 3,000
#       inserts, 3,000 updates and 1,000 deletes; neither is VACUUMed
#   "log"  ~64 MiB of log lines, NEW = the same + ~1 MiB of appended lines
#   "tar", "tar -b 512"  a tar (Python's tarfile, fixed mtimes and owners)
#       of a ~64 MiB synthetic source tree, NEW = the tree re-tarred after
#       40 files edited, 8 added and 8 removed
# and with --big the three steps on 1 GiB and a 5 GiB sparse signature
# (equal to rdiff's) and round trip.  E.g. --only sqlite, --only "-j 1",
# --only "delta tar".
# Each row runs rdiff and rsync-tool alternately after one warm-up run each
# (each run starts with its output deleted, its inputs read through into the
# page cache and a sync, all untimed);
# wall time is per tool process, peak RSS from GNU time on the warm-up run
# (see benches/bench_helper.py).
# Outputs are checked outside the timing (signatures byte-identical to
# rdiff's; rsync-tool's delta at most rdiff's x 1.01 + 64 bytes; each tool's
# patch of its own delta, and both tools' patch of rdiff's delta, == NEW;
# -j 1 deltas equal the default's); mismatches are flagged loudly and make
# the script exit 1 after the table.
#
# Data (deterministic, seeded PRNG): random basis; NEW "edited" = basis with
# 1% of its bytes rewritten in 64-byte runs at random positions plus 8 inserts
# and 8 deletes of 1-8 KiB; "unrelated" = other random bytes; "identical" = a
# copy.  Beware: at 256 MiB rdiff's block is 16 KiB, so the ~42,000 scattered
# runs touch ~92% of the blocks and the edited delta is ~93% literal; that
# row measures the miss path nearly as much as "unrelated" does.  The
# real-shaped sets are made by bench_helper.py gen-sqlite / gen-log / gen-tar
# from seeded PRNGs only (same bytes on every run with the same Python and
# SQLite); they are ~64-70 MB whatever --quick says.  The SQLite updates and
# index inserts land on random pages, so at rdiff's default 8 KiB block most
# blocks change (the delta is most of the file) and -b 512 is the row to read.
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
REAL=$D/real-v1 # bump when gen-sqlite, gen-log or gen-tar changes
OUT=$D/out
rm -rf -- "$OUT" # outputs never carry over: a rebuilt tool must redo its signatures
mkdir -p "$DATA" "$REAL" "$OUT"
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

# the edited pair's delta made by rsync-tool, ending with its verification
# trailer: rdiff ignores the trailer, rsync-tool checks the result against it
our_delta() {
	local sz=$1 f=$OUT/ourdelta.$1 s n
	if [[ ! -e $f ]]; then
		s=$(sig ours "$sz")
		n=$(new edited "$sz")
		"$OURS" -f delta "$s" "$n" "$f"
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
# Options for the next measured row: BOPT goes to both tools (e.g. -b 512),
# JOPT to rsync-tool only (e.g. -j 1).  Every row function resets them.
BOPT=()
JOPT=()

# check_delta_size ROW RDIFF_DELTA OURS_DELTA: rsync-tool's delta may be at
# most rdiff's x 1.01 + 64 bytes (the rule of tests/util.rs)
check_delta_size() {
	local a b
	a=$(stat -c %s "$2")
	b=$(stat -c %s "$3")
	if ((b * 100 > a * 101 + 6400)); then
		fail "$1: rsync-tool's delta is $b bytes, over rdiff's $a x 1.01 + 64"
	fi
}

# signature_row ROW BASIS OUT_RDIFF OUT_OURS: time both signatures (with
# BOPT, JOPT), then check they are byte-identical
signature_row() {
	local row=$1 b=$2 oa=$3 ob=$4
	WARM=("$b")
	settle
	measure "$row" "$(stat -c %s "$b")" "$oa" "$ob" \
		"$RDIFF" "${BOPT[@]}" -f signature "$b" "$oa" @@ \
		"$OURS" "${BOPT[@]}" "${JOPT[@]}" -f signature "$b" "$ob" || return 0
	if ! cmp -s "$oa" "$ob"; then
		fail "$row: rsync-tool's signature differs from rdiff's"
	fi
}

# delta_row ROW BASIS NEW SIG_RDIFF SIG_OURS OUT_RDIFF OUT_OURS: time each
# tool's delta against its own signature (JOPT for ours), then check the
# size rule and that each tool's patch of its own delta gives NEW back
delta_row() {
	local row=$1 b=$2 n=$3 sa=$4 sb=$5 oa=$6 ob=$7
	WARM=("$sa" "$sb" "$n")
	settle
	measure "$row" "$(stat -c %s "$n")" "$oa" "$ob" \
		"$RDIFF" -f delta "$sa" "$n" "$oa" @@ "$OURS" "${JOPT[@]}" -f delta "$sb" "$n" "$ob" || return 0
	if ! cmp -s "$sa" "$sb"; then
		note "$row: the two signatures differ, so each tool deltas against a different signature"
	fi
	if ! cmp -s "$oa" "$ob"; then
		note "$row: deltas differ ($(stat -c %s "$oa") bytes rdiff, $(stat -c %s "$ob") bytes rsync-tool)"
	fi
	check_delta_size "$row" "$oa" "$ob"
	# each tool's patch of its own delta must give NEW back (untimed)
	if ! { "$RDIFF" -f patch "$b" "$oa" "$OUT/check" && cmp -s "$OUT/check" "$n"; }; then
		fail "$row: rdiff's patch of its own delta does not reproduce NEW"
	fi
	if ! { "$OURS" -f patch "$b" "$ob" "$OUT/check" && cmp -s "$OUT/check" "$n"; }; then
		fail "$row: rsync-tool's patch of its own delta does not reproduce NEW"
	fi
	rm -f "$OUT/check"
}

# patch_row ROW BASIS NEW DELTA OUT_RDIFF OUT_OURS: both tools patch the
# same delta; both outputs must equal NEW
patch_row() {
	local row=$1 b=$2 n=$3 d=$4 oa=$5 ob=$6
	WARM=("$b" "$d")
	settle
	measure "$row" "$(stat -c %s "$n")" "$oa" "$ob" \
		"$RDIFF" -f patch "$b" "$d" "$oa" @@ "$OURS" -f patch "$b" "$d" "$ob" || return 0
	cmp -s "$oa" "$n" || fail "$row: rdiff's patch output differs from NEW"
	cmp -s "$ob" "$n" || fail "$row: rsync-tool's patch output differs from NEW"
	rm -f "$oa" "$ob"
}

# row_signature SIZE [OURS-OPTION...]: with options (-j 1), the row is named
# "signature SIZE OPTIONS" and compares rdiff with rsync-tool run with them
row_signature() {
	local sz=$1 row="signature $1" tag=$1 b
	shift
	BOPT=()
	JOPT=("$@")
	if (($#)); then
		row+=" $*"
		tag+=$(printf '%s' "$*" | tr -d ' ')
	fi
	want "$row" || return 0
	b=$(basis "$sz")
	signature_row "$row" "$b" "$OUT/sig.rdiff.$tag" "$OUT/sig.ours.$tag"
}

# row_delta KIND SIZE ROWNAME [OURS-OPTION...]
row_delta() {
	local kind=$1 sz=$2 row=$3 tag=$2 b n sa sb ob
	shift 3
	BOPT=()
	JOPT=("$@")
	(($#)) && tag+=$(printf '%s' "$*" | tr -d ' ')
	want "$row" || return 0
	b=$(basis "$sz")
	n=$(new "$kind" "$sz")
	sa=$(sig rdiff "$sz")
	sb=$(sig ours "$sz")
	ob=$OUT/delta.ours.$kind.$tag
	delta_row "$row" "$b" "$n" "$sa" "$sb" "$OUT/delta.rdiff.$kind.$tag" "$ob"
	# outputs are the same for every -j: compare with the default's delta
	if (($#)) && [[ -e $ob && -e $OUT/delta.ours.$kind.$sz ]] &&
		! cmp -s "$ob" "$OUT/delta.ours.$kind.$sz"; then
		fail "$row: rsync-tool's delta with $* differs from its delta without"
	fi
}

# row_patch SIZE ROWNAME [verified]: both tools patch rdiff's delta (nothing
# to verify), or with "verified" rsync-tool's delta, whose trailer rsync-tool
# checks: the cost of verification is the difference of the two rows
row_patch() {
	local sz=$1 row=$2 b n d
	BOPT=()
	JOPT=()
	want "$row" || return 0
	b=$(basis "$sz")
	n=$(new edited "$sz")
	if [[ ${3:-} == verified ]]; then
		d=$(our_delta "$sz")
	else
		d=$(ref_delta "$sz")
	fi
	patch_row "$row" "$b" "$n" "$d" "$OUT/patched.rdiff.$sz" "$OUT/patched.ours.$sz"
}

# ---------------------------------------------------------------- real-shaped
# Data sets made by bench_helper.py gen-SET (see its docstrings):
#   sqlite  a ~66 MB SQLite database; NEW after 3,000 inserts, 3,000
#           updates, 1,000 deletes (not VACUUMed)
#   log     ~64 MiB of log lines; NEW = the same + ~1 MiB appended lines
#   tar     a tar of a ~64 MiB synthetic source tree; NEW = the tree after 40
#           files edited, 8 added, 8 removed, re-tarred
REAL_SETS=(sqlite log tar)

# real_files SET: make $REAL/SET.basis and $REAL/SET.new if absent
real_files() {
	if [[ ! -e $REAL/$1.basis || ! -e $REAL/$1.new ]]; then
		log "generating $REAL/$1.basis and $REAL/$1.new"
		"${HELPER[@]}" "gen-$1" "$REAL/$1.basis" "$REAL/$1.new" "$1-v1"
	fi
}

# real_sig WHO SET BTAG: that tool's signature of SET's basis with BOPT
# (made untimed if absent)
real_sig() {
	local f=$OUT/sig.$1.$2.$3 bin=$RDIFF
	if [[ ! -e $f ]]; then
		[[ $1 == ours ]] && bin=$OURS
		"$bin" "${BOPT[@]}" -f signature "$REAL/$2.basis" "$f"
	fi
	printf '%s\n' "$f"
}

# row_real SET [BLOCK]: signature, delta and patch rows of SET, with -b BLOCK
# if given (rdiff's default block otherwise); both tools patch rdiff's delta
row_real() {
	local set=$1 bl=${2:-} sfx="" btag=bdef b n d sa sb
	BOPT=()
	JOPT=()
	if [[ -n $bl ]]; then
		BOPT=(-b "$bl")
		sfx=" -b $bl"
		btag=b$bl
	fi
	want "signature $set$sfx" || want "delta $set$sfx" || want "patch $set$sfx" || return 0
	real_files "$set"
	b=$REAL/$set.basis
	n=$REAL/$set.new
	if want "signature $set$sfx"; then
		signature_row "signature $set$sfx" "$b" "$OUT/sig.rdiff.$set.$btag" "$OUT/sig.ours.$set.$btag"
	fi
	sa=$(real_sig rdiff "$set" "$btag")
	if want "delta $set$sfx"; then
		sb=$(real_sig ours "$set" "$btag")
		delta_row "delta $set$sfx" "$b" "$n" "$sa" "$sb" \
			"$OUT/delta.rdiff.$set.$btag" "$OUT/delta.ours.$set.$btag"
	fi
	if want "patch $set$sfx"; then
		d=$OUT/refdelta.$set.$btag
		[[ -e $d ]] || "$RDIFF" -f delta "$sa" "$n" "$d"
		patch_row "patch $set$sfx" "$b" "$n" "$d" "$OUT/patched.rdiff.$set.$btag" "$OUT/patched.ours.$set.$btag"
	fi
	local what=$set$sfx bl_len dsz="(not made)"
	[[ -n $sfx ]] || what+=" (rdiff's default block)"
	bl_len=$(od -A n -t u1 -j 4 -N 4 "$sa" | awk '{print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4}')
	[[ -e $OUT/refdelta.$set.$btag ]] && dsz="$(stat -c %s "$OUT/refdelta.$set.$btag") bytes"
	note "$what: basis $(stat -c %s "$b") bytes, NEW $(stat -c %s "$n") bytes, block length $bl_len bytes, rdiff's delta $dsz."
	rm -f "$OUT"/delta.*."$set.$btag" "$OUT"/patched.*."$set.$btag"
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
tidy() { rm -f "$OUT"/delta.*."$1" "$OUT"/delta.*."$1"-j* "$OUT"/patched.*."$1" "$OUT/ourdelta.$1"; }

# ---------------------------------------------------------------- run
START=$(date +%s)
log "work dir $D; rdiff=$RDIFF; rsync-tool=$OURS; runs=$RUNS"

row_signature "$MAIN"
row_signature "$MAIN" -j 1
row_delta edited "$MAIN" "delta edited $MAIN"
row_delta edited "$MAIN" "delta edited $MAIN -j 1" -j 1
row_delta unrelated "$MAIN" "delta unrelated $MAIN"
row_delta identical "$MAIN" "delta identical $MAIN"
row_patch "$MAIN" "patch edited $MAIN"
row_patch "$MAIN" "patch edited $MAIN verified" verified
row_cp "$MAIN"
tidy "$MAIN"
for sz in 1K 1M; do
	row_signature "$sz"
	row_delta edited "$sz" "delta $sz"
	row_patch "$sz" "patch $sz"
done
row_real sqlite
row_real sqlite 512
row_real log
row_real tar
row_real tar 512
if ((BIG)); then
	row_signature 1G
	row_delta edited 1G "delta edited 1G"
	row_patch 1G "patch edited 1G"
	row_patch 1G "patch edited 1G verified" verified
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
