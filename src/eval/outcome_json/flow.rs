//! The texts a connection's JSON lines repeat, made once per connection.
//!
//! Every line of a packet of a NAT-free IPv4 TCP or UDP connection prints the same two
//! endpoints three times: in its `summary` (`a:p>b:q` or `b:q>a:p`) and in both tuples of
//! its `ct_after`. Making those texts cost ~650 instructions a line (two endpoints for the
//! summary, their copies for the tuples, and a piece-by-piece append of each), more than the
//! replay of the packet. [`FlowJson`] holds `ct_after`'s start up to the reply tuple's end
//! once per connection; a line copies it, and its summary copies the tuple text of its
//! direction from it. Invariant: the bytes are the ones [`CtView`]'s writer and
//! [`Summary::write_to`](crate::packet::Summary::write_to) make (tests compare them).

use crate::conntrack::status::Status;
use crate::conntrack::tuple::L4Key;
use crate::conntrack::{ConnId, CtView};
use crate::packet::text::{endpoint, TextOut};
use std::net::IpAddr;

/// Bytes of a [`FlowJson`]: the head (at most 21 + 43 + 11 + 43 = 118 bytes) and room to
/// copy [`TEXT`] bytes from either tuple's start at once.
const ROOM: usize = 128;
/// Bytes copied for a tuple's text (at most 43: two endpoints of 21 and `>`), then cut back.
pub(crate) const TEXT: usize = 48;

/// `{"proto":P,"orig":"A:P>B:Q","reply":"B:Q>A:P` of a NAT-free IPv4 connection with ports,
/// and where its two tuple texts start.
#[derive(Debug, Clone)]
pub(crate) struct FlowJson {
    /// The confirmed entry whose view it was made of, if it was: the same entry's views have
    /// the same tuples (conntrack rewrites the tuples of unconfirmed entries only, and an
    /// entry's slot gets another id when it is freed), so the text is kept without the
    /// tuples compared.
    conn: Option<ConnId>,
    /// What the text was made of: protocol, original source and port, destination and port.
    key: (u8, u32, u16, u32, u16),
    bytes: [u8; ROOM],
    len: u8,
    /// Where the original and the reply tuple's texts start, and their (equal) length.
    orig_at: u8,
    reply_at: u8,
    text_len: u8,
}

impl FlowJson {
    /// The texts of `view`; `None` unless it is an IPv4 entry with ports whose reply tuple
    /// is its original one inverted (no NAT).
    fn new(view: &CtView) -> Option<FlowJson> {
        let key = nat_free_key(view)?;
        let (proto, a, sp, b, dp) = key;
        let (x, y) = (endpoint(a, sp), endpoint(b, dp));
        let mut head: Vec<u8> = Vec::with_capacity(ROOM);
        head.extend_from_slice(b"{\"proto\":");
        head.push_num(proto.into());
        head.extend_from_slice(b",\"orig\":\"");
        let orig_at = head.len();
        x.append_to(&mut head);
        head.push(b'>');
        y.append_to(&mut head);
        let text_len = head.len() - orig_at;
        head.extend_from_slice(b"\",\"reply\":\"");
        let reply_at = head.len();
        y.append_to(&mut head);
        head.push(b'>');
        x.append_to(&mut head);
        let mut bytes = [0u8; ROOM];
        bytes.get_mut(..head.len())?.copy_from_slice(&head);
        // Every tuple's text can be copied [`TEXT`] bytes at once (the room holds them).
        (reply_at + TEXT <= ROOM).then_some(())?;
        Some(FlowJson {
            conn: None,
            key,
            bytes,
            len: u8::try_from(head.len()).ok()?,
            orig_at: u8::try_from(orig_at).ok()?,
            reply_at: u8::try_from(reply_at).ok()?,
            text_len: u8::try_from(text_len).ok()?,
        })
    }

    /// Whether these are `view`'s texts.
    #[inline]
    fn is_of(&self, view: &CtView) -> bool {
        nat_free_key(view) == Some(self.key)
    }

    /// `ct_after`'s start, up to the end of the reply tuple's text (its closing quote not
    /// included), for the view this was made of.
    #[inline]
    pub(crate) fn head(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The text of the tuple `a:sp>b:dp` of the connection (the original or the reply
    /// one), as [`TEXT`] bytes of which the first `n` are the text; `None` for another.
    #[inline]
    pub(crate) fn tuple_text(
        &self,
        (a, sp): (u32, u16),
        (b, dp): (u32, u16),
    ) -> Option<(&[u8; TEXT], usize)> {
        let (_, oa, osp, ob, odp) = self.key;
        let at = if (a, sp, b, dp) == (oa, osp, ob, odp) {
            self.orig_at
        } else if (a, sp, b, dp) == (ob, odp, oa, osp) {
            self.reply_at
        } else {
            return None;
        };
        let text = self.bytes.get(usize::from(at)..)?.first_chunk::<TEXT>()?;
        Some((text, usize::from(self.text_len)))
    }
}

/// The protocol and original endpoints of a NAT-free IPv4 entry with ports.
#[inline]
fn nat_free_key(view: &CtView) -> Option<(u8, u32, u16, u32, u16)> {
    let (o, r) = (&view.orig, &view.reply);
    let (IpAddr::V4(a), IpAddr::V4(b), L4Key::Ports { src, dst }) = (o.src, o.dst, o.l4) else {
        return None;
    };
    let swapped = L4Key::Ports { src: dst, dst: src };
    let nat_free = r.src == o.dst && r.dst == o.src && r.l4 == swapped && view.proto == o.proto;
    nat_free.then(|| (view.proto, u32::from(a), src, u32::from(b), dst))
}

/// The [`FlowJson`] of each connection a JSON line showed, by its slot in the conntrack
/// table: kept while the slot's entry keeps its tuples (checked on every use), made anew
/// when another entry took the slot.
#[derive(Debug, Default)]
pub(crate) struct FlowJsons(Vec<Option<FlowJson>>);

impl FlowJsons {
    /// The texts of `view`, the view of entry `id`, made if they were not kept; `None` for
    /// an entry without ([`FlowJson::new`]).
    pub(crate) fn of(&mut self, id: ConnId, view: &CtView) -> Option<&FlowJson> {
        let slot = id.index();
        if self.0.len() <= slot {
            self.0.resize(slot + 1, None);
        }
        let kept = self.0.get_mut(slot)?;
        let same = kept.as_ref().is_some_and(|f| {
            debug_assert!(f.conn != Some(id) || f.is_of(view), "{view:?}");
            f.conn == Some(id) || f.is_of(view)
        });
        if !same {
            *kept = FlowJson::new(view);
        }
        let flow = kept.as_mut()?;
        if flow.conn != Some(id) {
            flow.conn = view.status.has(Status::CONFIRMED).then_some(id);
        }
        Some(flow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conntrack::status::Status;
    use crate::conntrack::tuple::Tuple;
    use crate::packet::{parse_summary, Summary};
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn view(proto: u8, (a, sp): (u32, u16), (b, dp): (u32, u16)) -> CtView {
        let orig = Tuple {
            src: IpAddr::V4(Ipv4Addr::from(a)),
            dst: IpAddr::V4(Ipv4Addr::from(b)),
            proto,
            l4: L4Key::Ports { src: sp, dst: dp },
        };
        let reply = orig.invert().unwrap_or(orig);
        CtView {
            proto,
            orig,
            reply,
            status: Status(Status::SEEN_REPLY | Status::ASSURED),
            tcp_state: (proto == 6).then_some("ESTABLISHED"),
            helper: None,
            mark: Some(7),
        }
    }

    fn text(t: Option<(&[u8; TEXT], usize)>) -> String {
        t.map(|(w, n)| String::from_utf8_lossy(&w[..n]).into_owned())
            .unwrap_or_default()
    }

    /// The texts of `view`'s flow against the view's writer (serde's derive, the
    /// definition) and the tuples' `Display`; and a summary of a packet of either direction
    /// copied from them against the summary's own text.
    fn check(view: &CtView) {
        let Some(flow) = FlowJson::new(view) else {
            panic!("no texts for {view:?}");
        };
        let mut line = flow.head().to_vec();
        view.write_rest(&mut line);
        let want = serde_json::to_string(view).unwrap_or_default();
        assert_eq!(String::from_utf8_lossy(&line), want);
        let L4Key::Ports { src: sp, dst: dp } = view.orig.l4 else {
            panic!("ports");
        };
        let (IpAddr::V4(a), IpAddr::V4(b)) = (view.orig.src, view.orig.dst) else {
            panic!("v4");
        };
        let (x, y) = ((u32::from(a), sp), (u32::from(b), dp));
        assert_eq!(text(flow.tuple_text(x, y)), view.orig.to_string());
        assert_eq!(text(flow.tuple_text(y, x)), view.reply.to_string());
        assert_eq!(flow.tuple_text(x, (y.0 ^ 1, y.1)), None);
        assert_eq!(flow.tuple_text(x, (y.0, y.1 ^ 1)), None);
        let name = if view.proto == 6 { "tcp" } else { "udp" };
        let flags = if view.proto == 6 { " SA" } else { "" };
        for t in [&view.orig, &view.reply] {
            let Ok(p) = parse_summary(&format!("{name} {t}{flags}")) else {
                panic!("{t}");
            };
            let s = Summary::of_ip(p.bytes());
            let mut out = b"x".to_vec();
            assert!(s.write_known(&mut out, |u, v| flow.tuple_text(u, v)));
            assert_eq!(String::from_utf8_lossy(&out), format!("x{}", s.text()));
        }
    }

    #[test]
    fn flow_texts_are_the_writers_texts_at_the_edges() {
        let addrs = [0u32, 0x0909_0909, 0x0a00_0001, 0x640a_01c8, u32::MAX];
        let ports = [0u16, 9, 10, 99, 100, 9999, 10000, 65535];
        for proto in [6u8, 17] {
            for a in addrs {
                for b in addrs {
                    for (sp, dp) in ports.iter().zip(ports.iter().rev()) {
                        check(&view(proto, (a, *sp), (b, *dp)));
                    }
                }
            }
        }
    }

    #[test]
    fn only_nat_free_ipv4_entries_with_ports_have_flow_texts() {
        let plain = view(6, (0x0a00_0001, 40000), (0x0a00_0002, 22));
        assert!(FlowJson::new(&plain).is_some());
        let mut nat = plain;
        nat.reply.src = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9));
        assert!(FlowJson::new(&nat).is_none());
        let mut port_nat = plain;
        port_nat.reply.l4 = L4Key::Ports { src: 22, dst: 1 };
        assert!(FlowJson::new(&port_nat).is_none());
        let mut icmp = plain;
        for t in [&mut icmp.orig, &mut icmp.reply] {
            t.l4 = L4Key::Icmp {
                id: 1,
                kind: 8,
                code: 0,
            };
        }
        assert!(FlowJson::new(&icmp).is_none());
        let mut v6 = plain;
        v6.orig.src = "2001:db8::1".parse().unwrap_or(v6.orig.src);
        v6.reply.dst = v6.orig.src;
        assert!(FlowJson::new(&v6).is_none());
    }

    #[test]
    fn kept_texts_are_made_anew_for_another_entry_in_the_slot() {
        let (one, two) = (
            view(6, (0x0a00_0001, 40000), (0x0a00_0002, 22)),
            view(17, (0x0a00_0001, 40000), (0x0a00_0002, 22)),
        );
        let confirmed = |mut v: CtView| {
            v.status = Status(v.status.0 | Status::CONFIRMED);
            v
        };
        let (a, b) = (ConnId::for_test(5, 0), ConnId::for_test(5, 1));
        let mut kept = FlowJsons::default();
        // Unconfirmed views are compared; a confirmed entry's text is kept for its id.
        for (id, v) in [
            (a, one),
            (a, two),
            (a, one),
            (a, confirmed(one)),
            (a, confirmed(one)),
            (b, confirmed(two)),
            (b, two),
            (a, one),
        ] {
            let head = kept.of(id, &v).map(|f| f.head().to_vec());
            let mut want = serde_json::to_string(&v).unwrap_or_default().into_bytes();
            let mut rest = Vec::new();
            v.write_rest(&mut rest);
            want.truncate(want.len() - rest.len());
            assert_eq!(head, Some(want));
        }
        let mut nat = one;
        nat.reply.dst = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9));
        assert!(kept.of(ConnId::for_test(5, 2), &nat).is_none());
        assert!(kept.of(ConnId::for_test(0, 0), &one).is_some());
    }

    proptest! {
        #[test]
        fn flow_texts_are_the_writers_texts(
            tcp in any::<bool>(),
            a in any::<u32>(),
            b in any::<u32>(),
            sp in any::<u16>(),
            dp in any::<u16>(),
        ) {
            check(&view(if tcp { 6 } else { 17 }, (a, sp), (b, dp)));
        }
    }
}
