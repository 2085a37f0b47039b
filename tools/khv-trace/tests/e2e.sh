#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# khv-trace end to end (make check), built with ASan and UBSan: report on
# synthetic trace files (mksynth) and on files broken every way, with the
# exit statuses and the one-line errors; record's refusals on a machine
# without khv (no such process; no tracefs, no permission, or no khv
# events), leaving no file and no tracefs instance behind.  Needs neither
# khv nor root; what record does for real is tests/live.sh's.
#
# Usage: e2e.sh KHV_TRACE MKSYNTH OUTDIR
set -uo pipefail

KT=$1
MK=$2
OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
export LSAN_OPTIONS="suppressions=$HERE/lsan.supp:print_suppressions=0"
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
pass=0
fail=0

ok() {
	pass=$((pass + 1))
}

bad() {
	fail=$((fail + 1))
	echo "not ok: $*"
}

# expect STATUS NAME -- command...: runs it in $OUT, output in $OUT/NAME.{out,err}
expect() {
	local want=$1 name=$2 rc
	shift 3
	(cd "$OUT" && "$@") >"$OUT/$name.out" 2>"$OUT/$name.err"
	rc=$?
	if [ "$rc" = "$want" ]; then
		ok
	else
		bad "$name: exit status $rc, not $want"
		sed 's/^/#   /' "$OUT/$name.err" | head -20
	fi
}

has() {
	if grep -Eq -- "$2" "$OUT/$1.out"; then ok; else bad "$1: no line matches '$2'"; fi
}

# err_is NAME REGEX: stderr is exactly one line, and it matches
err_is() {
	local n
	n=$(wc -l <"$OUT/$1.err")
	if [ "$n" = 1 ] && grep -Eq -- "$2" "$OUT/$1.err"; then
		ok
	else
		bad "$1: stderr is not one line matching '$2':"
		sed 's/^/#   /' "$OUT/$1.err" | head -5
	fi
}

exists() {
	if [ -e "$OUT/$1" ]; then ok; else bad "$1 was not written"; fi
}

absent() {
	if [ -e "$OUT/$1" ]; then bad "$1 was left behind"; else ok; fi
}

# ---- usage ----
expect 0 help -- "$KT" --help
has help '^Usage: khv-trace record'
expect 0 version -- "$KT" --version
has version '^khv-trace [0-9.]+ \(trace file format 1\)$'
expect 1 nocmd -- "$KT"
grep -q '^khv-trace: a command is needed: record or report$' "$OUT/nocmd.err" && ok ||
	bad "nocmd: no reason given"
expect 1 badopt -- "$KT" record -d -5
grep -q -- "--duration: '-5'" "$OUT/badopt.err" && ok || bad "badopt: no reason given"

# ---- report on synthetic files ----
"$MK" workload "$OUT/w.dat" 4 2 2000 || bad "mksynth workload"
"$MK" empty "$OUT/empty.dat" || bad "mksynth empty"
"$MK" processes "$OUT/procs.dat" || bad "mksynth processes"
"$MK" incomplete "$OUT/incomplete.dat" || bad "mksynth incomplete"

expect 0 report -- "$KT" report -i w.dat -o rep
has report '^khv-trace: w\.dat: [0-9]+ exits of 4 vCPUs in 2\.00 s -> rep/index\.html'
for f in index.html report.txt rates.svg latency.svg latency-hist.svg timeline.svg; do
	exists "rep/$f"
done
grep -Eq '^svm_msr +0x7c +[0-9]+ ' "$OUT/rep/report.txt" && ok || bad "report.txt: no svm_msr row"
grep -Eq '^vcpu 3 ' "$OUT/rep/report.txt" && ok || bad "report.txt: no vcpu 3 row"
for f in rates latency latency-hist timeline; do
	grep -q "src=\"$f.svg\"" "$OUT/rep/index.html" && ok || bad "index.html does not show $f.svg"
	if command -v xmllint >/dev/null; then
		xmllint --noout --nonet "$OUT/rep/$f.svg" 2>/dev/null && ok || bad "$f.svg is not well-formed XML"
	fi
done

# Defaults: khv-trace.dat into khv-trace-report/; the same directory again.
cp "$OUT/w.dat" "$OUT/khv-trace.dat"
expect 0 report-defaults -- "$KT" report
exists khv-trace-report/index.html
expect 0 report-again -- "$KT" report -n 2
expect 0 report-empty -- "$KT" report -i empty.dat -o rep-empty
has report-empty ': 0 exits of 0 vCPUs'
expect 0 report-procs -- "$KT" report -i procs.dat -o rep-procs
grep -q '5151/vcpu 0' "$OUT/rep-procs/report.txt" && ok || bad "procs: vCPUs not named by process"

# ---- report refuses broken files: status 4, one line, no directory made ----
head -c 100 "$OUT/w.dat" >"$OUT/short.dat"
head -c -1 "$OUT/w.dat" >"$OUT/cut.dat"
cp "$OUT/w.dat" "$OUT/flip.dat"
printf '\x55' | dd of="$OUT/flip.dat" bs=1 seek=5000 conv=notrunc status=none
cp "$OUT/w.dat" "$OUT/long.dat"
printf 'x' >>"$OUT/long.dat"
printf 'hello, world\n%.0s' {1..20} >"$OUT/text.dat"
: >"$OUT/zero.dat"
expect 4 bad-short -- "$KT" report -i short.dat -o r-short
err_is bad-short '^khv-trace: short\.dat: truncated: 100 bytes, less than the 128-byte header$'
expect 4 bad-cut -- "$KT" report -i cut.dat -o r-cut
err_is bad-cut '^khv-trace: cut\.dat: truncated: [0-9]+ bytes, the header says'
expect 4 bad-flip -- "$KT" report -i flip.dat -o r-flip
err_is bad-flip '^khv-trace: flip\.dat: corrupt: the records and tables do not match their checksum$'
expect 4 bad-long -- "$KT" report -i long.dat -o r-long
err_is bad-long '^khv-trace: long\.dat: corrupt: 1 bytes after the end'
expect 4 bad-text -- "$KT" report -i text.dat -o r-text
err_is bad-text '^khv-trace: text\.dat: not a khv-trace file \(no KHVTRACE magic\)$'
expect 4 bad-zero -- "$KT" report -i zero.dat -o r-zero
err_is bad-zero '^khv-trace: zero\.dat: empty file$'
expect 4 bad-incomplete -- "$KT" report -i incomplete.dat -o r-inc
err_is bad-incomplete '^khv-trace: incomplete\.dat: incomplete: the recording was never finished'
expect 4 bad-missing -- "$KT" report -i missing.dat -o r-missing
err_is bad-missing '^khv-trace: missing\.dat: cannot open: No such file or directory$'
for d in r-short r-cut r-flip r-long r-text r-zero r-inc r-missing; do
	absent "$d"
done
expect 5 bad-outdir -- "$KT" report -i w.dat -o /proc/self/nope
err_is bad-outdir '^khv-trace: cannot make the directory /proc/self/nope: '

# ---- record's refusals (no khv here) ----
# A pid that is no process: a child reaped.
sh -c 'exit 0' &
gone=$!
wait $gone
expect 3 rec-nopid -- "$KT" record -p "$gone" -d 1 -o nopid.dat
err_is rec-nopid "^khv-trace: no such process: $gone\$"
absent nopid.dat

instances() {
	local d
	for d in $(awk '$3 == "tracefs" { print $2 }' /proc/mounts); do
		ls -d "$d"/instances/khv-trace-* 2>/dev/null
	done
}
before=$(instances | wc -l)
if [ -d /sys/module/khv ] || grep -qs '^khv ' /proc/modules; then
	echo "# khv is loaded: record's refusals without khv are not tested here"
else
	expect 2 rec-nokhv -- "$KT" record -d 1 -o nokhv.dat
	err_is rec-nokhv '^khv-trace: (tracefs is not mounted|no permission to use tracefs at .*|no khv events in .*/events \(is the khv module loaded\?\))'
	absent nokhv.dat
	expect 2 rec-nokhv-pid -- "$KT" record -p $$ -d 1 -o nokhv.dat
	absent nokhv.dat
	# Someone without the rights, where this runs as root.
	if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
		chmod 755 "$OUT"
		expect 2 rec-user -- setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$KT" record -d 1 -o /tmp/khv-trace-e2e-user.dat
		err_is rec-user '^khv-trace: (tracefs is not mounted|no permission to use tracefs at .*|no khv events in .*)'
		[ -e /tmp/khv-trace-e2e-user.dat ] && bad "rec-user left a file" || ok
	fi
fi
after=$(instances | wc -l)
[ "$before" = "$after" ] && ok || bad "a khv-trace tracefs instance was left behind"

echo "check-e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
