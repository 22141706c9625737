#!/usr/bin/python3
"""make_pcaps.py -- writes small, self-made captures for iptwalk's capture/decoder tests.

The same five IPv4 packets (a TCP handshake from 10.0.0.77 to 10.0.0.104:22, a ping and its
reply) are written in every container format and link type that iptwalk reads, so a decoder
test can assert that every file yields the same IPv4 packets.  Files with "odd" in their name
add records that must be skipped or rejected gracefully.  Everything is written byte by byte
with struct (no libpcap), with fixed timestamps, so reruns are byte-identical.

expected.json lists, per file: format, link type, and per record either the IPv4 packet's
summary (the oracle's notation) or the reason it is skipped.
"""

import json
import logging
import os
import struct

os.environ.setdefault("SCAPY_USE_LIBPCAP", "no")
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IP, TCP, ICMP, Raw  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
H, R = "10.0.0.104", "10.0.0.77"
MAC_H, MAC_R = bytes.fromhex("525400000104"), bytes.fromhex("525400000001")
T0 = 1700000000

PACKETS = [
    ("tcp 10.0.0.77:50000>10.0.0.104:22 S",
     IP(src=R, dst=H, id=1) / TCP(sport=50000, dport=22, flags="S", seq=1000, window=64240)),
    ("tcp 10.0.0.104:22>10.0.0.77:50000 SA",
     IP(src=H, dst=R, id=2) / TCP(sport=22, dport=50000, flags="SA", seq=5000, ack=1001, window=65160)),
    ("tcp 10.0.0.77:50000>10.0.0.104:22 A",
     IP(src=R, dst=H, id=3) / TCP(sport=50000, dport=22, flags="A", seq=1001, ack=5001, window=502)),
    ("icmp 10.0.0.77>10.0.0.104 type=8 code=0",
     IP(src=R, dst=H, id=4) / ICMP(type=8, id=7, seq=1) / Raw(bytes(range(32)))),
    ("icmp 10.0.0.104>10.0.0.77 type=0 code=0",
     IP(src=H, dst=R, id=5) / ICMP(type=0, id=7, seq=1) / Raw(bytes(range(32)))),
]
IPS = [bytes(p) for _s, p in PACKETS]
SUMMARIES = [s for s, _p in PACKETS]


def outbound(i):
    return IPS[i][12:16] == bytes([10, 0, 0, 104])


def eth(i, ip, ethertype=0x0800, vlans=()):
    src, dst = (MAC_H, MAC_R) if outbound(i) else (MAC_R, MAC_H)
    tags = b"".join(struct.pack(">HH", tpid, vid) for tpid, vid in vlans)
    return dst + src + tags + struct.pack(">H", ethertype) + ip


def sll(i, ip, proto=0x0800):
    # Linux cooked v1: packet type (0 host, 4 outgoing), ARPHRD_ETHER, addr len, 8-byte addr, proto
    ptype = 4 if outbound(i) else 0
    addr = (MAC_H if outbound(i) else MAC_R) + b"\0\0"
    return struct.pack(">HHH", ptype, 1, 6) + addr + struct.pack(">H", proto) + ip


def sll2(i, ip, proto=0x0800):
    # Linux cooked v2: proto, reserved, ifindex, ARPHRD, packet type, addr len, 8-byte addr
    ptype = 4 if outbound(i) else 0
    addr = (MAC_H if outbound(i) else MAC_R) + b"\0\0"
    return struct.pack(">HHIHBB", proto, 0, 2, 1, ptype, 6) + addr + ip


def null(ip, family=2):
    return struct.pack("<I", family) + ip      # host byte order of the capturing machine (LE)


def pcap(path, linktype, records, endian="<", nsec=False, snaplen=65535):
    magic = 0xA1B23C4D if nsec else 0xA1B2C3D4
    out = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)
    for k, (data, orig_len) in enumerate(records):
        sec, frac = T0 + k, (k * 1000 * (1000 if nsec else 1)) % (10**9 if nsec else 10**6)
        out += struct.pack(endian + "IIII", sec, frac, len(data), orig_len) + data
    with open(os.path.join(HERE, path), "wb") as f:
        f.write(out)


def pad4(b):
    return b + b"\0" * ((4 - len(b) % 4) % 4)


def block(btype, body):
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def pcapng(path, interfaces, records):
    """interfaces: [(linktype, name)]; records: [(ifid, data)] as Enhanced Packet Blocks."""
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    for lt, name in interfaces:
        opt = pad4(struct.pack("<HH", 2, len(name)) + name.encode()) + struct.pack("<HH", 0, 0)
        out += block(1, struct.pack("<HHI", lt, 0, 65535) + opt)
    for k, (ifid, data) in enumerate(records):
        ts = (T0 + k) * 1000000                      # default resolution: microseconds
        out += block(6, struct.pack("<IIIII", ifid, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
                     + pad4(data))
    with open(os.path.join(HERE, path), "wb") as f:
        f.write(out)


def whole(frames):
    return [(f, len(f)) for f in frames]


def main():
    exp = {}
    ok = [{"summary": s} for s in SUMMARIES]
    n = range(len(IPS))

    pcap("eth.pcap", 1, whole([eth(i, IPS[i]) for i in n]))
    exp["eth.pcap"] = {"format": "pcap usec LE", "linktype": 1, "records": ok}
    pcap("eth-be.pcap", 1, whole([eth(i, IPS[i]) for i in n]), endian=">")
    exp["eth-be.pcap"] = {"format": "pcap usec BE", "linktype": 1, "records": ok}
    pcap("eth-nsec.pcap", 1, whole([eth(i, IPS[i]) for i in n]), nsec=True)
    exp["eth-nsec.pcap"] = {"format": "pcap nsec LE", "linktype": 1, "records": ok}
    pcap("eth-vlan.pcap", 1, whole([eth(i, IPS[i], vlans=[(0x8100, 10)]) for i in n]))
    exp["eth-vlan.pcap"] = {"format": "pcap usec LE", "linktype": 1, "records": ok}
    pcap("eth-qinq.pcap", 1, whole([eth(i, IPS[i], vlans=[(0x88A8, 100), (0x8100, 10)]) for i in n]))
    exp["eth-qinq.pcap"] = {"format": "pcap usec LE", "linktype": 1, "records": ok}
    pcap("null.pcap", 0, whole([null(IPS[i]) for i in n]))
    exp["null.pcap"] = {"format": "pcap usec LE", "linktype": 0, "records": ok}
    pcap("raw.pcap", 101, whole(IPS))
    exp["raw.pcap"] = {"format": "pcap usec LE", "linktype": 101, "records": ok}
    pcap("ipv4.pcap", 228, whole(IPS))
    exp["ipv4.pcap"] = {"format": "pcap usec LE", "linktype": 228, "records": ok}
    pcap("sll.pcap", 113, whole([sll(i, IPS[i]) for i in n]))
    exp["sll.pcap"] = {"format": "pcap usec LE", "linktype": 113, "records": ok}
    pcap("sll2.pcap", 276, whole([sll2(i, IPS[i]) for i in n]))
    exp["sll2.pcap"] = {"format": "pcap usec LE", "linktype": 276, "records": ok}
    pcapng("eth.pcapng", [(1, "eth0")], [(0, eth(i, IPS[i])) for i in n])
    exp["eth.pcapng"] = {"format": "pcapng", "linktype": 1, "records": ok}
    pcapng("two-interfaces.pcapng", [(1, "eth0"), (101, "tun0")],
           [(i % 2, eth(i, IPS[i]) if i % 2 == 0 else IPS[i]) for i in n])
    exp["two-interfaces.pcapng"] = {"format": "pcapng, Ethernet + raw IP interfaces", "linktype": None,
                                    "records": ok}

    # odd records: ARP, IPv6, a frame cut by the snaplen, a runt, IHL < 5, an unknown link type
    arp = eth(0, bytes(28), ethertype=0x0806)
    v6 = eth(0, bytes([0x60]) + bytes(39), ethertype=0x86DD)
    cut = eth(3, IPS[3])[:14 + 20 + 4]
    bad_ihl = eth(0, bytes([0x44]) + IPS[0][1:])
    pcap("eth-odd.pcap", 1, whole([eth(0, IPS[0]), arp, v6, eth(1, IPS[1])]) +
         [(cut, len(eth(3, IPS[3])))] + whole([b"\x52\x54", bad_ihl, eth(2, IPS[2])]))
    exp["eth-odd.pcap"] = {"format": "pcap usec LE", "linktype": 1, "records": [
        {"summary": SUMMARIES[0]}, {"skipped": "ethertype 0x0806"}, {"skipped": "ethertype 0x86dd"},
        {"summary": SUMMARIES[1]},
        {"truncated": "caplen 38 < len %d: the ICMP header is cut" % len(eth(3, IPS[3]))},
        {"skipped": "short frame"}, {"malformed": "IPv4 IHL 4 (< 5)"}, {"summary": SUMMARIES[2]}]}
    pcap("unknown-linktype.pcap", 147, whole([IPS[0]]))
    exp["unknown-linktype.pcap"] = {"format": "pcap usec LE", "linktype": 147,
                                    "records": [{"skipped": "unsupported linktype 147"}]}
    pcap("empty.pcap", 1, [])
    exp["empty.pcap"] = {"format": "pcap usec LE", "linktype": 1, "records": []}
    with open(os.path.join(HERE, "truncated-header.pcap"), "wb") as f:
        f.write(struct.pack("<IHH", 0xA1B2C3D4, 2, 4))
    exp["truncated-header.pcap"] = {"format": "pcap global header cut after 8 bytes", "linktype": None,
                                    "error": "truncated global header"}
    with open(os.path.join(HERE, "truncated-record.pcap"), "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) +
                struct.pack("<IIII", T0, 0, 60, 60) + eth(0, IPS[0])[:30])
    exp["truncated-record.pcap"] = {"format": "pcap usec LE", "linktype": 1,
                                    "error": "record header says 60 bytes, file ends after 30"}
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(exp, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %d captures" % len(exp))


if __name__ == "__main__":
    main()
