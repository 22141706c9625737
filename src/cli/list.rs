//! `iptwalk list`: a table as `iptables -L -v -n --line-numbers` prints it,
//! with the file's counters or those a replay of a capture leaves.

use super::model::{load_rules, replay_counters, ModelArgs};
use super::Ctx;
use iptwalk::ir::hook::TableKind;
use iptwalk::ir::ruleset::Table;
use iptwalk::report::list::{list_table, ListOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Rule file (iptables-save/-restore text or a shell script); `-` is stdin.
    #[arg(value_name = "RULES")]
    rules: String,
    /// Only this chain.
    #[arg(value_name = "CHAIN")]
    chain: Option<String>,
    /// The table to list, as `iptables -t`.
    #[arg(short = 't', long, default_value = "filter", value_name = "TABLE")]
    table: String,
    /// Every table the file defines, each after a `# table: NAME` line.
    #[arg(long, conflicts_with = "table")]
    all_tables: bool,
    /// Exact packet and byte counts instead of K/M/G abbreviations (`-x`).
    #[arg(short = 'x', long)]
    exact: bool,
    /// Replay this capture (pcap or pcapng) first and list the counters the
    /// kernel would have after it, instead of the file's `[p:b]`.
    #[arg(long, value_name = "PCAP")]
    counters_from_replay: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

pub fn run(ctx: &Ctx, args: ListArgs) -> ExitCode {
    let Some(rules) = load_rules(ctx, &args.rules) else {
        return ExitCode::from(2);
    };
    let kinds = if args.all_tables {
        rules.tables.iter().map(|t| t.kind).collect()
    } else {
        match TableKind::from_name(&args.table) {
            Some(k) => vec![k],
            None => {
                eprintln!(
                    "error: can't initialize iptables table `{}': Table does not exist",
                    args.table
                );
                return ExitCode::from(2);
            }
        }
    };
    let mut failed = false;
    let rules = match &args.counters_from_replay {
        None => rules,
        Some(pcap) => match replay_counters(ctx, &rules, pcap, &args.model) {
            Ok((counted, ok)) => {
                failed = !ok;
                counted
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let opts = ListOptions {
        exact: args.exact,
        chain: args.chain.as_deref(),
    };
    let mut text = String::new();
    for (i, kind) in kinds.iter().enumerate() {
        // A table the file does not mention is the kernel's empty one.
        let empty;
        let table = match rules.table(*kind) {
            Some(t) => t,
            None => {
                empty = Table::new(*kind);
                &empty
            }
        };
        if args.all_tables {
            if i > 0 {
                text.push('\n');
            }
            text.push_str(&format!("# table: {}\n", kind.name()));
        }
        match list_table(table, opts) {
            Ok(s) => text.push_str(&s),
            Err(e) => {
                eprintln!("error: {}: {e}", args.chain.as_deref().unwrap_or(""));
                return ExitCode::from(2);
            }
        }
    }
    print!("{text}");
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
