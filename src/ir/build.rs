//! Applies a parsed rule file to a [`Ruleset`] with the kernel's iptables
//! command semantics.
//!
//! Restore files work per table transaction: `*table` starts from an empty
//! table (iptables-restore flushes it), `:CHAIN` lines declare chains and
//! policies, commands edit the table, and `COMMIT` runs the kernel's load-time
//! checks (`translate_table`: jump loops, and each extension's `checkentry`
//! with the hooks its chain is reachable from). Shell commands apply one at a
//! time, each followed by those checks, as running `iptables` would. Every
//! error is reported (not only the first) and the offending command skipped.

use super::check::check_table;
use super::cmdline::{self, ParsedCommand};
use super::error::LoadError;
use super::hook::TableKind;
use super::ruleset::{Policy, Ruleset};
use crate::diagnostic::Diagnostic;
use crate::ext::ExtError;
use crate::source::{SourceFile, Span};
use crate::syntax::ast::{Command, Item, RuleFile, Token};
use std::sync::Arc;

/// Builds the ruleset of one file. Diagnostics include warnings; the build
/// failed if any of them is an error. Each error this stage adds comes with
/// its [`LoadError`], by index into `diags`.
pub fn build(
    file: &Arc<SourceFile>,
    rf: &RuleFile,
    diags: &mut Vec<Diagnostic>,
) -> (Ruleset, Vec<(usize, LoadError)>) {
    let mut b = Builder::new(file);
    for item in &rf.items {
        b.item(item);
    }
    b.finish(diags)
}

/// Applies items one at a time (see [`crate::syntax::for_each_item`]).
pub struct Builder<'a> {
    file: &'a Arc<SourceFile>,
    rs: Ruleset,
    /// The restore table being edited and its `*table` line.
    current: Option<(TableKind, Span)>,
    /// This builder's diagnostics (appended to the caller's at `finish`).
    diags: Vec<Diagnostic>,
    /// Kinds of the errors pushed to `diags`, by index.
    errors: Vec<(usize, LoadError)>,
    /// The table of the item being applied, for `errors`.
    table: Option<TableKind>,
    /// Whether an error now means the command was left out.
    skipped: bool,
    /// The chain the last command appended to, by index (a hint only).
    chain_hint: usize,
}

impl<'a> Builder<'a> {
    pub fn new(file: &'a Arc<SourceFile>) -> Builder<'a> {
        Builder {
            file,
            rs: Ruleset::default(),
            current: None,
            diags: Vec::new(),
            errors: Vec::new(),
            table: None,
            skipped: true,
            chain_hint: usize::MAX,
        }
    }

    /// The ruleset, with this builder's diagnostics appended to `diags` and
    /// the kinds of its errors by index into `diags`.
    pub fn finish(self, diags: &mut Vec<Diagnostic>) -> (Ruleset, Vec<(usize, LoadError)>) {
        let base = diags.len();
        diags.extend(self.diags);
        let errors = self
            .errors
            .into_iter()
            .map(|(i, e)| (base + i, e))
            .collect();
        (self.rs, errors)
    }

    fn error(&mut self, e: ExtError, fallback: Span) {
        let mut d = Diagnostic::error(self.file, e.span.unwrap_or(fallback), e.message);
        d.help = e.help;
        let err = LoadError {
            kind: e.kind,
            table: self.table,
            skipped: self.skipped,
        };
        self.errors.push((self.diags.len(), err));
        self.diags.push(d);
    }

    pub fn item(&mut self, item: &Item) {
        self.table = self.current.map(|(k, _)| k);
        self.skipped = true;
        match item {
            Item::Table { name, line } => self.open_table(name, *line),
            Item::Chain {
                name,
                policy,
                counters,
                line,
            } => self.chain_decl(name, policy, counters.map(|c| c.0), *line),
            Item::Commit { line } => {
                if let Some((kind, _)) = self.current.take() {
                    self.check(kind, *line);
                }
            }
            Item::Command(cmd) => self.command(cmd),
        }
    }

    fn open_table(&mut self, name: &Token, line: Span) {
        let Some(kind) = TableKind::from_name(&name.text) else {
            self.error(
                ExtError::new(format!("unable to initialize table '{}'", name.text))
                    .at(name.span)
                    .help("iptables tables are filter, nat, mangle, raw and security"),
                line,
            );
            self.current = None;
            return;
        };
        // iptables-restore (without --noflush) empties the table and deletes
        // its user chains; policies start from the kernel's ACCEPT here.
        let table = self.rs.table_mut_or_new(kind);
        *table = super::ruleset::Table::new(kind);
        self.current = Some((kind, line));
    }

    fn chain_decl(
        &mut self,
        name: &Token,
        policy: &Token,
        counters: Option<crate::syntax::ast::Counters>,
        line: Span,
    ) {
        let Some((kind, _)) = self.current else {
            return;
        };
        if name.text.len() > cmdline::MAX_CHAIN_NAME {
            let msg = format!(
                "Invalid chain name `{}' ({} chars max)",
                name.text,
                cmdline::MAX_CHAIN_NAME
            );
            return self.error(ExtError::new(msg).at(name.span), line);
        }
        let table = self.rs.table_mut_or_new(kind);
        let builtin = table.chain(&name.text).is_some_and(|c| c.is_builtin());
        if !builtin && !table.add_user_chain(&name.text) {
            let msg = format!("error creating chain '{}':File exists", name.text);
            return self.error(ExtError::new(msg).at(name.span), line);
        }
        if policy.text == "-" {
            return;
        }
        let Some(chain) = table.chain_mut(&name.text).filter(|c| c.is_builtin()) else {
            // As iptables-restore 1.8.9 words it: "Can't set policy `ACCEPT' on `u' line 2".
            let msg = format!(
                "Can't set policy `{}' on `{}' line {}: Bad built-in chain name",
                policy.text,
                name.text,
                self.file.line_col(line.start as usize).line
            );
            return self.error(
                ExtError::new(msg)
                    .at(policy.span)
                    .help("a user-defined chain has no policy: write `-`"),
                line,
            );
        };
        let p = match policy.as_str() {
            "ACCEPT" => Policy::Accept,
            "DROP" => Policy::Drop,
            _ => {
                let msg = format!(
                    "Can't set policy `{}' on `{}' line {}: Bad policy name",
                    policy.text,
                    name.text,
                    self.file.line_col(line.start as usize).line
                );
                return self.error(
                    ExtError::new(msg)
                        .at(policy.span)
                        .help("a built-in chain's policy is ACCEPT or DROP"),
                    line,
                );
            }
        };
        chain.policy = Some(p);
        chain.counters = counters.unwrap_or_default();
    }

    fn command(&mut self, cmd: &Command) {
        let counters = cmd.counters.map(|c| c.0);
        let parsed = match cmdline::parse(&cmd.args, self.file, cmd.line, counters) {
            Ok(p) => p,
            Err(e) => return self.error(e, cmd.line),
        };
        for w in &parsed.warnings {
            let d = Diagnostic::warning(self.file, w.span.unwrap_or(cmd.line), w.message.clone());
            self.diags.push(d);
        }
        let kind = match self.table_for(cmd, &parsed) {
            Ok(k) => k,
            Err(e) => return self.error(e, cmd.line),
        };
        self.table = Some(kind);
        if !cmd.from_shell {
            if let Err(e) =
                super::apply::apply(self.rs.table_mut_or_new(kind), parsed, &mut self.chain_hint)
            {
                self.error(e, cmd.line);
            }
            return;
        }
        // Each `iptables` run replaces the whole table and the kernel checks it
        // then: a command the kernel refuses leaves the table as it was.
        let table = self.rs.table_mut_or_new(kind);
        // `iptables -X NAME` before `-N NAME` is how scripts make reruns
        // work: from the empty tables iptwalk starts with it fails, as it
        // would on a fresh host, but it changes nothing either way.
        let cleanup = cleanup_of_missing(table, &parsed.op).is_some();
        let before = table.clone();
        let result = super::apply::apply(table, parsed, &mut self.chain_hint);
        let errors = match result {
            Err(e) if cleanup => vec![e.kind(super::LoadErrorKind::Cleanup)],
            Err(e) => vec![e],
            Ok(()) => check_table(table),
        };
        if !errors.is_empty() {
            *table = before;
            for e in errors {
                self.error(e, cmd.line);
            }
        }
    }

    fn table_for(&self, cmd: &Command, parsed: &ParsedCommand) -> Result<TableKind, ExtError> {
        if !cmd.from_shell {
            if let Some(t) = &parsed.table {
                // iptables-legacy-restore 1.8.9's wording; the table comes
                // from the `*table` line.
                return Err(
                    ExtError::new("The -t option cannot be used in iptables-restore.")
                        .at(t.span)
                        .help("name the table with a `*table` line instead"),
                );
            }
            return match self.current {
                Some((k, _)) => Ok(k),
                None => Err(ExtError::new("command outside a table").at(cmd.line)),
            };
        }
        let name = parsed.table.as_ref().or(cmd.table.as_ref());
        match name {
            None => Ok(TableKind::Filter),
            Some(t) => TableKind::from_name(&t.text).ok_or_else(|| {
                ExtError::new(format!("can't initialize iptables table `{}': Table does not exist (do you need to insmod?)", t.text))
                    .at(t.span)
            }),
        }
    }

    fn check(&mut self, kind: TableKind, at: Span) {
        let Some(table) = self.rs.tables.iter().find(|t| t.kind == kind) else {
            return;
        };
        // COMMIT: the kernel refuses the table, but every rule is in the
        // ruleset as written.
        self.table = Some(kind);
        self.skipped = false;
        for e in check_table(table) {
            self.error(e, at);
        }
    }
}

/// The chain a script's `-F NAME`, `-X NAME` or `-Z NAME` names, when the
/// table does not have it.
fn cleanup_of_missing<'t>(
    table: &super::ruleset::Table,
    op: &'t cmdline::Op<'t>,
) -> Option<&'t Token<'t>> {
    use cmdline::Op;
    let name = match op {
        Op::Flush(Some(n)) | Op::DeleteChain(Some(n)) | Op::Zero(Some(n), None) => n,
        _ => return None,
    };
    table.chain(&name.text).is_none().then_some(name)
}
