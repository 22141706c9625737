#!/usr/bin/python3
"""Replay the conntrack DSL cases through the real kernel (shared/oracle/kernel_oracle.py).

Usage (as root, Debian python3 with scapy):
    IPTWALK_DSL_EXPORT=/tmp/dsl cargo test --lib conntrack::tests::cases
    /usr/bin/python3 src/conntrack/tests/oracle_replay.py /tmp/dsl

Every script becomes a pcap (10.0.0.1:40000 is the remote client on the wire, 10.0.0.2:80 the
firewall host itself, so `orig` packets go PREROUTING -> INPUT and `reply` packets OUTPUT) and an
accept-all ruleset; `drop` steps get a `-m statistic --mode nth` DROP rule for exactly that packet (`reject`: a
REJECT --reject-with tcp-reset rule),
`csum=bad` steps a corrupted checksum with --no-fix-checksums, `set` lines become --sysctl.
Scripts with `wait` (timeouts: the oracle replays in real time) or `hook=out` are skipped.
Prints OK/DIFF per script, comparing the ctstate, ctdir and the entry's state afterwards.
Work files go to /tmp/ocases.
"""
import glob, json, os, subprocess, sys
from scapy.all import Ether, IP, TCP, UDP, ICMP, Raw, wrpcap

A, B, PA, PB = "10.0.0.1", "10.0.0.2", 40000, 80
ICMPT = {"echo": 8, "echo-reply": 0, "timestamp": 13, "timestamp-reply": 14, "info": 15,
         "info-reply": 16, "mask": 17, "mask-reply": 18}
RULES = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"

def kv(toks, key, default=None):
    for t in toks:
        if t.startswith(key + "="):
            return t.split("=", 1)[1]
    return default

def build(lhs):
    toks = lhs.split()
    d, rest = toks[0], toks[1:]
    kind = rest[0]
    src, dst = (A, B) if d == "orig" else (B, A)
    ps, pd = (PA, PB) if d == "orig" else (PB, PA)
    sport, dport = int(kv(rest, "sport", ps)), int(kv(rest, "dport", pd))
    ip = IP(src=src, dst=kv(rest, "to", dst))
    if kind == "udp":
        return ip / UDP(sport=sport, dport=dport) / Raw(b"u" * int(kv(rest, "len", 10)))
    if kind == "icmp":
        t = rest[1] if len(rest) > 1 and "=" not in rest[1] else "echo"
        t = ICMPT.get(t, None) if t in ICMPT else int(t)
        return ip / ICMP(type=t, code=int(kv(rest, "code", 0)), id=int(kv(rest, "id", 1)), seq=1) / Raw(b"p" * 8)
    if kind == "icmp-error":
        spec = rest[1]
        t, c = (spec.split("/") + ["0"])[:2]
        about_orig = kv(rest, "about", "orig") != "reply"
        qs, qd, qps, qpd = (A, B, PA, PB) if about_orig else (B, A, PB, PA)
        q = kv(rest, "quote", "udp")
        if q == "tcp":
            inner = IP(src=qs, dst=qd) / TCP(sport=qps, dport=qpd, flags="A", seq=101, ack=501)
        elif q == "icmp":
            inner = IP(src=qs, dst=qd) / ICMP(type=8 if about_orig else 0, id=int(kv(rest, "id", 1)), seq=1)
        else:
            inner = IP(src=qs, dst=qd) / UDP(sport=qps, dport=qpd) / Raw(b"u" * 10)
        return ip / ICMP(type=int(t), code=int(c)) / bytes(inner)[:28]
    if kind.startswith("proto="):
        return IP(src=src, dst=dst, proto=int(kind.split("=")[1])) / Raw(b"x" * 8)
    fl = "" if kind == "none" else kind
    opts = []
    if kv(rest, "wscale") is not None:
        opts.append(("WScale", int(kv(rest, "wscale"))))
    if "sackok" in rest:
        opts.append(("SAckOK", b""))
    if kv(rest, "sack") is not None:
        e = int(kv(rest, "sack"))
        opts.append(("SAck", (e - 1, e)))
    tcp = TCP(sport=sport, dport=dport, flags=fl, seq=int(kv(rest, "seq", 0)), ack=int(kv(rest, "ack", 0)),
              window=int(kv(rest, "win", 64240)), options=opts)
    n = int(kv(rest, "len", 0))
    return ip / tcp / (Raw(b"d" * n) if n else b"")

def replay(path):
    lines = [l.strip() for l in open(path).read().replace(";", "\n").split("\n")]
    lines = [l for l in lines if l and not l.startswith("#")]
    if any(w in l for l in lines for w in ("wait ", "hook=out")):
        return None
    sysctls, steps = [], []
    for l in lines:
        if l.startswith("set "):
            sysctls += ["--sysctl", l[4:].strip()]
        else:
            lhs, rhs = l.split("->")
            steps.append((l, lhs, rhs.split()))
    pkts = []
    rules = []
    n_in = {"orig": 0, "reply": 0}
    for _, lhs, _ in steps:
        ip = build(lhs)
        d = lhs.split()[0]
        if " drop" in " " + lhs:
            chain = "INPUT" if d == "orig" else "OUTPUT"
            rules.append("-A %s -m statistic --mode nth --every 1000000 --packet %d -j DROP" % (chain, n_in[d]))
        if " reject" in " " + lhs and d == "orig":
            rules.append("-A INPUT -p tcp -m statistic --mode nth --every 1000000 --packet %d "
                         "-j REJECT --reject-with tcp-reset" % n_in[d])
        n_in[d] += 1
        if "csum=bad" in lhs:
            ip = IP(bytes(ip))
            ip[ip.payload.__class__].chksum = (ip[ip.payload.__class__].chksum + 1) & 0xffff
        pkts.append(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ip)
    RULES_ = RULES.replace("COMMIT", "\n".join(rules) + "\nCOMMIT") if rules else RULES
    if any("csum=bad" in l for l in lines):
        sysctls = sysctls + ["--no-fix-checksums"]
    base = "/tmp/ocases/" + os.path.basename(path)[:-4]
    wrpcap(base + ".pcap", pkts)
    open(base + ".rules", "w").write(RULES_)
    r = subprocess.run(["/usr/bin/python3", "/work/shared/oracle/kernel_oracle.py", "--rules", base + ".rules",
                        "--pcap", base + ".pcap", "--local", B, "--out", base + ".json", "--no-rule-trace"] + sysctls,
                       capture_output=True, text=True)
    if r.returncode != 0:
        return [("oracle failed", r.stderr[-300:])]
    res = json.load(open(base + ".json"))["packets"]
    bad = []
    for (line, lhs, exp), p in zip(steps, res):
        own_flow = "sport=" not in lhs and "dport=" not in lhs and ("icmp" not in lhs or "quote=tcp" in lhs or "quote=udp" in lhs)
        after = p.get("ct_after")
        for i, e in enumerate(exp):
            ok = True
            if i == 0:
                ok = p["ctstate"] == e
            elif e == "dir=orig":
                ok = p["ctdir"] == "ORIGINAL"
            elif e == "dir=reply":
                ok = p["ctdir"] == "REPLY"
            elif not own_flow:
                continue
            elif e == "gone":
                ok = after is None
            elif e == "-":
                ok = after is not None and "tcp_state" not in after
            elif e in ("assured", "seen_reply"):
                ok = after is not None and e.upper() in after["status"]
            elif e in ("!assured", "!seen_reply"):
                ok = after is not None and e[1:].upper() not in after["status"]
            else:
                ok = after is not None and after.get("tcp_state") == e
            if not ok:
                bad.append((line, e, p["ctstate"], p.get("ctdir"), after))
    return bad

if __name__ == "__main__":
    os.makedirs("/tmp/ocases", exist_ok=True)
    tot = skipped = 0
    for f in sorted(glob.glob(sys.argv[1] + "/*.dsl")):
        b = replay(f)
        if b is None:
            skipped += 1
            continue
        tot += 1
        print(("OK   " if not b else "DIFF ") + os.path.basename(f))
        for x in b:
            print("     ", x)
    print("replayed", tot, "skipped", skipped)
