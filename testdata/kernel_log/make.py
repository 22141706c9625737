#!/usr/bin/python3
"""make.py -- kernel truth for `iptwalk replay --log`: the lines the real LOG target writes.

For each case below this script writes testdata/kernel_log/<case>/ with rules.v4, trace.pcap
and case.json (deterministic: fixed MACs, addresses, IDs, sequence numbers and timestamps),
then runs the kernel oracle (../shared/oracle/kernel_oracle.py, --keep-src-mac) on it with
`net.netfilter.nf_log_all_netns=1` (without it LOG prints nothing in the oracle's namespace,
see nf_log_allowed() in net/netfilter/nf_log_syslog.c) and copies the kernel's log lines, read
with `dmesg` between two markers written to /dev/kmsg, into kernel.log (timestamps dropped,
trailing spaces kept: nf_log_buf_close() prints the buffer as built, "... URGP=0 \n").
kernel.json is the oracle's per-packet record of the same run.

Usage (root, Debian's /usr/bin/python3 with scapy):
  testdata/kernel_log/make.py            # write the inputs and run the kernel
  testdata/kernel_log/make.py --inputs   # only rewrite rules.v4 / trace.pcap / case.json
ORACLE_DIR (default /work/shared/oracle) locates the oracle.

Every rule's prefix starts with "iptw" (or the line starts with "IN=", for the rule without a
prefix), so lines from other namespaces that log at the same time are not taken for ours; the
script refuses a run whose marker-delimited block holds other lines.
"""

import json
import re
import os
import subprocess
import sys
import logging

os.environ.setdefault("SCAPY_USE_LIBPCAP", "no")
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IP, TCP, UDP, ICMP, Raw, Ether, wrpcap, fragment  # noqa: E402
from scapy.layers.inet import IPOption_Router_Alert  # noqa: E402
from scapy.layers.ipsec import ESP  # noqa: E402
from scapy.layers.sctp import SCTP, SCTPChunkInit  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(os.environ.get("ORACLE_DIR", "/work/shared/oracle"), "kernel_oracle.py")
H = "10.0.0.104"
NET = "198.51.100.7"
RTR = "203.0.113.1"
LANH = "192.168.1.10"
WWW = "93.184.216.34"
MAC_WAN = "00:11:22:33:44:55"
MAC_LAN = "00:16:3e:00:00:0a"
MAC_FW0 = "02:00:00:00:00:10"
MAC_FW1 = "02:00:00:00:01:10"
SYN_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None), ("WScale", 7)]

RULES = """*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp -m udp --dport 5353 -j LOG --log-prefix "iptw raw-pre: "
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 8080 -j MARK --set-xmark 0x2a/0xffffffff
-A POSTROUTING -p icmp -j LOG --log-prefix "iptw post: "
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 23 -j LOG --log-prefix "iptw macdec: " --log-macdecode
-A INPUT -p tcp -j LOG --log-prefix "iptw in-tcp: " --log-tcp-sequence --log-tcp-options
-A INPUT -p udp -j LOG --log-prefix "iptw in-udp: " --log-level 7
-A INPUT -p icmp -j LOG --log-prefix "iptw in-icmp: " --log-ip-options
-A INPUT -p gre -j LOG
-A INPUT -p esp -j LOG --log-prefix "iptw esp: " --log-uid
-A FORWARD -j LOG --log-prefix "iptw fwd: " --log-uid --log-tcp-options --log-tcp-sequence
-A OUTPUT -j LOG --log-prefix "iptw out: " --log-tcp-sequence
COMMIT
"""


def wan(ip):
    return Ether(src=MAC_WAN, dst=MAC_FW0) / ip


def lan(ip):
    return Ether(src=MAC_LAN, dst=MAC_FW1) / ip


def out(ip):
    return Ether(src=MAC_FW0, dst=MAC_WAN) / ip


def frames_main():
    f = []
    # 0 TCP SYN with options, TOS and DF
    f.append(wan(IP(src=NET, dst=H, id=1234, tos=0x10, flags="DF", ttl=57) /
                 TCP(sport=40000, dport=22, seq=1000, flags="S", window=64240, options=SYN_OPTS)))
    # 1 TCP with every flag bit, the four reserved bits and an urgent pointer (no options)
    f.append(wan(IP(src=NET, dst=H, id=1235, ttl=57) /
                 TCP(sport=40001, dport=22, seq=5, ack=7, flags=0x1F9, reserved=7,
                     window=512, urgptr=5)))
    # 2 TCP to 8080: MARK=0x2a set in mangle PREROUTING, seen by LOG in filter
    f.append(wan(IP(src=NET, dst=H, id=1236, ttl=57) /
                 TCP(sport=40002, dport=8080, seq=1, flags="S", window=1024)))
    # 3 UDP to 5353: logged in raw PREROUTING and in filter INPUT
    f.append(wan(IP(src=NET, dst=H, id=1237, ttl=255) / UDP(sport=5353, dport=5353) / Raw(b"q" * 12)))
    # 4 ICMP echo request with an IP option (router alert), logged with --log-ip-options
    f.append(wan(IP(src=NET, dst=H, id=1238, ttl=63, options=[IPOption_Router_Alert()]) /
                 ICMP(type=8, id=0x1234, seq=1) / Raw(b"ping" * 8)))
    # 5 ICMP echo reply sent by the host: OUTPUT and POSTROUTING, no MAC
    f.append(out(IP(src=H, dst=NET, id=4321, ttl=64) / ICMP(type=0, id=0x1234, seq=1) / Raw(b"ping" * 8)))
    # 6 port unreachable about the host's DNS query: inner packet in brackets
    inner_udp = IP(src=H, dst="198.51.100.9", id=777, ttl=64) / UDP(sport=33000, dport=53) / Raw(b"\x12\x34" + b"\0" * 10)
    f.append(out(IP(src=H, dst="198.51.100.9", id=777, ttl=64) / UDP(sport=33000, dport=53) / Raw(b"\x12\x34" + b"\0" * 10)))
    f.append(wan(IP(src="198.51.100.9", dst=H, id=99, ttl=60) / ICMP(type=3, code=3) /
                 bytes(inner_udp)[:28]))
    # 8 frag needed about an outbound TCP segment: MTU=
    inner_tcp = IP(src=H, dst=NET, id=555, flags="DF", ttl=64) / TCP(sport=41000, dport=443, seq=9, ack=10, flags="PA")
    f.append(out(bytes(inner_tcp)))
    f[-1] = out(IP(bytes(inner_tcp)))
    f.append(wan(IP(src=RTR, dst=H, id=100, ttl=250) / ICMP(type=3, code=4, nexthopmtu=1400) / bytes(inner_tcp)[:28]))
    # 10 time exceeded quoting an outbound echo request
    inner_ping = IP(src=H, dst=WWW, id=556, ttl=1) / ICMP(type=8, id=7, seq=3)
    f.append(out(IP(src=H, dst=WWW, id=556, ttl=1) / ICMP(type=8, id=7, seq=3)))
    f.append(wan(IP(src=RTR, dst=H, id=101, ttl=250) / ICMP(type=11, code=0) / bytes(inner_ping)[:28]))
    # 12 forwarded LAN -> WAN SYN: IN=eth1 OUT=eth0, TTL after ip_forward's decrement
    f.append(lan(IP(src=LANH, dst=WWW, id=2000, flags="DF", ttl=64) /
                 TCP(sport=50000, dport=443, seq=77, flags="S", window=64240, options=SYN_OPTS)))
    # 13 forwarded WAN -> LAN UDP
    f.append(wan(IP(src=WWW, dst=LANH, id=2001, ttl=50) / UDP(sport=53, dport=40000) / Raw(b"a" * 20)))
    # 14-15 a fragmented UDP datagram to the host: logged once, reassembled
    big = IP(src=NET, dst=H, id=3000, ttl=60) / UDP(sport=7000, dport=7001) / Raw(bytes(range(256)) * 8)
    for fr in fragment(big, fragsize=1480):
        f.append(wan(fr))
    # GRE, ESP
    f.append(wan(IP(src=NET, dst=H, id=3001, ttl=60, proto=47) / Raw(b"\x00\x00\x08\x00" + b"x" * 20)))
    f.append(wan(IP(src=NET, dst=H, id=3002, ttl=60) / ESP(spi=0xdeadbeef, seq=1) / Raw(b"e" * 16)))
    # telnet: --log-macdecode
    f.append(wan(IP(src=NET, dst=H, id=3003, ttl=60) / TCP(sport=40100, dport=23, seq=1, flags="S", window=1000)))
    # local -> local through lo: OUTPUT then INPUT with IN=lo
    f.append(out(IP(src="127.0.0.1", dst="127.0.0.1", id=3004, flags="DF", ttl=64) /
                 TCP(sport=40200, dport=80, seq=10, flags="S", window=65495, options=SYN_OPTS)))
    # ICMP timestamp request (no ID/SEQ in the line)
    f.append(wan(IP(src=NET, dst=H, id=3005, ttl=60) / ICMP(type=13, id=1, seq=2, ts_ori=1000, ts_rx=0, ts_tx=0)))
    # a truncated TCP header (IP total length covers 10 bytes of it): INCOMPLETE
    t = bytes(IP(src=NET, dst=H, id=3006, ttl=60, proto=6) / Raw(b"\x9c\x40\x00\x16" + b"\0" * 6))
    f.append(wan(IP(t)))
    return f


NAT_RULES = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.10:80
-A POSTROUTING -s 192.168.1.0/24 -o eth0 -j MASQUERADE
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p udp -m udp --dport 9999 -j TTL --ttl-set 33
-A PREROUTING -p udp -m udp --dport 9999 -j TOS --set-tos 0x08/0xff
-A FORWARD -j LOG --log-prefix "iptw m-fwd: "
-A POSTROUTING -j LOG --log-prefix "iptw m-post: "
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -j LOG --log-prefix "iptw in: " --log-ip-options
-A FORWARD -j LOG --log-prefix "iptw fwd: " --log-tcp-sequence
COMMIT
"""


def frames_nat():
    f = []
    # DNAT'd SYN: FORWARD sees the new destination, POSTROUTING has no IN=
    f.append(wan(IP(src=NET, dst=H, id=10, ttl=50) / TCP(sport=40000, dport=8080, seq=100, flags="S", window=1000)))
    # its SYN-ACK from the LAN host: mangle POSTROUTING runs before the de-DNAT (nat, 100)
    f.append(lan(IP(src=LANH, dst=NET, id=11, ttl=64) / TCP(sport=80, dport=40000, seq=500, ack=101, flags="SA", window=2000)))
    # TTL and TOS set in mangle PREROUTING, then ip_forward's decrement
    f.append(lan(IP(src="192.168.1.20", dst=NET, id=12, ttl=64) / UDP(sport=5000, dport=9999) / Raw(b"u" * 8)))
    # the reply to the masqueraded datagram: de-NATed in PREROUTING
    f.append(wan(IP(src=NET, dst=H, id=13, ttl=50) / UDP(sport=9999, dport=5000) / Raw(b"v" * 8)))
    # a forwarded echo request
    f.append(lan(IP(src="192.168.1.20", dst=WWW, id=14, ttl=64) / ICMP(type=8, id=9, seq=1)))
    # a port unreachable about the masqueraded datagram: de-NATed in PREROUTING, the quoted
    # packet too (nf_nat_icmp_reply_translation)
    quoted = IP(src=H, dst=NET, id=12, ttl=32, tos=0x08) / UDP(sport=5000, dport=9999) / Raw(b"u" * 8)
    f.append(wan(IP(src=NET, dst=H, id=17, ttl=50) / ICMP(type=3, code=3) / bytes(quoted)[:28]))
    # the DNAT'd client answers the host's SYN-ACK with an error (original direction, DST_NAT)
    sa = IP(src=H, dst=NET, id=11, ttl=63) / TCP(sport=8080, dport=40000, seq=500, ack=101, flags="SA", window=2000)
    f.append(wan(IP(src=NET, dst=H, id=18, ttl=50) / ICMP(type=3, code=13) / bytes(sa)[:28]))
    # a multicast source MAC: the oracle injects the peer's MAC instead
    f.append(Ether(src="01:00:5e:00:00:01", dst=MAC_FW0) /
             IP(src=NET, dst=H, id=15, ttl=50) / UDP(sport=1, dport=2))
    # every TOS bit, the reserved ("CE") fragment bit, and an IP option
    f.append(wan(IP(src=NET, dst=H, id=16, ttl=50, tos=0xff, flags=4, options=[IPOption_Router_Alert()]) /
                 UDP(sport=3, dport=4)))
    return f


def frames_rawip():
    return [IP(src=NET, dst=H, id=20, ttl=50) / UDP(sport=1000, dport=2000) / Raw(b"r" * 4),
            IP(src=LANH, dst=WWW, id=21, ttl=64, flags="DF") / TCP(sport=50000, dport=443, seq=5, flags="S", window=100)]


EDGE_RULES = """*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -j LOG --log-prefix "iptw raw: " --log-ip-options --log-tcp-options
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -s 198.51.100.66/32 -j MARK --set-xmark 0x7/0xffffffff
-A PREROUTING -s 198.51.100.66/32 -j LOG --log-prefix "iptw m-pre: " --log-tcp-options
COMMIT
"""
EDGE = "198.51.100.66"


def udplite(src, dst, sport, dport, data):
    """A UDP-Lite header (RFC 3828) covering only itself, with the checksum conntrack accepts.
    udplite_error() checks it with nf_checksum_partial(..., IPPROTO_UDP, ...): the pseudo-header
    carries protocol 17, not 136 (kernel-checked: with 136 the packet is INVALID). A zero
    checksum would be INVALID too ("checksum missing")."""
    import socket
    import struct
    body = struct.pack(">HHHH", sport, dport, 8, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack(">BBH", 0, 17, 8 + len(data))
    words = pseudo + body
    total = sum(struct.unpack(">%dH" % (len(words) // 2), words))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    ck = (~total) & 0xFFFF or 0xFFFF
    return struct.pack(">HHHH", sport, dport, 8, ck) + data


def frames_edge():
    f = []
    udp_q = IP(src=H, dst="198.51.100.9", id=900, ttl=64, options=[IPOption_Router_Alert()]) / UDP(sport=33001, dport=53) / Raw(b"x" * 8)
    # parameter problem: PARAMETER=, no quoted packet in the line
    f.append(wan(IP(src=RTR, dst=H, id=200, ttl=250) / ICMP(type=12, code=0, ptr=20) / bytes(udp_q)[:32]))
    # redirect: GATEWAY= and the quoted packet, with its IP options
    f.append(wan(IP(src=RTR, dst=H, id=201, ttl=250) / ICMP(type=5, code=1, gw="10.0.0.1") / bytes(udp_q)[:32]))
    # an error quoting a non-first fragment: MF FRAG:, no ports
    frag = IP(src=H, dst="198.51.100.9", id=901, ttl=64, flags="MF", frag=185, proto=17) / Raw(b"f" * 8)
    f.append(wan(IP(src=RTR, dst=H, id=202, ttl=250) / ICMP(type=3, code=3) / bytes(frag)))
    # an error quoting 20 + 4 bytes: the quoted UDP header is INCOMPLETE
    f.append(wan(IP(src=RTR, dst=H, id=203, ttl=250) / ICMP(type=3, code=1) /
                bytes(IP(src=H, dst="198.51.100.9", id=902, ttl=64) / UDP(sport=33002, dport=53))[:24]))
    # an error quoting only 16 bytes: below required_len, the ICMP part is INCOMPLETE
    f.append(wan(IP(src=RTR, dst=H, id=204, ttl=250) / ICMP(type=11, code=0) / bytes(udp_q)[:16]))
    # an error quoting an error: no second recursion
    inner_err = IP(src=H, dst=RTR, id=903, ttl=64) / ICMP(type=3, code=3) / bytes(udp_q)[:28]
    f.append(wan(IP(src="198.51.100.9", dst=H, id=205, ttl=60) / ICMP(type=3, code=13) / bytes(inner_err)[:36]))
    # an unknown ICMP type, address mask request cut short
    f.append(wan(IP(src=NET, dst=H, id=206, ttl=60) / ICMP(type=40, code=0) / Raw(b"\0" * 4)))
    f.append(wan(IP(src=NET, dst=H, id=207, ttl=60) / ICMP(type=17, code=0, id=1, seq=1)))
    # AH, UDP-Lite, SCTP
    f.append(wan(IP(src=NET, dst=H, id=208, ttl=60, proto=51) / Raw(b"\x04\x04\x00\x00\x00\x00\x10\x01\x00\x00\x00\x01" + b"a" * 12)))
    f.append(wan(IP(src=NET, dst=H, id=209, ttl=60, proto=136) / Raw(udplite(NET, H, 5000, 5001, b"l" * 8))))
    f.append(wan(IP(src=NET, dst=H, id=210, ttl=60) / SCTP(sport=5000, dport=5001) / SCTPChunkInit(init_tag=1, a_rwnd=1000, n_out_streams=1, n_in_streams=1, init_tsn=1)))
    # from EDGE, marked in mangle: a normal UDP datagram shows MARK=; a UDP header cut at 4 bytes
    # and TCP options cut short end the line early, without MARK=; an ICMP INCOMPLETE keeps it
    f.append(wan(IP(src=EDGE, dst=H, id=211, ttl=60) / UDP(sport=1, dport=2)))
    f.append(wan(IP(bytes(IP(src=EDGE, dst=H, id=212, ttl=60, proto=17) / Raw(b"\x00\x01\x00\x02")))))
    tcp_cut = bytes(IP(src=EDGE, dst=H, id=213, ttl=60) / TCP(sport=3, dport=4, flags="S", window=10, options=SYN_OPTS))[:44]
    t = bytearray(tcp_cut)
    t[2:4] = (44).to_bytes(2, "big")
    f.append(wan(IP(bytes(t))))
    f.append(wan(IP(src=EDGE, dst=H, id=214, ttl=60) / ICMP(type=3, code=3) / bytes(udp_q)[:12]))
    return f


CASES = {
    "log_main": {
        "rules": RULES,
        "frames": frames_main,
        "local": [H],
        "lan": ["192.168.1.0/24"],
        "notes": "LOG lines for TCP with options/sequence/flags, UDP, ICMP echo and errors with the "
                 "inner packet, forwarding, MARK, fragments, GRE/ESP, macdecode, lo, INCOMPLETE",
    },
    "log_nat": {
        "rules": NAT_RULES,
        "frames": frames_nat,
        "local": [H],
        "lan": ["192.168.1.0/24"],
        "notes": "LOG after DNAT / de-NAT, TTL and TOS targets, forwarding in mangle and filter, "
                 "POSTROUTING without IN=, a multicast source MAC, TOS/CE bits",
    },
    "log_edge": {
        "rules": EDGE_RULES,
        "frames": frames_edge,
        "local": [H],
        "lan": [],
        "notes": "LOG in raw PREROUTING, before conntrack: PARAMETER=, GATEWAY=, quoted fragments, "
                 "INCOMPLETE and TRUNCATED forms, AH/UDP-Lite/SCTP, MARK= after a cut-short header",
    },
    "log_rawip": {
        "rules": RULES,
        "frames": frames_rawip,
        "linktype": 101,
        "local": [H],
        "lan": ["192.168.1.0/24"],
        "notes": "a raw-IP capture: the frames get the peer's MAC (MAC= shows it)",
    },
}


def write_inputs(name, c):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "rules.v4"), "w") as fh:
        fh.write(c["rules"])
    frames = c["frames"]()
    for i, fr in enumerate(frames):
        fr.time = 1700000000 + i * 0.25
    wrpcap(os.path.join(d, "trace.pcap"), frames, linktype=c.get("linktype", 1))
    case = {"local": c["local"], "lan": c["lan"], "notes": c["notes"],
            "oracle_args": ["--keep-src-mac"]}
    with open(os.path.join(d, "case.json"), "w") as fh:
        json.dump(case, fh, indent=1)
        fh.write("\n")
    return d, packet_keys(frames)


def kmsg(text):
    with open("/dev/kmsg", "w") as fh:
        fh.write(text + "\n")


def packet_keys(frames):
    """(SRC, DST, ID) of every packet of the trace, as LOG prints them."""
    keys = set()
    for fr in frames:
        ip = fr[IP] if IP in fr else None
        if ip is not None:
            keys.add((ip.src, ip.dst, ip.id))
    return keys


def is_ours(line, keys):
    """A line of our run: one of our prefixes, or an unprefixed line about one of our packets
    (other namespaces may log at the same time while nf_log_all_netns is 1)."""
    if line.startswith("iptw"):
        return True
    m = re.match(r"IN=\S* OUT=\S* .*?SRC=(\S+) DST=(\S+) LEN=\d+ TOS=\S+ PREC=\S+ TTL=\d+ ID=(\d+) ", line)
    return bool(m) and (m.group(1), m.group(2), int(m.group(3))) in keys


def run_kernel(name, c, d, keys):
    begin, end = "iptwalk-log-begin %s %d" % (name, os.getpid()), "iptwalk-log-end %s %d" % (name, os.getpid())
    kmsg(begin)
    cmd = ["/usr/bin/python3", ORACLE, "--rules", os.path.join(d, "rules.v4"),
           "--pcap", os.path.join(d, "trace.pcap"), "--local", ",".join(c["local"]),
           "--out", os.path.join(d, "kernel.json")] + (["--lan", ",".join(c["lan"])] if c["lan"] else []) \
        + ["--keep-src-mac"]
    r = subprocess.run(cmd)
    kmsg(end)
    if r.returncode != 0:
        sys.exit("oracle failed (%d) on %s" % (r.returncode, name))
    text = subprocess.run(["dmesg", "--notime"], capture_output=True, text=True, check=True).stdout
    lines = text.split("\n")
    try:
        a = max(i for i, l in enumerate(lines) if l.rstrip() == begin)
        b = max(i for i, l in enumerate(lines) if l.rstrip() == end)
    except ValueError:
        sys.exit("markers not found in dmesg (ring buffer too small?)")
    ours = [l for l in lines[a + 1:b] if is_ours(l, keys)]
    with open(os.path.join(d, "kernel.log"), "w") as fh:
        fh.write("".join(l + "\n" for l in ours))
    print("%s: %d log lines" % (name, len(ours)))


def main():
    only_inputs = "--inputs" in sys.argv[1:]
    old = None
    if not only_inputs:
        with open("/proc/sys/net/netfilter/nf_log_all_netns") as fh:
            old = fh.read().strip()
    try:
        if old is not None:
            with open("/proc/sys/net/netfilter/nf_log_all_netns", "w") as fh:
                fh.write("1\n")
        for name, c in CASES.items():
            d, keys = write_inputs(name, c)
            if not only_inputs:
                run_kernel(name, c, d, keys)
    finally:
        if old is not None:
            with open("/proc/sys/net/netfilter/nf_log_all_netns", "w") as fh:
                fh.write(old + "\n")


if __name__ == "__main__":
    main()
