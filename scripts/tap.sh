# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# tap_results <label> <exit status> <file>: turn one program's TAP output
# into result lines ("ok - label: test" / "not ok - label: why") on stdout.
# Only column-0 TAP lines count (nested subtests are the program's own
# business).  A program that prints no TAP at all is one result, from its
# exit status.  Failures: "not ok" (unless # TODO), "Bail out!", fewer or
# more results than the plan, a non-zero exit status with no TAP failure.
# "ok ... # SKIP" counts as passed and keeps its directive in the text; so
# does exit status 4 (KSFT_SKIP) without a TAP failure.
tap_results() {
	tr -d '\r' <"$3" | awk -v label="$1" -v rc="$2" '
	/^1\.\.[0-9]+/ {
		plan = substr($0, 4) + 0
		hasplan = 1
		next
	}
	/^Bail out!/ {
		print "not ok - " label ": " $0
		bail = 1
		nfail++
		next
	}
	/^(not )?ok([ \t]|$)/ {
		notok = ($0 ~ /^not ok/)
		todo = ($0 ~ /#[ \t]*[Tt][Oo][Dd][Oo]/)
		desc = $0
		sub(/^(not )?ok[ \t]*[0-9]*[ \t]*(-[ \t]*)?/, "", desc)
		if (desc == "")
			desc = "test " (n + 1)
		n++
		if (notok && !todo) {
			print "not ok - " label ": " desc
			nfail++
		} else {
			print "ok - " label ": " desc
		}
	}
	END {
		if (hasplan && n != plan)
			print "not ok - " label ": planned " plan " tests, " (n + 0) " reported"
		if (rc == 4 && nfail == 0) {
			# KSFT_SKIP from kselftest: the whole program skipped.
			print "ok - " label " # SKIP exit status 4 (KSFT_SKIP)"
		} else if (n == 0 && !bail) {
			if (rc == 0)
				print "ok - " label
			else
				print "not ok - " label ": exit status " rc
		} else if (rc != 0 && nfail == 0) {
			print "not ok - " label ": exit status " rc
		}
	}'
}
