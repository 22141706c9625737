//! Packets: reading captures (pcap, pcapng), decoding frames into zero-copy header views,
//! IPv4 reassembly, and the one-line summary notation.
//!
//! ```text
//! Read ──capture::CaptureReader──► Frame { index, ts_ns, linktype, iface, orig_len, data }
//!      ──decode::decode (link::strip + ipv4 + l4)──► Packet { l2, ip, l4, problem } | Skip
//!      ──fragments::Defrag (nf_defrag_ipv4)──► NotFragment | Held | Complete(bytes) | Dropped
//! Packet ──summary──► "tcp 10.0.0.104:40000>10.0.0.77:22 S" ──summary::parse──► SynthPacket
//! ```
//!
//! Invariants: nothing here knows about rules; no input can make this layer panic; the reader
//! holds one record at a time and decoding allocates nothing per packet.
//!
//! ```
//! use iptwalk::packet::{decode, parse_summary, CaptureReader};
//! // A one-record Ethernet pcap, built in memory.
//! let ip = parse_summary("tcp 10.0.0.104:40000>10.0.0.77:22 S").unwrap();
//! let mut frame = vec![0u8; 12];
//! frame.extend_from_slice(&[0x08, 0x00]);
//! frame.extend_from_slice(ip.bytes());
//! let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
//! file.extend_from_slice(&[0, 0, 4, 0, 1, 0, 0, 0]);
//! file.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
//! file.extend_from_slice(&(frame.len() as u32).to_le_bytes());
//! file.extend_from_slice(&(frame.len() as u32).to_le_bytes());
//! file.extend_from_slice(&frame);
//!
//! let mut reader = CaptureReader::new(&file[..]).unwrap();
//! while let Some(record) = reader.next_frame() {
//!     let frame = match record {
//!         Ok(f) => f,
//!         Err(e) if e.is_fatal() => break, // report, exit 2 at the end
//!         Err(_) => continue,              // report, go on with the next record
//!     };
//!     match decode(&frame) {
//!         Ok(pkt) => assert_eq!(pkt.summary().to_string(), "tcp 10.0.0.104:40000>10.0.0.77:22 S"),
//!         Err(skip) => println!(r#"{{"index":{},"skipped":"{skip}"}}"#, frame.index),
//!     }
//! }
//! ```

pub mod capture;
pub mod checksum;
pub mod decode;
pub mod fragments;
pub mod ipv4;
pub mod l4;
pub mod link;
pub mod plain;
pub mod summary;
pub mod text;

#[cfg(test)]
mod corpus_tests;

pub use capture::{Anomaly, CaptureError, CaptureReader, Format, Frame, RecordErrorKind};
pub use decode::{decode, decode_ipv4, decode_link, decode_plain, Malformed, Packet};
pub use fragments::{Defrag, DropReason as FragDropReason, Outcome as DefragOutcome};
pub use ipv4::{Ipv4, Ipv4Options};
pub use l4::{Icmp, Quoted, Tcp, TcpOption, Udp, L4};
pub use link::{PktType, Skip, VlanTag, L2};
pub use plain::{plain, Plain, PlainHead, PlainL4};
pub use summary::{parse as parse_summary, ParseError as SummaryParseError, Summary, SynthPacket};
