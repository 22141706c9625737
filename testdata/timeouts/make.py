#!/usr/bin/python3
"""make.py -- kernel truth for conntrack timeouts that fire: the oracle at the capture's pace.

The kernel oracle (../shared/oracle/kernel_oracle.py) replays a capture as fast as it can and
raises every conntrack timeout to a day, so expiry never shows there. This script writes the
cases below into testdata/timeouts/<case>/ (rules.v4, trace.pcap, case.json; deterministic)
and runs the oracle on each with the kernel's default timeouts (--keep-ct-timeouts), the few
it lowers with --sysctl, and the packets sent at the capture's own pace: it imports the oracle
and wraps Oracle.run so that packet i leaves t0 + (ts_i - ts_0) seconds after the first one.
The oracle's per-packet record (kernel.json) and counters (counters.txt) are kept as usual.

Gaps are chosen far from the timeouts (0.5 s against 2-3 s, 4-5 s after expiry), so the
scheduling jitter of a busy machine (a few ms) cannot change the outcome; the script checks
afterwards that every packet left within LATE_MAX of its time and refuses the run otherwise.

Usage (root, Debian's /usr/bin/python3 with scapy):
  testdata/timeouts/make.py              # all cases (about a minute: they run in real time)
  testdata/timeouts/make.py to_udp ...   # some cases
  testdata/timeouts/make.py --inputs     # only rewrite rules.v4 / trace.pcap / case.json
ORACLE_DIR (default /work/shared/oracle) locates the oracle.
"""

import json
import os
import struct
import sys
import time
import logging

os.environ.setdefault("SCAPY_USE_LIBPCAP", "no")
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IP, TCP, UDP, ICMP, Raw, Ether, wrpcap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE_DIR = os.environ.get("ORACLE_DIR", "/work/shared/oracle")
H = "10.0.0.104"
SRV = "198.51.100.80"
DNS = "198.51.100.53"
MAC_PEER = "00:11:22:33:44:55"
MAC_FW = "02:00:00:00:00:10"
T0 = 1700000000.0
LATE_MAX = 0.25   # seconds a packet may leave after its scheduled time

# Accepts everything; one counting rule per ctstate, so the counters show the classification too.
RULES = """*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate NEW
-A INPUT -m conntrack --ctstate ESTABLISHED
-A INPUT -m conntrack --ctstate RELATED
-A INPUT -m conntrack --ctstate INVALID
-A OUTPUT -m conntrack --ctstate NEW
-A OUTPUT -m conntrack --ctstate ESTABLISHED
-A OUTPUT -m conntrack --ctstate RELATED
-A OUTPUT -m conntrack --ctstate INVALID
COMMIT
"""


def out(ip):
    return Ether(src=MAC_FW, dst=MAC_PEER) / ip


def inn(ip):
    return Ether(src=MAC_PEER, dst=MAC_FW) / ip


def at(t, frame, label):
    frame.time = T0 + t
    return (frame, label)


def case_udp():
    q = lambda i: out(IP(src=H, dst=DNS, id=i) / UDP(sport=40000, dport=53) / Raw(b"q%d" % i))  # noqa: E731
    r = lambda i: inn(IP(src=DNS, dst=H, id=i) / UDP(sport=53, dport=40000) / Raw(b"r%d" % i))  # noqa: E731
    return [
        at(0.0, q(1), "query: NEW"),
        at(0.5, r(2), "reply within the 2 s unreplied timeout: ESTABLISHED"),
        at(1.0, q(3), "before stream_ts (first packet + 2 s): the timeout stays 2 s"),
        at(5.0, q(4), "4 s later: the entry expired, NEW again"),
        at(5.5, r(5), "reply: ESTABLISHED"),
        at(6.0, q(6), "still before stream_ts (5.0 + 2): 2 s"),
        at(7.5, q(7), "after stream_ts: udp_timeout_stream (6 s), ASSURED"),
        at(11.5, r(8), "4 s later, inside the stream timeout: ESTABLISHED"),
        at(19.5, r(9), "8 s later: expired; the server's datagram is a NEW flow of its own"),
    ]


def case_tcp_syn_sent():
    syn = lambda i, sp: out(IP(src=H, dst=SRV, id=i) / TCP(sport=sp, dport=80, seq=1000, flags="S", window=64240))  # noqa: E731
    sa = lambda i, sp: inn(IP(src=SRV, dst=H, id=i) / TCP(sport=80, dport=sp, seq=5000, ack=1001, flags="SA", window=65160))  # noqa: E731
    return [
        at(0.0, syn(1, 41000), "SYN: NEW, SYN_SENT (2 s)"),
        at(0.5, syn(2, 41000), "retransmitted SYN: NEW; it does not restart the timer (see to_tcp_syn_retrans)"),
        at(4.5, sa(3, 41000), "SYN-ACK 4 s later: the entry expired, SYN-ACK without SYN is INVALID"),
        at(5.0, syn(4, 41001), "another SYN: NEW"),
        at(5.5, sa(5, 41001), "its SYN-ACK in time: ESTABLISHED"),
    ]


def established_flow():
    c = lambda i, fl, seq, ack, data=b"": out(IP(src=H, dst=SRV, id=i) / TCP(sport=42000, dport=80, seq=seq, ack=ack, flags=fl, window=502) / Raw(data))  # noqa: E731
    s = lambda i, fl, seq, ack, data=b"": inn(IP(src=SRV, dst=H, id=i) / TCP(sport=80, dport=42000, seq=seq, ack=ack, flags=fl, window=509) / Raw(data))  # noqa: E731
    return [
        at(0.0, out(IP(src=H, dst=SRV, id=1) / TCP(sport=42000, dport=80, seq=1000, flags="S", window=64240)), "SYN"),
        at(0.2, inn(IP(src=SRV, dst=H, id=2) / TCP(sport=80, dport=42000, seq=5000, ack=1001, flags="SA", window=65160)), "SYN-ACK"),
        at(0.4, c(3, "A", 1001, 5001), "ACK: ESTABLISHED (3 s)"),
        at(1.0, c(4, "PA", 1001, 5001, b"GET / HTTP/1.0\r\n\r\n"), "request"),
        at(1.2, s(5, "A", 5001, 1019), "its ACK"),
        at(1.7, s(6, "PA", 5001, 1019, b"HTTP/1.0 200 OK\r\n"), "0.5 s later: ESTABLISHED"),
        at(2.0, c(7, "A", 1019, 5018), "ACK"),
        at(7.0, s(8, "PA", 5018, 1019, b"more data\n"), "5 s later: the entry expired; mid-stream packet"),
        at(7.2, c(9, "A", 1019, 5028), "the host's ACK"),
    ]


def case_tcp_time_wait():
    c = lambda i, fl, seq, ack: out(IP(src=H, dst=SRV, id=i) / TCP(sport=43000, dport=80, seq=seq, ack=ack, flags=fl, window=502))  # noqa: E731
    s = lambda i, fl, seq, ack: inn(IP(src=SRV, dst=H, id=i) / TCP(sport=80, dport=43000, seq=seq, ack=ack, flags=fl, window=509))  # noqa: E731
    return [
        at(0.0, c(1, "S", 1000, 0), "SYN"),
        at(0.1, s(2, "SA", 5000, 1001), "SYN-ACK"),
        at(0.2, c(3, "A", 1001, 5001), "ACK"),
        at(0.3, c(4, "FA", 1001, 5001), "host FIN"),
        at(0.4, s(5, "FA", 5001, 1002), "server FIN/ACK"),
        at(0.5, c(6, "A", 1002, 5002), "last ACK: TIME_WAIT (2 s)"),
        at(1.0, s(7, "FA", 5001, 1002), "retransmitted FIN/ACK inside TIME_WAIT: ESTABLISHED"),
        at(5.0, s(8, "A", 5002, 1002), "4 s later: TIME_WAIT expired; a stray ACK is NEW (loose)"),
    ]


def case_icmp():
    req = lambda i, seq: out(IP(src=H, dst=SRV, id=i) / ICMP(type=8, id=77, seq=seq) / Raw(b"x" * 16))  # noqa: E731
    rep = lambda i, seq: inn(IP(src=SRV, dst=H, id=i) / ICMP(type=0, id=77, seq=seq) / Raw(b"x" * 16))  # noqa: E731
    return [
        at(0.0, req(1, 1), "echo request: NEW (icmp timeout 2 s)"),
        at(0.5, rep(2, 1), "reply: ESTABLISHED"),
        at(1.0, req(3, 2), "next request, same id: ESTABLISHED"),
        at(5.0, rep(4, 2), "its reply 4 s later: expired, a reply without request is INVALID"),
        at(5.5, req(5, 3), "a new request: NEW"),
        at(6.0, rep(6, 3), "reply: ESTABLISHED"),
    ]


def flow(sport):
    """Client (the host) and server packet makers for one TCP connection host:sport -> SRV:80."""
    c = lambda i, fl, seq, ack, data=b"": out(IP(src=H, dst=SRV, id=i) / TCP(sport=sport, dport=80, seq=seq, ack=ack, flags=fl, window=502) / Raw(data))  # noqa: E731
    s = lambda i, fl, seq, ack, data=b"": inn(IP(src=SRV, dst=H, id=i) / TCP(sport=80, dport=sport, seq=seq, ack=ack, flags=fl, window=509) / Raw(data))  # noqa: E731
    return c, s


def case_tcp_syn_recv():
    # the server is the host this time: SYN in, SYN-ACK out, the ACK late
    c = lambda i, fl, seq, ack: inn(IP(src=SRV, dst=H, id=i) / TCP(sport=44000, dport=22, seq=seq, ack=ack, flags=fl, window=502))  # noqa: E731
    s = lambda i, fl, seq, ack: out(IP(src=H, dst=SRV, id=i) / TCP(sport=22, dport=44000, seq=seq, ack=ack, flags=fl, window=509))  # noqa: E731
    return [
        at(0.0, c(1, "S", 1000, 0), "SYN: NEW"),
        at(0.3, s(2, "SA", 9000, 1001), "SYN-ACK: SYN_RECV (2 s)"),
        at(0.8, s(3, "SA", 9000, 1001), "retransmitted SYN-ACK 0.5 s later: still SYN_RECV"),
        at(4.8, c(4, "A", 1001, 9001), "the ACK 4 s later: expired, picked up mid-stream (NEW)"),
    ]


def case_tcp_close():
    c, s = flow(45000)
    return [
        at(0.0, c(1, "S", 1000, 0), "SYN"),
        at(0.1, s(2, "SA", 5000, 1001), "SYN-ACK"),
        at(0.2, c(3, "A", 1001, 5001), "ACK"),
        at(0.3, s(4, "R", 5001, 0), "RST from the server: CLOSE (2 s)"),
        at(0.8, c(5, "A", 1001, 5001), "0.5 s later: the entry in CLOSE still holds the packet"),
        at(4.8, c(6, "A", 1001, 5001), "4 s later: expired, picked up mid-stream (NEW)"),
    ]


def case_tcp_unacked():
    c, s = flow(46000)
    return [
        at(0.0, c(1, "S", 1000, 0), "SYN"),
        at(0.1, s(2, "SA", 5000, 1001), "SYN-ACK"),
        at(0.2, c(3, "A", 1001, 5001), "ACK: ESTABLISHED (300 s)"),
        at(0.3, c(4, "PA", 1001, 5001, b"x" * 100), "data the server never ACKs: the unacknowledged timeout (2 s) applies"),
        at(0.8, c(5, "PA", 1101, 5001, b"y" * 100), "more data 0.5 s later: ESTABLISHED"),
        at(4.8, s(6, "A", 5001, 1001), "the server's ACK 4 s later: expired, NEW (loose)"),
    ]


def case_tcp_max_retrans():
    c, s = flow(47000)
    return [
        at(0.0, c(1, "S", 1000, 0), "SYN"),
        at(0.1, s(2, "SA", 5000, 1001), "SYN-ACK"),
        at(0.2, c(3, "A", 1001, 5001), "ACK: ESTABLISHED"),
        at(0.3, c(4, "PA", 1001, 5001, b"z" * 50), "data"),
        at(0.6, c(5, "PA", 1001, 5001, b"z" * 50), "retransmission 1"),
        at(0.9, c(6, "PA", 1001, 5001, b"z" * 50), "retransmission 2"),
        at(1.2, c(7, "PA", 1001, 5001, b"z" * 50), "retransmission 3: max_retrans reached, timeout 2 s"),
        at(5.2, s(8, "A", 5001, 1051), "the server's ACK 4 s later: expired, NEW (loose)"),
    ]


def proto_packet(i, src, dst, proto, body):
    return (out if src == H else inn)(IP(src=src, dst=dst, id=i, proto=proto) / Raw(body))


def case_generic():
    e = lambda i, src, dst: proto_packet(i, src, dst, 50, b"\xde\xad\xbe\xef\x00\x00\x00\x01" + b"e" * 24)  # noqa: E731
    return [
        at(0.0, e(1, H, SRV), "ESP out: NEW (generic timeout 2 s)"),
        at(0.5, e(2, SRV, H), "ESP back: ESTABLISHED"),
        at(1.0, e(3, H, SRV), "0.5 s later: ESTABLISHED"),
        at(5.0, e(4, SRV, H), "4 s later: expired, NEW in the other direction"),
        at(5.5, e(5, H, SRV), "the host's ESP: ESTABLISHED (REPLY of the new entry)"),
    ]


def case_gre():
    g = lambda i, src, dst: proto_packet(i, src, dst, 47, b"\x00\x00\x08\x00" + b"g" * 20)  # noqa: E731
    return [
        at(0.0, g(1, H, SRV), "GRE out: NEW (GRE unreplied timeout 2 s; the generic 2 s does not apply)"),
        at(0.5, g(2, SRV, H), "GRE back: ESTABLISHED; SEEN_REPLY is set after the tracker ran, so 2 s"),
        at(1.0, g(3, H, SRV), "0.5 s later: ESTABLISHED, now the stream timeout (6 s) and ASSURED"),
        at(5.0, g(4, SRV, H), "4 s later, inside the stream timeout: ESTABLISHED"),
        at(13.0, g(5, H, SRV), "8 s later: expired, NEW"),
        at(13.5, g(6, DNS, H), "another peer's GRE: NEW"),
        at(17.5, g(7, DNS, H), "4 s later, never replied: expired after the unreplied 2 s, NEW"),
        at(18.0, g(8, H, "198.51.100.99"), "a third flow: NEW"),
        at(18.5, g(9, "198.51.100.99", H), "reply: ESTABLISHED"),
        at(19.0, g(10, H, "198.51.100.99"), "again: ESTABLISHED and ASSURED (conntrack_final shows it)"),
    ]


def case_icmp_error():
    q = lambda i, sp: out(IP(src=H, dst=DNS, id=i) / UDP(sport=sp, dport=53) / Raw(b"q%d" % i))  # noqa: E731

    def unreach(i, quoted):
        return inn(IP(src=DNS, dst=H, id=i) / ICMP(type=3, code=3) / bytes(quoted[IP])[:28])
    a, b = q(1, 40100), q(3, 40101)
    return [
        at(0.0, a, "query: NEW (udp timeout 2 s)"),
        at(0.5, unreach(2, a), "port unreachable quoting it 0.5 s later: RELATED"),
        at(1.0, b, "another query: NEW"),
        at(5.0, unreach(4, b), "port unreachable 4 s later: the quoted flow expired, INVALID"),
    ]


def case_tcp_syn_retrans():
    syn = lambda i, sp: out(IP(src=H, dst=SRV, id=i) / TCP(sport=sp, dport=80, seq=1000, flags="S", window=64240))  # noqa: E731
    sa = lambda i, sp: inn(IP(src=SRV, dst=H, id=i) / TCP(sport=80, dport=sp, seq=5000, ack=1001, flags="SA", window=65160))  # noqa: E731
    return [
        at(0.0, syn(1, 48000), "SYN: NEW, SYN_SENT (2 s)"),
        at(1.5, syn(2, 48000), "retransmitted SYN 1.5 s later: NEW, the timer is not restarted"),
        at(3.0, sa(3, 48000), "SYN-ACK 3 s after the SYN, 1.5 s after the retransmission: expired, INVALID"),
        at(4.0, syn(4, 48001), "SYN"),
        at(5.5, syn(5, 48001), "retransmission 1"),
        at(7.0, syn(6, 48001), "retransmission 2"),
        at(8.5, syn(7, 48001), "retransmission 3"),
        at(10.0, sa(8, 48001), "SYN-ACK 1.5 s after the last retransmission: expired, INVALID"),
    ]


def case_tcp_teardown():
    out_ = []
    # (state under test, sysctl, packets up to that state, probe)
    for n, sp in enumerate((49000, 49001, 49002)):
        c, s = flow(sp)
        t = n * 6.0
        seq = [at(t, c(10 * n + 1, "S", 1000, 0), "SYN"),
               at(t + 0.1, s(10 * n + 2, "SA", 5000, 1001), "SYN-ACK"),
               at(t + 0.2, c(10 * n + 3, "A", 1001, 5001), "ACK")]
        if n == 0:
            seq.append(at(t + 0.3, c(10 * n + 4, "FA", 1001, 5001), "host FIN: FIN_WAIT (2 s)"))
        elif n == 1:
            seq.append(at(t + 0.3, s(10 * n + 4, "FA", 5001, 1001), "server FIN: FIN_WAIT"))
            seq.append(at(t + 0.4, c(10 * n + 5, "A", 1001, 5002), "host ACKs it: CLOSE_WAIT (2 s)"))
        else:
            seq.append(at(t + 0.3, s(10 * n + 4, "FA", 5001, 1001), "server FIN"))
            seq.append(at(t + 0.4, c(10 * n + 5, "FA", 1001, 5002), "host FIN/ACK: LAST_ACK (2 s)"))
        seq.append(at(t + 4.5, s(10 * n + 6, "A", 5002, 1002), "4 s later: expired, an ACK is NEW (loose)"))
        out_ += seq
    return out_


# --ctexpire seen by ICMP errors, which do not refresh the flow they quote: the seconds left
# (nf_ct_expires / HZ, rounded down) fall as capture time passes. Errors arrive mid-second
# (x.5 s) so that a few ms of jitter cannot move them across a whole second.
CTEXPIRE_RULES = """*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p icmp -m conntrack --ctexpire 9:100 -j ACCEPT
-A INPUT -p icmp -m conntrack --ctexpire 8 -j ACCEPT
-A INPUT -p icmp -m conntrack --ctexpire 5 -j ACCEPT
-A INPUT -p icmp -m conntrack --ctexpire 0:4 -j ACCEPT
-A INPUT -p icmp -m conntrack ! --ctexpire 0:100 -j ACCEPT
COMMIT
"""


def case_ctexpire():
    q = out(IP(src=H, dst=DNS, id=1) / UDP(sport=40200, dport=53) / Raw(b"q"))

    def unreach(i):
        return inn(IP(src=DNS, dst=H, id=i) / ICMP(type=3, code=3) / bytes(q[IP])[:28])
    return [
        at(0.0, q, "query: NEW, 10 s to live"),
        at(1.5, unreach(2), "error 1.5 s later: RELATED, 8 s left (rule 2)"),
        at(4.5, unreach(3), "4.5 s: 5 s left (rule 3)"),
        at(8.5, unreach(4), "8.5 s: 1 s left (rule 4)"),
        at(12.5, unreach(5), "12.5 s: the flow expired, INVALID (policy)"),
    ]


CASES = {
    "to_udp": (case_udp, {"nf_conntrack_udp_timeout": 2, "nf_conntrack_udp_timeout_stream": 6}),
    "to_tcp_syn_sent": (case_tcp_syn_sent, {"nf_conntrack_tcp_timeout_syn_sent": 2}),
    "to_tcp_established_loose1": (established_flow, {"nf_conntrack_tcp_timeout_established": 3}),
    "to_tcp_established_loose0": (established_flow, {"nf_conntrack_tcp_timeout_established": 3,
                                                     "nf_conntrack_tcp_loose": 0}),
    "to_tcp_time_wait": (case_tcp_time_wait, {"nf_conntrack_tcp_timeout_time_wait": 2}),
    "to_icmp": (case_icmp, {"nf_conntrack_icmp_timeout": 2}),
    "to_tcp_syn_recv": (case_tcp_syn_recv, {"nf_conntrack_tcp_timeout_syn_recv": 2}),
    "to_tcp_close": (case_tcp_close, {"nf_conntrack_tcp_timeout_close": 2}),
    "to_tcp_unacked": (case_tcp_unacked, {"nf_conntrack_tcp_timeout_unacknowledged": 2}),
    "to_tcp_max_retrans": (case_tcp_max_retrans, {"nf_conntrack_tcp_timeout_max_retrans": 2}),
    "to_generic": (case_generic, {"nf_conntrack_generic_timeout": 2}),
    "to_tcp_syn_retrans": (case_tcp_syn_retrans, {"nf_conntrack_tcp_timeout_syn_sent": 2}),
    "to_tcp_teardown": (case_tcp_teardown, {"nf_conntrack_tcp_timeout_fin_wait": 2,
                                            "nf_conntrack_tcp_timeout_close_wait": 2,
                                            "nf_conntrack_tcp_timeout_last_ack": 2}),
    "to_ctexpire": (case_ctexpire, {"nf_conntrack_udp_timeout": 10}, CTEXPIRE_RULES),
    "to_icmp_error": (case_icmp_error, {"nf_conntrack_udp_timeout": 2}),
    "to_gre": (case_gre, {"nf_conntrack_gre_timeout": 2, "nf_conntrack_gre_timeout_stream": 6,
                          "nf_conntrack_generic_timeout": 2}),
}


def write_inputs(name, make, sysctl, rules):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "rules.v4"), "w") as fh:
        fh.write(rules)
    pkts = make()
    wrpcap(os.path.join(d, "trace.pcap"), [f for f, _ in pkts])
    args = ["--keep-ct-timeouts"]
    for k, v in sysctl.items():
        args += ["--sysctl", "%s=%s" % (k, v)]
    case = {"local": [H], "lan": [], "sysctl": sysctl, "paced": True, "oracle_args": args,
            "labels": [label for _, label in pkts]}
    with open(os.path.join(d, "case.json"), "w") as fh:
        json.dump(case, fh, indent=1)
        fh.write("\n")
    return d, case


def pcap_times(path):
    """Capture timestamps (seconds) of a classic little-endian µs pcap, as wrpcap writes it."""
    with open(path, "rb") as fh:
        data = fh.read()
    off, ts = 24, []
    while off + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        ts.append(sec + usec / 1e6)
        off += 16 + incl
    return ts


def run_paced(d, case):
    sys.path.insert(0, ORACLE_DIR)
    import kernel_oracle as ko
    times = pcap_times(os.path.join(d, "trace.pcap"))
    late = []
    orig_run = ko.Oracle.run

    def paced(packets):
        start = None
        for i, p in enumerate(packets):
            if start is None:
                start = time.monotonic()
            due = start + (times[i] - times[0])
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            late.append(time.monotonic() - due)
            yield p

    def run(self, rules_text, packets):
        return orig_run(self, rules_text, paced(packets))

    ko.Oracle.run = run
    try:
        argv = ["--rules", os.path.join(d, "rules.v4"), "--pcap", os.path.join(d, "trace.pcap"),
                "--local", ",".join(case["local"]), "--out", os.path.join(d, "kernel.json"),
                "--counters", os.path.join(d, "counters.txt")] + case["oracle_args"]
        rc = ko.main(argv)
    finally:
        ko.Oracle.run = orig_run
    if rc != 0:
        sys.exit("oracle exit %s on %s" % (rc, d))
    worst = max(late) if late else 0.0
    if worst > LATE_MAX:
        sys.exit("%s: a packet left %.3f s late; run again on a quieter machine" % (d, worst))
    with open(os.path.join(d, "kernel.json")) as fh:
        res = json.load(fh)
    for p, label in zip(res["packets"], case["labels"]):
        print("  %-9s %-11s %-8s %-12s %s" % (p["hook"], p["ctstate"], p["ctdir"],
                                             (p.get("ct_after") or {}).get("tcp_state", "-"), label))
    print("%s: %d packets, latest %.1f ms late" % (os.path.basename(d), len(late), worst * 1000))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    only_inputs = "--inputs" in sys.argv[1:]
    for name, (make, sysctl, *rules) in CASES.items():
        if args and name not in args:
            continue
        d, case = write_inputs(name, make, sysctl, rules[0] if rules else RULES)
        if not only_inputs:
            run_paced(d, case)


if __name__ == "__main__":
    main()
