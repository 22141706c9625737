#!/usr/bin/python3
"""make_handmade.py -- writes the hand-made conntrack/netfilter scenarios testdata/scenarios/hm_*/.

One directory per kernel behaviour: rules.v4, trace.pcap, local.txt, [lan.txt], scenario.json
(one label per packet: what the packet is meant to show) and case.json (how the oracle must be
run).  kernel.json and counters.txt come from the oracle afterwards (`regen.sh handmade`).

Deterministic: fixed MACs, fixed timestamps, fixed sequence numbers, no randomness, so
rerunning gives byte-identical files.  Packets are built with scapy (Debian's python3-scapy,
/usr/bin/python3).  Checksums are correct unless a case says otherwise; the cases that carry
deliberately bad checksums run the oracle with --no-fix-checksums.

Hosts: the firewall is 10.0.0.104 (eth0 side, default route).  10.0.0.77 / 10.0.0.1 / 10.0.0.50
are neighbours on eth0, 203.0.113.10 is on the internet (also eth0), 192.168.1.0/24 is the LAN
behind eth1 in the forwarding cases.
"""

import json
import os
import struct
import logging

os.environ.setdefault("SCAPY_USE_LIBPCAP", "no")
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IP, TCP, UDP, ICMP, GRE, Raw, Ether, wrpcap  # noqa: E402
from scapy.layers.sctp import SCTP, SCTPChunkInit  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
H = "10.0.0.104"          # the firewall host
R = "10.0.0.77"           # a neighbour (admin box)
GW = "10.0.0.1"           # the gateway / router
N50 = "10.0.0.50"
NET = "203.0.113.10"      # somewhere on the internet
LANH = "192.168.1.10"     # a LAN host (forwarding cases)
LAN = "192.168.1.0/24"
MAC_HOST = "52:54:00:00:01:04"
MAC_PEER = "52:54:00:00:00:01"
SYN_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None), ("WScale", 7)]

# ----------------------------------------------------------------------------------------------
# rulesets
# ----------------------------------------------------------------------------------------------
# Accepts everything and only counts by ctstate: the kernel's conntrack decisions are never
# disturbed by the filter, and the counters still show the classification.
COUNT_ALL = """*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate NEW
-A INPUT -m conntrack --ctstate ESTABLISHED
-A INPUT -m conntrack --ctstate RELATED
-A INPUT -m conntrack --ctstate INVALID
-A INPUT -m conntrack --ctstate UNTRACKED
-A FORWARD -m conntrack --ctstate NEW
-A FORWARD -m conntrack --ctstate ESTABLISHED
-A FORWARD -m conntrack --ctstate RELATED
-A FORWARD -m conntrack --ctstate INVALID
-A OUTPUT -m conntrack --ctstate NEW
-A OUTPUT -m conntrack --ctstate ESTABLISHED
-A OUTPUT -m conntrack --ctstate RELATED
-A OUTPUT -m conntrack --ctstate INVALID
-A OUTPUT -m conntrack --ctstate UNTRACKED
COMMIT
"""

# A typical stateful host: INVALID dropped both ways, ssh/http/dns/ping served.
STATEFUL = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
-A INPUT -p udp -m udp --dport 53 -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A OUTPUT -m conntrack --ctstate INVALID -j DROP
COMMIT
"""

# ----------------------------------------------------------------------------------------------
# packet helpers
# ----------------------------------------------------------------------------------------------
class Tcp:
    """One TCP connection with consistent sequence numbers.  Side 'c' is the client (sent the
    SYN), side 's' the server.  `seq`/`ack` overrides leave the tracked state untouched."""

    def __init__(self, cli, cport, srv, sport, cisn=1000000, sisn=5000000, wscale=7, swscale="same",
                 win=502):
        self.addr = {"c": (cli, cport), "s": (srv, sport)}
        self.nxt = {"c": cisn, "s": sisn}
        self.wscale = {"c": wscale, "s": wscale if swscale == "same" else swscale}
        self.win = win

    def pkt(self, side, flags, data=b"", seq=None, ack=None, win=None, advance=True, **ipkw):
        other = "s" if side == "c" else "c"
        (src, sport), (dst, dport) = self.addr[side], self.addr[other]
        sq = self.nxt[side] if seq is None else seq
        ak = (self.nxt[other] if ack is None else ack) if "A" in flags else 0
        opts = []
        if "S" in flags:
            opts = [o for o in SYN_OPTS if o[0] != "WScale"]
            if self.wscale[side] is not None:
                opts.append(("WScale", self.wscale[side]))
        w = win if win is not None else (64240 if "S" in flags else self.win)
        p = IP(src=src, dst=dst, **ipkw) / TCP(sport=sport, dport=dport, flags=flags, seq=sq & 0xFFFFFFFF,
                                             ack=ak & 0xFFFFFFFF,
                                             window=w, options=opts)
        if data:
            p = p / Raw(data)
        if seq is None and advance:
            self.nxt[side] += len(data) + ("S" in flags) + ("F" in flags)
        return p

    def handshake(self, t, name):
        t.add(name + ": SYN", self.pkt("c", "S"))
        t.add(name + ": SYN-ACK", self.pkt("s", "SA"))
        t.add(name + ": ACK", self.pkt("c", "A"))


class Trace:
    def __init__(self):
        self.items = []

    def add(self, label, pkt):
        self.items.append((label, pkt))


def frags(pkt, sizes, ident):
    """Splits a complete IP packet into fragments.  `sizes` are payload byte counts (multiples of
    8 except the last); returns [(offset_bytes, IP fragment)] in natural order."""
    raw = bytes(pkt)
    ihl = (raw[0] & 0x0F) * 4
    payload = raw[ihl:]
    ip = IP(raw[:ihl])
    out, off = [], 0
    for n in sizes:
        chunk = payload[off:off + n]
        more = off + len(chunk) < len(payload)
        f = IP(src=ip.src, dst=ip.dst, id=ident, ttl=ip.ttl, proto=ip.proto,
               flags="MF" if more else 0, frag=off // 8) / Raw(chunk)
        out.append((off, f))
        off += len(chunk)
    return out


def set_bad_l4_checksum(pkt):
    """The packet's bytes with the TCP/UDP/ICMP checksum off by one (IP header checksum kept)."""
    raw = bytearray(bytes(pkt))
    ihl = (raw[0] & 0x0F) * 4
    pos = {6: 16, 17: 6, 1: 2}[raw[9]]
    c = struct.unpack(">H", raw[ihl + pos:ihl + pos + 2])[0]
    raw[ihl + pos:ihl + pos + 2] = struct.pack(">H", (c ^ 0x0101) or 1)
    return IP(bytes(raw))


def set_bad_ip_checksum(pkt):
    raw = bytearray(bytes(pkt))
    c = struct.unpack(">H", raw[10:12])[0]
    raw[10:12] = struct.pack(">H", c ^ 0x1111)
    return IP(bytes(raw))


def quote(pkt, n=28):
    """The first n bytes of a packet, as an ICMP error quotes it."""
    return Raw(bytes(pkt)[:n])


CASES = []


def case(name, rules, local=(H,), lan=(), sysctl=None, fix_checksums=True, notes="", extra_args=()):
    def deco(fn):
        CASES.append({"name": name, "rules": rules, "local": list(local), "lan": list(lan),
                      "sysctl": sysctl or {}, "fix_checksums": fix_checksums, "notes": notes,
                      "extra_args": list(extra_args), "build": fn})
        return fn
    return deco


# ----------------------------------------------------------------------------------------------
# TCP state machine
# ----------------------------------------------------------------------------------------------
@case("hm_tcp_client_fin_first", STATEFUL,
      notes="host is the client; handshake, data both ways, the host closes first; a late ACK in "
            "TIME_WAIT is still ESTABLISHED")
def _(t):
    c = Tcp(H, 40000, R, 22)
    c.handshake(t, "ssh out")
    t.add("client data", c.pkt("c", "PA", b"SSH-2.0-OpenSSH_9.2\r\n"))
    t.add("server data", c.pkt("s", "PA", b"SSH-2.0-OpenSSH_8.9\r\n"))
    t.add("client ACK", c.pkt("c", "A"))
    t.add("client FIN", c.pkt("c", "FA"))
    t.add("server ACKs the FIN (FIN_WAIT -> CLOSE_WAIT)", c.pkt("s", "A"))
    t.add("server FIN (LAST_ACK)", c.pkt("s", "FA"))
    t.add("client last ACK (TIME_WAIT)", c.pkt("c", "A"))
    t.add("server retransmits its FIN in TIME_WAIT", c.pkt("s", "FA", seq=c.nxt["s"] - 1))
    t.add("client re-ACKs in TIME_WAIT", c.pkt("c", "A"))


@case("hm_tcp_server_fin_first", STATEFUL,
      notes="host is the server on :22; it closes first (FIN from the reply direction)")
def _(t):
    c = Tcp(R, 50000, H, 22)
    c.handshake(t, "ssh in")
    t.add("client data", c.pkt("c", "PA", b"hello\n"))
    t.add("server data", c.pkt("s", "PA", b"bye\n"))
    t.add("server FIN", c.pkt("s", "FA"))
    t.add("client ACK of data+FIN", c.pkt("c", "A"))
    t.add("client FIN", c.pkt("c", "FA"))
    t.add("server last ACK", c.pkt("s", "A"))


@case("hm_tcp_simultaneous_close", COUNT_ALL,
      notes="both FINs cross on the wire (neither acknowledges the other's FIN), then both ACK")
def _(t):
    c = Tcp(H, 40001, R, 80)
    c.handshake(t, "http out")
    t.add("request", c.pkt("c", "PA", b"GET / HTTP/1.0\r\n\r\n"))
    t.add("response", c.pkt("s", "PA", b"HTTP/1.0 200 OK\r\n\r\n"))
    cf = c.pkt("c", "FA", ack=c.nxt["s"])
    sf = c.pkt("s", "FA", ack=c.nxt["c"] - 1)
    t.add("client FIN (does not ack server FIN)", cf)
    t.add("server FIN (does not ack client FIN)", sf)
    t.add("client ACKs server FIN", c.pkt("c", "A"))
    t.add("server ACKs client FIN", c.pkt("s", "A"))


@case("hm_tcp_synack_without_syn", COUNT_ALL,
      notes="SYN-ACK with no SYN before it, inbound and outbound: INVALID, no entry is created; "
            "a later real SYN on the same tuple is NEW")
def _(t):
    a = Tcp(H, 40002, R, 80)
    t.add("inbound SYN-ACK, no SYN seen", a.pkt("s", "SA", ack=1000001))
    b = Tcp(R, 50002, H, 22)
    t.add("outbound SYN-ACK, no SYN seen", b.pkt("s", "SA", ack=1000001))
    t.add("real SYN on the same tuple as the outbound SYN-ACK", b.pkt("c", "S"))
    t.add("SYN-ACK", b.pkt("s", "SA"))
    t.add("ACK", b.pkt("c", "A"))


@case("hm_tcp_stray", STATEFUL,
      notes="packets of no known connection: RST, RST/ACK, FIN, FIN/ACK are INVALID; ACK, "
            "PSH/ACK and URG/ACK are picked up (tcp_loose=1) as NEW; outbound stray RST is INVALID")
def _(t):
    flags = ["R", "RA", "F", "FA", "A", "PA", "UA"]
    for i, f in enumerate(flags):
        c = Tcp(R, 51000 + i, H, 22)
        t.add("stray %s to :22" % f, c.pkt("c", f, ack=777 if "A" in f else None))
    c = Tcp(R, 51100, H, 80)
    t.add("stray ACK to :80", c.pkt("c", "A", ack=1234))
    c = Tcp(H, 41000, R, 443)
    t.add("outbound stray RST", c.pkt("c", "R"))
    t.add("outbound stray ACK (picked up)", c.pkt("c", "A", ack=999))
    t.add("its 'reply'", c.pkt("s", "A", ack=c.nxt["c"]))


@case("hm_tcp_loose_pickup", STATEFUL,
      notes="mid-stream pickup: the first packet is a PSH/ACK, the entry starts ESTABLISHED and "
            "is tracked liberally (a far out-of-window segment stays ESTABLISHED)")
def _(t):
    c = Tcp(R, 52000, H, 22, cisn=7000000, sisn=9000000)
    t.add("mid-stream client data (no handshake seen)", c.pkt("c", "PA", b"x" * 40))
    t.add("server ACK", c.pkt("s", "A"))
    t.add("server data", c.pkt("s", "PA", b"y" * 100))
    t.add("client ACK", c.pkt("c", "A"))
    t.add("client segment 3e6 beyond the window (liberal: ESTABLISHED)",
          c.pkt("c", "PA", b"z" * 10, seq=c.nxt["c"] + 3000000))
    t.add("client data in order", c.pkt("c", "PA", b"w" * 10))
    t.add("client FIN", c.pkt("c", "FA"))
    t.add("server FIN", c.pkt("s", "FA"))
    t.add("client last ACK", c.pkt("c", "A"))
    o = Tcp(H, 42000, NET, 443, cisn=100, sisn=200)
    t.add("outbound mid-stream ACK (picked up from OUTPUT)", o.pkt("c", "A"))
    t.add("reply data", o.pkt("s", "PA", b"q" * 20))


@case("hm_tcp_out_of_window", STATEFUL,
      notes="segments 3e6 beyond the receiver's window are INVALID (both directions); the "
            "connection goes on unharmed")
def _(t):
    c = Tcp(H, 40010, R, 80)
    c.handshake(t, "http out")
    t.add("request", c.pkt("c", "PA", b"GET / HTTP/1.0\r\n\r\n"))
    t.add("inbound segment seq+3e6 (INVALID)", c.pkt("s", "PA", b"a" * 10, seq=c.nxt["s"] + 3000000))
    t.add("outbound segment seq+3e6 (INVALID)", c.pkt("c", "PA", b"b" * 10, seq=c.nxt["c"] + 3000000))
    t.add("normal response", c.pkt("s", "PA", b"HTTP/1.0 200 OK\r\n\r\n"))
    t.add("client ACK", c.pkt("c", "A"))


@case("hm_tcp_ancient_seq", COUNT_ALL,
      notes="a segment 3e6 below the acknowledged data: recent kernels ignore it "
            "(NFCT_TCP_IGNORE) and report ESTABLISHED, not INVALID")
def _(t):
    c = Tcp(R, 50010, H, 22)
    c.handshake(t, "ssh in")
    t.add("client data", c.pkt("c", "PA", b"a" * 50))
    t.add("server ACK", c.pkt("s", "A"))
    t.add("client segment seq-3e6 (ancient)", c.pkt("c", "PA", b"b" * 10, seq=c.nxt["c"] - 3000000))
    t.add("server segment seq-3e6 (ancient)", c.pkt("s", "PA", b"c" * 10, seq=c.nxt["s"] - 3000000))
    t.add("client data continues", c.pkt("c", "PA", b"d" * 5))
    t.add("server ACK", c.pkt("s", "A"))


@case("hm_tcp_ack_unsent", STATEFUL,
      notes="an ACK for data the other side never sent is INVALID (dropped), then the real ACK")
def _(t):
    c = Tcp(R, 50020, H, 22)
    c.handshake(t, "ssh in")
    t.add("server data", c.pkt("s", "PA", b"banner\r\n"))
    t.add("client ACKs 1e6 bytes never sent (INVALID)", c.pkt("c", "A", ack=c.nxt["s"] + 1000000))
    t.add("client ACK, correct", c.pkt("c", "A"))
    t.add("server ACKs unsent client data (INVALID)", c.pkt("s", "A", ack=c.nxt["c"] + 1000000))
    t.add("client data", c.pkt("c", "PA", b"ok\n"))


@case("hm_tcp_rst_out_of_window", COUNT_ALL,
      notes="RST far outside the window is INVALID and leaves the entry ESTABLISHED; an RST "
            "inside the window but not at the expected seq is ignored; an RST below the "
            "highest seq the peer acknowledged is an 'invalid rst' (INVALID unless "
            "tcp_ignore_invalid_rst=1); then an exact RST closes it (CLOSE); a packet after it")
def _(t):
    c = Tcp(H, 40020, R, 80)
    c.handshake(t, "http out")
    t.add("request", c.pkt("c", "PA", b"GET / HTTP/1.0\r\n\r\n"))
    t.add("inbound RST seq+3e6 (INVALID)", c.pkt("s", "R", seq=c.nxt["s"] + 3000000))
    t.add("inbound RST seq+1000, inside the window", c.pkt("s", "R", seq=c.nxt["s"] + 1000))
    t.add("inbound RST seq-1000, below what the client has acked ('invalid rst')",
          c.pkt("s", "R", seq=c.nxt["s"] - 1000))
    t.add("response", c.pkt("s", "PA", b"HTTP/1.0 200 OK\r\n\r\n"))
    t.add("inbound RST at the exact seq", c.pkt("s", "R"))
    t.add("client data after the RST", c.pkt("c", "PA", b"more"))


@case("hm_tcp_syn_in_established", COUNT_ALL,
      notes="a SYN inside an established connection is ignored (ESTABLISHED, state unchanged); "
            "(a) the server answers with a challenge ACK and the client resets; (b) the server "
            "answers with a SYN-ACK for the new SYN and conntrack resynchronises")
def _(t):
    a = Tcp(R, 50030, H, 22)
    a.handshake(t, "conn a")
    t.add("a: client data", a.pkt("c", "PA", b"x" * 20))
    t.add("a: server ACK", a.pkt("s", "A"))
    t.add("a: new SYN with a different ISN", a.pkt("c", "S", seq=88000000))
    t.add("a: server challenge ACK", a.pkt("s", "A"))
    t.add("a: client RST at the challenge ack", a.pkt("c", "R", seq=a.nxt["c"]))
    b = Tcp(R, 50031, H, 80)
    b.handshake(t, "conn b")
    t.add("b: client data", b.pkt("c", "PA", b"y" * 20))
    t.add("b: server ACK", b.pkt("s", "A"))
    t.add("b: client restarted, new SYN", b.pkt("c", "S", seq=66000000, advance=False))
    t.add("b: server (restarted too) SYN-ACK to the new SYN",
          b.pkt("s", "SA", seq=77000000, ack=66000001))
    b.nxt = {"c": 66000001, "s": 77000001}
    t.add("b: client ACK", b.pkt("c", "A"))
    t.add("b: client data", b.pkt("c", "PA", b"z" * 10))


@case("hm_tcp_syn_retransmit", STATEFUL,
      notes="retransmitted SYNs stay NEW; a retransmitted SYN-ACK is ESTABLISHED")
def _(t):
    c = Tcp(H, 40030, R, 80)
    syn = c.pkt("c", "S")
    t.add("SYN", syn)
    t.add("SYN retransmitted", syn)
    t.add("SYN retransmitted again", syn)
    sa = c.pkt("s", "SA")
    t.add("SYN-ACK", sa)
    t.add("SYN-ACK retransmitted", sa)
    t.add("ACK", c.pkt("c", "A"))
    d = Tcp(R, 50040, H, 22)
    syn = d.pkt("c", "S")
    t.add("inbound SYN", syn)
    t.add("inbound SYN retransmitted before the SYN-ACK", syn)
    t.add("host SYN-ACK", d.pkt("s", "SA"))
    t.add("inbound SYN retransmitted after the SYN-ACK", syn)
    t.add("client ACK", d.pkt("c", "A"))


@case("hm_tcp_reopen_time_wait", COUNT_ALL,
      notes="a new SYN on the tuple of a connection in TIME_WAIT replaces the old entry: NEW; a "
            "new SYN on a tuple in CLOSE (after an RST) is ESTABLISHED, the entry stays CLOSE "
            "until the SYN-ACK (SYN_RECV) and the ACK (ESTABLISHED)")
def _(t):
    c = Tcp(H, 40040, R, 80)
    c.handshake(t, "first")
    t.add("first: request", c.pkt("c", "PA", b"GET /\r\n"))
    t.add("first: server FIN with data", c.pkt("s", "FPA", b"ok\r\n"))
    t.add("first: client FIN", c.pkt("c", "FA"))
    t.add("first: server last ACK (TIME_WAIT)", c.pkt("s", "A"))
    n = Tcp(H, 40040, R, 80, cisn=c.nxt["c"] + 100000, sisn=8000000)
    n.handshake(t, "reopen from TIME_WAIT")
    t.add("reopen: request", n.pkt("c", "PA", b"GET /again\r\n"))
    t.add("reopen: server RST (CLOSE)", n.pkt("s", "RA"))
    m = Tcp(H, 40040, R, 80, cisn=n.nxt["c"] + 100000, sisn=9000000)
    m.handshake(t, "reopen from CLOSE")


@case("hm_tcp_rst_answers_syn", STATEFUL,
      notes="closed port: SYN answered by RST/ACK; the RST/ACK is ESTABLISHED (REPLY) and deletes "
            "the entry, so the retried SYN is NEW again")
def _(t):
    c = Tcp(R, 50050, H, 8081)
    t.add("inbound SYN to closed :8081 (policy DROP)", c.pkt("c", "S"))
    c2 = Tcp(R, 50051, H, 80)
    t.add("inbound SYN to :80", c2.pkt("c", "S"))
    t.add("host RST/ACK (nothing listens)", c2.pkt("s", "RA", seq=0))
    t.add("SYN retried", c2.pkt("c", "S", seq=1000000))
    o = Tcp(H, 40050, R, 81)
    t.add("outbound SYN to :81", o.pkt("c", "S"))
    t.add("remote RST/ACK", o.pkt("s", "RA", seq=0))
    t.add("outbound SYN retried", o.pkt("c", "S", seq=1000000))


@case("hm_tcp_window_scale", COUNT_ALL,
      notes="window tracking at its upper edge, one fresh connection per probe (an accepted "
            "segment moves td_end).  The client's SYN says window 64240, its ACK window 502 "
            "(scaled by its shift).  Observed on 6.18: the server's segment is ESTABLISHED while "
            "ack + len - 1 stays below ack + 64240 + 502 unscaled (64741 bytes ahead incl. length), "
            "2 * (502 << 7) with shift 7 (128511), and INVALID one byte further; shift 14 takes "
            "3e6; shift 15 is clamped to 14, so 20e6 is out of window; a SYN-ACK without the "
            "option turns scaling off for both sides")
def _(t):
    port = [50060]

    def probe(name, cws, sws, ahead, n):
        c = Tcp(R, port[0], H, 80, wscale=cws, swscale=sws)
        port[0] += 1
        c.handshake(t, name)
        t.add(name + ": server data, %d bytes at %d ahead" % (n, ahead),
              c.pkt("s", "PA", b"b" * n, seq=c.nxt["s"] + ahead))
        t.add(name + ": server data in order", c.pkt("s", "PA", b"c" * 10))
        t.add(name + ": client ACK", c.pkt("c", "A"))
    probe("noscale edge", None, None, 64641, 100)
    probe("noscale edge+1", None, None, 64642, 100)
    probe("noscale edge, empty segment", None, None, 64741, 0)
    probe("noscale edge+1, empty segment", None, None, 64742, 0)
    probe("client ws7, reply without ws (scaling off)", 7, None, 64641, 100)
    probe("client ws7, reply without ws, edge+1", 7, None, 64642, 100)
    probe("ws7 edge", 7, 7, 128411, 100)
    probe("ws7 edge+1", 7, 7, 128412, 100)
    probe("ws14 3e6 ahead", 14, 14, 3000000, 100)
    probe("ws14 20e6 ahead", 14, 14, 20000000, 100)
    probe("ws15 (clamped to 14) 3e6 ahead", 15, 15, 3000000, 100)
    probe("ws15 (clamped to 14) 20e6 ahead", 15, 15, 20000000, 100)


@case("hm_tcp_retrans_data", COUNT_ALL,
      notes="data segments retransmitted several times and duplicate ACKs; still ESTABLISHED")
def _(t):
    c = Tcp(H, 40060, R, 22)
    c.handshake(t, "ssh out")
    d = c.pkt("c", "PA", b"k" * 64)
    for i in range(5):
        t.add("client data, copy %d" % (i + 1), d)
    ack = c.pkt("s", "A")
    for i in range(4):
        t.add("server ACK, copy %d" % (i + 1), ack)
    s = c.pkt("s", "PA", b"r" * 32)
    for i in range(5):
        t.add("server data, copy %d" % (i + 1), s)
    t.add("client ACK", c.pkt("c", "A"))


@case("hm_tcp_half_open", COUNT_ALL,
      notes="the host retransmits its SYN-ACK twice before the client's ACK (SYN_RECV, then "
            "ESTABLISHED); a second client answers the SYN-ACK with RST (CLOSE) and sends an "
            "ACK after it")
def _(t):
    c = Tcp(R, 50070, H, 22)
    t.add("SYN", c.pkt("c", "S"))
    sa = c.pkt("s", "SA")
    t.add("SYN-ACK", sa)
    t.add("SYN-ACK retransmitted", sa)
    t.add("SYN-ACK retransmitted again", sa)
    t.add("client ACK", c.pkt("c", "A"))
    d = Tcp(R, 50071, H, 22)
    t.add("SYN", d.pkt("c", "S"))
    t.add("SYN-ACK", d.pkt("s", "SA"))
    t.add("client RST (SYN_RECV -> CLOSE)", d.pkt("c", "R"))
    t.add("client ACK after its RST", d.pkt("c", "A"))


@case("hm_tcp_bad_flags", """*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN FIN,SYN -j DROP
-A INPUT -p tcp -m tcp --tcp-flags SYN,RST SYN,RST -j DROP
-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE -j DROP
-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG FIN,PSH,URG -j DROP
-A INPUT -m conntrack --ctstate INVALID -j LOG --log-prefix "invalid "
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -p tcp -m tcp --syn -j ACCEPT
COMMIT
""", notes="flag combinations conntrack calls INVALID (tcp_valid_flags) and the classic "
           "--tcp-flags hardening rules; SYN+URG, SYN+PSH and SYN+ECE+CWR are valid SYNs")
def _(t):
    for i, f in enumerate(["SF", "SR", "", "FPU", "SFPU", "FSRPAUEC", "SAF", "SU", "SP", "SEC",
                           "RF"]):
        c = Tcp(R, 53000 + i, H, 80)
        t.add("flags %r" % (f or "none"), c.pkt("c", f, ack=555 if "A" in f else None))


# ----------------------------------------------------------------------------------------------
# checksums (run with --no-fix-checksums)
# ----------------------------------------------------------------------------------------------
@case("hm_bad_tcp_checksum", COUNT_ALL, fix_checksums=False,
      notes="conntrack verifies TCP checksums in PREROUTING only (nf_conntrack_checksum=1): an "
            "inbound segment with a bad checksum is INVALID, an outbound one is not checked")
def _(t):
    c = Tcp(R, 50080, H, 22)
    t.add("SYN with a bad TCP checksum", set_bad_l4_checksum(c.pkt("c", "S", advance=False)))
    c.handshake(t, "ssh in")
    t.add("client data, bad checksum", set_bad_l4_checksum(c.pkt("c", "PA", b"a" * 10, advance=False)))
    t.add("client data, good checksum", c.pkt("c", "PA", b"a" * 10))
    t.add("server data, bad checksum (OUTPUT)", set_bad_l4_checksum(c.pkt("s", "PA", b"b" * 10)))
    t.add("client ACK", c.pkt("c", "A"))


@case("hm_bad_udp_checksum", COUNT_ALL, fix_checksums=False,
      notes="UDP with a bad checksum is INVALID inbound; checksum 0 (none) is fine; outbound "
            "packets are not verified")
def _(t):
    q = IP(src=R, dst=H) / UDP(sport=5353, dport=53) / Raw(b"\x00\x01query")
    t.add("inbound UDP, bad checksum", set_bad_l4_checksum(q))
    t.add("inbound UDP, good checksum", q)
    z = IP(bytes(IP(src=R, dst=H) / UDP(sport=5354, dport=53) / Raw(b"\x00\x02query")))
    z[UDP].chksum = 0
    t.add("inbound UDP, checksum 0 (none)", IP(bytes(z)))
    t.add("outbound UDP, bad checksum", set_bad_l4_checksum(IP(src=H, dst=R) / UDP(sport=53, dport=5355) / Raw(b"r")))
    t.add("reply to the good query", IP(src=H, dst=R) / UDP(sport=53, dport=5353) / Raw(b"\x00\x01resp"))


@case("hm_bad_ip_checksum", COUNT_ALL, fix_checksums=False,
      notes="a bad IPv4 header checksum is dropped by ip_rcv before PREROUTING (NOT_REACHED, no "
            "ctstate); a bad ICMP checksum is INVALID")
def _(t):
    t.add("ping with a bad IP header checksum",
          set_bad_ip_checksum(IP(src=R, dst=H) / ICMP(type=8, id=1, seq=1) / Raw(bytes(32))))
    t.add("ping with a bad ICMP checksum",
          set_bad_l4_checksum(IP(src=R, dst=H) / ICMP(type=8, id=2, seq=1) / Raw(bytes(32))))
    t.add("good ping", IP(src=R, dst=H) / ICMP(type=8, id=3, seq=1) / Raw(bytes(32)))
    t.add("TCP SYN with a bad IP header checksum", set_bad_ip_checksum(Tcp(R, 50090, H, 22).pkt("c", "S")))


# ----------------------------------------------------------------------------------------------
# ICMP
# ----------------------------------------------------------------------------------------------
@case("hm_icmp_echo", """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type echo-request -m conntrack --ctstate NEW -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type timestamp-request -j ACCEPT
-A INPUT -p icmp -m conntrack --ctstate INVALID -j LOG --log-prefix "icmp-invalid "
COMMIT
""", notes="echo out/reply, echo in/reply, a reply without a request (INVALID), a duplicate "
           "reply, another id (NEW), timestamp request/reply, router advertisement (not a query "
           "conntrack can start a connection with: INVALID)")
def _(t):
    t.add("ping out id 7", IP(src=H, dst=R) / ICMP(type=8, id=7, seq=1) / Raw(bytes(56)))
    t.add("reply id 7", IP(src=R, dst=H) / ICMP(type=0, id=7, seq=1) / Raw(bytes(56)))
    t.add("duplicate reply id 7", IP(src=R, dst=H) / ICMP(type=0, id=7, seq=1) / Raw(bytes(56)))
    t.add("ping out id 7 seq 2", IP(src=H, dst=R) / ICMP(type=8, id=7, seq=2) / Raw(bytes(56)))
    t.add("reply id 7 seq 2", IP(src=R, dst=H) / ICMP(type=0, id=7, seq=2) / Raw(bytes(56)))
    t.add("ping in id 9", IP(src=R, dst=H) / ICMP(type=8, id=9, seq=1) / Raw(bytes(56)))
    t.add("host reply id 9", IP(src=H, dst=R) / ICMP(type=0, id=9, seq=1) / Raw(bytes(56)))
    t.add("reply without a request (id 4242)", IP(src=NET, dst=H) / ICMP(type=0, id=4242, seq=1) / Raw(bytes(56)))
    t.add("reply from the wrong host for id 7", IP(src=NET, dst=H) / ICMP(type=0, id=7, seq=3) / Raw(bytes(56)))
    t.add("timestamp request in", IP(src=R, dst=H) / ICMP(type=13, id=11, seq=1, ts_ori=0, ts_rx=0, ts_tx=0))
    t.add("timestamp reply out", IP(src=H, dst=R) / ICMP(type=14, id=11, seq=1, ts_ori=1000, ts_rx=2000, ts_tx=2000))
    t.add("router advertisement in", IP(src=GW, dst=H) / ICMP(type=9, code=0) / Raw(bytes(8)))
    t.add("outbound echo reply without a request", IP(src=H, dst=NET) / ICMP(type=0, id=99, seq=1) / Raw(bytes(8)))


@case("hm_icmp_errors", """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate RELATED -j ACCEPT
-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A INPUT -p udp -m udp --dport 7000 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
COMMIT
""", notes="ICMP errors quoting a known UDP flow (RELATED), a known TCP flow (frag-needed from a "
           "router), a traceroute probe (time exceeded), an echo request, a reply-direction "
           "packet, a flow never seen (INVALID); redirect, source quench and parameter problem; "
           "the host's own port unreachable about an inbound datagram (RELATED in OUTPUT)")
def _(t):
    q = IP(src=H, dst=GW) / UDP(sport=33333, dport=53) / Raw(b"\x12\x34\x01\x00" + bytes(13))
    t.add("dns query out", q)
    t.add("port unreachable quoting it", IP(src=GW, dst=H) / ICMP(type=3, code=3) / quote(q))
    c = Tcp(H, 40100, NET, 25)
    c.handshake(t, "smtp out")
    big = c.pkt("c", "PA", b"D" * 1400)
    t.add("smtp big segment", big)
    t.add("frag-needed from a router quoting it", IP(src=GW, dst=H) / ICMP(type=3, code=4, nexthopmtu=1280) / quote(big))
    probe = IP(src=H, dst=NET, ttl=1) / UDP(sport=44000, dport=33434) / Raw(bytes(24))
    t.add("traceroute probe TTL 1", probe)
    t.add("time exceeded from the router", IP(src=GW, dst=H) / ICMP(type=11, code=0) / quote(probe))
    ping = IP(src=H, dst=NET) / ICMP(type=8, id=21, seq=1) / Raw(bytes(16))
    t.add("ping out", ping)
    t.add("host unreachable quoting the ping", IP(src=GW, dst=H) / ICMP(type=3, code=1) / quote(ping))
    never = IP(src=H, dst=NET) / UDP(sport=33999, dport=53) / Raw(bytes(8))
    t.add("port unreachable quoting a flow never seen (INVALID)", IP(src=NET, dst=H) / ICMP(type=3, code=3) / quote(never))
    t.add("redirect quoting the dns flow", IP(src=GW, dst=H) / ICMP(type=5, code=1, gw=N50) / quote(q))
    t.add("source quench quoting the smtp flow", IP(src=NET, dst=H) / ICMP(type=4, code=0) / quote(big))
    t.add("parameter problem quoting the smtp flow", IP(src=NET, dst=H) / ICMP(type=12, code=0, ptr=20) / quote(big))
    inbound = IP(src=R, dst=H) / UDP(sport=41000, dport=7000) / Raw(b"hello")
    t.add("inbound datagram to :7000", inbound)
    t.add("host port unreachable about it (OUTPUT)", IP(src=H, dst=R) / ICMP(type=3, code=3) / quote(inbound))
    reply_dir = IP(src=GW, dst=H) / UDP(sport=53, dport=33333) / Raw(bytes(8))
    t.add("error from the host quoting the reply direction of the dns flow",
          IP(src=H, dst=GW) / ICMP(type=3, code=3) / quote(reply_dir))
    t.add("port unreachable quoting only 8 bytes of IP header (truncated quote)",
          IP(src=GW, dst=H) / ICMP(type=3, code=3) / Raw(bytes(q)[:8]))


@case("hm_icmp_error_dropped_flow", """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A OUTPUT -p udp -m udp --dport 514 -j DROP
-A OUTPUT -p tcp -m tcp --dport 23 -j REJECT --reject-with tcp-reset
COMMIT
""", notes="ICMP errors quoting packets whose new entries were never confirmed (dropped or "
           "rejected in OUTPUT) are INVALID, not RELATED")
def _(t):
    s = IP(src=H, dst=GW) / UDP(sport=40514, dport=514) / Raw(b"<13>syslog")
    t.add("syslog out (dropped in OUTPUT)", s)
    t.add("port unreachable quoting it", IP(src=GW, dst=H) / ICMP(type=3, code=3) / quote(s))
    c = Tcp(H, 40023, R, 23)
    syn = c.pkt("c", "S")
    t.add("telnet SYN out (rejected in OUTPUT)", syn)
    t.add("admin prohibited quoting it", IP(src=R, dst=H) / ICMP(type=3, code=13) / quote(syn))
    ok = IP(src=H, dst=GW) / UDP(sport=40515, dport=515) / Raw(b"x")
    t.add("udp to :515 (allowed)", ok)
    t.add("port unreachable quoting it (RELATED)", IP(src=GW, dst=H) / ICMP(type=3, code=3) / quote(ok))


# ----------------------------------------------------------------------------------------------
# fragments (conntrack's defrag reassembles before PREROUTING's conntrack hook)
# ----------------------------------------------------------------------------------------------
FRAG_RULES = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -f -j LOG --log-prefix "fragment "
-A INPUT -f -j DROP
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p udp -m udp --dport 5000 -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
COMMIT
"""


def big_udp(sport, n, src=R, dst=H, dport=5000, ttl=64):
    return IP(src=src, dst=dst, ttl=ttl) / UDP(sport=sport, dport=dport) / Raw(bytes(range(256)) * (n // 256) + bytes(n % 256))


@case("hm_frag_in_order", FRAG_RULES,
      notes="a UDP datagram in three fragments, in order: the first two are held (NOT_REACHED), "
            "the last completes it and the reassembled datagram is filtered; -f never matches "
            "because filter only sees reassembled packets; then a fragmented echo request")
def _(t):
    for i, (_o, f) in enumerate(frags(big_udp(6000, 3000), [1480, 1480, 48], 0x1001)):
        t.add("udp fragment %d of 3" % (i + 1), f)
    for i, (_o, f) in enumerate(frags(IP(src=R, dst=H) / ICMP(type=8, id=5, seq=1) / Raw(bytes(2000)), [1480, 528], 0x1002)):
        t.add("echo request fragment %d of 2" % (i + 1), f)
    for i, (_o, f) in enumerate(frags(IP(src=H, dst=R) / ICMP(type=0, id=5, seq=1) / Raw(bytes(2000)), [1480, 528], 0x1003)):
        t.add("echo reply fragment %d of 2 (local out: defrag in OUTPUT too)" % (i + 1), f)


@case("hm_frag_out_of_order", FRAG_RULES,
      notes="fragments arriving last-first and middle-last: the datagram is delivered when the "
            "final missing piece arrives")
def _(t):
    fs = frags(big_udp(6001, 3000), [1480, 1480, 48], 0x2001)
    for i in (2, 0, 1):
        t.add("udp fragment %d of 3" % (i + 1), fs[i][1])
    fs = frags(big_udp(6002, 2000), [1000, 1008], 0x2002)
    for i in (1, 0):
        t.add("second datagram fragment %d of 2" % (i + 1), fs[i][1])


@case("hm_frag_overlap", FRAG_RULES,
      notes="overlapping fragments make Linux discard the whole datagram (ip_frag_queue "
            "IPFRAG_OVERLAP); an exact duplicate fragment is only dropped itself")
def _(t):
    pkt = big_udp(6003, 3000)
    fs = frags(pkt, [1480, 1480, 48], 0x3001)
    t.add("fragment 1 (0..1479)", fs[0][1])
    raw = bytes(pkt)[20:]
    ov = IP(src=R, dst=H, id=0x3001, proto=17, flags="MF", frag=1000 // 8) / Raw(raw[1000:2000])
    t.add("overlapping fragment (1000..1999)", ov)
    t.add("fragment 2 (1480..2959)", fs[1][1])
    t.add("fragment 3 (last)", fs[2][1])
    fs = frags(big_udp(6004, 3000), [1480, 1480, 48], 0x3002)
    t.add("dup test: fragment 1", fs[0][1])
    t.add("dup test: fragment 1 again (exact duplicate)", fs[0][1])
    t.add("dup test: fragment 2", fs[1][1])
    t.add("dup test: fragment 3", fs[2][1])


@case("hm_frag_lone", FRAG_RULES,
      notes="fragments that never complete a datagram: a lone first fragment, a lone middle "
            "fragment and a lone last fragment are all NOT_REACHED; a tiny fragmented TCP SYN")
def _(t):
    fs = frags(big_udp(6005, 3000), [1480, 1480, 48], 0x4001)
    t.add("lone first fragment", fs[0][1])
    fs = frags(big_udp(6006, 3000), [1480, 1480, 48], 0x4002)
    t.add("lone middle fragment", fs[1][1])
    fs = frags(big_udp(6007, 3000), [1480, 1480, 48], 0x4003)
    t.add("lone last fragment", fs[2][1])
    syn = Tcp(R, 50100, H, 80).pkt("c", "S")
    for i, (_o, f) in enumerate(frags(syn, [8, 8, 24], 0x4004)):
        t.add("tiny TCP SYN fragment %d of 3" % (i + 1), f)


@case("hm_frag_forward", """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -f -j DROP
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth1 -o eth0 -j ACCEPT
-A FORWARD -i eth0 -o eth1 -p udp -m udp --dport 5000 -j ACCEPT
COMMIT
""", lan=[LAN], notes="forwarded fragments are reassembled before FORWARD; the reassembled "
                      "datagram is forwarded (and refragmented on egress).  kernel.json quirk: the "
                      "oracle compares the egress header with the completing (non-first, portless) "
                      "fragment, takes the unchanged source port for a NAT-chosen one and masks it "
                      "as ~natportN in `egress` and in the first fragment's `summary`; no NAT is "
                      "involved here")
def _(t):
    for i, (_o, f) in enumerate(frags(big_udp(6010, 2500, src=NET, dst=LANH), [1480, 1028], 0x5001)):
        t.add("internet -> lan fragment %d of 2" % (i + 1), f)
    for i, (_o, f) in enumerate(frags(big_udp(6011, 2500, src=LANH, dst=NET, dport=7000), [1480, 1028], 0x5002)):
        t.add("lan -> internet fragment %d of 2" % (i + 1), f)
    for i, (_o, f) in enumerate(frags(big_udp(6012, 2500, src=NET, dst=LANH, dport=7001), [1480, 1028], 0x5003)):
        t.add("internet -> lan :7001 (not allowed) fragment %d of 2" % (i + 1), f)


# ----------------------------------------------------------------------------------------------
# routing edges, untracked packets, REJECT, chains, non-filter tables
# ----------------------------------------------------------------------------------------------
@case("hm_ttl_forward", """*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate NEW -j LOG --log-prefix "fwd-new "
-A FORWARD -i eth0 -o eth1 -j ACCEPT
COMMIT
""", lan=[LAN], notes="a forwarded packet with TTL 1 (or 0) is dropped by ip_forward before "
                      "FORWARD: NOT_REACHED although conntrack saw it (ctstate NEW, never "
                      "confirmed); TTL 2 is forwarded; TTL 1 and 0 to the host itself are "
                      "delivered")
def _(t):
    t.add("internet -> lan, TTL 1", IP(src=NET, dst=LANH, ttl=1) / UDP(sport=7001, dport=7001) / Raw(b"a"))
    t.add("internet -> lan, TTL 0", IP(src=NET, dst=LANH, ttl=0) / UDP(sport=7002, dport=7002) / Raw(b"a"))
    t.add("internet -> lan, TTL 2", IP(src=NET, dst=LANH, ttl=2) / UDP(sport=7003, dport=7003) / Raw(b"a"))
    t.add("internet -> lan, TTL 1 again on the now-confirmed TTL-2 flow",
          IP(src=NET, dst=LANH, ttl=1) / UDP(sport=7003, dport=7003) / Raw(b"b"))
    t.add("lan -> internet TCP SYN, TTL 1", Tcp(LANH, 45000, NET, 443).pkt("c", "S", ttl=1))
    t.add("internet -> host, TTL 1", IP(src=NET, dst=H, ttl=1) / UDP(sport=7004, dport=7004) / Raw(b"a"))
    t.add("internet -> host, TTL 0", IP(src=NET, dst=H, ttl=0) / UDP(sport=7005, dport=7005) / Raw(b"a"))


@case("hm_notrack", """*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp -m udp --dport 123 -j NOTRACK
-A PREROUTING -p tcp -m tcp --dport 8000 -j CT --notrack
-A OUTPUT -p udp -m udp --sport 123 -j CT --notrack
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT DROP [0:0]
-A INPUT -m conntrack --ctstate UNTRACKED -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A OUTPUT -m conntrack --ctstate UNTRACKED -j ACCEPT
-A OUTPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A OUTPUT -m conntrack --ctstate INVALID -j LOG --log-prefix "out-invalid "
-A OUTPUT -p icmp -j ACCEPT
COMMIT
""", notes="NOTRACK and CT --notrack make packets UNTRACKED; the host's SYN-ACK to an "
           "untracked SYN is tracked in OUTPUT and is INVALID (SYN-ACK cannot open a "
           "connection); NTP both ways untracked; ICMP error about an untracked flow")
def _(t):
    ntp_q = IP(src=R, dst=H) / UDP(sport=123, dport=123) / Raw(b"\x23" + bytes(47))
    t.add("ntp request in (NOTRACK)", ntp_q)
    t.add("ntp reply out (CT --notrack in raw OUTPUT)", IP(src=H, dst=R) / UDP(sport=123, dport=123) / Raw(b"\x24" + bytes(47)))
    c = Tcp(R, 50200, H, 8000)
    t.add("SYN to :8000 (CT --notrack)", c.pkt("c", "S"))
    t.add("host SYN-ACK (tracked, INVALID, dropped by OUTPUT policy)", c.pkt("s", "SA"))
    t.add("client ACK (untracked)", c.pkt("c", "A"))
    t.add("host data (tracked, mid-stream pickup -> NEW, dropped)", c.pkt("s", "PA", b"hi"))
    q = IP(src=H, dst=R) / UDP(sport=123, dport=123) / Raw(b"\x23" + bytes(47))
    t.add("ntp query out (untracked)", q)
    t.add("port unreachable quoting the untracked query", IP(src=R, dst=H) / ICMP(type=3, code=3) / quote(q))
    t.add("udp to :124 (tracked NEW, dropped)", IP(src=R, dst=H) / UDP(sport=124, dport=124) / Raw(b"x"))


REJECT_RULES = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 2222 --tcp-flags PSH PSH -j REJECT --reject-with tcp-reset
-A INPUT -p tcp -m tcp --dport 2223 --tcp-flags PSH PSH -j REJECT --reject-with icmp-port-unreachable
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 1001 -j REJECT --reject-with icmp-net-unreachable
-A INPUT -p tcp -m tcp --dport 1002 -j REJECT --reject-with icmp-host-unreachable
-A INPUT -p tcp -m tcp --dport 1003 -j REJECT --reject-with icmp-port-unreachable
-A INPUT -p tcp -m tcp --dport 1004 -j REJECT --reject-with icmp-proto-unreachable
-A INPUT -p tcp -m tcp --dport 1005 -j REJECT --reject-with icmp-net-prohibited
-A INPUT -p tcp -m tcp --dport 1006 -j REJECT --reject-with icmp-host-prohibited
-A INPUT -p tcp -m tcp --dport 1007 -j REJECT --reject-with icmp-admin-prohibited
-A INPUT -p tcp -m tcp --dport 1008 -j REJECT --reject-with tcp-reset
-A INPUT -p udp -m udp --dport 1009 -j REJECT
-A INPUT -p icmp -m icmp --icmp-type 8 -j REJECT --reject-with icmp-host-prohibited
-A INPUT -p tcp -m multiport --dports 2222,2223 -j ACCEPT
-A INPUT -p tcp -j REJECT --reject-with tcp-reset
-A INPUT -p udp -j REJECT --reject-with icmp-port-unreachable
-A OUTPUT -p tcp -m tcp --dport 25 -j REJECT --reject-with icmp-admin-prohibited
-A OUTPUT -p udp -m udp --dport 69 -j REJECT
COMMIT
"""


@case("hm_reject_variants", REJECT_RULES,
      notes="REJECT with every --reject-with; tcp-reset on an established flow moves it to "
            "CLOSE (nf_send_reset -> nf_ct_set_closing) while an ICMP reject leaves it "
            "ESTABLISHED; REJECT in OUTPUT; tcp-reset answering a RST is not sent")
def _(t):
    for port in range(1001, 1009):
        t.add("SYN to :%d" % port, Tcp(R, 50300 + port - 1000, H, port).pkt("c", "S"))
    t.add("udp to :1009 (default reject-with)", IP(src=R, dst=H) / UDP(sport=50400, dport=1009) / Raw(b"x"))
    t.add("ping (reject icmp-host-prohibited)", IP(src=R, dst=H) / ICMP(type=8, id=77, seq=1) / Raw(bytes(8)))
    t.add("RST to :1008 (tcp-reset never answers a RST)", Tcp(R, 50500, H, 1008).pkt("c", "R"))
    a = Tcp(R, 50600, H, 2222)
    a.handshake(t, "tcp-reset flow")
    t.add("tcp-reset flow: first data (PSH) -> REJECT tcp-reset", a.pkt("c", "PA", b"data"))
    t.add("tcp-reset flow: client ACK after the reset", a.pkt("c", "A"))
    t.add("tcp-reset flow: server data after the reset", a.pkt("s", "PA", b"late"))
    b = Tcp(R, 50601, H, 2223)
    b.handshake(t, "icmp flow")
    t.add("icmp flow: first data (PSH) -> REJECT icmp-port-unreachable", b.pkt("c", "PA", b"data", advance=False))
    t.add("icmp flow: client ACK", b.pkt("c", "A"))
    t.add("icmp flow: server data", b.pkt("s", "PA", b"still here"))
    t.add("outbound SYN to :25 (REJECT in OUTPUT)", Tcp(H, 40025, NET, 25).pkt("c", "S"))
    t.add("outbound tftp (REJECT in OUTPUT)", IP(src=H, dst=R) / UDP(sport=40069, dport=69) / Raw(b"\x00\x01f\x00octet\x00"))
    t.add("udp to :1010 (catch-all reject)", IP(src=R, dst=H) / UDP(sport=50401, dport=1010) / Raw(b"x"))
    t.add("ACK to :4444 (catch-all tcp-reset, picked-up NEW)", Tcp(R, 50700, H, 4444).pkt("c", "A", ack=9))


@case("hm_reject_forward", """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth1 -o eth0 -p tcp -m tcp --dport 25 -j REJECT --reject-with tcp-reset
-A FORWARD -i eth1 -o eth0 -p udp -m udp --dport 137:139 -j REJECT --reject-with icmp-net-prohibited
-A FORWARD -i eth1 -o eth0 -j ACCEPT
-A FORWARD -i eth0 -o eth1 -j REJECT --reject-with icmp-host-unreachable
COMMIT
""", lan=[LAN], notes="REJECT on the FORWARD path towards both sides")
def _(t):
    t.add("lan SYN to :25 (tcp-reset)", Tcp(LANH, 45025, NET, 25).pkt("c", "S"))
    t.add("lan netbios (icmp-net-prohibited)", IP(src=LANH, dst=NET) / UDP(sport=137, dport=137) / Raw(bytes(50)))
    c = Tcp(LANH, 45443, NET, 443)
    c.handshake(t, "lan https")
    t.add("https data", c.pkt("c", "PA", b"\x16\x03\x01" + bytes(40)))
    t.add("internet SYN to a lan host (icmp-host-unreachable)", Tcp(NET, 33000, LANH, 22).pkt("c", "S"))


@case("hm_user_chains", """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:empty - [0:0]
:in_tcp - [0:0]
:svc - [0:0]
:blacklist - [0:0]
-A INPUT -j empty
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -j in_tcp
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
-A INPUT -p udp -j RETURN
-A INPUT -p icmp -j ACCEPT
-A in_tcp -j blacklist
-A in_tcp -p tcp -m tcp --dport 22 -g svc
-A in_tcp -p tcp -m tcp --dport 8080 -j svc
-A in_tcp -p tcp -m tcp --dport 8080 -j ACCEPT
-A in_tcp -p tcp -m tcp --dport 8081 -j DROP
-A svc -s 10.0.0.0/24 -j ACCEPT
-A svc -p tcp -m tcp --dport 8080 -j RETURN
-A svc -p tcp -j REJECT --reject-with tcp-reset
-A blacklist -s 203.0.113.99/32 -j DROP
-A blacklist -s 198.51.100.0/24 -j REJECT --reject-with icmp-admin-prohibited
COMMIT
""", notes="-j pushes a return point, -g does not: RETURN from a chain entered by -g goes "
           "back past the caller's caller; RETURN in a built-in chain is the policy; an "
           "empty chain; nested blacklist chain")
def _(t):
    t.add("ssh from the LAN segment: in_tcp -g svc -> ACCEPT", Tcp(R, 50800, H, 22).pkt("c", "S"))
    t.add("ssh from the internet: svc REJECT", Tcp(NET, 33001, H, 22).pkt("c", "S"))
    t.add("8080 from the internet: -j svc, RETURN, then in_tcp ACCEPT", Tcp(NET, 33002, H, 8080).pkt("c", "S"))
    t.add("8081: in_tcp DROP", Tcp(NET, 33003, H, 8081).pkt("c", "S"))
    t.add("80: falls out of in_tcp, INPUT ACCEPT", Tcp(NET, 33004, H, 80).pkt("c", "S"))
    t.add("80 from the blacklisted host: DROP in blacklist", Tcp("203.0.113.99", 33005, H, 80).pkt("c", "S"))
    t.add("80 from the rejected net: REJECT in blacklist", Tcp("198.51.100.20", 33006, H, 80).pkt("c", "S"))
    t.add("udp: RETURN in INPUT -> policy DROP", IP(src=R, dst=H) / UDP(sport=5000, dport=5000) / Raw(b"x"))
    t.add("icmp: ACCEPT", IP(src=R, dst=H) / ICMP(type=8, id=1, seq=1))
    t.add("8443 from the LAN segment: nothing matches -> policy", Tcp(R, 50801, H, 8443).pkt("c", "S"))


@case("hm_log_counters", """*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -j LOG --log-prefix "raw-pre "
-A OUTPUT -p tcp -j LOG --log-prefix "raw-out " --log-tcp-sequence
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A INPUT -p icmp -j LOG --log-level 7
-A POSTROUTING -j LOG --log-prefix "post "
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:logdrop - [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -j LOG --log-prefix "in "
-A INPUT -p tcp -m tcp --dport 22 -j LOG --log-prefix "ssh " --log-level 4 --log-tcp-options --log-ip-options
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -j logdrop
-A OUTPUT -j LOG --log-uid
-A logdrop -j LOG --log-prefix "dropped: "
-A logdrop -j DROP
COMMIT
""", notes="LOG never terminates; every LOG rule counts packets and bytes (LOG itself prints "
           "nothing inside a netns); counters in raw, mangle, filter and a user chain")
def _(t):
    c = Tcp(R, 50900, H, 22)
    c.handshake(t, "ssh in")
    t.add("client data", c.pkt("c", "PA", b"x" * 100))
    t.add("server data", c.pkt("s", "PA", b"y" * 300))
    t.add("ping in", IP(src=R, dst=H) / ICMP(type=8, id=3, seq=1) / Raw(bytes(56)))
    t.add("ping reply out", IP(src=H, dst=R) / ICMP(type=0, id=3, seq=1) / Raw(bytes(56)))
    t.add("udp to :9999 (logdrop)", IP(src=NET, dst=H) / UDP(sport=9999, dport=9999) / Raw(bytes(33)))
    t.add("SYN to :25 (logdrop)", Tcp(NET, 34000, H, 25).pkt("c", "S"))


@case("hm_mangle_raw_drop", """*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -s 10.0.0.66/32 -j DROP
-A OUTPUT -p udp -m udp --dport 9999 -j DROP
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 23 -j DROP
-A INPUT -p tcp -m tcp --dport 25 -j DROP
-A FORWARD -d 192.168.1.77/32 -j DROP
-A OUTPUT -p tcp -m tcp --dport 6667 -j DROP
-A POSTROUTING -p udp -m udp --dport 5353 -j DROP
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate NEW -j LOG --log-prefix "new "
COMMIT
""", lan=[LAN], notes="drops in raw (before conntrack: ctstate null), mangle PREROUTING, INPUT, "
                      "FORWARD and OUTPUT (after conntrack: ctstate seen, entry never "
                      "confirmed) are NOT_REACHED; a drop in mangle POSTROUTING happens after "
                      "filter accepted the packet")
def _(t):
    t.add("from 10.0.0.66 (raw PREROUTING DROP)", IP(src="10.0.0.66", dst=H) / UDP(sport=1, dport=2) / Raw(b"x"))
    t.add("udp to :9999 out (raw OUTPUT DROP)", IP(src=H, dst=R) / UDP(sport=40999, dport=9999) / Raw(b"x"))
    t.add("telnet SYN (mangle PREROUTING DROP)", Tcp(R, 51023, H, 23).pkt("c", "S"))
    t.add("smtp SYN (mangle INPUT DROP)", Tcp(R, 51025, H, 25).pkt("c", "S"))
    t.add("forward to 192.168.1.77 (mangle FORWARD DROP)", Tcp(NET, 34001, "192.168.1.77", 80).pkt("c", "S"))
    t.add("irc SYN out (mangle OUTPUT DROP)", Tcp(H, 40667, NET, 6667).pkt("c", "S"))
    t.add("mdns out (mangle POSTROUTING DROP, after filter)", IP(src=H, dst=R) / UDP(sport=5353, dport=5353) / Raw(bytes(12)))
    t.add("ssh SYN (passes)", Tcp(R, 51022, H, 22).pkt("c", "S"))
    t.add("telnet SYN again (still NEW: never confirmed)", Tcp(R, 51023, H, 23).pkt("c", "S"))


@case("hm_local_lo", """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT DROP [0:0]
-A INPUT -i lo -p tcp -m tcp --dport 7 -j DROP
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A OUTPUT -o lo -p udp -m udp --dport 9 -j DROP
-A OUTPUT -o lo -j ACCEPT
-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A OUTPUT -p udp -m udp --dport 53 -j ACCEPT
COMMIT
""", notes="local -> local traffic goes OUTPUT (-o lo) then INPUT (-i lo): two filter hooks, "
           "one conntrack entry; 127.0.0.1, 127.0.0.2 and the host's own address")
def _(t):
    c = Tcp("127.0.0.1", 41000, "127.0.0.1", 631)
    c.handshake(t, "lo tcp")
    t.add("lo tcp: request", c.pkt("c", "PA", b"GET / HTTP/1.1\r\n\r\n"))
    t.add("lo tcp: response", c.pkt("s", "PA", b"HTTP/1.1 200 OK\r\n\r\n"))
    t.add("lo tcp: FIN", c.pkt("c", "FA"))
    t.add("lo tcp: FIN", c.pkt("s", "FA"))
    t.add("lo tcp: ACK", c.pkt("c", "A"))
    t.add("to own address udp", IP(src=H, dst=H) / UDP(sport=41001, dport=5000) / Raw(b"self"))
    t.add("its reply", IP(src=H, dst=H) / UDP(sport=5000, dport=41001) / Raw(b"back"))
    t.add("udp to 127.0.0.1:9 (OUTPUT DROP)", IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=41002, dport=9) / Raw(b"x"))
    t.add("tcp to 127.0.0.2:7 (INPUT DROP)", Tcp("127.0.0.1", 41003, "127.0.0.2", 7).pkt("c", "S"))
    t.add("dns query out on eth0", IP(src=H, dst=GW) / UDP(sport=41004, dport=53) / Raw(bytes(17)))
    t.add("ssh SYN out on eth0 (OUTPUT policy DROP)", Tcp(H, 41005, R, 22).pkt("c", "S"))


@case("hm_broadcast_multicast", """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p udp -m udp --sport 68 --dport 67 -j ACCEPT
-A INPUT -d 255.255.255.255/32 -j LOG --log-prefix "bcast "
-A INPUT -d 224.0.0.0/4 -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -j LOG --log-prefix "fwd "
COMMIT
""", notes="limited broadcast 255.255.255.255 is delivered to INPUT (also from 0.0.0.0 as in "
           "DHCPDISCOVER); the /24's broadcast address is not local (the host owns a /32) so it "
           "is routed; 224.0.0.1 (joined) vs 224.0.0.251 (not joined)")
def _(t):
    t.add("dhcp discover 0.0.0.0 -> 255.255.255.255", IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) / Raw(bytes(240)))
    t.add("dhcp request 10.0.0.50 -> 255.255.255.255", IP(src=N50, dst="255.255.255.255") / UDP(sport=68, dport=67) / Raw(bytes(240)))
    t.add("netbios 10.0.0.50 -> 255.255.255.255:137", IP(src=N50, dst="255.255.255.255") / UDP(sport=137, dport=137) / Raw(bytes(50)))
    t.add("netbios 10.0.0.50 -> 10.0.0.255:137", IP(src=N50, dst="10.0.0.255") / UDP(sport=137, dport=137) / Raw(bytes(50)))
    t.add("igmp-ish udp to 224.0.0.1", IP(src=GW, dst="224.0.0.1") / UDP(sport=9, dport=9) / Raw(b"x"))
    t.add("mdns to 224.0.0.251", IP(src=N50, dst="224.0.0.251") / UDP(sport=5353, dport=5353) / Raw(bytes(12)))
    t.add("unicast reply to the dhcp client", IP(src=H, dst=N50) / UDP(sport=67, dport=68) / Raw(bytes(240)))


# ----------------------------------------------------------------------------------------------
# forwarding, UDP, other protocols
# ----------------------------------------------------------------------------------------------
@case("hm_forward_stateful", """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate INVALID -j DROP
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth1 -o eth0 -s 192.168.1.0/24 -m conntrack --ctstate NEW -j ACCEPT
-A FORWARD -i eth0 -o eth1 -d 192.168.1.5/32 -p tcp -m tcp --dport 22 --syn -j ACCEPT
COMMIT
""", lan=[LAN], notes="a router: LAN clients go out, replies come back ESTABLISHED, ICMP "
                      "errors about forwarded flows are RELATED, unsolicited internet traffic is "
                      "dropped except ssh (--syn) to 192.168.1.5; a non-SYN first packet to it is "
                      "NEW but fails --syn")
def _(t):
    c = Tcp(LANH, 45001, NET, 443)
    c.handshake(t, "lan https")
    t.add("request", c.pkt("c", "PA", b"\x16\x03\x01" + bytes(60)))
    t.add("response", c.pkt("s", "PA", b"\x16\x03\x03" + bytes(90)))
    t.add("client FIN", c.pkt("c", "FA"))
    t.add("server FIN", c.pkt("s", "FA"))
    t.add("client ACK", c.pkt("c", "A"))
    q = IP(src=LANH, dst="8.8.8.8") / UDP(sport=45002, dport=53) / Raw(bytes(20))
    t.add("lan dns query", q)
    t.add("dns answer", IP(src="8.8.8.8", dst=LANH) / UDP(sport=53, dport=45002) / Raw(bytes(40)))
    u = IP(src=LANH, dst=NET) / UDP(sport=45003, dport=9) / Raw(b"x")
    t.add("lan udp to a closed port", u)
    t.add("port unreachable back (RELATED, forwarded)", IP(src=NET, dst=LANH) / ICMP(type=3, code=3) / quote(u))
    t.add("lan ping", IP(src=LANH, dst=NET) / ICMP(type=8, id=300, seq=1) / Raw(bytes(32)))
    t.add("ping reply", IP(src=NET, dst=LANH) / ICMP(type=0, id=300, seq=1) / Raw(bytes(32)))
    s = Tcp(NET, 36000, "192.168.1.5", 22)
    s.handshake(t, "internet ssh to 192.168.1.5")
    t.add("internet SYN to 192.168.1.10:22 (dropped)", Tcp(NET, 36001, LANH, 22).pkt("c", "S"))
    t.add("internet ACK to 192.168.1.5:22 (NEW by pickup, fails --syn)", Tcp(NET, 36002, "192.168.1.5", 22).pkt("c", "A", ack=5))
    t.add("internet SYN-ACK to a lan host (INVALID)", Tcp(LANH, 45004, NET, 80).pkt("s", "SA", ack=7))


@case("hm_udp", """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p udp -m udp --dport 514 -j ACCEPT
-A INPUT -p udp -m udp --dport 0 -j ACCEPT
COMMIT
""", notes="UDP: request/response (ESTABLISHED), response from the wrong port (NEW), a stream "
           "seen in both directions several times (not ASSURED: UDP is assured only 2 s of wall "
           "time after the first packet), inbound syslog, zero-length "
           "datagrams, port 0")
def _(t):
    q = IP(src=H, dst="8.8.8.8") / UDP(sport=40053, dport=53) / Raw(bytes(20))
    t.add("dns query", q)
    t.add("dns answer", IP(src="8.8.8.8", dst=H) / UDP(sport=53, dport=40053) / Raw(bytes(60)))
    t.add("answer from the wrong source port (NEW, dropped)", IP(src="8.8.8.8", dst=H) / UDP(sport=5353, dport=40053) / Raw(bytes(60)))
    t.add("answer from the wrong host (NEW, dropped)", IP(src="1.1.1.1", dst=H) / UDP(sport=53, dport=40053) / Raw(bytes(60)))
    for i in range(3):
        t.add("openvpn out %d" % i, IP(src=H, dst=NET) / UDP(sport=1194, dport=1194) / Raw(bytes(100)))
        t.add("openvpn in %d" % i, IP(src=NET, dst=H) / UDP(sport=1194, dport=1194) / Raw(bytes(100)))
    t.add("syslog in", IP(src=R, dst=H) / UDP(sport=40514, dport=514) / Raw(b"<13>hello"))
    t.add("syslog again (same flow, no reply: still NEW)", IP(src=R, dst=H) / UDP(sport=40514, dport=514) / Raw(b"<13>again"))
    t.add("zero-length datagram out", IP(src=H, dst=R) / UDP(sport=40000, dport=40001))
    t.add("zero-length reply", IP(src=R, dst=H) / UDP(sport=40001, dport=40000))
    t.add("udp to port 0", IP(src=R, dst=H) / UDP(sport=0, dport=0) / Raw(b"z"))


@case("hm_other_protocols", """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p gre -j ACCEPT
-A INPUT -p esp -m conntrack --ctstate NEW -j ACCEPT
-A INPUT -p sctp -m sctp --dport 9 -j ACCEPT
-A INPUT -p 99 -j LOG --log-prefix "proto99 "
COMMIT
""", notes="generic tracking of GRE, ESP and an unknown protocol (99): NEW, then ESTABLISHED "
           "after a reply; SCTP INIT (tracked by nf_conntrack_proto_sctp)")
def _(t):
    t.add("gre out", IP(src=H, dst=NET) / GRE(proto=0x0800) / IP(src="10.9.0.1", dst="10.9.0.2") / ICMP())
    t.add("gre in", IP(src=NET, dst=H) / GRE(proto=0x0800) / IP(src="10.9.0.2", dst="10.9.0.1") / ICMP(type=0))
    esp = lambda src, dst, spi: IP(src=src, dst=dst, proto=50) / Raw(struct.pack(">II", spi, 1) + bytes(40))
    t.add("esp in (spi 0x1000)", esp(NET, H, 0x1000))
    t.add("esp out (spi 0x2000)", esp(H, NET, 0x2000))
    t.add("esp in again", esp(NET, H, 0x1000))
    t.add("proto 99 in", IP(src=R, dst=H, proto=99) / Raw(bytes(20)))
    t.add("proto 99 out", IP(src=H, dst=R, proto=99) / Raw(bytes(20)))
    t.add("proto 99 in again", IP(src=R, dst=H, proto=99) / Raw(bytes(20)))
    t.add("sctp INIT to :9", IP(src=R, dst=H) / SCTP(sport=5000, dport=9, tag=0) /
          SCTPChunkInit(init_tag=0x11223344, a_rwnd=65536, n_out_streams=10, n_in_streams=10, init_tsn=1))
    t.add("sctp INIT to :10 (policy DROP)", IP(src=R, dst=H) / SCTP(sport=5001, dport=10, tag=0) /
          SCTPChunkInit(init_tag=0x11223345, a_rwnd=65536, n_out_streams=10, n_in_streams=10, init_tsn=1))


@case("hm_tcp_syn_with_data", COUNT_ALL,
      notes="a SYN carrying payload (TCP Fast Open style) and a SYN-ACK acknowledging it")
def _(t):
    c = Tcp(R, 51500, H, 80)
    t.add("SYN with 20 bytes of data", c.pkt("c", "S", b"GET / HTTP/1.0\r\n\r\n\r\n"))
    t.add("SYN-ACK acking SYN+data", c.pkt("s", "SA"))
    t.add("ACK", c.pkt("c", "A"))
    t.add("response", c.pkt("s", "PA", b"HTTP/1.0 200 OK\r\n\r\n"))


# ----------------------------------------------------------------------------------------------
# match extensions and mangling targets (deterministic ones only: no limit/hashlimit/time or
# recent --seconds, whose results depend on wall-clock time)
# ----------------------------------------------------------------------------------------------
@case("hm_match_header", """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m iprange --src-range 10.0.0.60-10.0.0.70 -j DROP
-A INPUT -p tcp -m multiport --dports 1000:1010,2000 -j ACCEPT
-A INPUT -p tcp -m multiport ! --ports 1:65000 -j ACCEPT
-A INPUT -p udp -m length --length 0:40 -j ACCEPT
-A INPUT -p udp -m length --length 1000:65535 -j DROP
-A INPUT -m ttl --ttl-lt 10 -j DROP
-A INPUT -m ttl --ttl-eq 200 -j ACCEPT
-A INPUT -m tos --tos 0x10/0x3f -j ACCEPT
-A INPUT -m dscp --dscp 0x2e -j ACCEPT
-A INPUT -p tcp -m tcpmss --mss 1:536 -j DROP
-A INPUT -p tcp -m ecn --ecn-tcp-cwr -j ACCEPT
-A INPUT -m string --algo bm --string "attack" -j DROP
-A INPUT -p icmp -m u32 --u32 "0>>22&0x3C@0>>24=0x8" -j ACCEPT
-A INPUT -m pkttype --pkt-type broadcast -j ACCEPT
-A INPUT -m iprange ! --dst-range 10.0.0.100-10.0.0.110 -j LOG --log-prefix "not-me "
COMMIT
""", notes="header matches: iprange (also negated), multiport with ranges and ! --ports, length "
           "(IP total length), ttl, tos with mask, dscp, tcpmss (SYN option), ecn, string (bm), "
           "u32 (ICMP type through the IHL), pkttype broadcast (never true here: the oracle "
           "injects every frame to the interface's unicast MAC); one packet per rule")
def _(t):
    t.add("from 10.0.0.65 (iprange DROP)", Tcp("10.0.0.65", 50001, H, 1005).pkt("c", "S"))
    t.add("tcp :1005 (multiport range)", Tcp(R, 50002, H, 1005).pkt("c", "S"))
    t.add("tcp :2000 (multiport single)", Tcp(R, 50003, H, 2000).pkt("c", "S"))
    t.add("tcp :1011 (outside the range, falls through)", Tcp(R, 50004, H, 1011).pkt("c", "S"))
    t.add("tcp 65001 -> 65002 (! --ports 1:65000)", Tcp(R, 65001, H, 65002).pkt("c", "S"))
    t.add("udp total length 40 (length 0:40)", IP(src=R, dst=H) / UDP(sport=1, dport=9) / Raw(bytes(12)))
    t.add("udp total length 41 (no length rule; policy)", IP(src=R, dst=H) / UDP(sport=1, dport=9) / Raw(bytes(13)))
    t.add("udp total length 1028 (length 1000: DROP)", IP(src=R, dst=H) / UDP(sport=1, dport=9) / Raw(bytes(1000)))
    t.add("ttl 9 (ttl-lt 10 DROP)", IP(src=R, dst=H, ttl=9) / ICMP(type=13, id=1, ts_ori=0, ts_rx=0, ts_tx=0))
    t.add("ttl 200 (ttl-eq)", IP(src=R, dst=H, ttl=200) / ICMP(type=13, id=2, ts_ori=0, ts_rx=0, ts_tx=0))
    t.add("tos 0x10 (tos 0x10/0x3f)", IP(src=R, dst=H, tos=0x10) / ICMP(type=13, id=3, ts_ori=0, ts_rx=0, ts_tx=0))
    t.add("tos 0x13 (0x13 & 0x3f != 0x10: no match)", IP(src=R, dst=H, tos=0x13) / ICMP(type=13, id=4, ts_ori=0, ts_rx=0, ts_tx=0))
    t.add("dscp 46 = tos 0xb8", IP(src=R, dst=H, tos=0xB8) / ICMP(type=13, id=5, ts_ori=0, ts_rx=0, ts_tx=0))
    small = Tcp(R, 50005, H, 80)
    syn = small.pkt("c", "S")
    syn[TCP].options = [("MSS", 536)]
    t.add("SYN with MSS 536 (tcpmss DROP)", syn)
    t.add("SYN with ECE+CWR (ecn --ecn-tcp-cwr)", Tcp(R, 50006, H, 80).pkt("c", "SEC"))
    t.add("udp carrying 'attack' (string DROP)", IP(src=R, dst=H) / UDP(sport=1, dport=9) / Raw(b"xx attack xx" + bytes(20)))
    t.add("ping (u32: ICMP type 8 through IHL)", IP(src=R, dst=H) / ICMP(type=8, id=6, seq=1) / Raw(bytes(8)))
    t.add("ping with IP options (IHL 6: u32 still finds the type)", IP(src=R, dst=H, options=b"\x01\x01\x01\x00") / ICMP(type=8, id=7, seq=1) / Raw(bytes(8)))
    t.add("udp to 255.255.255.255: the oracle injects to the interface MAC, so pkttype is host", IP(src=R, dst="255.255.255.255") / UDP(sport=1, dport=9) / Raw(bytes(20)))
    t.add("udp to 10.0.0.104:9 length 48 (nothing matches: policy)", IP(src=R, dst=H) / UDP(sport=2, dport=9) / Raw(bytes(20)))


@case("hm_match_conntrack_ext", """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --syn -m connlimit --connlimit-above 2 --connlimit-mask 32 -j REJECT --reject-with tcp-reset
-A INPUT -m conntrack --ctstate NEW --ctproto udp --ctorigdstport 7777 -j ACCEPT
-A INPUT -m conntrack --ctdir REPLY --ctreplsrc 10.0.0.1 -j ACCEPT
-A INPUT -p tcp -m connbytes --connbytes 4: --connbytes-dir original --connbytes-mode packets -j LOG --log-prefix "4th+ "
-A INPUT -p tcp -m connbytes --connbytes 7: --connbytes-dir both --connbytes-mode packets -j DROP
-A INPUT -p tcp -m conntrack --ctstate ESTABLISHED --ctexpire 1:100 -j DROP
-A INPUT -m conntrack --ctstatus ASSURED -j ACCEPT
-A INPUT -p tcp -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -p icmp -m statistic --mode nth --every 3 --packet 0 -j ACCEPT
-A INPUT -p icmp -m quota --quota 300 -j ACCEPT
COMMIT
""", notes="conntrack-aware matches: connlimit (third concurrent ssh SYN from one host is reset), "
           "conntrack --ctproto/--ctorigdstport/--ctdir/--ctreplsrc/--ctstatus/--ctexpire "
           "(timeouts are raised to 86400 s by the oracle, so --ctexpire 1:100 never matches; "
           "TCP is ASSURED from the handshake's last ACK), connbytes (--connbytes 7: in both "
           "directions drops client data 3, the connection's 8th packet), statistic nth, quota "
           "(byte budget, 100-byte pings)")
def _(t):
    conns = [Tcp(R, 51000 + i, H, 22) for i in range(3)]
    for i, c in enumerate(conns):
        t.add("ssh SYN %d from .77 (connlimit: %s)" % (i + 1, "above 2 -> reset" if i == 2 else "ok"), c.pkt("c", "S"))
        if i < 2:
            t.add("ssh SYN-ACK %d" % (i + 1), c.pkt("s", "SA"))
            t.add("ssh ACK %d (the entry becomes ASSURED)" % (i + 1), c.pkt("c", "A"))
    c = conns[0]
    for k in range(3):
        t.add("conn 1 client data %d (connbytes counts packets)" % (k + 1), c.pkt("c", "PA", b"x" * 10))
        t.add("conn 1 server ACK %d" % (k + 1), c.pkt("s", "A"))
    t.add("other host's ssh SYN (connlimit per source)", Tcp(GW, 51100, H, 22).pkt("c", "S"))
    t.add("udp to :7777 (ctorigdstport)", IP(src=R, dst=H) / UDP(sport=5555, dport=7777) / Raw(b"x"))
    q = IP(src=H, dst=GW) / UDP(sport=40001, dport=53) / Raw(bytes(12))
    t.add("dns query out", q)
    t.add("dns answer (ctdir REPLY, ctreplsrc = the gateway)", IP(src=GW, dst=H) / UDP(sport=53, dport=40001) / Raw(bytes(30)))
    for k in range(7):
        t.add("ping %d (statistic nth every 3, then quota 300 bytes)" % (k + 1),
              IP(src=R, dst=H) / ICMP(type=8, id=9, seq=k + 1) / Raw(bytes(72)))


@case("hm_match_recent_addrtype", """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 22 -m recent --rcheck --hitcount 3 --name ssh --mask 255.255.255.255 --rsource -j DROP
-A INPUT -p tcp -m tcp --dport 22 --syn -m recent --set --name ssh --mask 255.255.255.255 --rsource -j ACCEPT
-A INPUT -p tcp -m tcp --dport 23 -m recent --set --name bad --mask 255.255.255.255 --rsource -j DROP
-A INPUT -m recent --rcheck --name bad --mask 255.255.255.255 --rsource -j REJECT --reject-with icmp-admin-prohibited
-A INPUT -p udp -m udp --dport 6000:6001 -m recent --update --hitcount 2 --name udpd --mask 255.255.255.255 --rdest -j DROP
-A INPUT -p udp -m udp --dport 6000 -m recent --set --name udpd --mask 255.255.255.255 --rdest -j ACCEPT
-A INPUT -m addrtype --dst-type BROADCAST -j ACCEPT
-A INPUT -m addrtype --dst-type MULTICAST -j ACCEPT
-A INPUT -m addrtype --src-type LOCAL -j ACCEPT
-A INPUT -p udp -m udp --dport 5000 -m addrtype --dst-type LOCAL --limit-iface-in -j ACCEPT
-A FORWARD -m addrtype --dst-type UNICAST -j ACCEPT
COMMIT
""", lan=[LAN], notes="recent without --seconds (deterministic): --set/--rcheck --hitcount/--update "
                      "with --rsource and --rdest (--update adds a hit only when it matches); addrtype: BROADCAST, MULTICAST, src LOCAL (lo), "
                      "dst LOCAL --limit-iface-in (the host's address lives on eth0, so a LAN "
                      "packet from eth1 does not match), UNICAST when forwarding, and the "
                      "10.0.0.255 'broadcast' that is UNICAST for a host owning a /32")
def _(t):
    for i in range(4):
        t.add("ssh SYN %d from .77 (recent: 4th has 3 hits -> DROP)" % (i + 1), Tcp(R, 52000 + i, H, 22).pkt("c", "S"))
    t.add("ssh SYN from the gateway (own list entry)", Tcp(GW, 52100, H, 22).pkt("c", "S"))
    t.add("telnet from the internet (set 'bad', DROP)", Tcp(NET, 33000, H, 23).pkt("c", "S"))
    t.add("then http from it (rcheck 'bad' -> REJECT)", Tcp(NET, 33001, H, 80).pkt("c", "S"))
    t.add("udp :6000 from .77 (set udpd by destination)", IP(src=R, dst=H) / UDP(sport=1, dport=6000) / Raw(b"a"))
    t.add("udp :6001 from the gw (update: 1 hit < 2, no match and no hit added; policy)",
          IP(src=GW, dst=H) / UDP(sport=1, dport=6001) / Raw(b"b"))
    t.add("udp :6000 from the gw (update: still 1 hit; set adds the 2nd)", IP(src=GW, dst=H) / UDP(sport=2, dport=6000) / Raw(b"c"))
    t.add("udp :6000 from 10.0.0.50 (update: 2 hits -> DROP)", IP(src=N50, dst=H) / UDP(sport=3, dport=6000) / Raw(b"c"))
    t.add("broadcast udp", IP(src=N50, dst="255.255.255.255") / UDP(sport=1, dport=9) / Raw(b"d"))
    t.add("multicast 224.0.0.1", IP(src=GW, dst="224.0.0.1") / UDP(sport=1, dport=9) / Raw(b"e"))
    t.add("lo udp 127.0.0.1 (src LOCAL)", IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=1, dport=9) / Raw(b"f"))
    t.add("udp :5000 from eth0 (LOCAL --limit-iface-in)", IP(src=R, dst=H) / UDP(sport=1, dport=5000) / Raw(b"g"))
    t.add("udp :5000 from the LAN on eth1 (limit-iface-in fails)", IP(src=LANH, dst=H) / UDP(sport=1, dport=5000) / Raw(b"h"))
    t.add("forward internet -> lan (UNICAST)", IP(src=NET, dst=LANH) / UDP(sport=1, dport=9) / Raw(b"i"))
    t.add("forward to 10.0.0.255 (UNICAST here)", IP(src=N50, dst="10.0.0.255") / UDP(sport=137, dport=137) / Raw(b"j"))


@case("hm_match_limit_burst", """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p icmp -m limit --limit 1/hour --limit-burst 3 -j ACCEPT
-A INPUT -p udp -m udp --dport 7000 -m hashlimit --hashlimit-upto 1/hour --hashlimit-burst 2 --hashlimit-mode srcip --hashlimit-name perhost -j ACCEPT
-A INPUT -p udp -m udp --dport 7001 -m hashlimit --hashlimit-above 1/hour --hashlimit-burst 2 --hashlimit-mode srcip,dstport --hashlimit-name above --hashlimit-srcmask 24 -j DROP
-A INPUT -p udp -m udp --dport 7001 -j ACCEPT
-A INPUT -p udp -m udp --dport 7002 -m hashlimit --hashlimit-upto 1/hour --hashlimit-burst 1 --hashlimit-name perhost -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 --syn -m limit --limit 1/hour --limit-burst 2 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 --syn -m limit --limit 1/hour --limit-burst 2 -j REJECT --reject-with tcp-reset
COMMIT
""", notes="limit and hashlimit at 1/hour: only the burst counts within one replay, so the "
           "outcome does not depend on how fast the packets are injected. limit: 3 pings pass, "
           "then the bucket is empty; two rules with the same limit keep separate buckets. "
           "hashlimit: one bucket per source (--hashlimit-upto), --hashlimit-above with "
           "srcip/24 + dstport (10.0.0.50 shares 10.0.0.77's bucket); a second rule naming the "
           "same table 'perhost' uses the table's configuration (mode srcip, burst 2) and its "
           "buckets")
def _(t):
    for i in range(5):
        t.add("ping %d from .77 (limit burst 3)" % (i + 1),
              IP(src=R, dst=H) / ICMP(type=8, id=0x4200, seq=i + 1) / Raw(b"p" * 56))
    for i in range(3):
        t.add("udp :7000 %d from .77 (hashlimit burst 2 per source)" % (i + 1),
              IP(src=R, dst=H) / UDP(sport=41000 + i, dport=7000) / Raw(b"a"))
    for i in range(2):
        t.add("udp :7000 %d from the gw (own bucket)" % (i + 1),
              IP(src=GW, dst=H) / UDP(sport=41100 + i, dport=7000) / Raw(b"b"))
    for i in range(3):
        t.add("udp :7001 %d from .77 (above 2 -> DROP on the 3rd)" % (i + 1),
              IP(src=R, dst=H) / UDP(sport=41200 + i, dport=7001) / Raw(b"c"))
    t.add("udp :7001 from 10.0.0.50 (same /24 bucket: above -> DROP)",
          IP(src=N50, dst=H) / UDP(sport=41300, dport=7001) / Raw(b"d"))
    t.add("udp :7002 from .77 (table 'perhost': .77's bucket is empty -> policy)",
          IP(src=R, dst=H) / UDP(sport=41400, dport=7002) / Raw(b"e"))
    t.add("udp :7002 from 10.0.0.50 (new bucket in 'perhost' -> ACCEPT)",
          IP(src=N50, dst=H) / UDP(sport=41401, dport=7002) / Raw(b"f"))
    t.add("udp :7002 2 from 10.0.0.50 (the table's burst is 2, not the rule's 1 -> ACCEPT)",
          IP(src=N50, dst=H) / UDP(sport=41402, dport=7002) / Raw(b"g"))
    for i in range(4):
        t.add("ssh SYN %d from .77 (limit burst 2, then the second rule's own bucket)" % (i + 1),
              Tcp(R, 42000 + i, H, 22).pkt("c", "S"))
    t.add("ssh SYN 5 from .77 (both buckets empty -> policy)", Tcp(R, 42010, H, 22).pkt("c", "S"))


@case("hm_mark_connmark", """*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff
-A PREROUTING -m mark ! --mark 0x0 -j ACCEPT
-A PREROUTING -p tcp -m tcp --dport 22 -j MARK --set-xmark 0x22/0xffffffff
-A PREROUTING -s 10.0.0.0/24 -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x80/0xff
-A PREROUTING -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff
-A OUTPUT -p udp -j MARK --set-xmark 0x7/0xffffffff
-A OUTPUT -p icmp -j CONNMARK --set-xmark 0x5/0xffffffff
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate ESTABLISHED -m connmark --mark 0x22 -j LOG --log-prefix "ssh-est "
-A INPUT -m mark --mark 0x22 -j ACCEPT
-A INPUT -m connmark --mark 0x80/0xff -j ACCEPT
-A INPUT -m connmark --mark 0x5 -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A OUTPUT -m mark --mark 0x7 -j ACCEPT
-A OUTPUT -m connmark --mark 0x5
COMMIT
""", notes="MARK and CONNMARK: the mark set on a connection's first packet is saved to the "
           "entry and restored for later packets (also replies); MARK in OUTPUT; CONNMARK "
           "--set-xmark on an ICMP flow makes its reply match -m connmark; injected packets "
           "carry mark 0 when the user's rules run")
def _(t):
    c = Tcp(R, 53000, H, 22)
    c.handshake(t, "ssh in (mark 0x22 saved to the entry)")
    t.add("ssh data (mark restored)", c.pkt("c", "PA", b"x" * 10))
    w = Tcp(R, 53001, H, 80)
    w.handshake(t, "http from 10.0.0.0/24 (mark 0x80/0xff)")
    t.add("http from the internet (no mark: policy DROP)", Tcp(NET, 33100, H, 80).pkt("c", "S"))
    t.add("udp out (MARK 7 in mangle OUTPUT)", IP(src=H, dst=GW) / UDP(sport=40002, dport=53) / Raw(bytes(12)))
    t.add("its answer (ESTABLISHED, no mark)", IP(src=GW, dst=H) / UDP(sport=53, dport=40002) / Raw(bytes(20)))
    t.add("ping out (CONNMARK 5)", IP(src=H, dst=R) / ICMP(type=8, id=77, seq=1) / Raw(bytes(8)))
    t.add("pong (connmark 5)", IP(src=R, dst=H) / ICMP(type=0, id=77, seq=1) / Raw(bytes(8)))


@case("hm_mac_source", """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m mac --mac-source 52:54:00:00:00:99 -j DROP
-A INPUT -m mac ! --mac-source 52:54:00:00:00:01 -j REJECT --reject-with icmp-admin-prohibited
-A INPUT -p udp -j ACCEPT
COMMIT
""", extra_args=["--keep-src-mac"],
      notes="-m mac sees the captured source MAC only because the oracle ran with --keep-src-mac "
            "(see case.json oracle_args)")
def _(t):
    def frm(mac, sport):
        return Ether(src=mac, dst=MAC_HOST) / IP(src=R, dst=H) / UDP(sport=sport, dport=9) / Raw(b"m")
    t.add("from the known MAC :01 (ACCEPT)", frm("52:54:00:00:00:01", 1))
    t.add("from the banned MAC :99 (DROP)", frm("52:54:00:00:00:99", 2))
    t.add("from another MAC :42 (REJECT)", frm("52:54:00:00:00:42", 3))


@case("hm_nat_basic", """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.10:80
-A PREROUTING -i eth0 -p tcp -m tcp --dport 2222 -j REDIRECT --to-ports 22
-A PREROUTING -i eth0 -p udp -m udp --dport 5353 -j RETURN
-A OUTPUT -d 10.0.0.200/32 -p tcp -m tcp --dport 25 -j DNAT --to-destination 192.168.1.5:2525
-A POSTROUTING -s 192.168.1.0/24 -o eth0 -j MASQUERADE
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate DNAT -j ACCEPT
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -m conntrack --ctstate DNAT -d 192.168.1.10/32 -p tcp -m tcp --dport 80 -j ACCEPT
-A FORWARD -i eth1 -o eth0 -j ACCEPT
COMMIT
""", lan=[LAN], notes="DNAT port forward (8080 -> 192.168.1.10:80, --ctstate DNAT), REDIRECT 2222 -> "
                      "local :22, DNAT in OUTPUT, MASQUERADE for the LAN; the trace holds what is on "
                      "each wire (pre-NAT on the ingress side), replies come back to the translated "
                      "addresses; nat rules see only a connection's first packet")
def _(t):
    f = Tcp(NET, 34000, H, 8080)
    t.add("internet SYN to host:8080 (DNAT)", f.pkt("c", "S"))
    b = Tcp(NET, 34000, LANH, 80, cisn=f.nxt["c"] - 1)
    b.nxt["c"] = f.nxt["c"]
    t.add("lan server SYN-ACK (reply, un-DNATed on the way out)", b.pkt("s", "SA"))
    t.add("internet ACK to host:8080", f.pkt("c", "A", ack=b.nxt["s"]))
    t.add("internet data to host:8080", f.pkt("c", "PA", b"GET / HTTP/1.0\r\n\r\n", ack=b.nxt["s"]))
    r = Tcp(NET, 34001, H, 2222)
    t.add("internet SYN to host:2222 (REDIRECT to :22, --ctstate DNAT)", r.pkt("c", "S"))
    t.add("internet SYN to host:22 directly (no DNAT: policy DROP)", Tcp(NET, 34002, H, 22).pkt("c", "S"))
    m = Tcp(LANH, 45100, NET, 443)
    t.add("lan SYN out (MASQUERADE to 10.0.0.104)", m.pkt("c", "S"))
    back = Tcp(H, 45100, NET, 443, cisn=m.nxt["c"] - 1)
    back.nxt["c"] = m.nxt["c"]
    t.add("internet SYN-ACK to the masqueraded address (de-NAT, FORWARD)", back.pkt("s", "SA"))
    t.add("lan ACK", m.pkt("c", "A", ack=back.nxt["s"]))
    t.add("host SYN to 10.0.0.200:25 (DNAT in OUTPUT to 192.168.1.5:2525)", Tcp(H, 41000, "10.0.0.200", 25).pkt("c", "S"))
    t.add("udp :5353 (nat RETURN, nothing else)", IP(src=NET, dst=H) / UDP(sport=5353, dport=5353) / Raw(b"q"))


@case("hm_nat_ranges", """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -p tcp -m tcp --dport 9000 -j DNAT --to-destination 192.168.1.10:9000-9001
-A PREROUTING -i eth0 -p tcp -m tcp --dport 9002 -j DNAT --to-destination 192.168.1.10:9000-9001
-A PREROUTING -i eth0 -d 198.51.100.0/24 -j NETMAP --to 192.168.1.0/24
-A POSTROUTING -o eth1 -p udp -j MASQUERADE
COMMIT
""", lan=[LAN], notes="DNAT to a port range: the second connection whose reply would clash gets the "
                      "next port (nf_nat_l4proto_unique_tuple, destination manip); NETMAP keeps the "
                      "host bits; MASQUERADE out of eth1, which has no address of its own "
                      "(inet_select_addr falls back to eth0's)")
def _(t):
    t.add("SYN to :9000 (DNAT 192.168.1.10:9000)", Tcp(NET, 40000, H, 9000).pkt("c", "S"))
    t.add("same source to :9002 (reply would clash: next port 9001)", Tcp(NET, 40000, H, 9002).pkt("c", "S"))
    t.add("SYN to 198.51.100.7:80 (NETMAP to 192.168.1.7)", Tcp(NET, 40001, "198.51.100.7", 80).pkt("c", "S"))
    t.add("udp to a LAN host (MASQUERADE out of eth1)", IP(src=NET, dst="192.168.1.20") / UDP(sport=5000, dport=53) / Raw(b"q"))


@case("hm_nat_icmp_errors", """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -p udp -m udp --dport 5353 -j DNAT --to-destination 192.168.1.10:53
-A PREROUTING -i eth0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.10:80
-A POSTROUTING -s 192.168.1.30/32 -o eth0 -p udp -j SNAT --to-source 10.0.0.104:1123
-A POSTROUTING -s 192.168.1.0/24 -o eth0 -j MASQUERADE
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A INPUT -p icmp -m conntrack --ctstate RELATED -j ACCEPT
-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A FORWARD -p icmp -m conntrack --ctstate RELATED -m conntrack --ctstate DNAT -j ACCEPT
-A FORWARD -p icmp -m conntrack --ctstate RELATED -m conntrack --ctstate SNAT -j ACCEPT
-A FORWARD -p icmp -m conntrack --ctstate RELATED -j ACCEPT
-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT
-A FORWARD -i eth1 -o eth0 -j ACCEPT
COMMIT
""", lan=[LAN], notes="ICMP errors about NATed connections (nf_nat_icmp_reply_translation): the "
                      "outer header is de-NATed like the connection's packets and the quoted header "
                      "gets the other direction's tuple, both for a DNAT port forward (errors from "
                      "the LAN server and from the internet client) and for MASQUERADE (frag-needed, "
                      "port unreachable, time exceeded from the internet, an error from the LAN "
                      "host about a reply, and a SNAT that moved the port); a redirect about a NATed connection is dropped by NAT, "
                      "one about an un-NATed connection passes")
def _(t):
    srv, lanc = LANH, "192.168.1.20"
    dns = IP(src=NET, dst=H) / UDP(sport=5000, dport=5353) / Raw(b"\x12\x34\x01\x00" + bytes(13))
    t.add("internet udp to host:5353 (DNAT 192.168.1.10:53)", dns)
    at_srv = IP(src=NET, dst=srv) / UDP(sport=5000, dport=53) / Raw(b"\x12\x34\x01\x00" + bytes(13))
    t.add("lan server port unreachable quoting the DNATed datagram (egress: host address, quote "
          "un-DNATed)", IP(src=srv, dst=NET) / ICMP(type=3, code=3) / quote(at_srv))
    f = Tcp(NET, 34000, H, 8080)
    t.add("internet SYN to host:8080 (DNAT 192.168.1.10:80)", f.pkt("c", "S"))
    b = Tcp(NET, 34000, srv, 80, cisn=f.nxt["c"] - 1)
    b.nxt["c"] = f.nxt["c"]
    t.add("lan server SYN-ACK (un-DNATed on the way out)", b.pkt("s", "SA"))
    sa_out = f.pkt("s", "SA", seq=b.nxt["s"] - 1, ack=f.nxt["c"])
    t.add("internet frag-needed quoting the SYN-ACK as it left (at_filter: to the server, quote "
          "DNATed)", IP(src=NET, dst=H) / ICMP(type=3, code=4, nexthopmtu=1280) / quote(sa_out, 48))
    m = Tcp(lanc, 45100, "198.51.100.20", 443)
    t.add("lan SYN out (MASQUERADE to 10.0.0.104)", m.pkt("c", "S"))
    m_out = IP(src=H, dst="198.51.100.20") / TCP(sport=45100, dport=443, flags="S", seq=1000000)
    t.add("router frag-needed to the host quoting the masqueraded SYN (at_filter: to the lan "
          "client, quote de-NATed)",
          IP(src="198.51.100.1", dst=H) / ICMP(type=3, code=4, nexthopmtu=1400) / quote(m_out))
    t.add("router time exceeded quoting it", IP(src="198.51.100.1", dst=H) / ICMP(type=11, code=0) / quote(m_out))
    q = IP(src=lanc, dst="198.51.100.53") / UDP(sport=6000, dport=53) / Raw(b"\x56\x78\x01\x00" + bytes(13))
    t.add("lan dns query (MASQUERADE)", q)
    q_out = IP(src=H, dst="198.51.100.53") / UDP(sport=6000, dport=53) / Raw(b"\x56\x78\x01\x00" + bytes(13))
    t.add("port unreachable from the server quoting the masqueraded query",
          IP(src="198.51.100.53", dst=H) / ICMP(type=3, code=3) / quote(q_out))
    t.add("dns reply to the host (de-NAT to the lan client)",
          IP(src="198.51.100.53", dst=H) / UDP(sport=53, dport=6000) / Raw(b"\x56\x78\x81\x80" + bytes(13)))
    r_in = IP(src="198.51.100.53", dst=lanc) / UDP(sport=53, dport=6000) / Raw(b"\x56\x78\x81\x80" + bytes(13))
    t.add("lan client port unreachable about the reply (egress: host address, quote NATed)",
          IP(src=lanc, dst="198.51.100.53") / ICMP(type=3, code=3) / quote(r_in))
    t.add("lan udp from 192.168.1.30:6000 (SNAT to the one port 1123)",
          IP(src="192.168.1.30", dst="198.51.100.53") / UDP(sport=6000, dport=53) / Raw(b"q"))
    t.add("port unreachable quoting it as it left (quote: address and port de-NATed)",
          IP(src="198.51.100.53", dst=H) / ICMP(type=3, code=3) /
          quote(IP(src=H, dst="198.51.100.53") / UDP(sport=1123, dport=53) / Raw(b"q")))
    t.add("gateway redirect about the masqueraded flow (NAT drops it)",
          IP(src=GW, dst=H) / ICMP(type=5, code=1, gw=N50) / quote(m_out))
    own = IP(src=H, dst=R) / UDP(sport=41000, dport=514) / Raw(b"log")
    t.add("host's own datagram (null bindings only)", own)
    t.add("gateway redirect about it (not NATed: passes)", IP(src=GW, dst=H) / ICMP(type=5, code=1, gw=N50) / quote(own))


# The shape of Docker's own rules (docker 20+, one bridge): the container bridge is eth1 with the
# LAN 192.168.1.0/24, published ports are DNATs in the DOCKER chain of nat, containers are
# MASQUERADEd out of every other interface, and the filter's DOCKER chain accepts exactly the
# published container ports.
DOCKER_RULES = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 192.168.1.0/24 ! -o eth1 -j MASQUERADE
-A POSTROUTING -s 192.168.1.10/32 -d 192.168.1.10/32 -p tcp -m tcp --dport 80 -j MASQUERADE
-A POSTROUTING -s 192.168.1.12/32 -d 192.168.1.12/32 -p udp -m udp --dport 53 -j MASQUERADE
-A DOCKER -i eth1 -j RETURN
-A DOCKER ! -i eth1 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.10:80
-A DOCKER ! -i eth1 -p tcp -m tcp --dport 8443 -j DNAT --to-destination 192.168.1.10:443
-A DOCKER ! -i eth1 -p tcp -m tcp --dport 5432 -j DNAT --to-destination 192.168.1.11:5432
-A DOCKER ! -i eth1 -p udp -m udp --dport 5353 -j DNAT --to-destination 192.168.1.12:53
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o eth1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o eth1 -j DOCKER
-A FORWARD -i eth1 ! -o eth1 -j ACCEPT
-A FORWARD -i eth1 -o eth1 -j ACCEPT
-A DOCKER -d 192.168.1.10/32 ! -i eth1 -o eth1 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER -d 192.168.1.10/32 ! -i eth1 -o eth1 -p tcp -m tcp --dport 443 -j ACCEPT
-A DOCKER -d 192.168.1.11/32 ! -i eth1 -o eth1 -p tcp -m tcp --dport 5432 -j ACCEPT
-A DOCKER -d 192.168.1.12/32 ! -i eth1 -o eth1 -p udp -m udp --dport 53 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i eth1 ! -o eth1 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o eth1 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -s 198.51.100.66/32 -j DROP
-A DOCKER-USER -j RETURN
COMMIT
"""


@case("hm_docker_port_maps", DOCKER_RULES, lan=[LAN],
      notes="Docker-style published ports (DNAT in the nat DOCKER chain, jumped to for local "
            "destinations from PREROUTING and OUTPUT) and MASQUERADE of the container bridge: "
            "sessions to two published TCP ports and a UDP one, a port that is not published, "
            "a DOCKER-USER block, container egress with replies, two containers using the same "
            "source port to the same server (the second is moved: port chosen at random, masked), "
            "the host reaching a published port through OUTPUT, a container reaching a "
            "published port of the host (DOCKER RETURN for the bridge: INPUT), and a ping")
def _(t):
    web, db, dns = "192.168.1.10", "192.168.1.11", "192.168.1.12"
    for cport, hport, ctr, port in ((41000, 8080, web, 80), (41001, 8443, web, 443), (41002, 5432, db, 5432)):
        f = Tcp(NET, cport, H, hport)
        t.add("internet SYN to host:%d (published: %s:%d)" % (hport, ctr, port), f.pkt("c", "S"))
        b = Tcp(NET, cport, ctr, port, cisn=f.nxt["c"] - 1)
        b.nxt["c"] = f.nxt["c"]
        t.add("container SYN-ACK", b.pkt("s", "SA"))
        t.add("internet ACK", f.pkt("c", "A", ack=b.nxt["s"]))
        t.add("internet data", f.pkt("c", "PA", b"hello %d\r\n" % hport, ack=b.nxt["s"]))
        t.add("container data", b.pkt("s", "PA", b"ok\r\n", ack=f.nxt["c"]))
        f.nxt["s"] = b.nxt["s"]
        t.add("internet FIN", f.pkt("c", "FA"))
        b.nxt["c"] = f.nxt["c"]
        t.add("container FIN", b.pkt("s", "FA"))
        f.nxt["s"] = b.nxt["s"]
        t.add("internet last ACK", f.pkt("c", "A"))
    q = IP(src=NET, dst=H) / UDP(sport=5300, dport=5353) / Raw(b"\x00\x01\x01\x00" + bytes(13))
    t.add("internet udp to host:5353 (published: 192.168.1.12:53)", q)
    t.add("container udp reply (un-DNATed)",
          IP(src=dns, dst=NET) / UDP(sport=53, dport=5300) / Raw(b"\x00\x01\x81\x80" + bytes(13)))
    t.add("internet SYN to host:9000 (not published: INPUT)", Tcp(NET, 41003, H, 9000).pkt("c", "S"))
    t.add("blocked source in DOCKER-USER", Tcp("198.51.100.66", 41004, H, 8080).pkt("c", "S"))
    t.add("SYN straight to a container port not published (FORWARD DROP)",
          Tcp(NET, 41005, db, 22).pkt("c", "S"))
    e1 = Tcp(web, 50000, "198.51.100.20", 443)
    t.add("container egress SYN (MASQUERADE)", e1.pkt("c", "S"))
    r1 = Tcp(web, 50000, "198.51.100.20", 443)
    r1.addr["c"] = (H, 50000)
    r1.nxt = dict(e1.nxt)
    t.add("server SYN-ACK to the host address (de-NAT)", r1.pkt("s", "SA"))
    e1.nxt["s"] = r1.nxt["s"]
    t.add("container ACK", e1.pkt("c", "A"))
    t.add("second container, same source port to the same server (port moved)",
          Tcp(db, 50000, "198.51.100.20", 443).pkt("c", "S"))
    t.add("container dns query out (MASQUERADE)",
          IP(src=dns, dst="198.51.100.53") / UDP(sport=33000, dport=53) / Raw(b"\x00\x02\x01\x00" + bytes(13)))
    t.add("its reply", IP(src="198.51.100.53", dst=H) / UDP(sport=53, dport=33000) / Raw(b"\x00\x02\x81\x80" + bytes(13)))
    t.add("container ping out", IP(src=web, dst="198.51.100.20") / ICMP(type=8, id=77, seq=1) / Raw(bytes(16)))
    t.add("ping reply", IP(src="198.51.100.20", dst=H) / ICMP(type=0, id=77, seq=1) / Raw(bytes(16)))
    t.add("host SYN to its own published port (OUTPUT DNAT to the container)",
          Tcp(H, 42000, H, 8080).pkt("c", "S"))
    t.add("container SYN to the host's published port (DOCKER RETURN for the bridge: INPUT)",
          Tcp(db, 42001, H, 8080).pkt("c", "S"))


@case("hm_nat_source_selection", """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 10.0.0.104/32 -i eth0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 192.168.1.10-192.168.1.14
-A PREROUTING -d 10.0.0.104/32 -i eth0 -p tcp -m tcp --dport 443 -j DNAT --to-destination 192.168.1.10-192.168.1.14:8443-8444
-A PREROUTING -d 10.0.0.104/32 -i eth0 -p tcp -m tcp --dport 22 -j DNAT --to-destination 192.168.1.30-192.168.1.37 --persistent
-A POSTROUTING -s 192.168.1.0/24 -o eth0 -p udp -j SNAT --to-source 203.0.113.100-203.0.113.107
-A POSTROUTING -s 192.168.1.0/24 -o eth0 -p tcp -j SNAT --to-source 203.0.113.100-203.0.113.107 --persistent
-A POSTROUTING -s 192.168.1.0/24 -o eth0 -p icmp -j SNAT --to-source 203.0.113.120-203.0.113.121
COMMIT
""", lan=[LAN], notes="address selection in NAT ranges (find_best_ips_proto: jhash2 of the source "
                      "address seeded with the destination, or with 0 under --persistent): SNAT of "
                      "many LAN hosts to 8 addresses, the same LAN source to several servers (the "
                      "first mapping is reused: find_appropriate_src), --persistent, DNAT of many "
                      "clients to 5 servers, a DNAT port range the port is outside of")
def _(t):
    dns = ["198.51.100.%d" % i for i in (53, 54, 55, 56)]
    for h in range(5, 17):
        t.add("udp from 192.168.1.%d (SNAT range)" % h,
              IP(src="192.168.1.%d" % h, dst=dns[0]) / UDP(sport=5000 + h, dport=53) / Raw(b"q"))
    for d in dns[1:]:
        t.add("udp from 192.168.1.5:5005 again to %s (mapping reused)" % d,
              IP(src="192.168.1.5", dst=d) / UDP(sport=5005, dport=53) / Raw(b"q"))
        t.add("udp from 192.168.1.7:6000 to %s (new source port: hashed per destination)" % d,
              IP(src="192.168.1.7", dst=d) / UDP(sport=6000 + int(d.split(".")[3]), dport=53) / Raw(b"q"))
    for i, d in enumerate(["198.51.100.80", "203.0.113.80", "8.8.8.8", "1.1.1.1"]):
        t.add("tcp SYN from 192.168.1.9 to %s (--persistent: one address)" % d,
              Tcp("192.168.1.9", 40000 + i, d, 443).pkt("c", "S"))
        t.add("ping from 192.168.1.%d to %s" % (20 + i, d),
              IP(src="192.168.1.%d" % (20 + i), dst=d) / ICMP(type=8, id=300 + i, seq=1) / Raw(bytes(8)))
    for i in range(10):
        src = "198.51.100.%d" % (100 + 13 * i)
        t.add("SYN from %s to host:80 (DNAT range)" % src, Tcp(src, 41000 + i, H, 80).pkt("c", "S"))
        t.add("SYN from %s to host:443 (DNAT range, port 8443)" % src, Tcp(src, 42000 + i, H, 443).pkt("c", "S"))
        t.add("SYN from %s to host:22 (DNAT range, --persistent)" % src, Tcp(src, 43000 + i, H, 22).pkt("c", "S"))


@case("hm_nat_misc", """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -p tcp -m tcp --dport 8000 -j REDIRECT --to-ports 8100-8101
-A PREROUTING -i eth0 -p tcp -m tcp --dport 2200 -j DNAT --to-destination 10.0.0.104:22
-A PREROUTING -i eth0 -p icmp -m icmp --icmp-type 8 -d 10.0.0.104/32 -j DNAT --to-destination 192.168.1.10
-A PREROUTING -i eth0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.10:80
-A PREROUTING -i eth0 -p udp -m udp --dport 5000 -j DNAT --to-destination 192.168.1.10:5000 --random
-A INPUT -s 203.0.113.10/32 -p tcp -m tcp --dport 22 -j SNAT --to-source 10.0.0.50
-A POSTROUTING -o eth0 -p udp -m udp --sport 123 -j SNAT --to-source 10.0.0.104:1123
-A POSTROUTING -s 192.168.1.32/27 -o eth0 -j NETMAP --to 198.18.0.32/27
-A POSTROUTING -s 192.168.1.64/26 -o eth0 -p udp -j MASQUERADE --to-ports 20000-20010
-A POSTROUTING -s 192.168.1.128/25 -o eth0 -p udp -j SNAT --to-source 10.0.0.104 --random
COMMIT
""", lan=[LAN], notes="less common NAT: REDIRECT to a port range (the second clashing connection "
                      "gets the next port), DNAT to a local port (INPUT), ping DNAT, DNAT --random "
                      "to one port, SNAT in nat INPUT (the host's answer is de-SNATed in OUTPUT), "
                      "SNAT of the host's own packets to a fixed port, NETMAP in POSTROUTING, "
                      "MASQUERADE --to-ports keeping a port in its range, SNAT --random (port drawn "
                      "at random, masked), and "
                      "a direct connection whose reply tuple clashes with a DNATed one (the null "
                      "binding moves its source port)")
def _(t):
    t.add("SYN to host:8000 (REDIRECT 8100)", Tcp(NET, 41000, H, 8000).pkt("c", "S"))
    t.add("SYN from another client to host:8000 (REDIRECT 8100)", Tcp("198.51.100.7", 41000, H, 8000).pkt("c", "S"))
    t.add("SYN to host:2200 (DNAT to local :22)", Tcp(NET, 41001, H, 2200).pkt("c", "S"))
    t.add("ping the host (DNAT to 192.168.1.10)", IP(src=NET, dst=H) / ICMP(type=8, id=9, seq=1) / Raw(bytes(8)))
    t.add("echo reply from 192.168.1.10 (un-DNATed)", IP(src=LANH, dst=NET) / ICMP(type=0, id=9, seq=1) / Raw(bytes(8)))
    t.add("udp to host:5000 (DNAT --random to one port)", IP(src=NET, dst=H) / UDP(sport=5001, dport=5000) / Raw(b"x"))
    ssh = Tcp(NET, 41002, H, 22)
    t.add("SYN to host:22 from 203.0.113.10 (SNAT in nat INPUT to 10.0.0.50)", ssh.pkt("c", "S"))
    back = Tcp("10.0.0.50", 41002, H, 22, cisn=ssh.nxt["c"] - 1)
    back.nxt["c"] = ssh.nxt["c"]
    t.add("host SYN-ACK to 10.0.0.50 (de-SNAT in OUTPUT: to 203.0.113.10)", back.pkt("s", "SA"))
    t.add("client ACK", ssh.pkt("c", "A", ack=back.nxt["s"]))
    t.add("host ntp query from :123 (SNAT to :1123)", IP(src=H, dst="198.51.100.123") / UDP(sport=123, dport=123) / Raw(bytes(48)))
    t.add("ntp reply to host:1123 (de-SNAT to :123)", IP(src="198.51.100.123", dst=H) / UDP(sport=123, dport=1123) / Raw(bytes(48)))
    t.add("lan 192.168.1.40 out (NETMAP 198.18.0.40)", IP(src="192.168.1.40", dst="198.51.100.9") / UDP(sport=7000, dport=53) / Raw(b"q"))
    t.add("reply to 198.18.0.40 (de-NETMAP)", IP(src="198.51.100.9", dst="198.18.0.40") / UDP(sport=53, dport=7000) / Raw(b"a"))
    # (A port outside the --to-ports range would be drawn at random from its 11 ports, and the
    # oracle's masking of that port would make kernel.json vary between runs.)
    t.add("lan 192.168.1.70 udp :20005 (MASQUERADE --to-ports, in the range: kept)",
          IP(src="192.168.1.70", dst="198.51.100.9") / UDP(sport=20005, dport=53) / Raw(b"q"))
    t.add("lan 192.168.1.200 udp (SNAT --random)", IP(src="192.168.1.200", dst="198.51.100.9") / UDP(sport=7001, dport=53) / Raw(b"q"))
    t.add("SYN to host:8080 from 203.0.113.10:41003 (DNAT 192.168.1.10:80)", Tcp(NET, 41003, H, 8080).pkt("c", "S"))
    t.add("SYN from 203.0.113.10:41003 straight to 192.168.1.10:80 (reply clashes: source port moved)",
          Tcp(NET, 41003, LANH, 80).pkt("c", "S"))


@case("hm_nat_fragments", """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -p udp -m udp --dport 6000 -j DNAT --to-destination 192.168.1.10:7000
-A POSTROUTING -s 192.168.1.0/24 -o eth0 -j MASQUERADE
COMMIT
""", lan=[LAN], notes="fragmented datagrams through NAT: conntrack reassembles them before the nat "
                      "table, so the whole datagram is DNATed or MASQUERADEd and refragmented on "
                      "egress; the records are the captured fragments")
def _(t):
    for i, (_o, f) in enumerate(frags(big_udp(6020, 2500, src=NET, dst=H, dport=6000), [1480, 1028], 0x6001)):
        t.add("internet -> host:6000 (DNAT) fragment %d of 2" % (i + 1), f)
    for i, (_o, f) in enumerate(frags(big_udp(6021, 2500, src="192.168.1.20", dst=NET, dport=7000), [1480, 1028], 0x6002)):
        t.add("lan -> internet (MASQUERADE) fragment %d of 2" % (i + 1), f)
    for i, (_o, f) in enumerate(frags(big_udp(7000, 2500, src=NET, dst=H, dport=6021), [1024, 1484], 0x6003)[::-1]):
        t.add("reply to the masqueraded address, fragments out of order (%d)" % (i + 1), f)


# The shape of kube-proxy's iptables mode (corpus kube-proxy-iptables-overall.v4), on the oracle's
# interfaces: pods are the LAN behind eth1, services are virtual addresses in 172.30.0.0/24,
# KUBE-MARK-MASQ marks what KUBE-POSTROUTING must MASQUERADE.  Random endpoint selection
# (-m statistic) and session affinity (recent --seconds) are left out: they depend on chance and
# time.
KUBE_RULES = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-EXT-SVC2 - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-POD11 - [0:0]
:KUBE-SEP-POD12 - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-SVC1 - [0:0]
:KUBE-SVC-SVC2 - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-EXT-SVC2 -m comment --comment "masquerade traffic for ns2/svc2:p80 external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-SVC2 -j KUBE-SVC-SVC2
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-NODEPORTS -p tcp -m comment --comment "ns2/svc2:p80" -m tcp --dport 30080 -j KUBE-EXT-SVC2
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
-A KUBE-SEP-POD11 -s 192.168.1.11/32 -m comment --comment "ns1/svc1:p80" -j KUBE-MARK-MASQ
-A KUBE-SEP-POD11 -p tcp -m comment --comment "ns1/svc1:p80" -m tcp -j DNAT --to-destination 192.168.1.11:80
-A KUBE-SEP-POD12 -s 192.168.1.12/32 -m comment --comment "ns2/svc2:p80" -j KUBE-MARK-MASQ
-A KUBE-SEP-POD12 -p tcp -m comment --comment "ns2/svc2:p80" -m tcp -j DNAT --to-destination 192.168.1.12:8080
-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-SVC1
-A KUBE-SERVICES -d 172.30.0.42/32 -p tcp -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-SVC2
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-SVC-SVC1 ! -s 192.168.0.0/16 -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-SVC1 -m comment --comment "ns1/svc1:p80 -> 192.168.1.11:80" -j KUBE-SEP-POD11
-A KUBE-SVC-SVC2 ! -s 192.168.0.0/16 -d 172.30.0.42/32 -p tcp -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-SVC2 -m comment --comment "ns2/svc2:p80 -> 192.168.1.12:8080" -j KUBE-SEP-POD12
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FORWARD - [0:0]
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -s 192.168.1.0/24 -j ACCEPT
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
"""


@case("hm_kube_proxy_shape", KUBE_RULES, lan=[LAN],
      notes="kube-proxy's iptables shape: a ClusterIP reached by the host (OUTPUT DNAT, marked "
            "for MASQUERADE), by a pod (no masquerade) and by its own endpoint (hairpin: "
            "MASQUERADE out of eth1, which has no address, takes eth0's), a NodePort from the "
            "internet (DNAT + MASQUERADE), the mark set in nat PREROUTING seen by filter "
            "FORWARD, replies de-NATed twice")
def _(t):
    h = Tcp(H, 45000, "172.30.0.41", 80)
    t.add("host SYN to ClusterIP 172.30.0.41:80 (DNAT in OUTPUT to 192.168.1.11)", h.pkt("c", "S"))
    hb = Tcp(H, 45000, "192.168.1.11", 80, cisn=h.nxt["c"] - 1)
    hb.nxt["c"] = h.nxt["c"]
    t.add("pod SYN-ACK to the host", hb.pkt("s", "SA"))
    p = Tcp("192.168.1.20", 46000, "172.30.0.41", 80)
    t.add("pod 192.168.1.20 SYN to the ClusterIP (DNAT, no masquerade)", p.pkt("c", "S"))
    pb = Tcp("192.168.1.20", 46000, "192.168.1.11", 80, cisn=p.nxt["c"] - 1)
    pb.nxt["c"] = p.nxt["c"]
    t.add("endpoint SYN-ACK (un-DNATed)", pb.pkt("s", "SA"))
    p.nxt["s"] = pb.nxt["s"]
    t.add("pod ACK", p.pkt("c", "A"))
    hp = Tcp("192.168.1.11", 47000, "172.30.0.41", 80)
    t.add("endpoint SYN to its own service (hairpin: DNAT to itself + MASQUERADE)", hp.pkt("c", "S"))
    hpb = Tcp(H, 47000, "192.168.1.11", 80, cisn=hp.nxt["c"] - 1)
    hpb.nxt["c"] = hp.nxt["c"]
    t.add("its SYN-ACK to the masquerading address", hpb.pkt("s", "SA"))
    n = Tcp(NET, 48000, H, 30080)
    t.add("internet SYN to NodePort host:30080 (DNAT 192.168.1.12:8080 + MASQUERADE)", n.pkt("c", "S"))
    nb = Tcp(H, 48000, "192.168.1.12", 8080, cisn=n.nxt["c"] - 1)
    nb.nxt["c"] = n.nxt["c"]
    t.add("endpoint SYN-ACK to the host address (de-NAT both ways)", nb.pkt("s", "SA"))
    n.nxt["s"] = nb.nxt["s"]
    t.add("internet ACK", n.pkt("c", "A"))
    t.add("internet SYN to the ClusterIP of svc2 (DNAT + masquerade)", Tcp(NET, 48001, "172.30.0.42", 80).pkt("c", "S"))
    t.add("internet SYN to a port of the host that is no NodePort", Tcp(NET, 48002, H, 30081).pkt("c", "S"))


# ----------------------------------------------------------------------------------------------
# conntrack helpers (attached explicitly with -j CT --helper: nf_conntrack_helper auto-assignment
# no longer exists)
# ----------------------------------------------------------------------------------------------
@case("hm_ftp_helper", """*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -d 10.0.0.77/32 -p tcp -m tcp --dport 21 -j CT --helper ftp
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED -m helper --helper ftp -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED -j LOG --log-prefix "related-other "
-A OUTPUT -m conntrack --ctstate RELATED -m helper --helper ftp -j LOG --log-prefix "out-related "
COMMIT
""", notes="FTP helper on the host's control connection to 10.0.0.77: PORT, EPRT, PASV and EPSV "
           "each open a RELATED data connection (-m helper --helper ftp matches it); a PORT "
           "naming a third host creates no expectation; a second control connection to "
           "10.0.0.1 has no helper, so its data SYN is NEW and dropped")
def _(t):
    c = Tcp(H, 40021, R, 21)
    c.handshake(t, "ftp control")

    def line(side, text, label):
        t.add(label, c.pkt(side, "PA", text.encode()))

    line("s", "220 ready\r\n", "banner (first server line: never parsed)")
    line("c", "USER anonymous\r\n", "USER (first client line: never parsed)")
    line("s", "331 password\r\n", "331")
    line("c", "PASS x\r\n", "PASS")
    line("s", "230 logged in\r\n", "230")
    line("c", "PORT 10,0,0,104,156,64\r\n", "PORT 10.0.0.104:40000 (expectation)")
    line("s", "200 PORT ok\r\n", "200")
    d = Tcp(R, 20, H, 40000, cisn=30000000, sisn=31000000)
    d.handshake(t, "active data conn from :20 (RELATED)")
    t.add("active data", d.pkt("c", "PA", b"file contents\n"))
    line("c", "EPRT |1|10.0.0.104|40001|\r\n", "EPRT 10.0.0.104:40001 (expectation)")
    line("s", "200 EPRT ok\r\n", "200")
    d = Tcp(R, 20, H, 40001, cisn=32000000, sisn=33000000)
    t.add("EPRT data SYN (RELATED)", d.pkt("c", "S"))
    t.add("host SYN-ACK", d.pkt("s", "SA"))
    line("c", "PASV\r\n", "PASV")
    line("s", "227 Entering Passive Mode (10,0,0,77,195,80)\r\n", "227 -> 10.0.0.77:50000 (expectation)")
    p = Tcp(H, 40002, R, 50000, cisn=34000000, sisn=35000000)
    t.add("passive data SYN out (RELATED)", p.pkt("c", "S"))
    t.add("its SYN-ACK", p.pkt("s", "SA"))
    line("c", "EPSV\r\n", "EPSV")
    line("s", "229 Entering Extended Passive Mode (|||50001|)\r\n", "229 -> port 50001 (expectation)")
    e = Tcp(H, 40003, R, 50001, cisn=36000000, sisn=37000000)
    t.add("EPSV data SYN out (RELATED)", e.pkt("c", "S"))
    t.add("its SYN-ACK", e.pkt("s", "SA"))
    line("c", "PORT 10,0,0,50,156,66\r\n", "PORT naming 10.0.0.50 (bounce: no expectation)")
    line("s", "200 PORT ok\r\n", "200")
    t.add("data SYN from :20 to 10.0.0.104:40002 (nothing expected: NEW)", Tcp(R, 20, H, 40002).pkt("c", "S"))
    o = Tcp(H, 40022, GW, 21)
    o.handshake(t, "control to 10.0.0.1 without helper")
    t.add("USER", o.pkt("c", "PA", b"USER a\r\n"))
    t.add("331", o.pkt("s", "PA", b"331 pw\r\n"))
    t.add("PORT 10.0.0.104:40004 (no helper)", o.pkt("c", "PA", b"PORT 10,0,0,104,156,68\r\n"))
    t.add("data SYN from 10.0.0.1:20 (NEW, dropped)", Tcp(GW, 20, H, 40004).pkt("c", "S"))


@case("hm_ftp_edges", """*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -d 10.0.0.77/32 -p tcp -m tcp --dport 21 -j CT --helper ftp
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --sport 21 -m length --length 86 -j DROP
-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED -m helper --helper ftp -j ACCEPT
COMMIT
""", notes="FTP helper edge cases: a PORT split over two segments (the first half is a partial "
           "match and is dropped by the helper, the rest does not follow a newline), a lowercase "
           "port command, a PORT after another command in the same segment, a PORT ending in a "
           "bare newline (partial: dropped), an out-of-window PORT (INVALID: never parsed), two "
           "PORTs in a row (the second replaces the first expectation), a 227 reply dropped by "
           "the filter (no expectation, and the reply direction's newline chain is broken)")
def _(t):
    c = Tcp(H, 40031, R, 21)
    c.handshake(t, "ftp control")

    def line(side, text, label, **kw):
        t.add(label, c.pkt(side, "PA", text.encode(), **kw))

    def data_syn(port, label, isn):
        d = Tcp(R, 20, H, port, cisn=isn, sisn=isn + 500000)
        t.add(label, d.pkt("c", "S"))

    line("s", "220 ready\r\n", "banner (never parsed)")
    line("c", "USER anonymous\r\n", "USER (never parsed)")
    line("s", "331 password\r\n", "331")
    line("c", "PORT 10,0,0,104,", "first half of a split PORT (partial match: dropped by the helper)", advance=False)
    line("c", "PORT 10,0,0,104,156,64\r\n", "the whole PORT at the same seq (follows the USER line: expectation)")
    data_syn(40000, "data SYN to :40000", 40000000)
    line("s", "200 ok\r\n", "200")
    line("c", "port 10,0,0,104,156,65\r\n", "lowercase port (case-insensitive: expectation)")
    data_syn(40001, "data SYN to :40001", 41000000)
    line("s", "200 ok\r\n", "200")
    line("c", "NOOP\r\nPORT 10,0,0,104,156,66\r\n", "PORT after NOOP in one segment (only the start is parsed)")
    data_syn(40002, "data SYN to :40002 (nothing expected)", 42000000)
    line("c", "PORT 10,0,0,104,156,67\n", "PORT ending in a bare newline (partial: dropped)", advance=False)
    line("c", "PORT 10,0,0,104,156,68\r\n", "out-of-window PORT (INVALID)", seq=c.nxt["c"] + 3000000)
    data_syn(40004, "data SYN to :40004 (nothing expected)", 44000000)
    line("c", "PORT 10,0,0,104,156,69\r\n", "PORT :40005")
    line("c", "PORT 10,0,0,104,156,70\r\n", "PORT :40006 (replaces :40005)")
    data_syn(40005, "data SYN to :40005 (replaced: NEW)", 45000000)
    data_syn(40006, "data SYN to :40006 (RELATED)", 46000000)
    line("c", "PASV\r\n", "PASV")
    line("s", "227 Entering Passive Mode (10,0,0,77,195,82)\r\n", "227 dropped by the filter (length rule)")
    p = Tcp(H, 40010, R, 50002, cisn=47000000, sisn=47500000)
    t.add("passive data SYN to :50002 (nothing expected)", p.pkt("c", "S"))
    t.add("its SYN-ACK", p.pkt("s", "SA"))
    line("c", "EPSV\r\n", "EPSV")
    line("s", "229 Entering Extended Passive Mode (|||50003|)\r\n", "229 after a reply that was dropped (not after a recorded newline: not parsed)")
    e = Tcp(H, 40011, R, 50003, cisn=48000000, sisn=48500000)
    t.add("EPSV data SYN (nothing expected)", e.pkt("c", "S"))


@case("hm_tftp_edges", """*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -p udp -m udp --dport 69 -j CT --helper tftp
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED -m helper --helper tftp -j ACCEPT
COMMIT
""", notes="TFTP helper edge cases: a write request expects the server's ACK from a new port; a "
           "retransmitted read request replaces its expectation, which is used once (a second new "
           "port is NEW); an answer from another address is NEW; an answer from port 69 itself "
           "is the master's reply and leaves the expectation for the later data")
def _(t):
    def udp(src, sport, dst, dport, payload):
        return IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(payload)
    rrq = b"\x00\x01boot.img\x00octet\x00"
    wrq = b"\x00\x02up.bin\x00octet\x00"
    data = b"\x00\x03\x00\x01" + bytes(64)
    t.add("WRQ from :40080", udp(H, 40080, R, 69, wrq))
    t.add("ACK 0 from 10.0.0.77:50200 (RELATED)", udp(R, 50200, H, 40080, b"\x00\x04\x00\x00"))
    t.add("RRQ from :40081", udp(H, 40081, R, 69, rrq))
    t.add("RRQ retransmitted (replaces the expectation)", udp(H, 40081, R, 69, rrq))
    t.add("DATA 1 from :50201 (RELATED)", udp(R, 50201, H, 40081, data))
    t.add("DATA 1 from :50202 (expectation used: NEW, dropped)", udp(R, 50202, H, 40081, data))
    t.add("RRQ from :40082", udp(H, 40082, R, 69, rrq))
    t.add("DATA 1 from 10.0.0.1:50203 (wrong address: NEW, dropped)", udp(GW, 50203, H, 40082, data))
    t.add("RRQ from :40083", udp(H, 40083, R, 69, rrq))
    t.add("ERROR from 10.0.0.77:69 (the master's reply)", udp(R, 69, H, 40083, b"\x00\x05\x00\x01busy\x00"))
    t.add("DATA 1 from :50204 (still expected: RELATED)", udp(R, 50204, H, 40083, data))


def ftp_session(t, name, cli, srv, wire_cli, wire_srv, lines):
    """An FTP control session whose two halves are seen on different sides of NAT.  `cli`/`srv`
    are (addr, port) as the client and the server send them; `wire_cli` is the client's address
    as the server sees it (after SNAT), `wire_srv` the server's as the client sees it (before
    DNAT).  `lines` are (side, text, delta): `delta` is how much nf_nat_ftp lengthens the line on
    its way (the peer's acks count the rewritten bytes).  Returns the next sequence numbers."""
    cs, ss, coff, soff = 1000, 5000, 0, 0     # coff: client bytes added by NAT (server's view)

    def c(flags, data=b""):
        return IP(src=cli[0], dst=wire_srv[0]) / TCP(sport=cli[1], dport=wire_srv[1], flags=flags,
                                                    seq=cs, ack=ss + soff if "A" in flags else 0,
                                                    window=502) / (Raw(data) if data else b"")

    def s_(flags, data=b""):
        return IP(src=srv[0], dst=wire_cli[0]) / TCP(sport=srv[1], dport=wire_cli[1], flags=flags,
                                                    seq=ss, ack=cs + coff, window=502) / (Raw(data) if data else b"")
    t.add(name + ": SYN", c("S"))
    cs += 1
    t.add(name + ": SYN-ACK", s_("SA"))
    ss += 1
    t.add(name + ": ACK", c("A"))
    for side, text, delta in lines:
        data = text.encode() + b"\r\n"
        if side == "c":
            t.add("%s: client %r" % (name, text), c("PA", data))
            cs += len(data)
            coff += delta
        else:
            t.add("%s: server %r" % (name, text), s_("PA", data))
            ss += len(data)
            soff += delta


def ftp_data(t, name, src, dst, back):
    """The first packets of a data connection: SYN from `src` to `dst` as sent, SYN-ACK from
    `back` (the answering side's own address and port) to `src`."""
    t.add(name + ": SYN", IP(src=src[0], dst=dst[0]) / TCP(sport=src[1], dport=dst[1], flags="S", seq=7000, window=502))
    t.add(name + ": SYN-ACK", IP(src=back[0], dst=src[0]) / TCP(sport=back[1], dport=src[1], flags="SA", seq=9000,
                                                               ack=7001, window=502))
    t.add(name + ": ACK", IP(src=src[0], dst=dst[0]) / TCP(sport=src[1], dport=dst[1], flags="A", seq=7001, ack=9001,
                                                           window=502))


@case("hm_ftp_nat", """*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 21 -j CT --helper ftp
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN
-A PREROUTING -d 10.0.0.104/32 -i eth0 -p tcp -m tcp --dport 21 -j DNAT --to-destination 192.168.1.10
-A POSTROUTING -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN
-A POSTROUTING -s 192.168.1.5/32 -o eth0 -j SNAT --to-source 203.0.113.200
-A POSTROUTING -s 192.168.1.0/24 -o eth0 -j MASQUERADE
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A FORWARD -m conntrack --ctstate RELATED -m helper --helper ftp -j ACCEPT
-A FORWARD -p tcp -m tcp --dport 21 -m conntrack --ctstate NEW -j ACCEPT
-A FORWARD -m conntrack --ctstate INVALID -j LOG --log-prefix "invalid "
COMMIT
""", lan=[LAN], notes="FTP through NAT (nf_nat_ftp): an active session of a LAN client SNATed to "
                      "203.0.113.200 (PORT and EPRT are rewritten to that address, 2 bytes longer "
                      "each, so the server's acks only fit after the seqadj offset), and a passive "
                      "session to a DNATed LAN server (227 rewritten to the host address, 229 "
                      "unchanged); the data connections are RELATED and NATed to the real endpoint "
                      "by nf_nat_follow_master without traversing the nat table (the SYN-counting "
                      "nat rules do not see them); a LAN-only session, not NATed, whose data "
                      "connection does traverse the nat table")
def _(t):
    cli, srv = ("192.168.1.5", 40000), ("198.51.100.21", 21)
    ftp_session(t, "active", cli, srv, ("203.0.113.200", 40000), srv, [
        ("s", "220 FTP ready", 0), ("c", "USER ftp", 0), ("s", "331 Password", 0), ("c", "PASS x", 0),
        ("s", "230 OK", 0), ("c", "PORT 192,168,1,5,156,65", 2), ("s", "200 PORT ok", 0)])
    ftp_data(t, "active data (PORT)", ("198.51.100.21", 20), ("203.0.113.200", 40001), ("192.168.1.5", 40001))
    ftp_session(t, "active2", ("192.168.1.5", 40010), srv, ("203.0.113.200", 40010), srv, [
        ("s", "220 FTP ready", 0), ("c", "USER ftp", 0), ("s", "331 Password", 0),
        ("c", "EPRT |1|192.168.1.5|40011|", 2), ("s", "200 EPRT ok", 0), ("c", "NOOP", 0),
        ("s", "200 NOOP ok", 0)])
    ftp_data(t, "active data (EPRT)", ("198.51.100.21", 20), ("203.0.113.200", 40011), ("192.168.1.5", 40011))
    pcli = (NET, 41000)
    ftp_session(t, "passive", pcli, (LANH, 21), pcli, (H, 21), [
        ("s", "220 FTP ready", 0), ("c", "USER ftp", 0), ("s", "331 Password", 0), ("c", "PASS x", 0),
        ("s", "230 OK", 0), ("c", "PASV", 0), ("s", "227 Entering Passive Mode (192,168,1,10,195,80).", -2),
        ("c", "EPSV", 0), ("s", "229 Entering Extended Passive Mode (|||50001|)", 0), ("c", "NOOP", 0)])
    ftp_data(t, "passive data (EPSV)", (NET, 41002), (H, 50001), (LANH, 50001))
    ftp_session(t, "passive2", (NET, 41010), (LANH, 21), (NET, 41010), (H, 21), [
        ("s", "220 FTP ready", 0), ("c", "USER ftp", 0), ("s", "331 Password", 0), ("c", "PASV", 0),
        ("s", "227 Entering Passive Mode (192,168,1,10,195,90).", -2), ("c", "NOOP", 0)])
    ftp_data(t, "passive data (PASV)", (NET, 41011), (H, 50010), (LANH, 50010))
    t.add("a SYN to the host's :50010 again (expectation used up: nat table, INPUT)",
          IP(src=NET, dst=H) / TCP(sport=41012, dport=50010, flags="S", seq=7000, window=502))
    plain = ("192.168.1.7", 41020)
    ftp_session(t, "lan-only", plain, (LANH, 21), plain, (LANH, 21), [
        ("s", "220 FTP ready", 0), ("c", "USER ftp", 0), ("s", "331 Password", 0), ("c", "PASV", 0),
        ("s", "227 Entering Passive Mode (192,168,1,10,195,100).", 0), ("c", "NOOP", 0)])
    ftp_data(t, "lan-only data (master not NATed: the nat table sees it)", ("192.168.1.7", 41021),
             (LANH, 50020), (LANH, 50020))


@case("hm_tftp_helper", """*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -d 10.0.0.77/32 -p udp -m udp --dport 69 -j CT --helper tftp
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
""", notes="TFTP helper: the server answers a read request from a new port; with the helper the "
           "first data packet is RELATED, later ones ESTABLISHED; to 10.0.0.1 (no helper) the "
           "answer is NEW and dropped")
def _(t):
    rrq = b"\x00\x01boot.img\x00octet\x00"
    t.add("RRQ to 10.0.0.77:69", IP(src=H, dst=R) / UDP(sport=40069, dport=69) / Raw(rrq))
    t.add("DATA 1 from 10.0.0.77:50123 (RELATED)", IP(src=R, dst=H) / UDP(sport=50123, dport=40069) / Raw(b"\x00\x03\x00\x01" + bytes(512)))
    t.add("ACK 1", IP(src=H, dst=R) / UDP(sport=40069, dport=50123) / Raw(b"\x00\x04\x00\x01"))
    t.add("DATA 2 (ESTABLISHED)", IP(src=R, dst=H) / UDP(sport=50123, dport=40069) / Raw(b"\x00\x03\x00\x02" + bytes(100)))
    t.add("ACK 2", IP(src=H, dst=R) / UDP(sport=40069, dport=50123) / Raw(b"\x00\x04\x00\x02"))
    t.add("RRQ to 10.0.0.1:69 (no helper)", IP(src=H, dst=GW) / UDP(sport=40070, dport=69) / Raw(rrq))
    t.add("DATA 1 from 10.0.0.1:50124 (NEW, dropped)", IP(src=GW, dst=H) / UDP(sport=50124, dport=40070) / Raw(b"\x00\x03\x00\x01" + bytes(512)))


@case("hm_tftp_nat", """*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp -m udp --dport 69 -j CT --helper tftp
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p udp
-A PREROUTING -d 10.0.0.104/32 -i eth0 -p udp -m udp --dport 69 -j DNAT --to-destination 192.168.1.10
-A POSTROUTING -p udp
-A POSTROUTING -s 192.168.1.0/24 -o eth0 -j MASQUERADE
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A FORWARD -m conntrack --ctstate RELATED -m helper --helper tftp -j ACCEPT
-A FORWARD -p udp -m udp --dport 69 -j ACCEPT
COMMIT
""", lan=[LAN], notes="TFTP through NAT (nf_nat_tftp): a LAN client MASQUERADEd to a server outside "
                      "and an internet client to a DNATed LAN server; the server's answer from a new "
                      "port is RELATED and NATed by nf_nat_follow_master (de-MASQUERADEd to the "
                      "client, or SNATed to the host address) without traversing the nat table "
                      "(the counting nat rules see only the requests)")
def _(t):
    rrq = b"\x00\x01boot.img\x00octet\x00"
    srv = "198.51.100.69"
    t.add("lan RRQ to %s:69 (MASQUERADE)" % srv, IP(src="192.168.1.5", dst=srv) / UDP(sport=40069, dport=69) / Raw(rrq))
    t.add("DATA 1 from %s:50123 to the host address (RELATED, to the lan client)" % srv,
          IP(src=srv, dst=H) / UDP(sport=50123, dport=40069) / Raw(b"\x00\x03\x00\x01" + bytes(512)))
    t.add("ACK 1 from the lan client", IP(src="192.168.1.5", dst=srv) / UDP(sport=40069, dport=50123) / Raw(b"\x00\x04\x00\x01"))
    t.add("DATA 2 (ESTABLISHED)", IP(src=srv, dst=H) / UDP(sport=50123, dport=40069) / Raw(b"\x00\x03\x00\x02" + bytes(100)))
    t.add("internet RRQ to host:69 (DNAT 192.168.1.10)", IP(src=NET, dst=H) / UDP(sport=40000, dport=69) / Raw(rrq))
    t.add("DATA 1 from the lan server's new port (RELATED, SNAT to the host address)",
          IP(src=LANH, dst=NET) / UDP(sport=50000, dport=40000) / Raw(b"\x00\x03\x00\x01" + bytes(512)))
    t.add("ACK 1 from the internet client to host:50000", IP(src=NET, dst=H) / UDP(sport=40000, dport=50000) / Raw(b"\x00\x04\x00\x01"))
    t.add("a stray datagram to host:40069 from elsewhere (no expectation left)",
          IP(src="198.51.100.70", dst=H) / UDP(sport=50123, dport=40069) / Raw(b"\x00\x03\x00\x01"))


# ----------------------------------------------------------------------------------------------
# writer
# ----------------------------------------------------------------------------------------------
def write_case(c):
    d = os.path.join(HERE, c["name"])
    for f in ("rules.v4", "trace.pcap", "local.txt", "lan.txt", "scenario.json", "case.json"):
        if os.path.exists(os.path.join(d, f)):
            os.remove(os.path.join(d, f))
    os.makedirs(d, exist_ok=True)
    t = Trace()
    c["build"](t)
    with open(os.path.join(d, "rules.v4"), "w") as f:
        f.write(c["rules"])
    with open(os.path.join(d, "local.txt"), "w") as f:
        f.write("\n".join(c["local"]) + "\n")
    if c["lan"]:
        with open(os.path.join(d, "lan.txt"), "w") as f:
            f.write("\n".join(c["lan"]) + "\n")
    frames = []
    for i, (_label, p) in enumerate(t.items):
        src = p[IP].src if IP in p else ""
        outbound = src in c["local"] or src.startswith("127.")
        if not isinstance(p, Ether):      # a case may bring its own Ethernet header (-m mac)
            p = Ether(src=MAC_HOST if outbound else MAC_PEER, dst=MAC_PEER if outbound else MAC_HOST) / p
        e = Ether(bytes(p))
        e.time = 1700000000 + i // 100 + (i % 100) * 0.01
        frames.append(e)
    wrpcap(os.path.join(d, "trace.pcap"), frames)
    with open(os.path.join(d, "scenario.json"), "w") as f:
        json.dump({"local": c["local"], "lan": c["lan"], "notes": [c["notes"]],
                   "labels": [lbl for lbl, _p in t.items]}, f, indent=1)
        f.write("\n")
    args = ([] if c["fix_checksums"] else ["--no-fix-checksums"]) + c["extra_args"]
    for k in sorted(c["sysctl"]):
        args += ["--sysctl", "%s=%s" % (k, c["sysctl"][k])]
    case_json = {"group": "handmade", "pcap": "trace.pcap", "local": c["local"], "lan": c["lan"],
                 "sysctl": c["sysctl"], "fix_checksums": c["fix_checksums"], "oracle_args": args,
                 "notes": c["notes"]}
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(case_json, f, indent=1, sort_keys=True)
        f.write("\n")
    return d, len(t.items)


def main():
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    for c in CASES:
        d, n = write_case(c)
        print("%s: %d packets" % (os.path.relpath(d, HERE), n))


if __name__ == "__main__":
    main()
