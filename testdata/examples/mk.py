"""Writes handshake.pcap: the packets snapshot_my_firewall.rs replays by hand,
so the real kernel can judge them. From this directory:
  /usr/bin/python3 mk.py
  /usr/bin/python3 ../../../shared/oracle/kernel_oracle.py \
    --rules ../scenarios/hm_user_chains/rules.v4 --pcap handshake.pcap --local 10.0.0.104 \
    --out kernel.json
src/firewall.rs checks that Firewall::replay_packets gives the kernel's answers.
"""
from scapy.all import Ether, IP, TCP, UDP, wrpcap

pkts = [
    Ether() / IP(src="10.0.0.77", dst="10.0.0.104") / TCP(sport=50900, dport=22, flags="S", seq=1000),
    Ether() / IP(src="10.0.0.104", dst="10.0.0.77") / TCP(sport=22, dport=50900, flags="SA", seq=5000, ack=1001),
    Ether() / IP(src="10.0.0.77", dst="10.0.0.104") / TCP(sport=50900, dport=22, flags="A", seq=1001, ack=5001),
    Ether() / IP(src="203.0.113.10", dst="10.0.0.104") / UDP(sport=5000, dport=53),
]
for i, p in enumerate(pkts):
    p.time = 1700000000 + i / 1000
wrpcap("handshake.pcap", pkts)
