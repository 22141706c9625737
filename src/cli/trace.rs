//! `iptwalk trace`: one packet through every hook, table and chain, with the
//! reason each rule did or did not match.

use super::model::TextOrJson as Format;
use super::model::{load_rules, ModelArgs};
use super::Ctx;
use iptwalk::conntrack::CtState;
use iptwalk::eval::engine::Options;
use iptwalk::eval::single::{arrive_on, trace_packet, trace_record};
use iptwalk::packet::{parse_summary, CaptureReader};
use iptwalk::report::style;
use iptwalk::report::trace::{render_text, TraceReport};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// Rule file (iptables-save/-restore text or a shell script).
    #[arg(value_name = "RULES")]
    rules: String,
    /// The packet in the summary notation replay prints, e.g.
    /// "tcp 10.0.0.7:51000>10.0.0.1:22 S" (see README: packet notation).
    #[arg(long, value_name = "SUMMARY", required_unless_present = "pcap")]
    packet: Option<String>,
    /// Take the packet from a capture instead, with the conntrack state the
    /// replay of the records before it built up.
    #[arg(long, value_name = "PCAP", conflicts_with_all = ["packet", "ctstate", "input"], requires = "index")]
    pcap: Option<PathBuf>,
    /// The 0-based record number in --pcap (as replay prints it).
    #[arg(long, value_name = "N", requires = "pcap")]
    index: Option<u64>,
    /// Set up conntrack so the packet has this state first (NEW, ESTABLISHED,
    /// RELATED; INVALID and UNTRACKED come from the packet and the rules).
    #[arg(long, value_name = "STATE", value_parser = parse_state)]
    ctstate: Option<CtState>,
    /// The interface the packet arrives on (default: from the host model).
    #[arg(long = "in", value_name = "IFACE")]
    input: Option<String>,
    #[command(flatten)]
    model: ModelArgs,
    /// Output: text or json.
    #[arg(long, default_value = "text", value_name = "FORMAT")]
    format: Format,
}

fn parse_state(s: &str) -> Result<CtState, String> {
    Ok(match s.to_ascii_uppercase().as_str() {
        "NEW" => CtState::New,
        "ESTABLISHED" => CtState::Established,
        "RELATED" => CtState::Related,
        "INVALID" => CtState::Invalid,
        "UNTRACKED" => CtState::Untracked,
        _ => return Err("expected NEW, ESTABLISHED, RELATED, INVALID or UNTRACKED".into()),
    })
}

pub fn run(ctx: &Ctx, args: TraceArgs) -> ExitCode {
    let mut inputs = vec![std::ffi::OsStr::new(&args.rules)];
    inputs.extend(args.pcap.as_deref().map(std::path::Path::as_os_str));
    if !super::stdin_at_most_once(&inputs) {
        return ExitCode::from(2);
    }
    let Some(rs) = load_rules(ctx, &args.rules) else {
        return ExitCode::from(2);
    };
    let (mut host, params) = match (args.model.host(), args.model.params()) {
        (Ok(h), Ok(p)) => (h, p),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let Ok(ipsets) = super::model::load_ipsets(ctx, args.model.ipset.as_deref(), &[&rs]) else {
        return ExitCode::from(2);
    };
    let traced = match (&args.packet, &args.pcap, args.index) {
        (Some(p), _, _) => {
            let pkt = match parse_summary(p) {
                Ok(pkt) => pkt,
                Err(e) => {
                    eprintln!("error: --packet {p:?}: {e}");
                    return ExitCode::from(2);
                }
            };
            if let (Some(dev), Ok(view)) = (&args.input, pkt.packet()) {
                arrive_on(&mut host, view.ip.src(), dev);
            }
            let opts = Options {
                ipsets,
                ..Options::default()
            };
            trace_packet(&rs, host, params, &pkt, args.ctstate, opts)
        }
        (None, Some(path), Some(index)) => {
            let mut reader = match CaptureReader::open_or_stdin(path) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            };
            let opts = Options {
                trust_checksums: args.model.trust_checksums,
                trace: false,
                ipsets,
                ..Options::default()
            };
            trace_record(&rs, host, params, opts, &mut reader, index)
        }
        _ => {
            eprintln!("error: give --packet SUMMARY, or --pcap FILE --index N");
            return ExitCode::from(2);
        }
    };
    let traced = match traced {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let report = TraceReport::new(&rs, traced);
    if let (Some(want), Some(o)) = (args.ctstate, report.packet()) {
        let want = want.name();
        if o.ctstate != Some(want) {
            eprintln!(
                "note: the packet is {}, not {want}: conntrack decides the state from the packet and the rules",
                o.ctstate.unwrap_or("not tracked")
            );
        }
    }
    match args.format {
        Format::Text => print!(
            "{}",
            style::lines(&render_text(&report), ctx.color_stdout(), |l| {
                let word = l.strip_prefix("verdict   ")?.split(' ').next()?;
                Some(style::Style::of_verdict(word))
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
    ExitCode::SUCCESS
}
