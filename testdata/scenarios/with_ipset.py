#!/usr/bin/python3
"""with_ipset.py -- the kernel oracle with ipsets: restores an `ipset save` file into the
oracle's firewall namespace before the rules are loaded, and saves the sets after the replay.

    with_ipset.py --ipset SETS [--ipset-after OUT] <kernel_oracle.py arguments...>

The oracle (ORACLE_DIR/kernel_oracle.py, default /work/shared/oracle) has no ipset support and
is not ours to change, so this wrapper imports it and wraps two of its steps:

  * Oracle.load_rules: `ipset restore < SETS` in the firewall netns first (sets are per network
    namespace, and iptables refuses a rule naming a set that does not exist);
  * Oracle.save_counters: also `ipset save` into OUT (--ipset-after), before the namespaces go.

With --pace, packets are injected at their capture times (relative to the first one) instead of
as fast as possible, so element timeouts run on the same clock as in the capture (the oracle
raises conntrack timeouts to a day, so they do not interfere). The capture must be a classic
pcap whose every record is injected (IPv4), as the ipset scenarios are.

`set` is added to the oracle's list of matches with side effects, so it never evaluates a
`-m set` rule twice (its REJECT twins): a lookup bumps the element's counters.

Everything else (topology, injection, interpretation, kernel.json) is the oracle's own.
Needs root, iproute2, iptables-legacy, ipset and /usr/bin/python3 with scapy.
"""

import os
import struct
import subprocess
import sys
import time

ORACLE_DIR = os.environ.get("ORACLE_DIR", "/work/shared/oracle")
sys.path.insert(0, ORACLE_DIR)
import kernel_oracle as ko  # noqa: E402


def split_args(argv):
    sets, after, pace, rest = None, None, False, []
    it = iter(argv)
    for a in it:
        if a == "--ipset":
            sets = next(it)
        elif a == "--ipset-after":
            after = next(it)
        elif a == "--pace":
            pace = True
        else:
            rest.append(a)
    return sets, after, pace, rest


def pcap_times(path):
    """Record timestamps (seconds) of a classic little-endian microsecond pcap."""
    with open(path, "rb") as f:
        data = f.read()
    if struct.unpack("<I", data[:4])[0] != 0xA1B2C3D4:
        raise ko.OracleError("--pace needs a classic little-endian microsecond pcap")
    off, out = 24, []
    while off + 16 <= len(data):
        sec, usec, incl, _orig = struct.unpack("<IIII", data[off:off + 16])
        out.append(sec + usec / 1e6)
        off += 16 + incl
    return out


def pace_sends(times):
    """Wraps the oracle's two send functions: the i-th send waits until the i-th record's
    capture time, measured from the first send."""
    state = {"i": 0, "t0": None}

    def wait():
        now = time.monotonic()
        if state["t0"] is None:
            state["t0"] = now
        i = state["i"]
        state["i"] += 1
        if i < len(times):
            delay = state["t0"] + (times[i] - times[0]) - now
            if delay > 0:
                time.sleep(delay)

    def is_barrier(ip):
        # The oracle's barrier packets go through send_in too; they are not capture records.
        return len(ip) > 9 and ip[9] == ko.BARRIER_PROTO

    send_out, send_in = ko.Oracle.send_out, ko.Oracle.send_in

    def paced_out(self, ip, dst):
        wait()
        return send_out(self, ip, dst)

    def paced_in(self, ifn, ip, smac=None):
        if not is_barrier(ip):
            wait()
        return send_in(self, ifn, ip, smac)

    ko.Oracle.send_out, ko.Oracle.send_in = paced_out, paced_in


def main(argv):
    sets, after, pace, rest = split_args(argv)
    if not sets:
        raise SystemExit("with_ipset.py: --ipset SETS is required")
    if pace:
        pace_sends(pcap_times(rest[rest.index("--pcap") + 1]))
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
