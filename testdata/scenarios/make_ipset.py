#!/usr/bin/python3
"""make_ipset.py -- writes the ipset scenarios testdata/scenarios/ipset_*/.

Each directory has rules.v4, sets.ipset (what `ipset restore` reads, in `ipset save` form),
trace.pcap, local.txt/[lan.txt], scenario.json (a label per packet) and case.json with
"ipset": "sets.ipset", which makes scenarios.py run the oracle through with_ipset.py (the
sets are restored into the oracle's firewall namespace before the rules are loaded).
kernel.json, counters.txt and ipset_after.txt (`ipset save` after the replay) come from the
oracle afterwards:  ./scenarios.py oracle $(ls -d ipset_*)

Deterministic like make_handmade.py (whose packet helpers it uses).  Set timeouts are long
(the oracle injects packets as fast as it can, not at capture time), except in ipset_timeouts,
which the oracle runs paced (case.json "ipset_pace": with_ipset.py --pace injects each packet
at its capture time) with a second or more of margin around every expiry.
"""

import json
import os

import make_handmade as hm
from make_handmade import Tcp, Trace, H, R, GW, NET, LANH, LAN, IP, TCP, UDP, ICMP, Raw, Ether
from scapy.all import wrpcap  # noqa: E402
from scapy.layers.sctp import SCTP, SCTPChunkInit  # noqa: E402

HERE = hm.HERE
CASES = []


def case(name, rules, sets, local=(H,), lan=(), notes="", pace=False):
    """pace: the oracle injects at capture times (set timeouts); the build function then gives
    each packet's time as a third item (seconds from the start)."""
    def deco(fn):
        CASES.append({"name": name, "rules": rules, "sets": sets, "local": list(local),
                      "lan": list(lan), "notes": notes, "build": fn, "pace": pace})
        return fn
    return deco


class Timed(Trace):
    """A trace whose packets carry their capture time (seconds from the start)."""

    def __init__(self):
        super().__init__()
        self.times = []

    def at(self, secs, label, pkt):
        self.times.append(secs)
        self.add(label, pkt)


HEAD = "*filter\n:INPUT %s [0:0]\n:FORWARD %s [0:0]\n:OUTPUT ACCEPT [0:0]\n"


def syn(src, dst, sport, dport):
    return IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="S", seq=1000, window=64240)


def udp(src, dst, sport, dport, data=b"x"):
    return IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(data)


def ping(src, dst, ident=1, kind=8):
    # Timestamps fixed: scapy fills a timestamp request with the current time.
    return IP(src=src, dst=dst) / ICMP(type=kind, id=ident, seq=1, ts_ori=0, ts_rx=0, ts_tx=0)


# ----------------------------------------------------------------------------------------------
@case("ipset_blocklist", HEAD % ("DROP", "DROP") + """-A INPUT -m set --match-set blocklist src -j DROP
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A OUTPUT -m set --match-set blocklist dst -j DROP
COMMIT
""", """create blocklist hash:net family inet hashsize 1024 maxelem 65536
add blocklist 203.0.113.0/24
add blocklist 198.51.100.0/25
add blocklist 192.0.2.64/26
add blocklist 100.64.0.1
add blocklist 100.64.1.0-100.64.1.5
""", notes="hash:net blocklist (CIDRs, a host, a range split into CIDRs) dropped on INPUT by "
           "source and on OUTPUT by destination")
def _(t):
    t.add("SYN from a blocked /24", syn(NET, H, 40000, 22))
    t.add("SYN from 198.51.100.127 (inside the /25)", syn("198.51.100.127", H, 40001, 22))
    t.add("SYN from 198.51.100.128 (just outside the /25)", syn("198.51.100.128", H, 40002, 22))
    t.add("ping from 192.0.2.100 (inside /26)", ping("192.0.2.100", H))
    t.add("ping from 192.0.2.10 (outside /26)", ping("192.0.2.10", H))
    t.add("SYN from the blocked host", syn("100.64.0.1", H, 40003, 22))
    t.add("SYN from 100.64.0.2 (not listed)", syn("100.64.0.2", H, 40004, 22))
    t.add("SYN from 100.64.1.5 (end of the range)", syn("100.64.1.5", H, 40005, 22))
    t.add("SYN from 100.64.1.6 (past the range)", syn("100.64.1.6", H, 40006, 22))
    c = Tcp(R, 40100, H, 22)
    c.handshake(t, "ssh from a clean neighbour")
    t.add("host connects out to a blocked address", syn(H, "203.0.113.9", 41000, 443))
    t.add("host connects out to a clean address", syn(H, "8.8.8.8", 41001, 443))


# ----------------------------------------------------------------------------------------------
@case("ipset_ipport_allow", HEAD % ("DROP", "DROP") + """-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m set --match-set allowed dst
-A INPUT -m set --match-set allowed dst,dst -j ACCEPT
-A INPUT -m set --match-set trio src,dst,dst -j ACCEPT
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -m set --match-set allowed dst,dst -j ACCEPT
-A FORWARD -m set --match-set allowed src,src -j ACCEPT
COMMIT
""", """create allowed hash:ip,port family inet hashsize 1024 maxelem 65536
add allowed 10.0.0.104,tcp:22
add allowed 10.0.0.104,udp:53
add allowed 10.0.0.104,tcp:8000-8002
add allowed 10.0.0.104,icmp:echo-request
add allowed 10.0.0.104,gre:0
add allowed 10.0.0.104,sctp:2905
add allowed 192.168.1.10,tcp:80
add allowed 192.168.1.10,udp:5000
create trio hash:ip,port,ip family inet hashsize 1024 maxelem 65536
add trio 10.0.0.77,tcp:3306,10.0.0.104
""", lan=(LAN,), notes="hash:ip,port allow-list (tcp, udp, sctp, a port range, icmp type, gre:0) by "
                       "dst,dst and src,src; a rule with one flag never matches a two-dimension set; "
                       "hash:ip,port,ip by src,dst,dst")
def _(t):
    t.add("ssh to the host: allowed", syn(R, H, 40000, 22))
    t.add("telnet to the host: not listed", syn(R, H, 40001, 23))
    t.add("dns over udp: allowed", udp(R, H, 5353, 53))
    t.add("udp 54: not listed", udp(R, H, 5353, 54))
    t.add("tcp 8001 (in a listed range)", syn(R, H, 40002, 8001))
    t.add("tcp 8003 (past the range)", syn(R, H, 40003, 8003))
    t.add("tcp 53 (udp:53 is listed, not tcp)", syn(R, H, 40004, 53))
    t.add("echo request: icmp:echo-request listed", ping(R, H))
    t.add("timestamp request: not listed", ping(R, H, ident=2, kind=13))
    t.add("gre to the host: gre:0 listed", IP(src=R, dst=H, proto=47) / Raw(b"\x00\x00\x08\x00" + b"x" * 20))
    t.add("sctp INIT to 2905: sctp:2905 listed",
          IP(src=R, dst=H) / SCTP(sport=40010, dport=2905) / SCTPChunkInit(
              init_tag=1, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=1))
    t.add("sctp INIT to 2906: not listed",
          IP(src=R, dst=H) / SCTP(sport=40011, dport=2906) / SCTPChunkInit(
              init_tag=2, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=1))
    t.add("mysql from 10.0.0.77: trio src,dst,dst", syn(R, H, 40005, 3306))
    t.add("mysql from 10.0.0.50: not in trio", syn("10.0.0.50", H, 40006, 3306))
    t.add("forward to the LAN web server", syn(NET, LANH, 40007, 80))
    t.add("forward to the LAN host on 81", syn(NET, LANH, 40008, 81))
    t.add("forward from the LAN host's udp 5000 (src,src)", udp(LANH, NET, 5000, 9999))
    t.add("forward from the LAN host's udp 5001", udp(LANH, NET, 5001, 9999))


# ----------------------------------------------------------------------------------------------
@case("ipset_nomatch", HEAD % ("ACCEPT", "ACCEPT") + """-A INPUT -m set --match-set nets src
-A INPUT -m set ! --match-set nets src
-A INPUT -m set --match-set nets src --return-nomatch
-A INPUT -m set ! --match-set nets src --return-nomatch
-A INPUT -m set --match-set np src,dst
-A INPUT -m set --match-set np src,dst --return-nomatch
-A INPUT -m set --match-set hosts src --return-nomatch
-A INPUT -m set --match-set ln src,dst --return-nomatch
-A INPUT -m set --match-set nets src -j DROP
-A INPUT -m set --match-set np src,dst --return-nomatch -j DROP
COMMIT
""", """create nets hash:net family inet hashsize 1024 maxelem 65536
add nets 172.16.0.0/12
add nets 172.16.5.0/24 nomatch
add nets 172.16.5.128/25
add nets 172.16.5.200 nomatch
create np hash:net,port family inet hashsize 1024 maxelem 65536
add np 172.16.0.0/16,tcp:22
add np 172.16.9.0/24,tcp:22 nomatch
add np 172.16.9.0/24,tcp:80
create hosts hash:ip family inet hashsize 1024 maxelem 65536
add hosts 172.16.9.9
create ln list:set size 8
add ln np
add ln nets
""", notes="nomatch elements: the longest prefix decides (a nomatch /24 inside a /12, a /25 inside "
           "the nomatch /24, a nomatch host inside the /25); ! and --return-nomatch; hash:net,port "
           "with a nomatch net for one port only; --return-nomatch on a type without nomatch and through "
           "a list:set")
def _(t):
    t.add("from 172.16.1.1: the /12", syn("172.16.1.1", H, 40000, 22))
    t.add("from 172.16.5.1: nomatch /24", syn("172.16.5.1", H, 40001, 22))
    t.add("from 172.16.5.129: the /25 inside the nomatch /24", syn("172.16.5.129", H, 40002, 22))
    t.add("from 172.16.5.200: nomatch host inside the /25", syn("172.16.5.200", H, 40003, 22))
    t.add("from 8.8.8.8: no element", syn("8.8.8.8", H, 40004, 22))
    t.add("from 172.16.9.9 to 22: nomatch /24 of np", syn("172.16.9.9", H, 40005, 22))
    t.add("from 172.16.9.9 to 80: np /24 tcp:80", syn("172.16.9.9", H, 40006, 80))
    t.add("from 172.16.3.3 to 22: np /16", syn("172.16.3.3", H, 40007, 22))
    t.add("udp from 172.16.3.3 to 22: np has tcp only", udp("172.16.3.3", H, 40008, 22))


# ----------------------------------------------------------------------------------------------
@case("ipset_listset", HEAD % ("ACCEPT", "ACCEPT") + """-A INPUT -m set --match-set all src -j DROP
-A INPUT -m set --match-set all src,dst
-A INPUT -p tcp -m tcp --dport 23 -j SET --add-set all src
-A INPUT -p tcp -m tcp --dport 24 -j SET --del-set all src
-A INPUT -p tcp -m tcp --dport 25 -j SET --add-set pairs2 src,dst
COMMIT
""", """create a hash:ip family inet hashsize 1024 maxelem 65536
add a 10.0.0.77
create b hash:net family inet hashsize 1024 maxelem 65536
add b 198.51.100.0/24
create pairs hash:ip,port family inet hashsize 1024 maxelem 65536
add pairs 10.0.0.50,tcp:80
create pairs2 hash:ip,port family inet hashsize 1024 maxelem 65536
create all list:set size 8 counters
add all pairs packets 0 bytes 0
add all a packets 0 bytes 0
add all b packets 0 bytes 0
add all pairs2 packets 0 bytes 0
""", notes="list:set: members tried in order (a two-dimension member is skipped by a one-flag "
           "rule, used by a src,dst rule); -j SET --add-set on a list adds to the first member that "
           "takes the element, --del-set deletes from the first that has it; list counters")
def _(t):
    t.add("from a's host: dropped via the list", syn(R, H, 40000, 22))
    t.add("from b's net: dropped via the list", syn("198.51.100.7", H, 40001, 22))
    t.add("from 10.0.0.50 to 22: not in a or b", syn("10.0.0.50", H, 40002, 22))
    t.add("from 10.0.0.50 port 80 as src,dst (pairs: ip,port = src addr,dst port)",
          syn("10.0.0.50", H, 40003, 80))
    t.add("knock on 23 from 10.0.0.60: added to the list's first taker", syn("10.0.0.60", H, 40004, 23))
    t.add("10.0.0.60 again: now dropped", syn("10.0.0.60", H, 40005, 22))
    t.add("from 10.0.0.61 to 24: del of an absent element", syn("10.0.0.61", H, 40006, 24))
    t.add("from 10.0.0.61 to 25: add to pairs2 as src,dst", syn("10.0.0.61", H, 40007, 25))
    t.add("from 10.0.0.61 to 25 again: the list matches by src,dst", syn("10.0.0.61", H, 40008, 25))


# ----------------------------------------------------------------------------------------------
@case("ipset_bitmap", HEAD % ("DROP", "DROP") + """-A INPUT -m set --match-set ports dst -j ACCEPT
-A INPUT -m set --match-set admins src -j ACCEPT
-A INPUT -m set --match-set blocks src -j ACCEPT
-A OUTPUT -m set --match-set ports src -j DROP
COMMIT
""", """create ports bitmap:port range 1000-2000
add ports 1022
add ports 1500
add ports 1501
add ports 1502
create admins bitmap:ip range 10.0.0.0-10.0.0.255
add admins 10.0.0.77
create blocks bitmap:ip range 10.0.1.0-10.0.1.255 netmask 30
add blocks 10.0.1.8
""", notes="bitmap:port (TCP and UDP ports only; out of range never matches), bitmap:ip with and "
           "without netmask")
def _(t):
    t.add("tcp 1022", syn("10.0.0.50", H, 40000, 1022))
    t.add("udp 1501", udp("10.0.0.50", H, 40001, 1501))
    t.add("tcp 1503: not set", syn("10.0.0.50", H, 40002, 1503))
    t.add("tcp 999: below the range", syn("10.0.0.50", H, 40003, 999))
    t.add("sctp 1500: bitmap:port counts tcp/udp only",
          IP(src="10.0.0.50", dst=H) / SCTP(sport=40004, dport=1500) / SCTPChunkInit(init_tag=1, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=1))
    t.add("ping from the admin", ping(R, H))
    t.add("ping from 10.0.0.78", ping("10.0.0.78", H))
    t.add("ping from 10.0.1.10 (in the /30 block of 10.0.1.8)", ping("10.0.1.10", H))
    t.add("ping from 10.0.1.12 (next block)", ping("10.0.1.12", H))
    t.add("ping from 10.0.2.1 (outside the bitmap range)", ping("10.0.2.1", H))
    t.add("host sends from port 1500", udp(H, "10.0.0.50", 1500, 53))
    t.add("host sends from port 1499", udp(H, "10.0.0.50", 1499, 53))


# ----------------------------------------------------------------------------------------------
@case("ipset_knock", HEAD % ("DROP", "DROP") + """-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -m set --match-set knocked src -j ACCEPT
-A INPUT -p udp -m udp --dport 7000 -j SET --add-set knock1 src
-A INPUT -p udp -m udp --dport 7001 -m set --match-set knock1 src -j SET --add-set knocked src --timeout 3600
-A INPUT -p udp -m udp --dport 7002 -j SET --del-set knocked src
-A INPUT -p udp -m udp --dport 7003 -j SET --add-set knocked src --exist --timeout 7200
-A INPUT -p tcp -m tcp --dport 8080 -j SET --add-set seen src
-A INPUT -p tcp -m tcp --dport 8080 -j SET --add-set svc src,dst
-A INPUT -m set --match-set seen src
-A INPUT -m set --match-set svc src,dst
COMMIT
""", """create knock1 hash:ip family inet hashsize 1024 maxelem 65536 timeout 600
create knocked hash:ip family inet hashsize 1024 maxelem 65536 timeout 1800 counters
add knocked 10.0.0.50 timeout 1000 packets 3 bytes 180
create seen hash:net family inet hashsize 1024 maxelem 65536 counters
add seen 10.9.0.0/16 packets 0 bytes 0
add seen 10.8.0.0/24 packets 0 bytes 0
create svc hash:ip,port family inet hashsize 1024 maxelem 65536
""", notes="port knocking with -j SET: --add-set with the set's default timeout and with "
           "--timeout, a second stage gated by -m set, --del-set, --exist re-add; a kernel add into "
           "hash:net uses the set's longest prefix; hash:ip,port add by src,dst; counters of "
           "kernel-added elements start at the adding packet")
def _(t):
    t.add("ssh before knocking: dropped", syn(R, H, 40000, 22))
    t.add("knock 1 (udp 7000)", udp(R, H, 50000, 7000))
    t.add("knock 2 (udp 7001): knock1 has us", udp(R, H, 50001, 7001))
    c = Tcp(R, 40001, H, 22)
    c.handshake(t, "ssh after knocking")
    t.add("knock 2 from a stranger without knock 1", udp(NET, H, 50002, 7001))
    t.add("ssh from the stranger: dropped", syn(NET, H, 40002, 22))
    t.add("ssh from 10.0.0.50 (in the file)", syn("10.0.0.50", H, 40003, 22))
    t.add("close: udp 7002 deletes us", udp(R, H, 50003, 7002))
    t.add("ssh again (new port): dropped", syn(R, H, 40004, 22))
    t.add("re-add with --exist (udp 7003)", udp(R, H, 50004, 7003))
    t.add("re-add again with --exist", udp(R, H, 50005, 7003))
    t.add("ssh again: accepted", syn(R, H, 40005, 22))
    t.add("10.0.0.33 to 8080: adds to seen and svc", syn("10.0.0.33", H, 40006, 8080))
    t.add("10.0.0.34 to 8080", syn("10.0.0.34", H, 40007, 8080))
    t.add("10.0.0.33 to 8081: seen by its /24, svc has only 8080", syn("10.0.0.33", H, 40008, 8081))


# ----------------------------------------------------------------------------------------------
@case("ipset_counters", HEAD % ("ACCEPT", "ACCEPT") + """-A INPUT -m set --match-set cn src --packets-gt 1
-A INPUT -m set --match-set c src --packets-gt 3 -j DROP
-A INPUT -m set --match-set c src ! --update-counters
-A INPUT -m set --match-set c src --bytes-lt 300
-A INPUT -m set --match-set c src ! --packets-eq 5
-A INPUT -m set --match-set lst src ! --update-subcounters --packets-lt 3
-A INPUT -m set --match-set lst src --packets-gt 2 -j DROP
COMMIT
""", """create c hash:ip family inet hashsize 1024 maxelem 65536 counters
add c 10.0.0.77 packets 0 bytes 0
add c 10.0.0.50 packets 10 bytes 1000
add c 10.0.0.51 packets 0 bytes 0
create m hash:ip family inet hashsize 1024 maxelem 65536 counters
add m 10.0.0.51 packets 0 bytes 0
create lst list:set size 8 counters
add lst m packets 0 bytes 0
create cn hash:net family inet hashsize 1024 maxelem 65536 counters
add cn 10.0.0.0/24 packets 0 bytes 0
add cn 10.0.0.0/16 packets 5 bytes 0
""", notes="element counters: bumped by every lookup that finds the element (then tested), "
           "! --update-counters, --packets-gt/--bytes-lt/! --packets-eq, list:set counters with "
           "! --update-subcounters; on hash:net an element failing the counter test lets the "
           "lookup go on to a shorter prefix (whose counters are bumped too)")
def _(t):
    for i in range(6):
        t.add("ping %d from 10.0.0.77" % (i + 1), ping(R, H, ident=10 + i))
    t.add("ping from 10.0.0.50 (10 packets already)", ping("10.0.0.50", H, ident=30))
    for i in range(5):
        t.add("udp %d from 10.0.0.51" % (i + 1), udp("10.0.0.51", H, 41000 + i, 9, b"y" * 20))



# ----------------------------------------------------------------------------------------------
@case("ipset_edges", """*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -j SET --map-set marks src --map-mark
COMMIT
""" + HEAD % ("ACCEPT", "ACCEPT") + """-A INPUT -m mark --mark 0x10/0xff
-A INPUT -m mark --mark 0x2
-A INPUT -p icmp -j SET --add-set icmps src,dst
-A INPUT -m set --match-set icmps src,dst
-A INPUT -m set --match-set masked src
-A INPUT -m set --match-set masked src,dst,dst
-A INPUT -p udp -m udp --dport 9 -j SET --add-set masked src
-A INPUT -p udp -m udp --dport 10 -j SET --add-set small src
-A INPUT -p udp -m udp --dport 11 -j SET --del-set nets src
-A INPUT -m set --match-set nets src
-A INPUT -m set --match-set ipn src,dst
-A INPUT -m set --match-set ipb src,dst
COMMIT
""", """create marks hash:net family inet hashsize 1024 maxelem 65536 skbinfo
add marks 10.0.0.0/24 skbmark 0x10/0xff
add marks 10.0.0.77 skbmark 0x2
create icmps hash:ip,port family inet hashsize 1024 maxelem 65536
create masked hash:ip family inet hashsize 1024 maxelem 65536 netmask 24
add masked 10.0.5.0
create small hash:ip family inet hashsize 64 maxelem 2
add small 10.0.0.1
create nets hash:net family inet hashsize 1024 maxelem 65536
add nets 10.0.0.0/16
add nets 10.0.7.0/24
create ipn hash:ip,port family inet hashsize 1024 maxelem 65536 netmask 24
add ipn 10.0.5.9,udp:53
create ipb hash:ip,port family inet hashsize 1024 maxelem 65536 bitmask 255.0.255.0
add ipb 10.1.6.3,udp:53
""", notes="--map-set --map-mark applies the element's skbmark (the longest prefix's); -j SET adds an "
           "ICMP type/code element to hash:ip,port; hash:ip netmask masks lookups and kernel adds; hash:ip,port "
           "netmask and bitmask; "
           "more src/dst flags than the set's dimension are fine; an add to a full set fails; a "
           "kernel delete from hash:net uses the longest prefix in the set (so a second one removes the /16)")
def _(t):
    t.add("ping from 10.0.0.50: mark 0x10 from the /24", ping("10.0.0.50", H, ident=1))
    t.add("ping from 10.0.0.77: mark 0x2 from the host entry", ping(R, H, ident=2))
    t.add("ping again from 10.0.0.50: icmps has it now", ping("10.0.0.50", H, ident=3))
    t.add("echo reply from 10.0.0.50: another icmp type", ping("10.0.0.50", H, ident=4, kind=0))
    t.add("from 10.0.5.77: masked /24 entry", udp("10.0.5.77", H, 40000, 53))
    t.add("from 10.0.6.1 to udp 9: kernel add masks to 10.0.6.0", udp("10.0.6.1", H, 40001, 9))
    t.add("from 10.0.6.200: masked hit", udp("10.0.6.200", H, 40002, 53))
    t.add("from 10.0.0.2 to udp 10: small has room", udp("10.0.0.2", H, 40003, 10))
    t.add("from 10.0.0.3 to udp 10: small is full", udp("10.0.0.3", H, 40004, 10))
    t.add("from 10.0.7.5 to udp 11: delete uses /24", udp("10.0.7.5", H, 40005, 11))
    t.add("from 10.0.7.5 again: the /16 still matches", udp("10.0.7.5", H, 40006, 53))
    t.add("from 10.0.8.5 to udp 11: the longest prefix is /16 now: the /16 goes", udp("10.0.8.5", H, 40007, 11))
    t.add("from 10.0.8.5 again: nets is empty", udp("10.0.8.5", H, 40008, 53))


# ----------------------------------------------------------------------------------------------
@case("ipset_timeouts", HEAD % ("ACCEPT", "ACCEPT") + """-A INPUT -m set --match-set tmo src -j ACCEPT
-A INPUT -p udp -m udp --dport 7000 -j SET --add-set dyn src
-A INPUT -p udp -m udp --dport 7001 -j SET --add-set dyn src --timeout 1
-A INPUT -p udp -m udp --dport 7002 -j SET --add-set dyn src --exist --timeout 6
-A INPUT -m set --match-set dyn src -j DROP
COMMIT
""", """create tmo hash:ip family inet hashsize 1024 maxelem 65536 timeout 2
add tmo 10.0.0.77 timeout 4
add tmo 10.0.0.78 timeout 0
create dyn hash:ip family inet hashsize 1024 maxelem 65536 timeout 3 counters
""", pace=True, notes="element timeouts (the oracle injects at capture times, through with_ipset.py "
                      "--pace): a file timeout counted from the start, a permanent element (timeout "
                      "0), -j SET adds with the set's default and with --timeout, a re-add over an "
                      "expired element without --exist, --exist refreshing the timeout; margins "
                      "of a second or more either side")
def _(t):
    t.at(0.0, "ping from 10.0.0.77: file timeout 4 s", ping(R, H, ident=1))
    t.at(0.0, "ping from 10.0.0.78: permanent", ping("10.0.0.78", H, ident=2))
    t.at(0.1, "10.0.0.50 udp 7000: added for 3 s", udp("10.0.0.50", H, 41000, 7000))
    t.at(1.0, "10.0.0.51 udp 7001: added for 1 s", udp("10.0.0.51", H, 41001, 7001))
    t.at(2.0, "ping from 10.0.0.50: alive", ping("10.0.0.50", H, ident=3))
    t.at(3.5, "ping from 10.0.0.51: expired at 2.0", ping("10.0.0.51", H, ident=4))
    t.at(4.5, "ping from 10.0.0.50: expired at 3.1", ping("10.0.0.50", H, ident=5))
    t.at(4.6, "10.0.0.50 udp 7001: re-added over the expired element for 1 s",
         udp("10.0.0.50", H, 41002, 7001))
    t.at(5.0, "10.0.0.50 udp 7002: --exist refreshes to 6 s", udp("10.0.0.50", H, 41003, 7002))
    t.at(7.0, "ping from 10.0.0.50: alive thanks to the refresh", ping("10.0.0.50", H, ident=6))
    t.at(7.0, "ping from 10.0.0.77: its 4 s are over", ping(R, H, ident=7))
    t.at(7.0, "ping from 10.0.0.78: permanent", ping("10.0.0.78", H, ident=8))

def write_case(c):
    d = os.path.join(HERE, c["name"])
    os.makedirs(d, exist_ok=True)
    t = Timed() if c["pace"] else Trace()
    c["build"](t)
    for name, text in (("rules.v4", c["rules"]), ("sets.ipset", c["sets"]),
                       ("local.txt", "\n".join(c["local"]) + "\n")):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    if c["lan"]:
        with open(os.path.join(d, "lan.txt"), "w") as f:
            f.write("\n".join(c["lan"]) + "\n")
    frames = []
    for i, (_label, p) in enumerate(t.items):
        outbound = p[IP].src in c["local"]
        p = Ether(src=hm.MAC_HOST if outbound else hm.MAC_PEER,
                  dst=hm.MAC_PEER if outbound else hm.MAC_HOST) / p
        e = Ether(bytes(p))
        e.time = 1700000000 + (t.times[i] if c["pace"] else i // 100 + (i % 100) * 0.01)
        frames.append(e)
    wrpcap(os.path.join(d, "trace.pcap"), frames)
    with open(os.path.join(d, "scenario.json"), "w") as f:
        json.dump({"local": c["local"], "lan": c["lan"], "notes": [c["notes"]],
                   "labels": [lbl for lbl, _p in t.items]}, f, indent=1)
        f.write("\n")
    case_json = {"group": "ipset", "pcap": "trace.pcap", "local": c["local"], "lan": c["lan"],
                 "sysctl": {}, "fix_checksums": True, "oracle_args": [], "ipset": "sets.ipset",
                 "notes": c["notes"]}
    if c["pace"]:
        case_json["ipset_pace"] = True
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(case_json, f, indent=1, sort_keys=True)
        f.write("\n")
    return d, len(t.items)


def main():
    for c in CASES:
        d, n = write_case(c)
        print("%s: %d packets" % (os.path.relpath(d, HERE), n))


if __name__ == "__main__":
    main()
