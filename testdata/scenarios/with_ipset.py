#!/usr/bin/python3
"""with_ipset.py -- the kernel oracle with ipsets: restores an `ipset save` file into the
oracle's firewall namespace before the rules are loaded, and saves the sets after the replay.

    with_ipset.py --ipset SETS [--ipset-after OUT] <kernel_oracle.py arguments...>

The oracle (ORACLE_DIR/kernel_oracle.py, default /work/shared/oracle) has no ipset support and
is not ours to change, so this wrapper imports it and wraps two of its steps:

  * Oracle.load_rules: `ipset restore < SETS` in the firewall netns first (sets are per network
    namespace, and iptables refuses a rule naming a set that does not exist);
  * Oracle.save_counters: also `ipset save` into OUT (--ipset-after), before the namespaces go.

`set` is added to the oracle's list of matches with side effects, so it never evaluates a
`-m set` rule twice (its REJECT twins): a lookup bumps the element's counters.

Everything else (topology, injection, interpretation, kernel.json) is the oracle's own.
Needs root, iproute2, iptables-legacy, ipset and /usr/bin/python3 with scapy.
"""

import os
import subprocess
import sys

ORACLE_DIR = os.environ.get("ORACLE_DIR", "/work/shared/oracle")
sys.path.insert(0, ORACLE_DIR)
import kernel_oracle as ko  # noqa: E402


def split_args(argv):
    sets, after, rest = None, None, []
    it = iter(argv)
    for a in it:
        if a == "--ipset":
            sets = next(it)
        elif a == "--ipset-after":
            after = next(it)
        else:
            rest.append(a)
    return sets, after, rest


def main(argv):
    sets, after, rest = split_args(argv)
    if not sets:
        raise SystemExit("with_ipset.py: --ipset SETS is required")
    with open(sets) as f:
        sets_text = f.read()
    ko.STATEFUL_MATCHES = tuple(ko.STATEFUL_MATCHES) + ("set",)
    load_rules, save_counters = ko.Oracle.load_rules, ko.Oracle.save_counters

    def load_with_sets(self, text):
        r = subprocess.run(["ip", "netns", "exec", self.ns_fw, "ipset", "restore"],
                           input=sets_text, capture_output=True, text=True)
        if r.returncode != 0:
            raise ko.OracleError("ipset restore failed: %s" % r.stderr.strip())
        return load_rules(self, text)

    def save_with_sets(self):
        out = save_counters(self)
        if after:
            r = subprocess.run(["ip", "netns", "exec", self.ns_fw, "ipset", "save"],
                               capture_output=True, text=True, check=True)
            with open(after, "w") as f:
                f.write(r.stdout)
        return out

    ko.Oracle.load_rules = load_with_sets
    ko.Oracle.save_counters = save_with_sets
    return ko.main(rest)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except ko.OracleError as e:
        ko.log("ERROR:", e)
        sys.exit(2)
