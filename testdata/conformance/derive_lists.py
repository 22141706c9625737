#!/usr/bin/env python3
"""Derives the committed conformance lists from a run of verify_t_files.sh.

Reads legacy-1.8.9-results.tsv (what iptables-legacy 1.8.9 did with every
IPv4 .t case) and the .t files, and writes:
  legacy-1.8.9-differences.tsv  cases where 1.8.9 legacy does something else
                                than the .t line says (we follow 1.8.9)
  kernel-only.tsv               cases 1.8.9 refuses only for want of a runtime
                                object or kernel module (ipset, nfacct object,
                                rate estimator, LED/ipvs modules, SELinux
                                context): the rule file alone cannot say; the
                                harness lets us refuse them, or accept them
                                saved as the .t line says (as written for FAIL),
                                or as SAVED_WHEN_LOADED below says
Usage: derive_lists.py [T_DIR]  (run from anywhere; paths are next to this file)
"""
import csv, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
TDIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../../shared/corpus/iptables-tests")

# Kernel refusals that depend on objects outside the rule set: the rule file
# alone cannot say whether they load.
RUNTIME_OBJECT = [
    (re.compile(r"nfacct|accounting object", re.I), "needs an nfacct object created with `nfacct add`"),
    (re.compile(r"Set .* doesn't exist|ip_set", re.I), "needs an ipset created with `ipset create`"),
    (re.compile(r"rateest", re.I), "needs a rate estimator made by a RATEEST rule (the .t's %iptables line)"),
    (re.compile(r"missing kernel module", re.I), "the extension's module is absent from the test kernel"),
    (re.compile(r"unable to map security context", re.I), "needs an SELinux policy defining the context"),
    (re.compile(r"xt_cgroup: invalid path", re.I), "needs the cgroup path to exist"),
]

# How 1.8.9 legacy saves kernel-only cases once their runtime object exists, where that
# differs from the .t line; each checked by hand in a namespace (the object created, then
# iptables-legacy-restore + iptables-legacy-save).
SAVED_WHEN_LOADED = {
    # nfacct_save prints " --nfacct-name " and xtables_save_string adds its own space
    # (`nfacct add wrong` first); the .t file itself notes the "extra space".
    ("libxt_nfacct.t", 8): "-m nfacct --nfacct-name  wrong",
}

def t_expect(path):
    """{(line, chain): (rule, 'OK', saved) or (rule, 'FAIL', '')}"""
    out, chains = {}, []
    with open(path) as f:
        for n, raw in enumerate(f.read().split("\n"), 1):
            if not raw or raw[0] in "#*@%":
                continue
            if raw.startswith(":"):
                chains = raw[1:].split(",")
                continue
            fields = raw.split(";")
            if len(fields) < 3:
                continue
            rule, res, st = fields[0], fields[1], fields[2].strip()
            for c in chains:
                out[(n, c)] = (rule, "OK", rule if res == "=" else res) if st == "OK" else (rule, "FAIL", "")
    return out

def main():
    results = os.path.join(HERE, "legacy-1.8.9-results.tsv")
    expects = {}
    diffs, kern = [], []
    with open(results) as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    for r in rows:
        fname = r["file"]
        if fname not in expects:
            expects[fname] = t_expect(os.path.join(TDIR, fname))
        rule, st, saved = expects[fname][(int(r["line"]), r["chain"])]
        key = [fname, r["line"], r["chain"], r["rule"]]
        if r["status"] == "OK":
            if st == "OK" and saved == r["saved"]:
                continue
            why = ("1.8.9 legacy accepts what upstream 1.8.13 refuses" if st == "FAIL"
                   else "1.8.9 legacy saves another canonical form")
            diffs.append(key + ["OK", r["saved"], why])
        else:
            msg = r["message"]
            obj = None
            if r["status"] == "PARSE" and "doesn't exist" in msg:
                # userspace asks the kernel for the set (libxt_set get_set_byname)
                obj = next((w for rx, w in RUNTIME_OBJECT if rx.search(msg)), None)
            if r["status"] == "KERNEL":
                obj = next((w for rx, w in RUNTIME_OBJECT if rx.search(msg)), None)
                if fname == "libxt_rateest.t":
                    # the kernel logs nothing; xt_rateest_mt_checkentry fails on the absent estimator
                    obj = "needs the rate estimator RE1/RE2 made by a RATEEST rule (the .t's %iptables line)"
            if obj:
                saved_loaded = SAVED_WHEN_LOADED.get((fname, int(r["line"])), "")
                kern.append(key + [f"{msg} ({obj})", saved_loaded])
            elif st == "FAIL":
                continue
            else:
                where = "the kernel" if r["status"] == "KERNEL" else "1.8.9 legacy userspace"
                diffs.append(key + ["FAIL", "", f"{where} refuses it: {msg}"])
    with open(os.path.join(HERE, "legacy-1.8.9-differences.tsv"), "w") as f:
        f.write("file\tline\tchain\trule\tlegacy_status\tlegacy_saved\twhy\n")
        for d in diffs:
            f.write("\t".join(d) + "\n")
    with open(os.path.join(HERE, "kernel-only.tsv"), "w") as f:
        f.write("file\tline\tchain\trule\tkernel_says\tsaved_when_loaded\n")
        for k in kern:
            f.write("\t".join(k) + "\n")
    print(f"{len(rows)} cases, {len(diffs)} differences, {len(kern)} kernel-only", file=sys.stderr)

main()
