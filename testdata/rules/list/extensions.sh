# Every match and target extension iptwalk knows, as rules iptables-legacy 1.8.9 on
# kernel 6.18 accepted: the OK lines of the upstream extensions/*.t files, our
# testdata/extensions/*.t, and a few hand-written ones (devgroup, rateest, set, SET).
# src/tests/list.rs lists them and compares with `iptables -L -v -n --line-numbers`;
# the sets foo (hash:ip) and bar (hash:ip,port) must exist for the -m set/-j SET rules,
# and the accounting objects n1 and "a b" (nfacct add) for -m nfacct.
iptables -t nat -A PREROUTING -j DNAT --to-destination 1.1.1.1
iptables -t nat -A PREROUTING -j DNAT --to-destination 1.1.1.1-1.1.1.10
iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:1025-65535
iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1-1.1.1.10:1025-65535
iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/1000
iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/3000
iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/65535
iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:ssh
iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:ftp-data
iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:10-20/ftp
iptables -t mangle -A PREROUTING -p tcp -j ECN --ecn-tcp-remove
iptables -t filter -A INPUT -j LOG
iptables -t filter -A INPUT -j LOG --log-prefix 'test: '
iptables -t filter -A INPUT -j LOG --log-prefix 'test: ' --log-level 1
iptables -t filter -A INPUT -j LOG --log-prefix 'test: ' --log-level alert
iptables -t filter -A INPUT -j LOG --log-prefix 'test: ' --log-tcp-sequence
iptables -t filter -A INPUT -j LOG --log-prefix 'test: ' --log-tcp-options
iptables -t filter -A INPUT -j LOG --log-prefix 'test: ' --log-ip-options
iptables -t filter -A INPUT -j LOG --log-prefix 'test: ' --log-uid
iptables -t nat -A POSTROUTING -j MASQUERADE
iptables -t nat -A POSTROUTING -j MASQUERADE --random
iptables -t nat -A POSTROUTING -j MASQUERADE --random-fully
iptables -t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 1024
iptables -t nat -A POSTROUTING -p udp -j MASQUERADE --to-ports 1024-65535
iptables -t nat -A PREROUTING -j NETMAP --to 1.2.3.0/24
iptables -t nat -A PREROUTING -j NETMAP --to 1.2.3.4
iptables -t filter -A INPUT -j REJECT
iptables -t filter -A INPUT -j REJECT --reject-with icmp-net-unreachable
iptables -t filter -A INPUT -j REJECT --reject-with icmp-host-unreachable
iptables -t filter -A INPUT -j REJECT --reject-with icmp-port-unreachable
iptables -t filter -A INPUT -j REJECT --reject-with icmp-proto-unreachable
iptables -t filter -A INPUT -j REJECT --reject-with icmp-net-prohibited
iptables -t filter -A INPUT -j REJECT --reject-with icmp-host-prohibited
iptables -t filter -A INPUT -j REJECT --reject-with icmp-admin-prohibited
iptables -t nat -A POSTROUTING -j SNAT --to-source 1.1.1.1
iptables -t nat -A POSTROUTING -j SNAT --to-source 1.1.1.1-1.1.1.10
iptables -t nat -A POSTROUTING -j SNAT --to-source 1.1.1.1 --random
iptables -t nat -A POSTROUTING -j SNAT --to-source 1.1.1.1 --random-fully
iptables -t nat -A POSTROUTING -j SNAT --to-source 1.1.1.1 --persistent
iptables -t nat -A POSTROUTING -j SNAT --to-source 1.1.1.1 --random --persistent
iptables -t nat -A POSTROUTING -j SNAT --to-source 1.1.1.1 --random --random-fully
iptables -t nat -A POSTROUTING -j SNAT --to-source 1.1.1.1 --random --random-fully --persistent
iptables -t nat -A POSTROUTING -p tcp -j SNAT --to-source 1.1.1.1:1025-65535
iptables -t nat -A POSTROUTING -p tcp -j SNAT --to-source 1.1.1.1-1.1.1.10:1025-65535
iptables -t filter -A INPUT -j TEE --gateway 1.1.1.1
iptables -t mangle -A PREROUTING -p udp -j TPROXY --on-port 12345 --on-ip 10.0.0.1 --tproxy-mark 0x23/0xff
iptables -t mangle -A PREROUTING -p tcp -m tcp --dport 2342 -j TPROXY --on-port 12345 --on-ip 10.0.0.1 --tproxy-mark 0x23/0xff
iptables -t mangle -A PREROUTING -j TTL --ttl-set 42
iptables -t mangle -A PREROUTING -j TTL --ttl-inc 1
iptables -t mangle -A PREROUTING -j TTL --ttl-dec 1
iptables -t filter -A INPUT -p ah -m ah --ahspi 0
iptables -t filter -A INPUT -p ah -m ah --ahspi 4294967295
iptables -t filter -A INPUT -p ah -m ah --ahspi 0:4294967295
iptables -t filter -A INPUT -p ah -m ah '!' --ahspi 0
iptables -t filter -A INPUT -p ah -m ah
iptables -t filter -A INPUT -p ah -m ah --ahspi :
iptables -t filter -A INPUT -p ah -m ah '!' --ahspi :
iptables -t filter -A INPUT -p ah -m ah --ahspi :3
iptables -t filter -A INPUT -p ah -m ah --ahspi 3:
iptables -t filter -A INPUT -p ah -m ah --ahspi 3:3
iptables -t filter -A INPUT -m connlimit --connlimit-upto 0
iptables -t filter -A INPUT -m connlimit --connlimit-upto 4294967295 --connlimit-mask 32 --connlimit-saddr
iptables -t filter -A INPUT -m connlimit --connlimit-above 0
iptables -t filter -A INPUT -m connlimit --connlimit-above 4294967295 --connlimit-mask 32 --connlimit-saddr
iptables -t filter -A INPUT -m connlimit --connlimit-above 10 --connlimit-saddr
iptables -t filter -A INPUT -m connlimit --connlimit-above 10 --connlimit-daddr
iptables -t filter -A INPUT -m connlimit --connlimit-above 10 --connlimit-mask 32 --connlimit-saddr
iptables -t filter -A INPUT -m connlimit --connlimit-above 10 --connlimit-mask 32 --connlimit-daddr
iptables -t filter -A INPUT -m conntrack --ctorigsrc 1.1.1.1
iptables -t filter -A INPUT -m conntrack --ctorigdst 1.1.1.1
iptables -t filter -A INPUT -m conntrack --ctreplsrc 1.1.1.1
iptables -t filter -A INPUT -m conntrack --ctrepldst 1.1.1.1
iptables -t filter -A INPUT -p icmp -m icmp --icmp-type any
iptables -t filter -A INPUT -p icmp -m icmp --icmp-type echo-reply
iptables -t filter -A INPUT -p icmp -m icmp --icmp-type destination-unreachable
iptables -t filter -A INPUT -p icmp -m icmp --icmp-type 255/255
iptables -t filter -A INPUT -p icmp -m icmp --icmp-type 255/0:255
iptables -t filter -A INPUT -m iprange --src-range 1.1.1.1-1.1.1.10
iptables -t filter -A INPUT -m iprange '!' --src-range 1.1.1.1-1.1.1.10
iptables -t filter -A INPUT -m iprange --dst-range 1.1.1.1-1.1.1.10
iptables -t filter -A INPUT -m iprange '!' --dst-range 1.1.1.1-1.1.1.10

iptables -t filter -A INPUT -p tcp -m osf --genre linux --ttl 0 --log 0
iptables -t filter -A INPUT -m policy --dir in --pol ipsec --strict --reqid 1 --spi 0x1 --proto esp --mode tunnel --tunnel-dst 10.0.0.0/8 --tunnel-src 10.0.0.0/8 --next --reqid 2
iptables -t filter -A INPUT -m policy --dir in --pol ipsec --strict --reqid 1 --spi 0x1 --proto ipcomp --mode tunnel --tunnel-dst 10.0.0.0/8 --tunnel-src 10.0.0.0/8 --next --reqid 2
iptables -t filter -A INPUT -m realm --realm 0x1/0x2a
iptables -t filter -A INPUT -m realm --realm 0x2a
iptables -t filter -A INPUT -m recent --set
iptables -t filter -A INPUT -m recent --rcheck --hitcount 8 --name foo --mask 255.255.255.255 --rsource
iptables -t filter -A INPUT -m recent --rcheck --hitcount 12 --name foo --mask 255.255.255.255 --rsource
iptables -t filter -A INPUT -m recent --update --rttl
iptables -t filter -A INPUT -m recent --rcheck --hitcount 3 --name foo --mask 255.255.255.255 --rsource -m recent --rcheck --hitcount 4 --name foo --mask 255.255.255.255 --rsource
iptables -t filter -A INPUT -m recent --rcheck --hitcount 4 --name foo --mask 255.255.255.255 --rsource -m recent --rcheck --hitcount 4 --name foo --mask 255.255.255.255 --rsource
iptables -t filter -A INPUT -m recent --rcheck --hitcount 8 --name foo --mask 255.255.255.255 --rsource -m recent --rcheck --hitcount 12 --name foo --mask 255.255.255.255 --rsource
iptables -t filter -A INPUT -s 127.0.0.1/32 -d 0.0.0.0/8 -j DROP
iptables -t filter -A INPUT '!' -s 0.0.0.0 -j ACCEPT
iptables -t filter -A INPUT '!' -d 0.0.0.0/32 -j ACCEPT
iptables -t filter -A INPUT -s 0.0.0.0/24 -j RETURN
iptables -t filter -A INPUT -s 10.11.12.13/8
iptables -t filter -A INPUT -s 10.11.12.13/9
iptables -t filter -A INPUT -s 10.11.12.13/10
iptables -t filter -A INPUT -s 10.11.12.13/11
iptables -t filter -A INPUT -s 10.11.12.13/12
iptables -t filter -A INPUT -s 10.11.12.13/30
iptables -t filter -A INPUT -s 10.11.12.13/31
iptables -t filter -A INPUT -s 10.11.12.13/32
iptables -t filter -A INPUT -s 10.11.12.13/255.0.0.0
iptables -t filter -A INPUT -s 10.11.12.13/255.128.0.0
iptables -t filter -A INPUT -s 10.11.12.13/255.0.255.0
iptables -t filter -A INPUT -s 10.11.12.13/255.0.12.0
iptables -t filter -A FORWARD -i + -d 1.2.3.4
iptables -t filter -A INPUT -m ttl --ttl-eq 0
iptables -t filter -A INPUT -m ttl --ttl-eq 255
iptables -t filter -A INPUT -m ttl '!' --ttl-eq 0
iptables -t filter -A INPUT -m ttl '!' --ttl-eq 255
iptables -t filter -A INPUT -m ttl --ttl-gt 0
iptables -t filter -A INPUT -j AUDIT --type accept
iptables -t filter -A INPUT -j AUDIT --type drop
iptables -t filter -A INPUT -j AUDIT --type reject
iptables -t mangle -A PREROUTING -j CHECKSUM --checksum-fill
iptables -t mangle -A FORWARD -j CLASSIFY --set-class 0000:ffff
iptables -t mangle -A PREROUTING -j CONNMARK --restore-mark
iptables -t mangle -A PREROUTING -j CONNMARK --save-mark
iptables -t mangle -A PREROUTING -j CONNMARK --save-mark --nfmask 0xfffffff --ctmask 0xffffffff
iptables -t mangle -A PREROUTING -j CONNMARK --restore-mark --nfmask 0xfffffff --ctmask 0xffffffff
iptables -t mangle -A PREROUTING -j CONNSECMARK --restore
iptables -t mangle -A PREROUTING -j CONNSECMARK --save
iptables -t raw -A PREROUTING -j CT --notrack
iptables -t raw -A PREROUTING -j CT --ctevents new,related,destroy,reply,assured,protoinfo,helper,mark
iptables -t raw -A PREROUTING -j CT --expevents new
iptables -t raw -A PREROUTING -j CT --zone 65535
iptables -t mangle -A PREROUTING -j DSCP --set-dscp 0x00
iptables -t mangle -A PREROUTING -j DSCP --set-dscp 0x3f
iptables -t mangle -A PREROUTING -j DSCP --set-dscp-class CS0
iptables -t mangle -A PREROUTING -j DSCP --set-dscp-class BE
iptables -t mangle -A PREROUTING -j DSCP --set-dscp-class EF
iptables -t filter -A INPUT -j HMARK --hmark-src-prefix 32 --hmark-rnd 0x00000004 --hmark-mod 42
iptables -t filter -A INPUT -j HMARK --hmark-src-prefix 32 --hmark-dst-prefix 32 --hmark-sport-mask 0xffff --hmark-dport-mask 0xffff --hmark-proto-mask 0xffff --hmark-rnd 0x00000004 --hmark-mod 42 --hmark-offset 1 --hmark-tuple ct
iptables -t filter -A INPUT -j HMARK --hmark-src-prefix 32 --hmark-dst-prefix 32 --hmark-spi-mask 0x00000004 --hmark-proto-mask 0xffff --hmark-rnd 0x00000004 --hmark-mod 42 --hmark-offset 1 --hmark-tuple ct
iptables -t filter -A INPUT -j HMARK --hmark-src-prefix 1 --hmark-dst-prefix 2 --hmark-sport-mask 0x0003 --hmark-dport-mask 0x0004 --hmark-proto-mask 0x05 --hmark-rnd 0x00000004 --hmark-mod 42 --hmark-offset 1 --hmark-tuple ct
iptables -t filter -A INPUT -j IDLETIMER --timeout 42 --label foo
iptables -t filter -A INPUT -j IDLETIMER --timeout 42 --label bar --alarm

iptables -t filter -A INPUT -j MARK --set-xmark 0xfeedcafe/0xfeedcafe
iptables -t filter -A INPUT -j MARK --set-xmark 0x0
iptables -t filter -A INPUT -j MARK --set-xmark 4294967295
iptables -t filter -A INPUT -j NFLOG --nflog-group 1
iptables -t filter -A INPUT -j NFLOG --nflog-group 65535
iptables -t filter -A INPUT -j NFLOG --nflog-group 0
iptables -t filter -A INPUT -j NFLOG --nflog-range 1
iptables -t filter -A INPUT -j NFLOG --nflog-range 4294967295
iptables -t filter -A INPUT -j NFLOG --nflog-size 0
iptables -t filter -A INPUT -j NFLOG --nflog-size 1
iptables -t filter -A INPUT -j NFLOG --nflog-size 4294967295
iptables -t filter -A INPUT -j NFLOG --nflog-prefix xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
iptables -t filter -A INPUT -j NFLOG --nflog-prefix xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
iptables -t filter -A INPUT -j NFLOG --nflog-threshold 1
iptables -t filter -A INPUT -j NFLOG --nflog-threshold 65535
iptables -t filter -A INPUT -j NFLOG
iptables -t filter -A INPUT -j NFQUEUE
iptables -t filter -A INPUT -j NFQUEUE --queue-num 0
iptables -t filter -A INPUT -j NFQUEUE --queue-num 65535
iptables -t filter -A INPUT -j NFQUEUE --queue-balance 0:65534
iptables -t filter -A INPUT -j NFQUEUE --queue-balance :4
iptables -t filter -A INPUT -j NFQUEUE --queue-balance 4:
iptables -t filter -A INPUT -j NFQUEUE --queue-balance 3:4
iptables -t filter -A INPUT -j NFQUEUE --queue-num 10 --queue-bypass
iptables -t filter -A INPUT -j NFQUEUE --queue-balance 0:6 --queue-cpu-fanout --queue-bypass
iptables -t filter -A INPUT -j NFQUEUE --queue-bypass --queue-balance 0:6 --queue-cpu-fanout
iptables -t filter -A INPUT -j NFQUEUE --queue-balance 0:6 --queue-bypass
iptables -t filter -A INPUT -j NFQUEUE --queue-bypass
iptables -t raw -A PREROUTING -j NOTRACK
iptables -t filter -A INPUT -j RATEEST --rateest-name RE1 --rateest-interval 250.0ms --rateest-ewmalog 500.0ms
iptables -t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 42
iptables -t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 0
iptables -t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 65535
iptables -t nat -A PREROUTING -p udp -j REDIRECT --to-ports 0-0
iptables -t nat -A PREROUTING -p udp -j REDIRECT --to-ports 512-512
iptables -t nat -A PREROUTING -p udp -j REDIRECT --to-ports 42-1234
iptables -t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 42-1234 --random
iptables -t nat -A PREROUTING -p tcp -j REDIRECT --to-ports ssh
iptables -t nat -A PREROUTING -p tcp -j REDIRECT --to-ports ftp-data
iptables -t nat -A PREROUTING -j REDIRECT --random


iptables -t filter -A INPUT -p tcp -m tcp --dport 42 -m conntrack --ctstate INVALID,UNTRACKED -j SYNPROXY --sack-perm --timestamp --wscale 9 --mss 1460
iptables -t mangle -A FORWARD -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j TCPMSS --set-mss 42
iptables -t mangle -A FORWARD -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j TCPMSS --clamp-mss-to-pmtu
iptables -t mangle -A PREROUTING -p tcp -j TCPOPTSTRIP
iptables -t mangle -A PREROUTING -p tcp -j TCPOPTSTRIP --strip-options 2,3,4,5,6,7

iptables -t mangle -A PREROUTING -j TOS --set-tos 0x1f
iptables -t mangle -A PREROUTING -j TOS --set-tos 0x1f/0x1f
iptables -t mangle -A PREROUTING -j TOS --set-tos Minimize-Delay
iptables -t mangle -A PREROUTING -j TOS --set-tos Maximize-Throughput
iptables -t mangle -A PREROUTING -j TOS --set-tos Maximize-Reliability
iptables -t mangle -A PREROUTING -j TOS --set-tos Minimize-Cost
iptables -t mangle -A PREROUTING -j TOS --set-tos Normal-Service
iptables -t mangle -A PREROUTING -j TOS --and-tos 0x12
iptables -t mangle -A PREROUTING -j TOS --or-tos 0x12
iptables -t mangle -A PREROUTING -j TOS --xor-tos 0x12
iptables -t raw -A PREROUTING -j TRACE
iptables -t filter -A INPUT -m addrtype --src-type UNSPEC
iptables -t filter -A INPUT -m addrtype --dst-type UNSPEC
iptables -t filter -A INPUT -m addrtype --src-type LOCAL --dst-type LOCAL
iptables -t filter -A INPUT -m addrtype --dst-type UNSPEC
iptables -t filter -A INPUT -m addrtype --src-type LOCAL --limit-iface-in
iptables -t filter -A INPUT -m addrtype --dst-type LOCAL --limit-iface-in
iptables -t filter -A OUTPUT -m addrtype --src-type LOCAL --limit-iface-out
iptables -t filter -A OUTPUT -m addrtype --dst-type LOCAL --limit-iface-out
iptables -t filter -A INPUT -m bpf --bytecode '4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0'
iptables -t mangle -A INPUT -m cgroup --cgroup 1
iptables -t mangle -A INPUT -m cgroup '!' --cgroup 1
iptables -t mangle -A INPUT -m cgroup --path /
iptables -t mangle -A INPUT -m cgroup '!' --path /
iptables -t mangle -A PREROUTING -m cluster --cluster-total-nodes 2 --cluster-local-node 2 --cluster-hash-seed 0xfeedcafe
iptables -t filter -A INPUT -p tcp -m tcp --dport 22 -m comment --comment foo
iptables -t filter -A INPUT -p tcp -m comment --comment foo -m tcp --dport 22
iptables -t filter -A INPUT -m comment --comment xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
iptables -t filter -A INPUT -m connbytes --connbytes 0:1000 --connbytes-mode packets --connbytes-dir original
iptables -t filter -A INPUT -m connbytes --connbytes 0:1000 --connbytes-mode packets --connbytes-dir reply
iptables -t filter -A INPUT -m connbytes --connbytes 0:1000 --connbytes-mode packets --connbytes-dir both
iptables -t filter -A INPUT -m connbytes --connbytes 0:1000 --connbytes-mode bytes --connbytes-dir original
iptables -t filter -A INPUT -m connbytes --connbytes 0:1000 --connbytes-mode bytes --connbytes-dir reply
iptables -t filter -A INPUT -m connbytes --connbytes 0:1000 --connbytes-mode bytes --connbytes-dir both
iptables -t filter -A INPUT -m connbytes --connbytes 0:1000 --connbytes-mode avgpkt --connbytes-dir original
iptables -t filter -A INPUT -m connbytes --connbytes 0:1000 --connbytes-mode avgpkt --connbytes-dir reply
iptables -t filter -A INPUT -m connbytes --connbytes 0:1000 --connbytes-mode avgpkt --connbytes-dir both
iptables -t filter -A INPUT -m connbytes --connbytes : --connbytes-mode packets --connbytes-dir original
iptables -t filter -A INPUT -m connbytes --connbytes :1000 --connbytes-mode packets --connbytes-dir original
iptables -t filter -A INPUT -m connbytes --connbytes 1000 --connbytes-mode packets --connbytes-dir original
iptables -t filter -A INPUT -m connbytes --connbytes 1000: --connbytes-mode packets --connbytes-dir original
iptables -t filter -A INPUT -m connbytes --connbytes 1000:1000 --connbytes-mode packets --connbytes-dir original
iptables -t filter -A INPUT -m connlabel --label 40
iptables -t filter -A INPUT -m connlabel '!' --label 40
iptables -t filter -A INPUT -m connlabel --label 41 --set
iptables -t filter -A INPUT -m connlabel '!' --label 41 --set

iptables -t mangle -A PREROUTING -m connmark --mark 0xffffffff
iptables -t mangle -A PREROUTING -m connmark --mark 0xffffffff/0xffffffff
iptables -t mangle -A PREROUTING -m connmark --mark 0xffffffff/0x0
iptables -t mangle -A PREROUTING -m connmark --mark 0/0xffffffff
iptables -t filter -A INPUT -m conntrack --ctstate NEW
iptables -t filter -A INPUT -m conntrack --ctstate NEW,ESTABLISHED
iptables -t filter -A INPUT -m conntrack --ctstate NEW,RELATED,ESTABLISHED
iptables -t filter -A INPUT -m conntrack --ctstate INVALID
iptables -t filter -A INPUT -m conntrack --ctstate UNTRACKED
iptables -t filter -A INPUT -m conntrack --ctstate SNAT,DNAT
iptables -t filter -A INPUT -m conntrack --ctproto tcp
iptables -t filter -A INPUT -m conntrack --ctexpire 0
iptables -t filter -A INPUT -m conntrack --ctexpire 4294967295
iptables -t filter -A INPUT -m conntrack --ctexpire 0:4294967295
iptables -t filter -A INPUT -m conntrack --ctexpire 3:3
iptables -t filter -A INPUT -m conntrack --ctdir ORIGINAL
iptables -t filter -A INPUT -m conntrack --ctdir REPLY
iptables -t filter -A INPUT -m conntrack --ctstatus NONE
iptables -t filter -A INPUT -m conntrack --ctstatus CONFIRMED
iptables -t filter -A INPUT -m conntrack --ctstatus ASSURED
iptables -t filter -A INPUT -m conntrack --ctstatus EXPECTED
iptables -t filter -A INPUT -m conntrack --ctstatus SEEN_REPLY
iptables -t filter -A INPUT -m conntrack --ctorigsrcport :
iptables -t filter -A INPUT -m conntrack --ctorigsrcport :4
iptables -t filter -A INPUT -m conntrack --ctorigsrcport 4:
iptables -t filter -A INPUT -m conntrack --ctorigsrcport 3:4
iptables -t filter -A INPUT -m conntrack --ctorigsrcport 4:4
iptables -t filter -A INPUT -m conntrack --ctreplsrcport :
iptables -t filter -A INPUT -m conntrack --ctreplsrcport :4
iptables -t filter -A INPUT -m conntrack --ctreplsrcport 4:
iptables -t filter -A INPUT -m conntrack --ctreplsrcport 3:4
iptables -t filter -A INPUT -m conntrack --ctreplsrcport 4:4
iptables -t filter -A INPUT -m conntrack --ctorigdstport :
iptables -t filter -A INPUT -m conntrack --ctorigdstport :4
iptables -t filter -A INPUT -m conntrack --ctorigdstport 4:
iptables -t filter -A INPUT -m conntrack --ctorigdstport 3:4
iptables -t filter -A INPUT -m conntrack --ctorigdstport 4:4
iptables -t filter -A INPUT -m conntrack --ctrepldstport :
iptables -t filter -A INPUT -m conntrack --ctrepldstport :4
iptables -t filter -A INPUT -m conntrack --ctrepldstport 4:
iptables -t filter -A INPUT -m conntrack --ctrepldstport 3:4
iptables -t filter -A INPUT -m conntrack --ctrepldstport 4:4
iptables -t filter -A INPUT -m cpu --cpu 0
iptables -t filter -A INPUT -m cpu '!' --cpu 0
iptables -t filter -A INPUT -m cpu --cpu 4294967295
iptables -t filter -A INPUT -p dccp -m dccp --sport 1
iptables -t filter -A INPUT -p dccp -m dccp --sport 65535
iptables -t filter -A INPUT -p dccp -m dccp --dport 1
iptables -t filter -A INPUT -p dccp -m dccp --dport 65535
iptables -t filter -A INPUT -p dccp -m dccp --sport 1:1023
iptables -t filter -A INPUT -p dccp -m dccp --sport 1024:65535
iptables -t filter -A INPUT -p dccp -m dccp --sport 1024:
iptables -t filter -A INPUT -p dccp -m dccp --sport :
iptables -t filter -A INPUT -p dccp -m dccp --sport :4
iptables -t filter -A INPUT -p dccp -m dccp --sport 4:
iptables -t filter -A INPUT -p dccp -m dccp --sport 4:4
iptables -t filter -A INPUT -p dccp -m dccp --dport :
iptables -t filter -A INPUT -p dccp -m dccp --dport :4
iptables -t filter -A INPUT -p dccp -m dccp --dport 4:
iptables -t filter -A INPUT -p dccp -m dccp --dport 4:4
iptables -t filter -A INPUT -p dccp -m dccp '!' --sport 1
iptables -t filter -A INPUT -p dccp -m dccp '!' --sport 65535
iptables -t filter -A INPUT -p dccp -m dccp '!' --dport 1
iptables -t filter -A INPUT -p dccp -m dccp '!' --dport 65535
iptables -t filter -A INPUT -p dccp -m dccp --sport 1 --dport 65535
iptables -t filter -A INPUT -p dccp -m dccp --sport 65535 --dport 1
iptables -t filter -A INPUT -p dccp -m dccp '!' --sport 1 --dport 65535
iptables -t filter -A INPUT -p dccp -m dccp '!' --sport 65535 --dport 1
iptables -t filter -A INPUT -p dccp -m dccp --dccp-types REQUEST,RESPONSE,DATA,ACK,DATAACK,CLOSEREQ,CLOSE,RESET,SYNC,SYNCACK,INVALID
iptables -t filter -A INPUT -p dccp -m dccp '!' --dccp-types REQUEST,RESPONSE,DATA,ACK,DATAACK,CLOSEREQ,CLOSE,RESET,SYNC,SYNCACK,INVALID
iptables -t filter -A INPUT -p dccp -m dccp --dccp-option 255
iptables -t filter -A INPUT -p dccp -m dccp
iptables -t filter -A INPUT -m dscp --dscp 0x00
iptables -t filter -A INPUT -m dscp --dscp 0x3f
iptables -t filter -A INPUT -m dscp --dscp-class CS0
iptables -t filter -A INPUT -m dscp --dscp-class BE
iptables -t filter -A INPUT -m dscp --dscp-class EF
iptables -t filter -A INPUT -p tcp -m ecn --ecn-tcp-cwr
iptables -t filter -A INPUT -p tcp -m ecn --ecn-tcp-ece --ecn-tcp-cwr --ecn-ip-ect 2
iptables -t filter -A INPUT -p tcp -m ecn '!' --ecn-tcp-ece '!' --ecn-tcp-cwr '!' --ecn-ip-ect 2
iptables -t filter -A INPUT -p esp -m esp --espspi 0
iptables -t filter -A INPUT -p esp -m esp --espspi :32
iptables -t filter -A INPUT -p esp -m esp --espspi 0:4294967295
iptables -t filter -A INPUT -p esp -m esp '!' --espspi 0:4294967294
iptables -t filter -A INPUT -p esp -m esp --espspi :
iptables -t filter -A INPUT -p esp -m esp '!' --espspi :
iptables -t filter -A INPUT -p esp -m esp --espspi :4
iptables -t filter -A INPUT -p esp -m esp --espspi 4:
iptables -t filter -A INPUT -p esp -m esp --espspi 3:4
iptables -t filter -A INPUT -p esp -m esp --espspi 4:4
iptables -t filter -A INPUT -p esp -m esp
iptables -t filter -A INPUT -m hashlimit --hashlimit-above 1/sec --hashlimit-burst 5 --hashlimit-name mini1
iptables -t filter -A INPUT -m hashlimit --hashlimit-above 1000000/sec --hashlimit-burst 5 --hashlimit-name mini1
iptables -t filter -A INPUT -m hashlimit --hashlimit-above 1/min --hashlimit-burst 5 --hashlimit-name mini1
iptables -t filter -A INPUT -m hashlimit --hashlimit-above 1/hour --hashlimit-burst 5 --hashlimit-name mini1
iptables -t filter -A INPUT -m hashlimit --hashlimit-above 1/day --hashlimit-burst 1 --hashlimit-name mini1
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 5 --hashlimit-name mini1
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 1000000/sec --hashlimit-burst 5 --hashlimit-name mini1
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 1/min --hashlimit-burst 5 --hashlimit-name mini1
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 1/hour --hashlimit-burst 5 --hashlimit-name mini1
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 1/day --hashlimit-burst 1 --hashlimit-name mini1
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 1 --hashlimit-name mini1 --hashlimit-htable-expire 2000
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 1 --hashlimit-mode srcip --hashlimit-name mini1 --hashlimit-htable-expire 2000
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 1 --hashlimit-mode dstip --hashlimit-name mini1 --hashlimit-htable-expire 2000
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 1 --hashlimit-mode dstip --hashlimit-name mini1 --hashlimit-htable-max 2000 --hashlimit-htable-expire 2000
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 1 --hashlimit-mode dstip --hashlimit-name mini1 --hashlimit-htable-max 2000 --hashlimit-htable-gcinterval 60000 --hashlimit-htable-expire 2000
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-name mini1
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 4kb/s --hashlimit-burst 400kb --hashlimit-name mini5
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 10mb/s --hashlimit-name mini6
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 123456b/s --hashlimit-burst 1mb --hashlimit-name mini7
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 40/sec --hashlimit-burst 20 --hashlimit-mode srcip --hashlimit-name syn-flood
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 40/sec --hashlimit-burst 20 --hashlimit-mode srcip --hashlimit-name rate1 --hashlimit-rate-match
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 40mb/s --hashlimit-mode srcip --hashlimit-name rate2 --hashlimit-rate-match
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 40/sec --hashlimit-burst 20 --hashlimit-mode srcip --hashlimit-name rate3 --hashlimit-rate-match --hashlimit-rate-interval 10
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 40mb/s --hashlimit-mode srcip --hashlimit-name rate4 --hashlimit-rate-match --hashlimit-rate-interval 10
iptables -t filter -A INPUT -m helper --helper ftp
iptables -t filter -A INPUT -p ipcomp -m ipcomp --ipcompspi 18 -j DROP
iptables -t filter -A INPUT -p ipcomp -m ipcomp '!' --ipcompspi 18 -j ACCEPT
iptables -t filter -A INPUT -p ipcomp -m ipcomp --ipcompspi :
iptables -t filter -A INPUT -p ipcomp -m ipcomp '!' --ipcompspi :
iptables -t filter -A INPUT -p ipcomp -m ipcomp --ipcompspi :4
iptables -t filter -A INPUT -p ipcomp -m ipcomp --ipcompspi 4:
iptables -t filter -A INPUT -p ipcomp -m ipcomp --ipcompspi 3:4
iptables -t filter -A INPUT -p ipcomp -m ipcomp --ipcompspi 4:4


iptables -t filter -A INPUT -m length --length 1
iptables -t filter -A INPUT -m length --length :2
iptables -t filter -A INPUT -m length --length 0:3
iptables -t filter -A INPUT -m length --length 4:
iptables -t filter -A INPUT -m length --length :
iptables -t filter -A INPUT -m length --length 0:65535
iptables -t filter -A INPUT -m length '!' --length 0:65535
iptables -t filter -A INPUT -m length --length 4:4
iptables -t filter -A INPUT -m limit --limit 1/sec
iptables -t filter -A INPUT -m limit --limit 1/min
iptables -t filter -A INPUT -m limit --limit 1000/hour
iptables -t filter -A INPUT -m limit --limit 1000/day
iptables -t filter -A INPUT -m limit --limit 1/sec --limit-burst 1
iptables -t filter -A INPUT -m mac --mac-source 42:01:02:03:04:05
iptables -t filter -A INPUT -m mark --mark 0xfeedcafe/0xfeedcafe
iptables -t filter -A INPUT -m mark --mark 0x0
iptables -t filter -A INPUT -m mark --mark 4294967295
iptables -t filter -A INPUT -m mark --mark 0x0/0xff0
iptables -t filter -A INPUT -p tcp -m multiport --sports 53,1024:65535
iptables -t filter -A INPUT -p tcp -m multiport --dports 53,1024:65535
iptables -t filter -A INPUT -p udp -m multiport --sports 53,1024:65535
iptables -t filter -A INPUT -p udp -m multiport --dports 53,1024:65535
iptables -t filter -A INPUT -p udp -m multiport --ports 53,1024:65535
iptables -t filter -A INPUT -p udp -m multiport --ports 53,1024:65535
iptables -t filter -A INPUT -p sctp -m multiport --sports 53,1024:65535
iptables -t filter -A INPUT -p sctp -m multiport --dports 53,1024:65535
iptables -t filter -A INPUT -p dccp -m multiport --sports 53,1024:65535
iptables -t filter -A INPUT -p dccp -m multiport --dports 53,1024:65535
iptables -t filter -A INPUT -p udplite -m multiport --sports 53,1024:65535
iptables -t filter -A INPUT -p udplite -m multiport --dports 53,1024:65535
iptables -t filter -A INPUT -p tcp -m multiport --ports 1,2,3,4,6,7,8,9,10,11,12,13,14,15

iptables -t mangle -A OUTPUT -m owner --uid-owner root
iptables -t mangle -A OUTPUT -m owner --uid-owner 0-10
iptables -t mangle -A OUTPUT -m owner --gid-owner root
iptables -t mangle -A OUTPUT -m owner --gid-owner 0-10
iptables -t mangle -A OUTPUT -m owner --uid-owner root --gid-owner root
iptables -t mangle -A OUTPUT -m owner --uid-owner 0-10 --gid-owner 0-10
iptables -t mangle -A OUTPUT -m owner '!' --uid-owner root
iptables -t mangle -A OUTPUT -m owner --socket-exists
iptables -t mangle -A OUTPUT -m owner --gid-owner 0-10 --suppl-groups
iptables -t filter -A INPUT -m physdev --physdev-in lo
iptables -t filter -A INPUT -m physdev --physdev-is-in --physdev-in lo
iptables -t filter -A FORWARD -m physdev --physdev-in lo --physdev-is-bridged
iptables -t mangle -A POSTROUTING -m physdev --physdev-out lo --physdev-is-bridged
iptables -t filter -A INPUT -m pkttype --pkt-type unicast
iptables -t filter -A INPUT -m pkttype --pkt-type broadcast
iptables -t filter -A INPUT -m pkttype --pkt-type multicast
iptables -t filter -A INPUT -m policy --dir in --pol ipsec
iptables -t filter -A INPUT -m policy --dir in --pol ipsec --proto ipcomp
iptables -t filter -A INPUT -m policy --dir in --pol ipsec --strict --reqid 1 --spi 0x1 --proto ipcomp
iptables -t filter -A INPUT -m quota --quota 0
iptables -t filter -A INPUT -m quota '!' --quota 0
iptables -t filter -A INPUT -m quota --quota 18446744073709551615
iptables -t filter -A INPUT -m quota '!' --quota 18446744073709551615


iptables -t mangle -A PREROUTING -m rpfilter
iptables -t mangle -A PREROUTING -m rpfilter --loose --validmark --accept-local --invert
iptables -t filter -A INPUT -p sctp -m sctp --sport 1
iptables -t filter -A INPUT -p sctp -m sctp --sport 65535
iptables -t filter -A INPUT -p sctp -m sctp --sport 1:65535
iptables -t filter -A INPUT -p sctp -m sctp --dport 1
iptables -t filter -A INPUT -p sctp -m sctp --dport 1:65535
iptables -t filter -A INPUT -p sctp -m sctp --dport 65535
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all DATA
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all INIT
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all INIT_ACK
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all SACK
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all HEARTBEAT
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all HEARTBEAT_ACK
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all ABORT
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all SHUTDOWN
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all SHUTDOWN_ACK
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all ERROR
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all COOKIE_ECHO
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all COOKIE_ACK
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all ECN_ECNE
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all ECN_CWR
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all ASCONF
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all ASCONF_ACK
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all FORWARD_TSN
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all SHUTDOWN_COMPLETE
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all I_DATA
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all RE_CONFIG
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all PAD
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all I_FORWARD_TSN

iptables -t mangle -A PREROUTING -m socket
iptables -t mangle -A PREROUTING -m socket --transparent --nowildcard
iptables -t mangle -A PREROUTING -m socket --transparent --nowildcard --restore-skmark
iptables -t mangle -A PREROUTING -m socket --transparent --restore-skmark
iptables -t mangle -A PREROUTING -m socket --nowildcard --restore-skmark
iptables -t mangle -A PREROUTING -m socket --restore-skmark
iptables -t filter -A INPUT -p tcp -j ACCEPT
iptables -t filter -A INPUT '!' -p udp -j ACCEPT
iptables -t filter -A INPUT -j DROP
iptables -t filter -A INPUT -j ACCEPT
iptables -t filter -A INPUT -j RETURN
iptables -t filter -A FORWARD -i + -p tcp
iptables -t filter -A INPUT -m state --state INVALID
iptables -t filter -A INPUT -m state --state NEW,RELATED
iptables -t filter -A INPUT -m state --state UNTRACKED
iptables -t filter -A INPUT -m statistic --mode random '!' --probability 0.50000000000
iptables -t filter -A INPUT -m statistic --mode nth '!' --every 5 --packet 2
iptables -t filter -A INPUT -m string --algo bm --string test
iptables -t filter -A INPUT -m string --string test --algo kmp
iptables -t filter -A INPUT -m string '!' --string test --algo kmp
iptables -t filter -A INPUT -m string --string xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx --algo bm
iptables -t filter -A INPUT -m string --hex-string '|0a0a0a0a|' --algo bm
iptables -t filter -A INPUT -m string --algo bm --from 0 --to 65535 --string test
iptables -t filter -A INPUT -p tcp -m tcp --sport 1
iptables -t filter -A INPUT -p tcp -m tcp --sport 65535
iptables -t filter -A INPUT -p tcp -m tcp --dport 1
iptables -t filter -A INPUT -p tcp -m tcp --dport 65535
iptables -t filter -A INPUT -p tcp -m tcp --sport 1:1023
iptables -t filter -A INPUT -p tcp -m tcp --sport 1024:65535
iptables -t filter -A INPUT -p tcp -m tcp --sport 1024:
iptables -t filter -A INPUT -p tcp -m tcp --sport :
iptables -t filter -A INPUT -p tcp -m tcp '!' --sport :
iptables -t filter -A INPUT -p tcp -m tcp --sport :4
iptables -t filter -A INPUT -p tcp -m tcp --sport 4:
iptables -t filter -A INPUT -p tcp -m tcp --sport 4:4
iptables -t filter -A INPUT -p tcp -m tcp --dport :
iptables -t filter -A INPUT -p tcp -m tcp '!' --dport :
iptables -t filter -A INPUT -p tcp -m tcp --dport :4
iptables -t filter -A INPUT -p tcp -m tcp --dport 4:
iptables -t filter -A INPUT -p tcp -m tcp --dport 4:4
iptables -t filter -A INPUT -p tcp -m tcp '!' --sport 1
iptables -t filter -A INPUT -p tcp -m tcp '!' --sport 65535
iptables -t filter -A INPUT -p tcp -m tcp '!' --dport 1
iptables -t filter -A INPUT -p tcp -m tcp '!' --dport 65535
iptables -t filter -A INPUT -p tcp -m tcp --sport 1 --dport 65535
iptables -t filter -A INPUT -p tcp -m tcp --sport 65535 --dport 1
iptables -t filter -A INPUT -p tcp -m tcp '!' --sport 1 --dport 65535
iptables -t filter -A INPUT -p tcp -m tcp '!' --sport 65535 --dport 1
iptables -t filter -A INPUT -p tcp -m tcp --syn
iptables -t filter -A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN
iptables -t filter -A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG SYN
iptables -t filter -A INPUT -p tcp -m tcp '!' --tcp-flags FIN,SYN,RST,PSH,ACK,URG SYN
iptables -t filter -A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG RST
iptables -t filter -A INPUT -m tcp --dport 1 -p tcp
iptables -t filter -A INPUT -m tcp --dport 1 -p 6
iptables -t filter -A INPUT -p tcp -m tcp
iptables -t filter -A INPUT -p tcp -m tcpmss --mss 42
iptables -t filter -A INPUT -p tcp -m tcpmss --mss :
iptables -t filter -A INPUT -p tcp -m tcpmss --mss :42
iptables -t filter -A INPUT -p tcp -m tcpmss --mss 42:
iptables -t filter -A INPUT -p tcp -m tcpmss --mss 42:42
iptables -t filter -A INPUT -p tcp -m tcpmss --mss 42:12345
iptables -t filter -A INPUT -m time --timestart 01:02:03 --timestop 04:05:06 --monthdays 1,2,3,4,5 --weekdays Mon,Fri,Sun --datestart 2001-02-03T04:05:06 --datestop 2012-09-08T09:06:05 --kerneltz
iptables -t filter -A INPUT -m time --timestart 01:02:03 --timestop 04:05:06 --monthdays 1,2,3,4,5 --weekdays Mon,Fri,Sun --datestart 2001-02-03T04:05:06 --datestop 2012-09-08T09:06:05
iptables -t filter -A INPUT -m time --timestart 02:00:00 --timestop 03:00:00 --datestart 1970-01-01T02:00:00 --datestop 1970-01-01T03:00:00
iptables -t filter -A INPUT -m tos --tos Minimize-Delay
iptables -t filter -A INPUT -m tos --tos Maximize-Throughput
iptables -t filter -A INPUT -m tos --tos Maximize-Reliability
iptables -t filter -A INPUT -m tos --tos Minimize-Cost
iptables -t filter -A INPUT -m tos --tos Normal-Service
iptables -t filter -A INPUT -m tos --tos 0xff
iptables -t filter -A INPUT -m tos '!' --tos 0xff
iptables -t filter -A INPUT -m tos --tos 0x00
iptables -t filter -A INPUT -m tos --tos 0x0f
iptables -t filter -A INPUT -m tos --tos 0x0f/0x0f
iptables -t filter -A INPUT -m u32 --u32 '0x0=0x0&&0x0=0x1'
iptables -t filter -A INPUT -p udp -m udp --sport 1
iptables -t filter -A INPUT -p udp -m udp --sport 65535
iptables -t filter -A INPUT -p udp -m udp --dport 1
iptables -t filter -A INPUT -p udp -m udp --dport 65535
iptables -t filter -A INPUT -p udp -m udp --sport 1:1023
iptables -t filter -A INPUT -p udp -m udp --sport 1024:65535
iptables -t filter -A INPUT -p udp -m udp --sport 1024:
iptables -t filter -A INPUT -p udp -m udp --sport :
iptables -t filter -A INPUT -p udp -m udp '!' --sport :
iptables -t filter -A INPUT -p udp -m udp --sport :4
iptables -t filter -A INPUT -p udp -m udp --sport 4:
iptables -t filter -A INPUT -p udp -m udp --sport 4:4
iptables -t filter -A INPUT -p udp -m udp --dport :
iptables -t filter -A INPUT -p udp -m udp '!' --dport :
iptables -t filter -A INPUT -p udp -m udp --dport :4
iptables -t filter -A INPUT -p udp -m udp --dport 4:
iptables -t filter -A INPUT -p udp -m udp --dport 4:4
iptables -t filter -A INPUT -p udp -m udp '!' --sport 1
iptables -t filter -A INPUT -p udp -m udp '!' --sport 65535
iptables -t filter -A INPUT -p udp -m udp '!' --dport 1
iptables -t filter -A INPUT -p udp -m udp '!' --dport 65535
iptables -t filter -A INPUT -p udp -m udp --sport 1 --dport 65535
iptables -t filter -A INPUT -p udp -m udp --sport 65535 --dport 1
iptables -t filter -A INPUT -p udp -m udp '!' --sport 1 --dport 65535
iptables -t filter -A INPUT -p udp -m udp '!' --sport 65535 --dport 1
iptables -t filter -A INPUT -m udp --dport 1 -p udp
iptables -t filter -A INPUT -m udp --dport 1 -p 17
iptables -t filter -A INPUT -p udp -m udp
iptables -t filter -A INPUT -p icmp --icmp-type 3/1:2
iptables -t filter -A INPUT -p icmp --icmp-type port-unr
iptables -t filter -A INPUT -p icmp --icmp-type 255/3
iptables -t filter -A INPUT -p icmp '!' --icmp-type 8
iptables -t filter -A INPUT -m conntrack --ctorigsrc 1.1.1.1/24
iptables -t filter -A INPUT -m conntrack --ctorigsrc 1.1.1.1/255.0.255.0
iptables -t filter -A INPUT -m conntrack '!' --ctreplsrc 10/8
iptables -t filter -A INPUT -m conntrack --ctproto udp --ctorigsrcport 53 --ctorigdstport ssh
iptables -t filter -A INPUT -m conntrack --ctstate n,e
iptables -t filter -A INPUT -m conntrack --ctstatus none,assured
iptables -t filter -A INPUT -m conntrack --ctexpire 5:
iptables -t filter -A INPUT -m conntrack --ctdir reply
iptables -t filter -A INPUT -m conntrack --ctorigsrcport 5:0
iptables -t filter -A INPUT -m conntrack --ctorigsrc localhost
iptables -t filter -A INPUT -m conntrack --ctexpire 0x10
iptables -t filter -A INPUT -m conntrack --ctproto all
iptables -t filter -A INPUT -m conntrack --ctorigsrc 1.2.3.4/33
iptables -t filter -A INPUT -m conntrack --ctstate SNAT --ctproto tcp --ctorigsrc 1.2.3.4 --ctstatus EXPECTED --ctexpire 3 --ctdir ORIGINAL --ctrepldstport 4
iptables -t filter -A INPUT -m conntrack --ctorigsrc 1.2.3.4/0x10
iptables -t filter -A INPUT -m conntrack --ctstate NEW -m conntrack --ctstate INVALID
iptables -t filter -A OUTPUT -m mark '!' --mark 16/0x10
iptables -t filter -A OUTPUT -m pkttype --pkt-type BCAST
iptables -t filter -A OUTPUT -m length --length 0x10
iptables -t filter -A OUTPUT -m physdev --physdev-out lo --physdev-is-bridged
iptables -t filter -A OUTPUT -m physdev --physdev-in eth+
iptables -t filter -A OUTPUT -m physdev '!' --physdev-is-bridged --physdev-is-in
iptables -t filter -A OUTPUT -m owner --uid-owner www-data
iptables -t filter -A OUTPUT -m owner --uid-owner 5:7
iptables -t filter -A OUTPUT -m owner --gid-owner nogroup
iptables -t filter -A OUTPUT -m owner '!' --socket-exists --uid-owner 3
iptables -t filter -A OUTPUT -m addrtype --src-type local,unicast
iptables -t filter -A OUTPUT -m addrtype --src-type l,u
iptables -t filter -A OUTPUT -m limit --limit 3/h
iptables -t filter -A OUTPUT -m limit --limit 7
iptables -t filter -A OUTPUT -m limit
iptables -t filter -A OUTPUT -m limit --limit 3x/sec
iptables -t filter -A OUTPUT -m limit --limit 2000/hour
iptables -t filter -A OUTPUT -m limit --limit 7/min
iptables -t filter -A OUTPUT -m limit --limit 1/hour --limit-burst 100
iptables -t filter -A OUTPUT -m limit --limit 25/minute --limit-burst 100
iptables -t filter -A OUTPUT -m iprange --src-range 10-11 --dst-range 1.2.3.4
iptables -t filter -A OUTPUT -m iprange --src-range 1.1.1.9-1.1.1.1
iptables -t filter -A OUTPUT -p tcp -m multiport --dports ssh,http
iptables -t filter -A OUTPUT -p tcp -m multiport '!' --ports 1,2:3
iptables -t filter -A OUTPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14:15
iptables -t filter -A OUTPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13:14
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all DATA:Be
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types any DATA:iube,INIT
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types only I_DATA:I
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types all ABORT:T,SHUTDOWN_COMPLETE:t
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types ALL none
iptables -t filter -A INPUT -p sctp -m sctp --chunk-types ANY ALL
iptables -t filter -A INPUT -p sctp -m sctp '!' --chunk-types any INIT --sport 5:
iptables -t filter -A INPUT -p sctp --dport 80 --sport 1:2
iptables -t filter -A INPUT -p dccp --dccp-types INVALID
iptables -t filter -A INPUT -p dccp --dccp-types request,,ack
iptables -t filter -A INPUT -p dccp '!' --dccp-option 5 --dport ssh
iptables -t filter -A INPUT -p esp --espspi 0x10:
iptables -t filter -A INPUT -p ah '!' --ahspi 5
iptables -t filter -A INPUT -m recent --rcheck --hitcount 20
iptables -t filter -A INPUT -m recent --rcheck --hitcount 65535
iptables -t filter -A INPUT -m recent --update --reap --seconds 3 --rdest --mask 255.255.0.0
iptables -t filter -A INPUT -m recent '!' --rcheck --name a-b.c --mask 10
iptables -t filter -A INPUT -m recent --rcheck --hitcount 0
iptables -t filter -A INPUT -m recent --set --name 'a b'
iptables -t filter -A INPUT -m recent --rcheck --rsource --rdest
iptables -t filter -A INPUT -m recent --update --rttl --reap --seconds 4
iptables -t filter -A INPUT -m recent --set --name x -m recent --rcheck --name y
iptables -t filter -A INPUT -m recent --set --mask localhost
iptables -t filter -A INPUT -m recent --rcheck --seconds 3000000000
iptables -t filter -A INPUT -m recent --rcheck --name 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 60/min --hashlimit-name n2
iptables -t filter -A INPUT -m hashlimit '!' --hashlimit-upto 5/s --hashlimit-name n3
iptables -t filter -A INPUT -m hashlimit '!' --hashlimit-above 5/s --hashlimit-name n4
iptables -t filter -A INPUT -m hashlimit --hashlimit 5/s --hashlimit-name n5
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 5/s --hashlimit-name 0123456789abcdefghij
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 5/s --hashlimit-name n9 --hashlimit-mode 'dstport|srcip,srcport'
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 5/s --hashlimit-name n11 --hashlimit-srcmask 24 --hashlimit-dstmask 255.255.0.0
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 5/s --hashlimit-name n14 --hashlimit-burst 2k
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 5/s --hashlimit-name n19 --hashlimit-htable-size 2000000
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 5/s --hashlimit-name n20 --hashlimit-htable-max 1048576
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 1kb/s --hashlimit-name n21
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 1mb/s --hashlimit-burst 10mb --hashlimit-name n22
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 3000b/s --hashlimit-burst 5k --hashlimit-name n24
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 5/min --hashlimit-name n25 --hashlimit-rate-match
iptables -t filter -A INPUT -m hashlimit --hashlimit-upto 5/hour --hashlimit-name n27 --hashlimit-rate-match --hashlimit-rate-interval 7
iptables -t filter -A INPUT -m recent --set --name .x
iptables -t filter -A INPUT -m limit --limit 1/s --limit-burst 10000
iptables -t filter -A INPUT -m limit --limit 1/s --limit-burst 0x10
iptables -t filter -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m state --state NEW
iptables -t filter -A INPUT -m conntrack --ctstate INVALID '!' --ctstatus ASSURED,SEEN_REPLY,EXPECTED,CONFIRMED
iptables -t filter -A INPUT -m conntrack --ctstate DNAT,SNAT,UNTRACKED,INVALID,NEW,RELATED,ESTABLISHED
iptables -t filter -A INPUT -m conntrack --ctstate new --ctorigdst 10.0.0.0/8 '!' --ctrepldst 192.168.1.1/255.255.255.0 --ctorigdstport 1:2
iptables -t filter -A INPUT -m conntrack --ctproto TCP
iptables -t filter -A INPUT -m conntrack --ctproto gre
iptables -t filter -A INPUT -p tcp -m multiport --dport 22,80
iptables -t filter -A INPUT -p udp -m multiport --ports domain,ntp
iptables -t filter -A INPUT -m addrtype '!' --src-type LOCAL '!' --dst-type LOCAL,BROADCAST
iptables -t filter -A INPUT -m iprange '!' --src-range 1.1.1.1-1.1.1.10 '!' --dst-range 2.2.2.2-2.2.2.3
iptables -t filter -A INPUT -m pkttype --pkt-type otherhost
iptables -t filter -A INPUT -m length '!' --length 1000:
iptables -t filter -A INPUT -m mac '!' --mac-source AA:BB:CC:DD:EE:FF
iptables -t filter -A INPUT -p icmp --icmp-type echo-request -m limit --limit 1/s
iptables -t filter -A INPUT -p icmp -m icmp --icmp-type 3/1:2 -m icmp --icmp-type 8
iptables -t filter -A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -m recent --set --name SSH
iptables -t filter -A INPUT -p tcp -m tcp --dport 22 -m recent --update --seconds 60 --hitcount 4 --name SSH --rsource
iptables -t filter -A INPUT -m hashlimit --hashlimit-above 10/sec --hashlimit-burst 20 --hashlimit-mode srcip,dstport --hashlimit-name hl1 --hashlimit-srcmask 24
iptables -t filter -A INPUT -m state --state n,e
iptables -t filter -A INPUT -m state '!' --state untracked
iptables -t filter -A INPUT -m state --state RELATED,INVALID
iptables -t filter -A INPUT -m state --state EST,REL
iptables -t mangle -A PREROUTING -j RATEEST --rateest-name r1 --rateest-interval 250ms --rateest-ewmalog 1s
iptables -t mangle -A PREROUTING -j RATEEST --rateest-name r2 --rateest-interval 1s --rateest-ewmalog 8s
iptables -t mangle -A FORWARD -m rateest --rateest r1 --rateest-bps 10kbit --rateest-gt
iptables -t mangle -A FORWARD -m rateest --rateest-delta --rateest r1 --rateest-pps1 100 --rateest-lt --rateest-pps2 5 --rateest2 r2
iptables -t mangle -A FORWARD -m rateest --rateest1 r1 --rateest-bps --rateest-gt --rateest2 r2
iptables -t filter -A INPUT -m set --match-set foo src --return-nomatch ! --update-counters --packets-gt 5
iptables -t filter -A INPUT -m set ! --match-set bar src,dst ! --bytes-eq 7
iptables -t filter -A INPUT -j SET --add-set foo src --exist --timeout 10
iptables -t filter -A INPUT -j SET --del-set bar dst,src
iptables -t filter -A INPUT -m devgroup --src-group 0x2
iptables -t filter -A FORWARD -m devgroup ! --src-group 0x2/0xf ! --dst-group 5/0xff
iptables -t filter -A OUTPUT -m devgroup --dst-group 7
iptables -t mangle -A POSTROUTING -j SET --map-set foo src --map-mark --map-prio --map-queue
iptables -t mangle -A INPUT -j SET --map-set foo src,dst --map-mark
iptables -t filter -A INPUT -m nfacct --nfacct-name n1
iptables -t filter -A OUTPUT -m nfacct --nfacct-name "a b"
