#!/bin/sh
# A firewall script in the classic style.
IPT=`which iptables`
LAN="192.168.1.0/24"
WAN_IF=eth0

$IPT -F
$IPT -P INPUT DROP
$IPT -P FORWARD DROP
$IPT -N ssh-in
$IPT -A INPUT -i lo -j ACCEPT
$IPT -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
$IPT -A INPUT -i $WAN_IF -p tcp --dport 22 -j ssh-in
$IPT -A ssh-in -s $LAN -j ACCEPT
$IPT -t nat -A POSTROUTING -o $WAN_IF -s "$LAN" \
     -j LOG --log-prefix "nat out: "
if [ -f /etc/firewall.local ]; then
  . /etc/firewall.local
fi
echo "firewall up"
