#!/bin/bash
# Runs every IPv4 line of the upstream iptables .t files through the real
# iptables-legacy 1.8.9 (restore + save) in a private network namespace and
# records what it does, one row per (file, line, chain).
#
# Usage (as root): testdata/conformance/verify_t_files.sh [T_DIR] > testdata/conformance/legacy-1.8.9-results.tsv
# then: testdata/conformance/derive_lists.py  (writes legacy-1.8.9-differences.tsv
#       and kernel-only.tsv from the results and the .t expectations).
#
# Columns: file, line, table, chain, rule, status, saved, message
#   status OK      restored; saved = the rule as iptables-legacy-save prints it
#                  (without "-A CHAIN "), "<none>" if save shows no rule
#   status PARSE   iptables-legacy-restore --test refuses it (userspace)
#   status KERNEL  --test accepts it, the real commit fails (kernel checkentry);
#                  message = the kernel's log line
set -u
here=$(cd "$(dirname "$0")" && pwd)
tdir=${1:-$here/../../../shared/corpus/iptables-tests}
ns=conform-verify-$$
ip netns add "$ns" || exit 2
trap 'ip netns del "$ns"' EXIT
tmp=$(mktemp -d)
ipt() { ip netns exec "$ns" "$@"; }
printf 'file\tline\ttable\tchain\trule\tstatus\tsaved\tmessage\n'
for f in "$tdir"/libxt_*.t "$tdir"/libipt_*.t "$tdir"/iptables.t; do
	[ -f "$f" ] || continue
	base=$(basename "$f")
	table=filter
	chains=
	n=0
	while IFS= read -r raw || [ -n "$raw" ]; do
		n=$((n + 1))
		case "$raw" in
		'#'* | '') continue ;;
		# iptables-test.py runs `@cmd` lines as shell commands (nfacct/nfct
		# object setup); no such tool here: the rules needing them fail in
		# the kernel and land in kernel-only.tsv.
		'@'*) continue ;;
		# `%iptables ...` lines add a helper rule (the RATEEST estimator that
		# -m rateest reads); skipped too, so those rules are kernel-only.
		'%'*) continue ;;
		'*'*) table=${raw#\*}; continue ;;
		:*) chains=${raw#:}; continue ;;
		esac
		rule=${raw%%;*}
		IFS=',' read -r -a chs <<<"$chains"
		for c in "${chs[@]}"; do
			printf '*%s\n-A %s %s\nCOMMIT\n' "$table" "$c" "$rule" >"$tmp/r.v4"
			if ! err=$(ipt iptables-legacy-restore --test "$tmp/r.v4" 2>&1); then
				msg=$(printf '%s' "$err" | head -n 1 | tr '\t' ' ')
				printf '%s\t%s\t%s\t%s\t%s\tPARSE\t\t%s\n' "$base" "$n" "$table" "$c" "$rule" "$msg"
				continue
			fi
			dmesg -c >/dev/null 2>&1
			if ! err=$(ipt iptables-legacy-restore "$tmp/r.v4" 2>&1); then
				klog=$(dmesg 2>/dev/null | grep -E 'x_tables|xt_|ip_tables|ipt_' | tail -n 1 | sed 's/^\[[^]]*\] //' | tr '\t' ' ')
				printf '%s\t%s\t%s\t%s\t%s\tKERNEL\t\t%s\n' "$base" "$n" "$table" "$c" "$rule" "${klog:-$(printf '%s' "$err" | head -n 1)}"
				continue
			fi
			saved=$(ipt iptables-legacy-save -t "$table" | grep -m 1 "^-A $c" | sed "s/^-A $c//; s/^ //")
			# An empty chain means the rule was not stored (should not happen).
			if ! ipt iptables-legacy-save -t "$table" | grep -q "^-A $c"; then saved='<none>'; fi
			printf '%s\t%s\t%s\t%s\t%s\tOK\t%s\t\n' "$base" "$n" "$table" "$c" "$rule" "$saved"
		done
	done <"$f"
done
rm -rf "$tmp"
