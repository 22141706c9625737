//! IPT304 mixed-state-matches: `-m state` and `-m conntrack --ctstate` in one
//! ruleset.

use crate::diagnostic::{Diagnostic, Severity};
use crate::ext::Match;
use crate::lint::{Lint, LintInput, LintMeta};
use crate::source::Span;

pub const LINT: Lint = Lint {
    meta: LintMeta {
        code: "IPT304",
        name: "mixed-state-matches",
        severity: Severity::Note,
        summary:
            "the ruleset spells state tests both as `-m state` and as `-m conntrack --ctstate`",
        docs: "\
What it does: reports the first `-m state` match of a file that also uses
`-m conntrack --ctstate` (or the other way round, whichever comes second).

Why it matters: both test the same conntrack information (state_mt and conntrack_mt read the
same ctinfo), so two spellings are no difference in behaviour, but a reader searching for
`ctstate` misses half of the stateful rules, and edits tend to update only one of them.

Example:
    -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
    -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
Instead: use `-m conntrack --ctstate` throughout.",
    },
    check,
    whole_ruleset: false,
};

fn check(input: &LintInput, out: &mut Vec<Diagnostic>) {
    let mut first_state: Option<Span> = None;
    let mut first_ct: Option<Span> = None;
    let all = input
        .ruleset
        .tables
        .iter()
        .flat_map(|t| &t.chains)
        .flat_map(|c| &c.rules)
        .flat_map(|r| &r.matches);
    for m in all {
        match &m.m {
            Match::State(_) if first_state.is_none() => first_state = Some(m.span),
            Match::Conntrack(c) if c.state.is_some() && first_ct.is_none() => {
                first_ct = Some(m.span)
            }
            _ => {}
        }
    }
    let (Some(st), Some(ct)) = (first_state, first_ct) else {
        return;
    };
    let (later, earlier, what) = if st.start > ct.start {
        (st, ct, "`-m conntrack --ctstate` is used above")
    } else {
        (ct, st, "`-m state` is used above")
    };
    out.push(
        Diagnostic::new(
            Severity::Note,
            input.file,
            later,
            "this ruleset tests conntrack state with both `-m state` and `-m conntrack`",
        )
        .with_label(earlier, what)
        .with_help("use `-m conntrack --ctstate` throughout"),
    );
}
