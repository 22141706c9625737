//! `-m socket` (libxt_socket.c revision 3, xt_socket.c): a local socket
//! exists for the packet. The kernel allows it only at PREROUTING and INPUT
//! (`.hooks`). Not judged offline: it needs the host's sockets.

use super::tcp::unreachable_option;
use crate::ext::spec::{ExtError, ExtResult, OptCall, OptSpec};
use crate::ext::{CheckCtx, MatchDef, RuleCtx};
use crate::ir::{Hook, HookMask};

/// `XT_SOCKET_*` flags with their options, in save order.
pub const FLAGS: &[(u8, &str)] = &[
    (0x01, "transparent"),
    (0x02, "nowildcard"),
    (0x04, "restore-skmark"),
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Socket {
    pub flags: u8,
}

impl MatchDef for Socket {
    const NAME: &'static str = "socket";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::flag("transparent"),
        OptSpec::flag("nowildcard"),
        OptSpec::flag("restore-skmark"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match FLAGS.iter().find(|(_, n)| *n == call.key) {
            Some((bit, _)) => self.flags |= bit,
            None => return unreachable_option(call),
        }
        Ok(())
    }

    fn check(&self, ctx: &CheckCtx) -> ExtResult {
        let bad = ctx
            .hooks
            .outside(HookMask::of(&[Hook::Prerouting, Hook::Input]));
        if !bad.is_empty() {
            return Err(
                ExtError::new(format!("the socket match is not valid in {}", bad.names()))
                    .help("xt_socket allows only PREROUTING and INPUT"),
            );
        }
        Ok(())
    }

    /// `socket_mt_print_v3`: ` socket` followed by the save text.
    fn list(&self, ctx: &RuleCtx, out: &mut String) {
        out.push_str(" socket");
        self.save(ctx, out);
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        for (bit, name) in FLAGS {
            if self.flags & bit != 0 {
                out.push_str(" --");
                out.push_str(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{roundtrip, roundtrip_in};

    #[test]
    fn flags_and_hooks() {
        assert_eq!(
            roundtrip("-m socket --restore-skmark --transparent").unwrap(),
            "-m socket --transparent --restore-skmark"
        );
        assert!(roundtrip_in("filter", "OUTPUT", "-m socket").is_err());
    }
}
