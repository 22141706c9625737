//! `iptwalk diff`: replay a capture through two rulesets and list the
//! packets, by connection, whose verdict or deciding rule differs.

use super::model::TextOrJson as Format;
use super::model::{load_rules, ModelArgs};
use super::Ctx;
use iptwalk::eval::diff::{diff_capture, DiffReport, Side};
use iptwalk::eval::engine::Options;
use iptwalk::packet::CaptureReader;
use iptwalk::report::style;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The ruleset in use.
    #[arg(value_name = "OLD")]
    old: String,
    /// The ruleset to compare with it.
    #[arg(value_name = "NEW")]
    new: String,
    /// Capture (pcap or pcapng) replayed through both; `-` reads standard input.
    #[arg(value_name = "PCAP")]
    pcap: PathBuf,
    #[command(flatten)]
    model: ModelArgs,
    /// Output: text or json.
    #[arg(long, default_value = "text", value_name = "FORMAT")]
    format: Format,
}

pub fn run(ctx: &Ctx, args: DiffArgs) -> ExitCode {
    if !super::stdin_at_most_once(&[args.old.as_ref(), args.new.as_ref(), args.pcap.as_os_str()]) {
        return ExitCode::from(2);
    }
    let (Some(old), Some(new)) = (load_rules(ctx, &args.old), load_rules(ctx, &args.new)) else {
        return ExitCode::from(2);
    };
    let (host, params) = match (args.model.host(), args.model.params()) {
        (Ok(h), Ok(p)) => (h, p),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let Ok(ipsets) = super::model::load_ipsets(ctx, args.model.ipset.as_deref(), &[&old, &new])
    else {
        return ExitCode::from(2);
    };
    let opts = Options {
        trust_checksums: args.model.trust_checksums,
        trace: false,
        ipsets,
        ..Options::default()
    };
    let report = match CaptureReader::open_or_stdin(&args.pcap)
        .and_then(|mut r| diff_capture(&old, &new, host, params, opts, &mut r))
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", args.pcap.display());
            return ExitCode::from(2);
        }
    };
    match args.format {
        Format::Text => print!(
            "{}",
            style::lines(&render(&report), ctx.color_stdout(), |l| {
                match l.trim_start().get(..2) {
                    Some("- ") => Some(style::Style::Bad),
                    Some("+ ") => Some(style::Style::Good),
                    _ => None,
                }
            })
        ),
        Format::Json => match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
    }
    if report.changed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn side_text(s: &Side) -> String {
    let by = match (&s.rule, &s.text) {
        (Some(r), Some(t)) => format!("{r}  {t}"),
        (Some(r), None) => r.clone(),
        _ => "policy".to_string(),
    };
    format!(
        "{} at {} ({}) by {by}",
        s.verdict.name(),
        s.hook.unwrap_or("-"),
        s.ctstate.unwrap_or("untracked")
    )
}

fn render(r: &DiffReport) -> String {
    let mut s = String::new();
    for c in &r.connections {
        let _ = writeln!(s, "connection {}", c.connection);
        for ch in &c.changes {
            let _ = writeln!(s, "  #{} {}", ch.index, ch.summary);
            let _ = writeln!(s, "    - old: {}", side_text(&ch.old));
            let _ = writeln!(s, "    + new: {}", side_text(&ch.new));
        }
    }
    if !r.connections.is_empty() {
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "{} of {} packets differ, in {} connections",
        r.changed,
        r.packets,
        r.connections.len()
    );
    s
}
