//! The TFTP helper (`nf_conntrack_tftp.c`): a read or write request (opcode 1 or 2) asks for
//! an expectation of the server's answer, which comes from a new port of the server to the
//! client's port (RFC 1350 section 4).
//!
//! Unlike FTP, `tftp_help` looks at every packet of the connection whatever its ctinfo,
//! including the request that creates the connection: the expectation is registered while the
//! master is still unconfirmed, and is usable once the master is confirmed. The opcode is read
//! right after the 8-byte UDP header (for an ICMP error handed to the helper, that is the
//! start of the quoted IP header, which is never 1 or 2).

use super::Action;
use crate::conntrack::tuple::{L4Key, Tuple};

/// `TFTP_OPCODE_READ`.
const OPCODE_READ: u16 = 1;
/// `TFTP_OPCODE_WRITE`.
const OPCODE_WRITE: u16 = 2;

/// `tftp_help`: `l4` is the layer-4 header and payload.
pub(crate) fn help(tuple: &[Tuple; 2], l4: &[u8]) -> Action {
    let Some(op) = l4.get(8..10) else {
        return Action::Accept;
    };
    match u16::from_be_bytes([op[0], op[1]]) {
        OPCODE_READ | OPCODE_WRITE => {
            // `nf_ct_expect_init(..., &tuple->src.u3, &tuple->dst.u3, IPPROTO_UDP, NULL,
            // &tuple->dst.u.udp.port)` with the reply tuple: from the server, any port.
            let reply = &tuple[1];
            let dport = match reply.l4 {
                L4Key::Ports { dst, .. } => dst,
                _ => return Action::Accept,
            };
            Action::Expect {
                tuple: Tuple {
                    src: reply.src,
                    dst: reply.dst,
                    proto: 17,
                    l4: L4Key::Ports { src: 0, dst: dport },
                },
                ftp: None,
            }
        }
        // DATA, ACK, ERROR and unknown opcodes: nothing to do.
        _ => Action::Accept,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn conn() -> [Tuple; 2] {
        let t = Tuple {
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 104)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 77)),
            proto: 17,
            l4: L4Key::Ports {
                src: 40069,
                dst: 69,
            },
        };
        [t, t.invert().unwrap()]
    }

    fn udp(payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0x9c, 0x85, 0, 69, 0, 0, 0, 0];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn read_and_write_requests_expect_the_answer() {
        for op in [1u8, 2] {
            let a = help(
                &conn(),
                &udp(&[0, op, b'f', 0, b'o', b'c', b't', b'e', b't', 0]),
            );
            let Action::Expect { tuple, ftp: None } = a else {
                panic!("{a:?}")
            };
            assert_eq!(tuple.to_string(), "10.0.0.77:0>10.0.0.104:40069");
            assert_eq!(tuple.proto, 17);
        }
    }

    #[test]
    fn data_ack_error_and_short_packets_do_nothing() {
        for p in [
            &[0u8, 3, 0, 1][..],
            &[0, 4, 0, 1],
            &[0, 5, 0, 1],
            &[0],
            &[],
            &[1, 1],
        ] {
            assert_eq!(help(&conn(), &udp(p)), Action::Accept, "{p:?}");
        }
    }
}
