//! Firewall expectations (`iptwalk test SPEC.toml`, format in
//! grammar/test-spec.md): single packets with the verdict (and optionally
//! the deciding rule) they must get, and captures in which no packet may be
//! dropped at a hook. Each is checked by replay; the result names the rule
//! that decided.

use super::engine::{Engine, Options};
use super::host::Host;
use super::outcome::Record;
use super::single::{arrive_on, trace_packet};
use crate::conntrack::{CtState, Params};
use crate::ir::{addr, Ruleset};
use crate::packet::{parse_summary, CaptureReader};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The spec file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The rule file, relative to the spec file.
    pub rules: PathBuf,
    #[serde(default)]
    pub local: Vec<std::net::Ipv4Addr>,
    #[serde(default)]
    pub lan: Vec<String>,
    /// A host description (TOML) instead of local/lan, relative to the spec.
    pub host: Option<PathBuf>,
    #[serde(default)]
    pub sysctl: BTreeMap<String, i64>,
    #[serde(default)]
    pub trust_checksums: bool,
    /// An `ipset save` file, relative to the spec.
    pub ipset: Option<PathBuf>,
    #[serde(default)]
    pub expect: Vec<Expect>,
    #[serde(default)]
    pub capture: Vec<Capture>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub name: Option<String>,
    pub packet: String,
    /// ACCEPT, DROP, REJECT or NOT_REACHED.
    pub verdict: String,
    /// `table/CHAIN/N` that must decide (`policy` for the policy).
    pub rule: Option<String>,
    /// Conntrack state to set up first (NEW, ESTABLISHED, RELATED).
    pub state: Option<String>,
    /// Arrival interface.
    #[serde(rename = "in")]
    pub input: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capture {
    pub name: Option<String>,
    /// Capture file, relative to the spec.
    pub pcap: PathBuf,
    /// No packet may be dropped or rejected at this filter hook.
    pub no_drop_in: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0}")]
    Invalid(String),
}

/// One checked expectation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckResult {
    pub name: String,
    pub passed: bool,
    /// What happened: verdict, hook and deciding rule.
    pub got: String,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

impl Spec {
    pub fn parse(text: &str) -> Result<Spec, SpecError> {
        Ok(toml::from_str(text)?)
    }

    /// The host model, with relative paths taken from `base`.
    pub fn host(&self, base: &Path) -> Result<Host, SpecError> {
        if let Some(p) = &self.host {
            let p = base.join(p);
            let text = std::fs::read_to_string(&p)
                .map_err(|e| SpecError::Io(p.display().to_string(), e))?;
            return Host::from_toml(&text).map_err(SpecError::Invalid);
        }
        let lan = self
            .lan
            .iter()
            .map(|s| addr::parse_one(s).map_err(|e| SpecError::Invalid(format!("lan {s}: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Host::oracle(&self.local, &lan))
    }

    pub fn params(&self) -> Result<Params, SpecError> {
        let mut p = Params::default();
        for (k, v) in &self.sysctl {
            p.set(k, *v)
                .map_err(|e| SpecError::Invalid(format!("sysctl {k}: {e}")))?;
        }
        Ok(p)
    }
}

fn state(s: &str) -> Option<CtState> {
    Some(match s.to_ascii_uppercase().as_str() {
        "NEW" => CtState::New,
        "ESTABLISHED" => CtState::Established,
        "RELATED" => CtState::Related,
        "INVALID" => CtState::Invalid,
        "UNTRACKED" => CtState::Untracked,
        _ => return None,
    })
}

/// Checks one packet expectation.
pub fn check_packet(
    rs: &Ruleset,
    host: &Host,
    params: &Params,
    opts: &Options,
    e: &Expect,
) -> CheckResult {
    let name = e.name.clone().unwrap_or_else(|| e.packet.clone());
    let fail = |got: String, why: String| CheckResult {
        name: name.clone(),
        passed: false,
        got,
        failure: Some(why),
    };
    let pkt = match parse_summary(&e.packet) {
        Ok(p) => p,
        Err(err) => return fail(String::new(), format!("packet: {err}")),
    };
    let want_state = match e.state.as_deref().map(|s| (s, state(s))) {
        Some((s, None)) => return fail(String::new(), format!("unknown state {s}")),
        Some((_, st)) => st,
        None => None,
    };
    let mut host = host.clone();
    if let (Some(dev), Ok(v)) = (&e.input, pkt.packet()) {
        arrive_on(&mut host, v.ip.src(), dev);
    }
    let traced = match trace_packet(rs, host, *params, &pkt, want_state, opts.clone()) {
        Ok(t) => t,
        Err(err) => return fail(String::new(), err.to_string()),
    };
    let Record::Packet(o) = traced.record else {
        return fail(String::new(), "the packet was skipped".into());
    };
    let rule = o.rule.as_deref().unwrap_or("policy");
    let got = format!(
        "{} at {} ({}) by {rule}",
        o.verdict.name(),
        o.hook.unwrap_or("-"),
        o.ctstate.unwrap_or("untracked")
    );
    let mut why = Vec::new();
    if !o.verdict.name().eq_ignore_ascii_case(&e.verdict) {
        why.push(format!("expected verdict {}", e.verdict));
    }
    if let Some(r) = e.rule.as_deref().filter(|r| *r != rule) {
        why.push(format!("expected rule {r}"));
    }
    if let Some(s) = want_state
        .map(CtState::name)
        .filter(|s| o.ctstate != Some(*s))
    {
        why.push(format!("could not give the packet state {s}"));
    }
    CheckResult {
        name,
        passed: why.is_empty(),
        got,
        failure: (!why.is_empty()).then(|| why.join("; ")),
    }
}

/// Checks one capture expectation.
pub fn check_capture(
    rs: &Ruleset,
    host: &Host,
    params: &Params,
    opts: &Options,
    base: &Path,
    c: &Capture,
) -> CheckResult {
    let path = base.join(&c.pcap);
    let name = c
        .name
        .clone()
        .unwrap_or_else(|| c.pcap.display().to_string());
    let mut reader = match CaptureReader::open(&path) {
        Ok(r) => r,
        Err(e) => {
            return CheckResult {
                name,
                passed: false,
                got: String::new(),
                failure: Some(format!("{}: {e}", path.display())),
            }
        }
    };
    let mut engine = Engine::new(rs, host.clone(), *params, opts.clone());
    let (mut packets, mut bad) = (0u64, Vec::new());
    while let Some(next) = reader.next_frame() {
        let frame = match next {
            Ok(f) => f,
            Err(e) if e.is_fatal() => break,
            Err(_) => continue,
        };
        if let Record::Packet(o) = engine.process(&frame) {
            packets += 1;
            let dropped = !matches!(
                o.verdict,
                super::outcome::Verdict::Accept | super::outcome::Verdict::NotReached
            );
            if dropped && c.no_drop_in.as_deref().is_some_and(|h| Some(h) == o.hook) {
                bad.push(format!(
                    "#{} {} {} by {}",
                    o.index,
                    o.summary,
                    o.verdict.name(),
                    o.rule.as_deref().unwrap_or("policy")
                ));
            }
        }
    }
    let hook = c.no_drop_in.as_deref().unwrap_or("-");
    CheckResult {
        name,
        passed: bad.is_empty(),
        got: format!("{packets} packets, {} dropped in {hook}", bad.len()),
        failure: (!bad.is_empty()).then(|| bad.join("\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_rejects_unknown_keys_and_reads_the_example() {
        assert!(Spec::parse("rules = \"r\"\nbogus = 1\n").is_err());
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/tests/user_chains.toml"
        ))
        .unwrap();
        let s = Spec::parse(&text).unwrap();
        assert!(!s.expect.is_empty() && !s.capture.is_empty());
    }
}
