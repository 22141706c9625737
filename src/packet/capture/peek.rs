//! Looking ahead without reading: the records [`CaptureReader::next_frame`] will hand out
//! next, shown in place while they are still in the read window.
//!
//! A replay uses this to warm the memory the next few packets will need (see
//! `eval::parallel::touch`). It is strictly read-only (`&self`): nothing is consumed, numbered
//! or read from the source, so what the reader hands out afterwards is exactly what it would
//! have handed out without the look. Only classic pcap records that are whole in the window
//! are shown ([`pcap::State::whole`](super::pcap::State::whole), the test
//! [`CaptureReader::next_frame`]'s own in-place path uses); the look stops at the first record
//! that is not (cut by the window's end, too large, truncated), and a pcapng capture shows
//! nothing: a caller gets fewer records, never different ones.

use std::io::Read;

use super::{CaptureReader, State};

impl<R: Read> CaptureReader<R> {
    /// Calls `look(linktype, data)` for each of the next (at most) `most` packet records, in
    /// order, as long as they are whole classic pcap records in the read window; returns how
    /// many it showed. The reader is not changed.
    pub fn peek_whole<F>(&self, most: usize, mut look: F) -> usize
    where
        F: FnMut(u32, &[u8]),
    {
        let State::Pcap(s) = &self.state else {
            return 0;
        };
        if self.done {
            return 0;
        }
        let mut rest = self.input.unread();
        let mut shown = 0;
        while shown < most {
            let Some((_, data)) = s.whole(rest) else {
                break;
            };
            look(s.linktype(), data);
            rest = rest.get(16 + data.len()..).unwrap_or_default();
            shown += 1;
        }
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{pcap_edges, small_pcapng, Trickle};
    use super::super::Frame;
    use super::*;

    fn event(r: Result<Frame, super::super::CaptureError>) -> String {
        match r {
            Ok(f) => format!(
                "{} {} {} {} {:?} {} {:?} {:?}",
                f.index, f.offset, f.ts_ns, f.linktype, f.iface, f.orig_len, f.anomaly, f.data
            ),
            Err(e) => format!("{e} fatal={}", e.is_fatal()),
        }
    }

    /// Reads `bytes` to the end, peeking `most` records before every record; checks that
    /// each peek shows exactly the frames read next, and returns what was read.
    fn read_peeking(bytes: &[u8], piece: usize, most: usize) -> Option<(Vec<String>, usize)> {
        let mut rd = CaptureReader::new(Trickle(bytes, piece)).ok()?;
        let (mut out, mut shown_total) = (Vec::new(), 0);
        let mut pending: std::collections::VecDeque<(u32, Vec<u8>)> = Default::default();
        loop {
            pending.clear();
            let shown = rd.peek_whole(most, |lt, d| pending.push_back((lt, d.to_vec())));
            assert_eq!(shown, pending.len());
            assert!(shown <= most);
            shown_total += shown;
            // Every record shown is the next one handed out, in order.
            let Some(r) = rd.next_frame() else {
                assert_eq!(shown, 0, "peeked past the end");
                return Some((out, shown_total));
            };
            if let Some((lt, d)) = pending.pop_front() {
                let f = r.as_ref().expect("a shown record is a good record");
                assert_eq!((f.linktype, f.data), (lt, &d[..]));
            }
            out.push(event(r));
        }
    }

    fn plain_read(bytes: &[u8], piece: usize) -> Vec<String> {
        let Ok(mut rd) = CaptureReader::new(Trickle(bytes, piece)) else {
            return Vec::new();
        };
        std::iter::from_fn(|| rd.next_frame().map(event)).collect()
    }

    fn same_with_and_without_peeks(name: &str, bytes: &[u8]) -> usize {
        let mut shown = 0;
        for piece in [usize::MAX, 7, 4093] {
            let want = plain_read(bytes, piece);
            for most in [0, 1, 3, 16, 1000] {
                if let Some((got, n)) = read_peeking(bytes, piece, most) {
                    assert_eq!(got, want, "{name}, reads of {piece}, peeks of {most}");
                    shown += n;
                }
            }
        }
        shown
    }

    /// Records of 0 to 1499 bytes, enough to cross several 64 KiB windows: whole, cut, and
    /// with an unreadable record (the peek stops there), in both byte orders.
    #[test]
    fn peeking_never_changes_what_is_read() {
        for (name, bytes) in pcap_edges(400, |i| (i * 131) % 1500) {
            let shown = same_with_and_without_peeks(&name, &bytes);
            assert!(shown > 0 || !name.ends_with("whole"), "{name}");
        }
    }

    #[test]
    fn pcapng_shows_nothing() {
        assert_eq!(same_with_and_without_peeks("pcapng", &small_pcapng()), 0);
    }
}
