//! The host and conntrack settings shared by `trace`, `diff` and `test`:
//! the same `--local`/`--lan`/`--host`/`--sysctl` model as `replay`.

use iptwalk::conntrack::Params;
use iptwalk::eval::engine::{Engine, Options};
use iptwalk::eval::host::Host;
use iptwalk::ir::addr;
use iptwalk::ir::ruleset::Ruleset;
use iptwalk::packet::CaptureReader;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// `--format text|json` of diff, trace and test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TextOrJson {
    Text,
    Json,
}

#[derive(clap::Args, Debug, Clone, Default)]
pub struct ModelArgs {
    /// The host's own addresses (127.0.0.0/8 is always local). Packets from
    /// them are locally generated, packets to them are delivered locally.
    #[arg(long, value_delimiter = ',', value_name = "IP")]
    pub local: Vec<Ipv4Addr>,
    /// Networks behind eth1 (the LAN side); everything else is behind eth0.
    #[arg(long, value_delimiter = ',', value_name = "CIDR")]
    pub lan: Vec<String>,
    /// A host description (TOML: interfaces with addresses, routes) instead of
    /// the --local/--lan model.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["lan"])]
    pub host: Option<PathBuf>,
    /// A conntrack sysctl by its kernel name, e.g. nf_conntrack_tcp_loose=0.
    #[arg(long, value_name = "NAME=VALUE")]
    pub sysctl: Vec<String>,
    /// Treat layer-4 checksums in captures as correct (offloaded traffic
    /// carries bad ones the wire never saw); the kernel oracle does the same.
    #[arg(long)]
    pub trust_checksums: bool,
    /// Sets for `-m set` and `-j SET`: `ipset save` output. Without it,
    /// packets reaching a set rule are flagged `depends_on: ["set"]`.
    #[arg(long, value_name = "FILE")]
    pub ipset: Option<PathBuf>,
}

impl ModelArgs {
    pub fn host(&self) -> Result<Host, String> {
        if let Some(path) = &self.host {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            return Host::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()));
        }
        let lan = self
            .lan
            .iter()
            .map(|s| addr::parse_one(s).map_err(|e| format!("--lan {s}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Host::oracle(&self.local, &lan))
    }

    pub fn params(&self) -> Result<Params, String> {
        let mut p = Params::default();
        for kv in &self.sysctl {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("--sysctl {kv}: expected NAME=VALUE"))?;
            let v: i64 = v
                .trim()
                .parse()
                .map_err(|_| format!("--sysctl {kv}: the value must be an integer"))?;
            p.set(k.trim(), v)
                .map_err(|e| format!("--sysctl {kv}: {e}"))?;
        }
        Ok(p)
    }
}

/// Reads an `ipset save` file and checks that it has every set the
/// rulesets name. Errors are printed (file:line:col); `Err` means exit 2.
/// Without a file the replay flags `-m set` rules instead of judging them.
pub fn load_ipsets(
    ctx: &super::Ctx,
    path: Option<&std::path::Path>,
    rulesets: &[&iptwalk::ir::Ruleset],
) -> Result<Option<iptwalk::ipset::Sets>, ()> {
    let Some(path) = path else {
        return Ok(None);
    };
    let name = path.to_string_lossy();
    let file = super::read_source(&name).ok_or(())?;
    let sets = iptwalk::ipset::parse(&file.text).map_err(|e| {
        ctx.report(&[iptwalk::diagnostic::Diagnostic::error(
            &file, e.span, e.message,
        )]);
    })?;
    let missing: Vec<_> = rulesets
        .iter()
        .flat_map(|rs| iptwalk::eval::ipsets::missing_sets(rs, &sets, &name))
        .collect();
    ctx.report(&missing);
    if missing.is_empty() {
        Ok(Some(sets))
    } else {
        Err(())
    }
}

/// Loads a rule file, printing its diagnostics; `None` means exit 2.
pub fn load_rules(ctx: &super::Ctx, path: &str) -> Option<iptwalk::ir::Ruleset> {
    let file = super::read_source(path)?;
    let loaded = iptwalk::ir::load(&file);
    ctx.report(&loaded.diagnostics);
    if loaded.has_errors() {
        return None;
    }
    Some(loaded.ruleset)
}

/// The ruleset with the counters a replay of `pcap` leaves (the engine
/// `replay --counters` uses), and whether every capture record could be read.
pub fn replay_counters(
    ctx: &super::Ctx,
    rules: &Ruleset,
    pcap: &Path,
    model: &ModelArgs,
) -> Result<(Ruleset, bool), String> {
    let host = model.host()?;
    let params = model.params()?;
    let ipsets = super::model::load_ipsets(ctx, model.ipset.as_deref(), &[rules])
        .map_err(|()| "the --ipset file does not serve these rules".to_string())?;
    let mut reader =
        CaptureReader::open_or_stdin(pcap).map_err(|e| format!("{}: {e}", pcap.display()))?;
    let opts = Options {
        trust_checksums: model.trust_checksums,
        verdicts_only: true,
        ipsets,
        ..Options::default()
    };
    let mut engine = Engine::new(rules, host, params, opts);
    let mut ok = true;
    while let Some(next) = reader.next_frame() {
        match next {
            Ok(frame) => {
                engine.process(&frame);
            }
            Err(e) => {
                ok = false;
                eprintln!("error: {}: {e}", pcap.display());
                if e.is_fatal() {
                    break;
                }
            }
        }
    }
    Ok((engine.ruleset_with_counters(), ok))
}
