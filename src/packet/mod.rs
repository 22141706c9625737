//! Packets: reading captures (pcap, pcapng) and decoding frames into header views.
