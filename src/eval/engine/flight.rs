//! The full path of one packet: the checks before any hook, then every hook
//! it passes with its tables in priority order, conntrack where the kernel
//! runs it, and what the packet's last hook leaves (the [`Fate`] the record is
//! built from). A packet the established-flow lane did not take goes here.

use super::*;

impl Engine<'_> {
    pub(super) fn fly(
        &mut self,
        pkt: &Packet,
        ts: u64,
        local_out: bool,
        expected: Hook,
        flight: &mut Flight,
    ) -> Fate {
        // ip_rcv_core drops malformed headers before any hook.
        if let Some(problem) = pkt
            .problem
            .filter(|_| !pkt.ip.is_fragment() || pkt.ip.ihl() < 5)
        {
            // A raw socket with IP_HDRINCL rewrites the total length of what the
            // host sends (raw_send_hdrinc), so only received packets die here.
            let fixed_by_sender = local_out
                && !matches!(
                    problem,
                    packet::Malformed::IhlTooSmall(_) | packet::Malformed::HeaderTruncated { .. }
                );
            if is_ip_level(&problem) && !fixed_by_sender {
                let mut f = Fate::not_reached(expected, None, None);
                f.note = Some(problem.to_string());
                return f;
            }
        }
        // A packet conntrack saw from the lane had its header checksum verified there
        // (`Lanes::probe`, `take_plain_lane`): not summed again.
        if !self.opts.trust_checksums
            && !local_out
            && flight.pretracked.is_none()
            && !pkt.ip_checksum_ok()
        {
            let mut f = Fate::not_reached(expected, None, None);
            f.note = Some("bad IPv4 header checksum (ip_rcv drops it)".into());
            return f;
        }
        // nf_defrag_ipv4 at −400, before raw.
        let user = if local_out {
            packet::fragments::USER_CONNTRACK_OUT
        } else {
            packet::fragments::USER_CONNTRACK_IN
        };
        let whole = match self.defrag.feed(i128::from(ts), user, pkt) {
            packet::DefragOutcome::NotFragment => None,
            packet::DefragOutcome::Held => {
                let mut f = Fate::not_reached(expected, None, None);
                f.note = Some("fragment held for reassembly".into());
                return f;
            }
            packet::DefragOutcome::Dropped(why) => {
                let mut f = Fate::not_reached(expected, None, None);
                f.note = Some(format!("fragment dropped by reassembly: {why:?}"));
                return f;
            }
            packet::DefragOutcome::Complete(bytes) => {
                self.scratch.clear();
                self.scratch.extend_from_slice(bytes);
                Some(())
            }
        };
        let scratch = std::mem::take(&mut self.scratch);
        let fate = match whole {
            Some(()) => match packet::decode_ipv4(pkt.l2, &scratch) {
                Ok(full) => self.hooks(&full, ts, local_out, expected, flight),
                Err(_) => Fate::not_reached(expected, None, None),
            },
            None => self.hooks(pkt, ts, local_out, expected, flight),
        };
        self.scratch = scratch;
        fate
    }

    /// The hooks of one (complete) packet.
    pub(super) fn hooks(
        &mut self,
        pkt: &Packet,
        ts: u64,
        local_out: bool,
        expected: Hook,
        flight: &mut Flight,
    ) -> Fate {
        let (l4, l4_truncated) = l4_facts(pkt);
        let host = &self.host;
        let mut facts = Facts {
            hook: Hook::Prerouting,
            table: TableKind::Raw,
            in_iface: "",
            out_iface: "",
            src: u32::from(pkt.ip.src()),
            dst: u32::from(pkt.ip.dst()),
            proto: pkt.ip.proto(),
            ttl: pkt.ip.ttl(),
            tos: pkt.ip.tos(),
            frag_off: pkt.ip.frag_offset(),
            // Locally sent packets count what was sent (see `fly`).
            len: if local_out {
                pkt.ip.bytes().len() as u32
            } else {
                u32::from(pkt.ip.total_len())
            },
            bytes: pkt.ip.bytes(),
            ihl: pkt.ip.header_len() as u8,
            l4,
            l4_truncated,
            src_mac: if local_out { None } else { pkt.l2.src_mac },
            mac_header: None,
            pkttype: pkttype(pkt.l2.pkttype, local_out),
            mark: 0,
            ct: CtFacts::default(),
            now_ns: ts,
            host,
        };
        // Only conntrack reads it: a packet conntrack already saw (the lane asked first) is
        // not summed again.
        let checksum_ok = self.opts.trust_checksums
            || flight.pretracked.is_some()
            || pkt.l4_checksum_ok().unwrap_or(true);
        let mut run = Run {
            tables: &mut self.tables,
            ct: &mut self.ct,
            host,
            places: &self.places,
            flight,
            conn: None,
            helper_drop: None,
        };
        if local_out {
            let dev = self.places.route(host, facts.dst).unwrap_or("eth0");
            run.local_out(&mut facts, pkt, ts, checksum_ok, dev, expected)
        } else {
            let dev = self.places.ingress(host, facts.src);
            run.wire_in(&mut facts, pkt, ts, checksum_ok, dev, expected)
        }
    }
}
