//! IPT402 masquerade-static: MASQUERADE out of an interface whose address the
//! ruleset itself already writes down in an SNAT rule.

use super::util::{line_of, reachable_chains, rule_span};
use crate::diagnostic::{Diagnostic, Severity};
use crate::ext::Target;
use crate::ir::{Rule, RuleTarget, TableKind};
use crate::lint::{Lint, LintInput, LintMeta};
use std::net::Ipv4Addr;

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT402",
        name: "masquerade-static",
        severity: Severity::Note,
        summary: "MASQUERADE out of an interface whose static address an SNAT rule already names",
        docs: "\
What it does: finds MASQUERADE rules with `-o IFACE` where the nat table also has an SNAT rule
with the same `-o IFACE` and a single `--to-source ADDRESS`. That SNAT rule shows the author
knows the interface's address and relies on it not changing: the ruleset already treats
it as static. Without such proof (no SNAT for that interface) nothing is said: iptwalk
cannot know whether an address comes from DHCP or PPP.

Why it matters: MASQUERADE is meant for dynamic addresses: it looks the interface's
address up for every new connection, and when the interface goes down the kernel forgets
every connection masqueraded through it (nf_nat_masquerade's device notifier). SNAT to
the static address does neither: cheaper, and connections survive a link flap.

Example:
    -A POSTROUTING -s 10.0.1.0/24 -o eth0 -j SNAT --to-source 203.0.113.5
    -A POSTROUTING -s 10.0.2.0/24 -o eth0 -j MASQUERADE

Instead:
    -A POSTROUTING -s 10.0.2.0/24 -o eth0 -j SNAT --to-source 203.0.113.5
(offered as a fix, not applied by --fix: it changes what happens if the address changes).",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    let Some(nat) = input
        .ruleset
        .tables
        .iter()
        .find(|t| t.kind == TableKind::Nat)
    else {
        return;
    };
    let Some(post) = nat.chain_index("POSTROUTING") else {
        return;
    };
    let rules: Vec<&Rule> = reachable_chains(nat, post)
        .into_iter()
        .flat_map(|c| &nat.chains[c].rules)
        .collect();
    for m in rules.iter().filter(|r| masquerade(r)) {
        let Some(iface) = out_iface(m) else { continue };
        let Some((snat, addr)) = rules.iter().find_map(|r| {
            static_snat(r)
                .filter(|_| out_iface(r) == Some(iface))
                .map(|a| (*r, a))
        }) else {
            continue;
        };
        let mut d = Diagnostic::new(
            Severity::Note,
            input.file,
            rule_span(m),
            format!(
                "MASQUERADE out of {iface}, whose address line {} already names ({addr}): SNAT does the same without the per-connection lookup",
                line_of(input.file, rule_span(snat))
            ),
        )
        .with_label(rule_span(snat), format!("{iface} is {addr} here"))
        .with_help(format!("write -j SNAT --to-source {addr}"));
        if let (RuleTarget::Ext(Target::Masquerade(mq)), Some(span)) = (&m.target, m.origin.target)
        {
            if mq.range.ports.is_none() && !mq.random && !mq.random_fully {
                d = d.with_fix(span, format!("SNAT --to-source {addr}"), false);
            }
        }
        out.push(d);
    }
}

fn masquerade(r: &Rule) -> bool {
    matches!(&r.target, RuleTarget::Ext(Target::Masquerade(_)))
}

/// `-o NAME` without `!` or `+`.
fn out_iface(r: &Rule) -> Option<&str> {
    (!r.out_iface.is_any() && !r.out_inv && !r.out_iface.wildcard)
        .then_some(r.out_iface.name.as_str())
}

/// The single address of an `SNAT --to-source ADDRESS[:ports]`.
fn static_snat(r: &Rule) -> Option<Ipv4Addr> {
    let RuleTarget::Ext(Target::Snat(s)) = &r.target else {
        return None;
    };
    let (lo, hi) = s.range.as_ref()?.addrs?;
    (lo == hi).then(|| Ipv4Addr::from(lo))
}

#[cfg(test)]
mod tests {

    fn found(post: &str) -> usize {
        let text = format!("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n{post}\nCOMMIT\n");
        crate::lint::findings_of("IPT402", &text).1.len()
    }

    #[test]
    fn only_an_snat_for_the_same_interface_proves_the_address() {
        let snat = "-A POSTROUTING -s 10.0.1.0/24 -o eth0 -j SNAT --to-source 203.0.113.5";
        let masq = "-A POSTROUTING -s 10.0.2.0/24 -o eth0 -j MASQUERADE";
        assert_eq!(found(&format!("{snat}\n{masq}")), 1);
        assert_eq!(found(masq), 0);
        let ppp = "-A POSTROUTING -o ppp0 -j MASQUERADE";
        assert_eq!(found(&format!("{snat}\n{ppp}")), 0);
        let range = "-A POSTROUTING -o eth0 -j SNAT --to-source 203.0.113.5-203.0.113.9";
        assert_eq!(found(&format!("{range}\n{masq}")), 0);
    }
}
