//! Kernel truth: replays the oracle's scenarios (trace.pcap + kernel.json written by the real
//! kernel, see shared/oracle/README.md) through [`Table`] and compares, packet by packet, the
//! ctstate, the direction and the entry afterwards (`ct_after`).
//!
//! The ruleset is not evaluated: the kernel's per-packet verdict says whether the packet
//! survived (confirm) or was dropped (discard), and `--reject-with tcp-reset` closes the entry
//! (`nf_ct_set_closing`). Packets the kernel never tracked (dropped in raw, `--notrack`) are
//! skipped. Scenarios with NAT are skipped (NAT is not modelled here); scenarios whose raw
//! table attaches helpers are replayed but reported apart, since a helper's template and
//! expectations depend on rule evaluation. Timestamps are synthetic (0.3 ms apart) because the
//! oracle replays at that pace and ignores the pcap's clock; its timeouts are raised to 86400 s.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::pcap;
use crate::conntrack::{HelperKind, Hook, Params, Table, Template};

#[derive(Default, Debug)]
struct Tally {
    packets: usize,
    state_ok: usize,
    after_ok: usize,
    /// ct_after comparisons left out: CONNMARK marks and GRE entries (see `comparable_after`).
    after_skipped: usize,
    /// Scenarios whose final table (`conntrack_final`) matches the model's `dump()`.
    final_ok: usize,
    /// Scenarios whose final table was compared.
    final_compared: usize,
    mismatches: Vec<String>,
}

/// `table/CHAIN/N` → rule text, numbered like the oracle (1-based per chain, file order).
fn rule_index(rules: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut table = String::new();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for line in rules.lines() {
        if let Some(t) = line.strip_prefix('*') {
            table = t.trim().to_string();
        } else if let Some(rest) = line.strip_prefix("-A ") {
            let chain = rest.split_whitespace().next().unwrap_or("").to_string();
            let n = counts.entry(format!("{table}/{chain}")).or_insert(0);
            *n += 1;
            out.insert(format!("{table}/{chain}/{n}"), line.to_string());
        }
    }
    out
}

/// Normalises a table dump for comparison: UDP's ASSURED depends on the oracle's wall clock
/// (see `udp_stream_timing`). `None` when the kernel's entries carry CONNMARK marks or GRE
/// entries, which the model cannot reproduce without rules / the GRE tracker.
fn normalise_final(entries: &Value) -> Option<Vec<Value>> {
    let mut out = Vec::new();
    for e in entries.as_array()? {
        if e.get("mark").is_some() || e["proto"] == 47 {
            return None;
        }
        let mut e = e.clone();
        if e["proto"] == 17 {
            if let Some(st) = e["status"].as_array_mut() {
                st.retain(|s| s != "ASSURED");
            }
        }
        out.push(e);
    }
    Some(out)
}

/// Compares the final table with the kernel's `conntrack_final`.
fn compare_final(kernel: &Value, table: &Table, now: u64, name: &str, tally: &mut Tally) {
    let Some(want) = normalise_final(&kernel["conntrack_final"]) else {
        return;
    };
    let got = normalise_final(&serde_json::to_value(table.dump(now)).unwrap()).unwrap_or_default();
    tally.final_compared += 1;
    if want == got {
        tally.final_ok += 1;
    } else {
        tally.mismatches.push(format!(
            "{name}: final table differs: kernel {want:?} | model {got:?}"
        ));
    }
}

/// The raw table's `-j CT --helper` template, read from the raw rules the packet matched.
fn template(p: &Value, rules: &HashMap<String, String>) -> Template {
    let helper = p["matched"].as_array().and_then(|m| {
        m.iter()
            .filter_map(Value::as_str)
            .filter(|r| r.starts_with("raw/"))
            .filter_map(|r| rules.get(r))
            .find_map(|t| {
                t.split("--helper ")
                    .nth(1)
                    .and_then(|h| HelperKind::from_name(h.split_whitespace().next()?))
            })
    });
    Template { helper }
}

/// Whether the packet survived to conntrack confirmation: its filter verdict was ACCEPT and no
/// DROP rule matched it later (mangle/nat POSTROUTING).
fn survived(p: &Value, rules: &HashMap<String, String>) -> bool {
    // Local → local over lo: conntrack confirms at POSTROUTING of the output path; what INPUT
    // does afterwards no longer matters to the entry.
    if let Some(first) = p["hooks"].as_array().and_then(|h| h.first()) {
        return first["verdict"] == "ACCEPT" && first["postrouting"] == true;
    }
    let dropped_later = p["matched"].as_array().is_some_and(|m| {
        m.iter()
            .filter_map(Value::as_str)
            .any(|r| rules.get(r).is_some_and(|t| t.ends_with("-j DROP")))
    });
    p["verdict"] == "ACCEPT" && !dropped_later
}

/// UDP's ASSURED depends on the oracle's wall clock (a replied flow still active two seconds
/// after its first packet, `nf_conntrack_udp_packet`), which kernel.json does not record: a
/// kernel entry that differs from the model's only by that bit is not comparable.
fn udp_stream_timing(want: &Value, got: &Value) -> bool {
    if want["proto"] != 17 {
        return false;
    }
    let mut w = want.clone();
    if let Some(st) = w["status"].as_array_mut() {
        st.retain(|s| s != "ASSURED");
    }
    w != *want && w == *got
}

/// The kernel's ct_after with what the model cannot know without rules removed: the CONNMARK
/// mark (set by rule evaluation). `None` when the oracle cannot show the entry at all: GRE has
/// its own tracker whose ctnetlink tuple needs keys the oracle's query does not send.
fn comparable_after(p: &Value, proto: u8) -> Option<Value> {
    if proto == 47 {
        return None;
    }
    let mut v = p["ct_after"].clone();
    if let Some(o) = v.as_object_mut() {
        if o.remove("mark").is_some() {
            return None;
        }
    }
    Some(v)
}

fn scenario_dirs() -> Vec<PathBuf> {
    // IPTWALK_SCENARIOS adds more roots (colon-separated), e.g. a checkout of other scenarios.
    let mut roots = vec![
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/scenarios"),
        PathBuf::from("/work/shared/oracle/scenarios"),
    ];
    if let Ok(extra) = std::env::var("IPTWALK_SCENARIOS") {
        roots.extend(
            extra
                .split(':')
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
        );
    }
    let mut out = Vec::new();
    for root in roots {
        let Ok(rd) = fs::read_dir(&root) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        dirs.sort();
        out.extend(
            dirs.into_iter()
                .filter(|d| d.join("kernel.json").is_file() && d.join("trace.pcap").is_file()),
        );
    }
    out
}

fn params_of(oracle: &Value) -> Params {
    let mut p = Params::default();
    let sys = &oracle["sysctls"];
    if let Some(secs) = sys["ct_timeouts_raised_to"].as_u64() {
        p.raise_all_timeouts(u32::try_from(secs).unwrap_or(u32::MAX));
    }
    if let Some(map) = sys.as_object() {
        for (k, v) in map {
            if let Some(n) = v.as_i64() {
                // Names the model does not know (ct_timeouts_raised_to) are oracle settings.
                let _ = p.set(k, n);
            }
        }
    }
    p
}

fn rejected_with_reset(p: &Value) -> bool {
    p["reject_with"] == "tcp-reset"
        || p["hooks"]
            .as_array()
            .is_some_and(|hs| hs.iter().any(|h| h["reject_with"] == "tcp-reset"))
}

fn replay(dir: &Path, rules: &str, tally: &mut Tally) {
    let rules = rule_index(rules);
    let kernel: Value =
        serde_json::from_slice(&fs::read(dir.join("kernel.json")).unwrap()).unwrap();
    let frames = pcap::records(&fs::read(dir.join("trace.pcap")).unwrap());
    let mut table = Table::new(params_of(&kernel["oracle"]));
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let mut fragments = false;
    for p in kernel["packets"].as_array().unwrap() {
        let i = p["index"].as_u64().unwrap() as usize;
        let want_state = match p["ctstate"].as_str() {
            Some("UNTRACKED") | None => continue,
            Some(s) => s,
        };
        let hook = if p["path"] == "local-out" {
            Hook::LocalOut
        } else {
            Hook::PreRouting
        };
        let ts = 1_000_000_000 + i as u64 * 300_000;
        let Some(pkt) = pcap::decode(&frames[i], ts, hook) else {
            // A fragment: the kernel reassembles it (defrag), this reader does not.
            fragments = true;
            continue;
        };
        let v = table.process_with(&pkt, &template(p, &rules));
        if let Some(id) = v.conn.filter(|_| v.unconfirmed) {
            if survived(p, &rules) {
                let _ = table.confirm(id);
            } else {
                table.discard(id);
            }
        }
        if rejected_with_reset(p) {
            if let Some(id) = v.conn {
                table.set_closing(id, ts);
            }
        }
        let after = table.view_for_packet(&pkt);
        let after = serde_json::to_value(after).unwrap();
        let want_dir = p["ctdir"].as_str();
        let got_dir = v.dir.map(|d| d.name());
        tally.packets += 1;
        let state_ok = v.state.name() == want_state && got_dir == want_dir;
        let after_ok = match comparable_after(p, pkt.proto) {
            Some(want) if udp_stream_timing(&want, &after) => {
                tally.after_skipped += 1;
                true
            }
            Some(want) => after == want,
            None => {
                tally.after_skipped += 1;
                true
            }
        };
        tally.state_ok += usize::from(state_ok);
        tally.after_ok += usize::from(after_ok);
        if !(state_ok && after_ok) {
            tally.mismatches.push(format!(
                "{name}#{i} {}: kernel {want_state}/{want_dir:?} {} | model {}/{got_dir:?} {after} ({:?})",
                p["summary"].as_str().unwrap_or(""),
                p["ct_after"],
                v.state.name(),
                v.invalid
            ));
        }
    }
    if !fragments {
        let end = 1_000_000_000 + frames.len() as u64 * 300_000;
        compare_final(&kernel, &table, end, &name, tally);
    }
}

#[test]
fn agrees_with_the_kernel_on_oracle_scenarios() {
    let dirs = scenario_dirs();
    assert!(
        !dirs.is_empty(),
        "no kernel-truth scenarios found (testdata/scenarios or shared/oracle/scenarios)"
    );
    let (mut plain, mut helper) = (Tally::default(), Tally::default());
    let mut skipped_nat = 0;
    for d in &dirs {
        let rules = fs::read_to_string(d.join("rules.v4")).unwrap_or_default();
        if rules.contains("*nat") {
            skipped_nat += 1;
            continue;
        }
        replay(
            d,
            &rules,
            if rules.contains("--helper") {
                &mut helper
            } else {
                &mut plain
            },
        );
    }
    for (label, t) in [("plain", &plain), ("helper", &helper)] {
        eprintln!(
            "{label}: {} packets, ctstate+dir agree {}, ct_after agree {} ({} not comparable), \
             final tables agree {}/{}, mismatches {}",
            t.packets,
            t.state_ok,
            t.after_ok,
            t.after_skipped,
            t.final_ok,
            t.final_compared,
            t.mismatches.len()
        );
        for m in t.mismatches.iter().take(40) {
            eprintln!("  {m}");
        }
    }
    eprintln!(
        "scenarios: {} ({} with NAT skipped)",
        dirs.len(),
        skipped_nat
    );
    assert!(
        plain.packets > 1000,
        "too few packets replayed: {}",
        plain.packets
    );
    assert!(
        plain.mismatches.is_empty(),
        "{} packets disagree with the kernel",
        plain.mismatches.len()
    );
}
