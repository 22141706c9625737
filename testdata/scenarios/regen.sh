#!/usr/bin/env bash
# regen.sh -- regenerate the kernel-truth fixtures in testdata/scenarios/ and re-run the kernel
# oracle on them.  Needs root, iproute2, iptables (legacy), /usr/bin/python3 with scapy, and the
# oracle (ORACLE_DIR, default /work/shared/oracle).  Corpus scenarios read their pcaps from
# CORPUS_DIR (default /work/shared/corpus/pcaps).
#
#   regen.sh generated            gen_* and nat_* from their seeds, then their kernel.json
#   regen.sh handmade             make_handmade.py (hm_* dirs), then their kernel.json
#   regen.sh sysctl               sysctl_* copied from their sources, then their kernel.json
#   regen.sh corpus               corpus_* rules.v4/case.json rewritten, then their kernel.json
#   regen.sh ipset                make_ipset.py (ipset_* dirs), then their kernel.json through
#                                 with_ipset.py (needs the ipset tool)
#   regen.sh oracle [DIR...]      re-run the oracle on the named (default: all) scenarios
#   regen.sh check [DIR...]       kernel.json present, self_check ok, sysctls as case.json says
#   regen.sh verify [DIR...]      re-run the oracle, compare with the committed kernel.json
#                                 (UDP ASSURED ignored: it depends on replay speed); for CI
#   regen.sh all                  generated + handmade + sysctl + corpus, then check
#   regen.sh fresh SEED COUNT OUTDIR
#                                 COUNT new random scenarios (local, forward and NAT mixed) from
#                                 SEED into OUTDIR, each with case.json and kernel.json (for CI:
#                                 differential tests on seeds nobody has looked at yet)
#   regen.sh fresh-nat SEED COUNT OUTDIR
#                                 the same with every scenario a router with a nat table
#                                 (--forward-ratio 1 --nat-ratio 1)
#
# Exit status: 0 when every oracle run exited 0 with self_check "ok", 1 otherwise.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
TOOL=("$PY" "$HERE/scenarios.py")
export ORACLE_DIR=${ORACLE_DIR:-/work/shared/oracle}
export CORPUS_DIR=${CORPUS_DIR:-/work/shared/corpus/pcaps}

# prefix seed count generator-args.  Seed 1 and nat1 are used by shared/oracle/scenarios already.
GEN_SETS=(
  "gen s11 20 --forward-ratio 0.3"
  "gen s12 10 --forward-ratio 0.5"
  "gen s13 10 --forward-ratio 1"
  "gen s14 10 --forward-ratio 0.5 --size 2"
  "nat n11 15 --forward-ratio 1 --nat-ratio 1"
  "nat n12 10 --forward-ratio 1 --nat-ratio 1"
  "nat n13 10 --forward-ratio 1 --nat-ratio 1 --size 2"
)

regen_generated() {
  local set prefix seed count args
  for set in "${GEN_SETS[@]}"; do
    read -r prefix seed count args <<<"$set"
    # shellcheck disable=SC2086  # args is a word list on purpose
    "${TOOL[@]}" gen "$prefix" "$seed" "$count" -- $args >/dev/null
    "${TOOL[@]}" oracle $(cd "$HERE" && ls -d "${prefix}_${seed}_"*)
  done
}

regen_handmade() {
  "$PY" "$HERE/make_handmade.py"
  "${TOOL[@]}" oracle $(cd "$HERE" && ls -d hm_*)
}

regen_ipset() {
  "$PY" "$HERE/make_ipset.py"
  "${TOOL[@]}" oracle $(cd "$HERE" && ls -d ipset_*/)
}

regen_corpus() {
  "${TOOL[@]}" corpus >/dev/null
  "${TOOL[@]}" oracle $(cd "$HERE" && ls -d corpus_*)
}

regen_sysctl() {
  "${TOOL[@]}" sysctl >/dev/null
  "${TOOL[@]}" oracle $(cd "$HERE" && ls -d sysctl_*)
}

cmd=${1:-}
shift || true
case "$cmd" in
  generated) regen_generated ;;
  handmade) regen_handmade ;;
  sysctl) regen_sysctl ;;
  corpus) regen_corpus ;;
  ipset) regen_ipset ;;
  oracle) "${TOOL[@]}" oracle "$@" ;;
  check) "${TOOL[@]}" check "$@" ;;
  verify) "${TOOL[@]}" verify "$@" ;;
  all)
    regen_generated
    regen_handmade
    regen_sysctl
    regen_corpus
    regen_ipset
    "${TOOL[@]}" check
    ;;
  fresh)
    [ $# -eq 3 ] || { echo "usage: regen.sh fresh SEED COUNT OUTDIR" >&2; exit 2; }
    "${TOOL[@]}" fresh "$1" "$2" "$3"
    ;;
  fresh-nat)
    [ $# -eq 3 ] || { echo "usage: regen.sh fresh-nat SEED COUNT OUTDIR" >&2; exit 2; }
    "${TOOL[@]}" fresh "$1" "$2" "$3" -- --forward-ratio 1 --nat-ratio 1
    ;;
  *)
    sed -n '2,26p' "$0" >&2
    exit 2
    ;;
esac
