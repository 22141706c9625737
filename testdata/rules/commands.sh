#!/bin/sh
# Command semantics exercised against iptables-legacy 1.8.9 by src/tests/corpus.rs.
IPT=iptables
NET="10.0.0.0/8,192.168.1.1"
$IPT -N zeta
$IPT -N alpha
$IPT -N Beta
$IPT -N alpha
$IPT -A INPUT -s $NET -d 1.1.1.1,2.2.2.2 -j alpha
$IPT -I INPUT 1 -s 3.3.3.3,4.4.4.4 -j ACCEPT
$IPT -I INPUT 9 -j DROP
$IPT -R INPUT 1 -s 5.5.5.5 -j DROP
$IPT -R INPUT 1 -s 5.5.5.5,6.6.6.6 -j DROP
$IPT -R INPUT 40 -j DROP
$IPT -D INPUT -s 10.0.0.0/8 -d 2.2.2.2 -j alpha
$IPT -D INPUT -s 10.0.0.0/8 -d 2.2.2.2 -j alpha
$IPT -D INPUT 2
$IPT -D INPUT 30
$IPT -A alpha -j zeta
$IPT -X zeta
$IPT -X alpha
$IPT -E Beta gamma
$IPT -E gamma alpha
$IPT -E gamma INPUT
$IPT -E nosuch other
$IPT -X INPUT
$IPT -P INPUT DROP
$IPT -P alpha DROP
$IPT -P FORWARD REJECT
$IPT -A FORWARD -j INPUT
$IPT -A FORWARD -g nosuch
$IPT -A FORWARD ! -i eth+ ! -o lo -p udp ! -f -j RETURN
$IPT -A FORWARD -p tcp ! -s 1.2.3.4 ! -d 5.6.7.0/24 -j ACCEPT
$IPT -A FORWARD ! ! -s 1.2.3.4
$IPT -A FORWARD -s 1.2.3.4 !
$IPT -t nat -N natchain
$IPT -t nat -A PREROUTING -i eth0 -j natchain
$IPT -t nat -A natchain -p icmp -j RETURN
$IPT -t raw -A PREROUTING -s 10.1.0.0/16 -j ACCEPT
$IPT -t mangle -A POSTROUTING -o eth1 -j RETURN
$IPT -t nosuch -A INPUT -j ACCEPT
$IPT -F FORWARD
$IPT -A FORWARD -s 9.9.9.9 -j ACCEPT
$IPT -Z
$IPT -A OUTPUT -p 47 -j ACCEPT
$IPT -A OUTPUT -p all -d 8.8.8.8/255.255.0.255
$IPT -N alpha2
$IPT -A alpha2 -j RETURN
$IPT -F alpha2
$IPT -X alpha2
