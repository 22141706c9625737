#!/usr/bin/python3
"""scenarios.py -- build and verify the kernel-truth fixtures in testdata/scenarios/.

Every scenario directory holds a `case.json` that says exactly how the kernel oracle
(shared/oracle/kernel_oracle.py) was run on it, so a test harness can replay the same input
through iptwalk and compare with `kernel.json`:

    {"group": "generated|nat|sysctl|handmade|corpus",
     "pcap": "trace.pcap" | "corpus:<file name in the corpus pcaps dir>",
     "local": ["10.0.0.104"], "lan": ["192.168.1.0/24"],
     "sysctl": {"nf_conntrack_tcp_loose": 0},        # non-default sysctls only
     "fix_checksums": true,                         # false = oracle ran with --no-fix-checksums
     "oracle_args": ["--sysctl", "nf_conntrack_tcp_loose=0"],   # everything beyond
                                                    # --rules/--pcap/--local/--lan/--out/--counters
     "ipset": "sets.ipset",                         # sets restored by with_ipset.py first
     "notes": "what the case shows", ...}

Subcommands (run as root with /usr/bin/python3, which has scapy):
  gen PREFIX SEED COUNT -- GENERATOR_ARGS...   generate PREFIX_SEED_NNN with gen_scenarios.py
  sysctl                                       (re)derive the sysctl_* variants from their sources
  corpus [NAME...]                             (re)write rules.v4 + case.json of the corpus_* dirs
  oracle [DIR...]                              run the oracle on the named (default: all) scenarios
  check [DIR...]                               verify kernel.json exists, self_check ok, args match
  verify [DIR...]                              re-run the oracle and compare with kernel.json
                                               (ignoring the timing-dependent UDP ASSURED flag)
  fresh SEED COUNT OUTDIR [-- GENERATOR_ARGS...]
                                               random mix of local/forward/NAT scenarios + kernel.json
                                               (the generator arguments replace the mix)

Environment: ORACLE_DIR (default /work/shared/oracle), CORPUS_DIR (default
/work/shared/corpus/pcaps).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE_DIR = os.environ.get("ORACLE_DIR", "/work/shared/oracle")
CORPUS_DIR = os.environ.get("CORPUS_DIR", "/work/shared/corpus/pcaps")
PY = "/usr/bin/python3"

# The sysctl variants: (name, source scenario, sysctls, notes).  The source's rules, trace and
# addresses are copied; only the oracle's sysctls differ.  Sources were picked so that the
# sysctl changes at least one packet's ctstate or verdict (see README.md).
SYSCTL_VARIANTS = [
    ("sysctl_loose0_gen_s11_000", "gen_s11_000", {"nf_conntrack_tcp_loose": 0},
     "stray ACK / PSH-ACK are INVALID instead of NEW; no mid-stream pickup"),
    ("sysctl_loose0_gen_s13_006", "gen_s13_006", {"nf_conntrack_tcp_loose": 0},
     "tcp_loose=0 on a large trace with strays and anomalies"),
    ("sysctl_loose0_hm_tcp_loose_pickup", "hm_tcp_loose_pickup", {"nf_conntrack_tcp_loose": 0},
     "the mid-stream pickup case with pickup disabled"),
    ("sysctl_liberal1_gen_s14_005", "gen_s14_005", {"nf_conntrack_tcp_be_liberal": 1},
     "out-of-window, ACK of unsent data and RST out of window become ESTABLISHED"),
    ("sysctl_liberal1_hm_tcp_out_of_window", "hm_tcp_out_of_window", {"nf_conntrack_tcp_be_liberal": 1},
     "window-check failures accepted under be_liberal"),
    ("sysctl_ignrst1_hm_tcp_rst_out_of_window", "hm_tcp_rst_out_of_window",
     {"nf_conntrack_tcp_ignore_invalid_rst": 1},
     "only the RST below the acked seq ('invalid rst') changes: it is accepted and ignored; "
     "the RST beyond the window stays INVALID (tcp_in_window decides it, not the RST check)"),
    ("sysctl_liberal1_hm_tcp_rst_out_of_window", "hm_tcp_rst_out_of_window",
     {"nf_conntrack_tcp_be_liberal": 1},
     "be_liberal and RSTs: what changes for the far, the in-window and the below-ack RST"),
    ("sysctl_ignrst1_gen_s14_006", "gen_s14_006", {"nf_conntrack_tcp_ignore_invalid_rst": 1},
     "negative test: the generator's out-of-window RSTs lie beyond the window, which "
     "tcp_ignore_invalid_rst does not cover, so no packet changes"),
    ("sysctl_csum0_hm_bad_tcp_checksum", "hm_bad_tcp_checksum", {"nf_conntrack_checksum": 0},
     "conntrack does not verify checksums: the bad-checksum SYN is NEW, not INVALID"),
    ("sysctl_csum0_hm_bad_udp_checksum", "hm_bad_udp_checksum", {"nf_conntrack_checksum": 0},
     "UDP with a bad checksum is tracked when checksum verification is off"),
    ("sysctl_maxretrans0_hm_tcp_retrans_data", "hm_tcp_retrans_data", {"nf_conntrack_tcp_max_retrans": 0},
     "max_retrans only changes timeouts (raised by the oracle), so states must not change"),
    ("sysctl_loose0_liberal1_gen_s12_003", "gen_s12_003",
     {"nf_conntrack_tcp_loose": 0, "nf_conntrack_tcp_be_liberal": 1},
     "two sysctls at once"),
]


# Corpus scenarios: the capture stays in the corpus (third-party, mixed licences); the scenario
# dir holds rules.v4 + case.json ("pcap": "corpus:<file>") + the oracle's output.
def _server(*ports, icmp=False, helper=False):
    lines = []
    if helper:
        lines += ["*raw", ":PREROUTING ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
                  "-A PREROUTING -p tcp -m tcp --dport 21 -j CT --helper ftp",
                  "-A OUTPUT -p tcp -m tcp --dport 21 -j CT --helper ftp", "COMMIT"]
    lines += ["*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]",
              "-A INPUT -i lo -j ACCEPT",
              "-A INPUT -m conntrack --ctstate INVALID -j DROP",
              "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    for port in ports:
        lines.append("-A INPUT -p tcp -m tcp --dport %d --tcp-flags FIN,SYN,RST,ACK SYN "
                     "-m conntrack --ctstate NEW -j ACCEPT" % port)
    if icmp:
        lines.append("-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT")
    lines += ["-A OUTPUT -m conntrack --ctstate INVALID -j DROP", "COMMIT"]
    return "\n".join(lines) + "\n"


def _client(out_ports=None, helper=False):
    """INPUT DROP + ESTABLISHED,RELATED; OUTPUT open, or limited to out_ports."""
    lines = []
    if helper:
        lines += ["*raw", ":PREROUTING ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
                  "-A OUTPUT -p tcp -m tcp --dport 21 -j CT --helper ftp", "COMMIT"]
    lines += ["*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]",
              ":OUTPUT %s [0:0]" % ("DROP" if out_ports else "ACCEPT"),
              "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
              "-A INPUT -m conntrack --ctstate INVALID -j LOG --log-prefix \"invalid \"",
              "-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    for port in out_ports or []:
        lines.append("-A OUTPUT -p tcp -m tcp --dport %d -j ACCEPT" % port)
    if out_ports:
        lines.append("-A OUTPUT -p icmp -j ACCEPT")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


LO_RULES = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT DROP [0:0]
-A INPUT -i lo -p udp -m udp --dport 53 -j ACCEPT
-A INPUT -i lo -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -i lo -p icmp -j ACCEPT
-A INPUT -i lo -p tcp -j ACCEPT
-A OUTPUT -o lo -j ACCEPT
COMMIT
"""

# (name, corpus file, local, lan, rules, extra oracle args, notes)
CORPUS_CASES = [
    ("corpus_ssh_session_server", "tcpdump-tcp-ssh-session.pcap", ["223.132.53.222"], [], _server(22), [],
     "real ssh session seen from the server; includes a retransmitted FIN"),
    ("corpus_ssh_session_client", "tcpdump-tcp-ssh-session.pcap", ["202.108.87.165"], [], _client([22]), [],
     "the same capture seen from the client, OUTPUT restricted to ssh"),
    ("corpus_icmp_echo", "zeek-icmp-echo-5-pings.pcap", ["172.16.133.2"], [], _client(), [],
     "five echo request/reply pairs from the host"),
    ("corpus_icmp_vlan", "zeek-icmp-vlan-8021q.pcap", ["192.168.123.1"], [], _server(icmp=True), [],
     "802.1Q-tagged pings to the host (ARP records skipped)"),
    ("corpus_icmp_port_unreach_unknown", "zeek-icmp-port-unreach-quoting-udp.pcap", ["192.168.1.1"], [],
     _client(), [], "a lone port unreachable received by the host, quoting a flow never seen: INVALID"),
    ("corpus_icmp_time_exceeded_unknown", "zeek-icmp-time-exceeded.pcap", ["10.0.0.2"], [], _client(), [],
     "a lone time exceeded quoting a datagram never seen: INVALID"),
    ("corpus_smtp_frag_needed", "zeek-smtp-with-icmp-frag-needed.pcap", ["10.10.1.4"], [], _client(), [],
     "SMTP client with DNS and frag-needed errors quoting its segments (RELATED); the capture's other "
     "hosts' traffic is forwarded and dropped"),
    ("corpus_tcp_fin_before_synack", "zeek-tcp-fin-retransmission.pcap", ["10.1.30.117"], [], _client(), [],
     "SYN, bare FIN before the SYN-ACK, FIN/ACK, RST from the server"),
    ("corpus_tcp_handshake_reordered", "zeek-tcp-handshake-reordered.pcap", ["141.142.228.5"], [], _client(),
     [], "SYN-ACK captured before the SYN: INVALID; the host's ACK and first data, sent before "
     "conntrack saw any SYN-ACK, are INVALID too; the retransmitted SYN-ACK repairs it"),
    ("corpus_tcp_missing_syn", "zeek-tcp-missing-syn.pcap", ["141.42.64.125"], [], _client(), [],
     "capture starts with the SYN-ACK: INVALID, then the host's ACK is picked up (tcp_loose)"),
    ("corpus_tcp_rst_injection", "zeek-tcp-rst-injection.pcap", ["1.2.0.2"], [], _client(), [],
     "a spoofed RST/ACK (ack=0) answering the SYN, then the real SYN-ACK; later RST and more data"),
    ("corpus_tcp_syn_then_rst", "zeek-tcp-syn-then-rst.pcap", ["1.1.1.2"], [], _server(31313), [],
     "SYN then RST from the client with no answer: the RST of an unreplied connection is NEW "
     "(original direction, no reply seen yet), so a --syn-only NEW rule drops it"),
    ("corpus_tcp_window_scale_range", "zeek-tcp-window-scale-range.pcap", ["10.0.0.2"], [], _server(80), [],
     "window scale option 16384 (shift > 14) in the SYN"),
    ("corpus_tcp_rst_with_data_vlan", "suricata-tcp-rst-with-data.pcap", ["2.2.2.2"], [], _server(8080), [],
     "802.1Q-tagged session that ends with an RST carrying data"),
    ("corpus_tcp_truncated_header", "zeek-tcp-truncated-header.pcap", ["128.3.26.249"], [], _server(25), [],
     "SMTP server; some segments have truncated TCP headers (bad input)"),
    ("corpus_tcp_fast_retransmit", "zeek-tcp-fast-retransmit.pcap", ["192.168.0.27"], [], _server(80), [],
     "HTTP server side of a fast retransmission"),
    ("corpus_tcp_fast_open", "zeek-tcp-fast-open.pcap", ["10.99.99.45"], [], _server(80), [],
     "TCP Fast Open: data on the SYN"),
    ("corpus_tcp_accecn", "tcpdump-tcp-accecn-handshake.pcap", ["66.228.43.12"], [], _server(80), [],
     "SYN with ECE/CWR/AE (AccECN); --tcp-flags FIN,SYN,RST,ACK SYN still matches"),
    ("corpus_vlan_qinqinq", "zeek-vlan-qinqinq.pcap", ["192.150.187.43"], [], _server(80), [],
     "triple VLAN tags around an HTTP session"),
    ("corpus_frag_icmp_echo", "suricata-ipv4-fragments.pcap", ["2.1.1.1"], [], _server(icmp=True), [],
     "echo request in two fragments, unfragmented reply"),
    ("corpus_frag_tcp_overlap", "zeek-ipv4-fragmented-4.pcap", ["10.0.0.1"], [], _server(80), [],
     "overlapping / out-of-order fragments of an HTTP request (IDS evasion style); a stray "
     "10.0.0.1 -> 127.0.0.1 SYN first"),
    ("corpus_frag_vlan_tcp_syn", "suricata-vlan-fragmented-tcp-syn.pcap", ["2.2.2.2"], [], _server(8080), [],
     "802.1Q + a TCP SYN split into fragments"),
    ("corpus_bad_tcp_checksum_lo", "zeek-ipv4-tcp-bad-checksum.pcap", ["10.0.0.104"], [], LO_RULES,
     ["--no-fix-checksums"], "127.0.0.1 -> 127.0.0.1 TCP with a bad checksum, replayed as captured"),
    ("corpus_bad_udp_checksum_lo", "zeek-ipv4-udp-bad-checksum.pcap", ["10.0.0.104"], [], LO_RULES,
     ["--no-fix-checksums"], "127.0.0.1 -> 127.0.0.1 UDP with a bad checksum, replayed as captured"),
    ("corpus_linktype_sll2_http", "suricata-linux-sll2-http.pcap", ["192.168.1.21"], [], _server(80), [],
     "LINKTYPE_LINUX_SLL2 (276)"),
    ("corpus_linktype_sll_nano", "tcpdump-tcp-handshake-nano-sll.pcap", ["131.155.215.69"], [],
     _client([80]), [], "LINKTYPE_LINUX_SLL (113), nanosecond pcap"),
    ("corpus_linktype_null_dns_lo", "tcpdump-dns-loopback-null.pcap", ["10.0.0.104"], [], LO_RULES, [],
     "DLT_NULL loopback capture of DNS on 127.0.0.1 (local -> local via lo)"),
    ("corpus_linktype_raw_syn_payload", "zeek-tcp-payload-on-syn-rawip.pcap", ["192.168.0.2"], [], _server(80),
     [], "LINKTYPE_RAW (101); SYN carrying payload"),
    ("corpus_linktype_ipv4_pings", "zeek-tcp-timeout-with-pings-rawip4.pcap", ["192.168.1.10"], [],
     _client(), [], "LINKTYPE_IPV4 (228): a TCP connection idles while pings go by"),
    ("corpus_linktype_sll2_icmp_self", "zeek-linux-sll2.pcap", ["192.0.2.1"], [], LO_RULES, [],
     "LINKTYPE_LINUX_SLL2: pings to itself (local -> local), IPv6/ARP/RARP records skipped"),
    ("corpus_ftp_active_helper", "suricata-ftp-active-port-retr.pcap", ["172.23.0.2"], [],
     _server(21, helper=True), [], "FTP server with the ftp helper: active-mode data connections from "
     "port 20 (OUTPUT)"),
    ("corpus_ftp_pasv_port_helper", "zeek-ftp-ipv4-pasv-and-port.pcap", ["141.142.220.235"], [],
     _client(helper=True), [], "FTP client with the ftp helper on OUTPUT: PORT data connections come in "
     "RELATED"),
    ("corpus_ftp_epsv_client_nohelper", "zeek-ftp-epsv-retr.pcap", ["141.142.228.5"], [],
     _client([21]), [], "FTP client without the helper and OUTPUT limited to :21: the EPSV data "
     "connection's SYN is NEW and dropped"),
    ("corpus_malformed_ipv4_ihl", "tcpdump-malformed-ipv4-ihl.pcap", ["10.0.0.104"], [], _client(), [],
     "bad input: IPv4 IHL < 5; the kernel drops it in ip_rcv (NOT_REACHED)"),
    ("corpus_malformed_udp_huge_caplen", "tcpdump-malformed-udp-huge-caplen.pcap", ["10.0.0.104"], [],
     _client(), [], "bad input: fuzzer-made record, headers filled with 0x30 bytes (NOT_REACHED)"),
    ("corpus_empty", "tcpdump-empty.pcap", ["10.0.0.104"], [], _client(), [],
     "a pcap with no records: no packets, zero counters"),
]


def cmd_corpus(argv):
    """(Re)writes rules.v4 and case.json of the corpus_* scenarios (kernel.json: `oracle`)."""
    only = set(argv)
    for name, pcap, local, lan, rules, args, notes in CORPUS_CASES:
        if only and name not in only:
            continue
        d = os.path.join(HERE, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "rules.v4"), "w") as f:
            f.write(rules)
        case = {"group": "corpus", "pcap": "corpus:" + pcap, "local": local, "lan": lan, "sysctl": {},
                "fix_checksums": "--no-fix-checksums" not in args, "oracle_args": args, "notes": notes}
        dump(case, os.path.join(d, "case.json"))
        print(d)
    return 0


def load(path):
    with open(path) as f:
        return json.load(f)


def dump(obj, path):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def read_list(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().split()


def scenario_dirs(names):
    if names:
        return [os.path.join(HERE, os.path.basename(n.rstrip("/"))) for n in names]
    return sorted(os.path.join(HERE, n) for n in os.listdir(HERE)
                  if os.path.exists(os.path.join(HERE, n, "case.json")))


def sysctl_args(sysctls):
    out = []
    for k in sorted(sysctls):
        out += ["--sysctl", "%s=%s" % (k, sysctls[k])]
    return out


def pcap_path(d, case):
    p = case.get("pcap", "trace.pcap")
    if p.startswith("corpus:"):
        return os.path.join(CORPUS_DIR, p[len("corpus:"):])
    return os.path.join(d, p)


def oracle_cmd(d, case, out, counters):
    # Scenarios with sets run through with_ipset.py, which restores them into the oracle's
    # namespace first and saves them after the replay (ipset_after.txt).
    oracle = [PY, os.path.join(ORACLE_DIR, "kernel_oracle.py")]
    if case.get("ipset"):
        oracle = [PY, os.path.join(HERE, "with_ipset.py"), "--ipset", os.path.join(d, case["ipset"]),
                  "--ipset-after", os.path.join(os.path.dirname(out), "ipset_after.txt")]
        if case.get("ipset_pace"):
            oracle.append("--pace")   # packets at their capture times (set timeouts)
    cmd = oracle + ["--rules", os.path.join(d, "rules.v4"),
           "--pcap", pcap_path(d, case), "--local", ",".join(case["local"]),
           "--out", out, "--counters", counters]
    if case.get("lan"):
        cmd += ["--lan", ",".join(case["lan"])]
    return cmd + list(case.get("oracle_args", []))


def run_oracle(d):
    """Runs the oracle for one scenario dir; returns an error string or None."""
    case = load(os.path.join(d, "case.json"))
    cmd = oracle_cmd(d, case, os.path.join(d, "kernel.json"), os.path.join(d, "counters.txt"))
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return "oracle rc=%d: %s" % (r.returncode, r.stderr.strip().splitlines()[-1:] or "")
    return check_one(d)


def check_one(d):
    kj = os.path.join(d, "kernel.json")
    if not os.path.exists(kj):
        return "no kernel.json"
    case = load(os.path.join(d, "case.json"))
    res = load(kj)
    o = res["oracle"]
    if o.get("self_check") != "ok":
        return "self_check %r" % o.get("self_check")
    if o.get("local") != case["local"] and o.get("local") != ",".join(case["local"]):
        return "local mismatch %r vs %r" % (o.get("local"), case["local"])
    for k, v in case.get("sysctl", {}).items():
        if str(o["sysctls"].get(k)) != str(v):
            return "sysctl %s=%r, case says %r" % (k, o["sysctls"].get(k), v)
    if bool(o.get("checksums_fixed", True)) != bool(case.get("fix_checksums", True)):
        return "checksums_fixed %r, case says %r" % (o.get("checksums_fixed"), case.get("fix_checksums"))
    return None


def write_gen_case(d, group, seed, index, gen_args):
    sc = load(os.path.join(d, "scenario.json"))
    case = {"group": group, "pcap": "trace.pcap", "local": read_list(os.path.join(d, "local.txt")),
            "lan": read_list(os.path.join(d, "lan.txt")), "sysctl": {}, "fix_checksums": True,
            "oracle_args": [],
            "generator": {"seed": seed, "index": index, "args": gen_args},
            "notes": "gen_scenarios.py --seed %s %s, scenario %d; %s" % (
                seed, " ".join(gen_args), index, "; ".join(sc.get("notes", [])))}
    dump(case, os.path.join(d, "case.json"))


def cmd_gen(argv):
    prefix, seed, count = argv[0], argv[1], int(argv[2])
    gen_args = argv[4:] if len(argv) > 3 and argv[3] == "--" else argv[3:]
    group = "nat" if prefix == "nat" else "generated"
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([PY, os.path.join(ORACLE_DIR, "gen_scenarios.py"), "--seed", seed,
                        "--count", str(count), "--out", tmp] + gen_args, check=True,
                       stdout=subprocess.DEVNULL)
        for i in range(count):
            dst = os.path.join(HERE, "%s_%s_%03d" % (prefix, seed, i))
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(os.path.join(tmp, "scenario_%03d" % i), dst)
            write_gen_case(dst, group, seed, i, gen_args)
            print(dst)
    return 0


def cmd_sysctl(_argv):
    for name, src, sysctls, notes in SYSCTL_VARIANTS:
        s, d = os.path.join(HERE, src), os.path.join(HERE, name)
        scase = load(os.path.join(s, "case.json"))
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for f in ("rules.v4", "trace.pcap", "local.txt", "lan.txt", "scenario.json"):
            if os.path.exists(os.path.join(s, f)):
                shutil.copy(os.path.join(s, f), os.path.join(d, f))
        merged = dict(scase.get("sysctl", {}))
        merged.update(sysctls)
        args = [a for a in scase.get("oracle_args", []) if a == "--no-fix-checksums"] + sysctl_args(merged)
        case = {"group": "sysctl", "pcap": "trace.pcap", "local": scase["local"], "lan": scase["lan"],
                "sysctl": merged, "fix_checksums": scase.get("fix_checksums", True),
                "oracle_args": args, "derived_from": src, "notes": notes}
        dump(case, os.path.join(d, "case.json"))
        print(d)
    return 0


def cmd_oracle(argv):
    bad = 0
    for d in scenario_dirs(argv):
        err = run_oracle(d)
        print("%-48s %s" % (os.path.basename(d), err or "ok"), flush=True)
        bad += err is not None
    return 1 if bad else 0


def strip_udp_assured(obj):
    """A copy of an oracle result without the ASSURED flag of UDP entries.

    nf_conntrack_udp_packet() sets ASSURED only when a replied flow is still active 2 s
    (stream_ts) after it was created, so that flag depends on how fast the replay ran, not on
    the trace."""
    if isinstance(obj, list):
        return [strip_udp_assured(x) for x in obj]
    if not isinstance(obj, dict):
        return obj
    out = {k: strip_udp_assured(v) for k, v in obj.items()}
    if out.get("proto") == 17 and isinstance(out.get("status"), list):
        out["status"] = [f for f in out["status"] if f != "ASSURED"]
    return out


def same_result(a, b):
    """Oracle results equal apart from timing-dependent parts (UDP ASSURED, stderr timing)."""
    keys = ("packets", "counters", "rule_counters", "policy_counters", "conntrack_final")
    return all(strip_udp_assured(a.get(k)) == strip_udp_assured(b.get(k)) for k in keys)


def cmd_verify(argv):
    """Re-runs the oracle into a temporary file and compares with the committed kernel.json."""
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for d in scenario_dirs(argv):
            case = load(os.path.join(d, "case.json"))
            out = os.path.join(tmp, "k.json")
            r = subprocess.run(oracle_cmd(d, case, out, os.path.join(tmp, "c.txt")),
                               capture_output=True, text=True)
            if r.returncode != 0:
                err = "oracle rc=%d" % r.returncode
            elif not same_result(load(os.path.join(d, "kernel.json")), load(out)):
                err = "DIFFERS from the committed kernel.json"
            else:
                err = None
            print("%-48s %s" % (os.path.basename(d), err or "same"), flush=True)
            bad += err is not None
    return 1 if bad else 0


def cmd_check(argv):
    bad = 0
    for d in scenario_dirs(argv):
        err = check_one(d)
        if err:
            print("%-48s %s" % (os.path.basename(d), err))
            bad += 1
    print("%d scenarios checked, %d bad" % (len(scenario_dirs(argv)), bad))
    return 1 if bad else 0


def cmd_fresh(argv):
    """COUNT random scenarios from SEED: about 40 % local, 30 % forward, 30 % NAT, unless
    generator arguments follow a `--` (e.g. `-- --forward-ratio 1 --nat-ratio 1`: all NAT)."""
    seed, count, out = argv[0], int(argv[1]), argv[2]
    gen_args = ["--forward-ratio", "0.6", "--nat-ratio", "0.5"]
    if len(argv) > 3 and argv[3] == "--":
        gen_args = argv[4:]
    os.makedirs(out, exist_ok=True)
    subprocess.run([PY, os.path.join(ORACLE_DIR, "gen_scenarios.py"), "--seed", seed, "--count",
                    str(count), "--out", out] + gen_args, check=True, stdout=subprocess.DEVNULL)
    bad = 0
    for i in range(count):
        d = os.path.join(out, "scenario_%03d" % i)
        sc = load(os.path.join(d, "scenario.json"))
        write_gen_case(d, "nat" if sc.get("nat") else "generated", seed, i, gen_args)
        err = run_oracle(d)
        print("%s %s" % (d, err or "ok"), flush=True)
        bad += err is not None
    return 1 if bad else 0


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    cmds = {"gen": cmd_gen, "sysctl": cmd_sysctl, "corpus": cmd_corpus, "oracle": cmd_oracle, "check": cmd_check,
            "fresh": cmd_fresh, "verify": cmd_verify}
    if sys.argv[1] not in cmds:
        print(__doc__)
        return 2
    return cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
