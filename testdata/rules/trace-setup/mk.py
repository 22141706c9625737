from scapy.all import Ether, IP, TCP, UDP, ICMP, wrpcap
L="10.0.0.104"; R="203.0.113.10"
pk=[]
E=lambda: Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
# TCP ESTABLISHED setup as iptwalk trace does it (packet seq=100 ack=900)
pk.append(E()/IP(src=R,dst=L)/TCP(sport=33001,dport=22,flags="S",seq=99))
pk.append(E()/IP(src=L,dst=R)/TCP(sport=22,dport=33001,flags="SA",seq=899,ack=100))
pk.append(E()/IP(src=R,dst=L)/TCP(sport=33001,dport=22,flags="A",seq=100,ack=900))
pk.append(E()/IP(src=R,dst=L)/TCP(sport=33001,dport=22,flags="A",seq=100,ack=900))
# UDP
pk.append(E()/IP(src=R,dst=L)/UDP(sport=5000,dport=53))
pk.append(E()/IP(src=L,dst=R)/UDP(sport=53,dport=5000))
pk.append(E()/IP(src=R,dst=L)/UDP(sport=5000,dport=53))
# ICMP echo
pk.append(E()/IP(src=R,dst=L)/ICMP(type=8,id=7,seq=1))
pk.append(E()/IP(src=L,dst=R)/ICMP(type=0,id=7,seq=1))
pk.append(E()/IP(src=R,dst=L)/ICMP(type=8,id=7,seq=1))
# RELATED: quoted packet, then the error
q=IP(src=L,dst="198.51.100.9")/UDP(sport=5001,dport=53)
pk.append(E()/q)
pk.append(E()/IP(src="198.51.100.9",dst=L)/ICMP(type=3,code=3)/bytes(q)[:28])
wrpcap("prime.pcap", pk)
