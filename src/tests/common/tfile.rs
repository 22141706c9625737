//! The upstream iptables `.t` test format (iptables-test.py) and our lists of
//! lines where iptables-legacy 1.8.9 differs or only the kernel can judge.
//!
//! A `.t` file has `:CHAIN,CHAIN` lines naming the chains the following rules
//! go into, optional `*table` lines, `#` comments, and `rule;result;OK|FAIL`
//! lines (`=` as result: saved as written). A fourth field (`LEGACY`/`NFT`)
//! names the backend the first three apply to; we are legacy, and the only
//! such lines in the corpus are `;LEGACY`, so the first three fields hold.

use std::collections::BTreeMap;
use std::path::Path;

/// One `.t` line in one of its chains.
#[derive(Debug, Clone)]
pub struct TCase {
    pub file: String,
    pub line: usize,
    pub table: String,
    pub chain: String,
    pub rule: String,
    pub expect: Expect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Accepted; the rule as saved after `-A CHAIN `.
    Ok(String),
    Fail,
}

/// IPv4 test files: libxt_*, libipt_* and iptables.t.
fn is_ipv4_t(name: &str) -> bool {
    name.ends_with(".t")
        && (name.starts_with("libxt_") || name.starts_with("libipt_") || name == "iptables.t")
}

pub fn read_dir(dir: &Path) -> std::io::Result<Vec<TCase>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_ipv4_t(n))
        .collect();
    names.sort();
    let mut cases = Vec::new();
    for name in names {
        let text = std::fs::read_to_string(dir.join(&name))?;
        cases.extend(parse(&name, &text));
    }
    Ok(cases)
}

/// The cases of one file, in line order and, within a line, chain order.
pub fn parse(file: &str, text: &str) -> Vec<TCase> {
    let mut table = "filter".to_string();
    let mut chains: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        if let Some(t) = raw.strip_prefix('*') {
            table = t.trim().to_string();
            continue;
        }
        if let Some(c) = raw.strip_prefix(':') {
            chains = c.split(',').map(|s| s.trim().to_string()).collect();
            continue;
        }
        let fields: Vec<&str> = raw.split(';').collect();
        let (Some(rule), Some(result), Some(status)) =
            (fields.first(), fields.get(1), fields.get(2))
        else {
            continue;
        };
        let expect = match status.trim() {
            "OK" if *result == "=" => Expect::Ok(rule.to_string()),
            "OK" => Expect::Ok(result.to_string()),
            _ => Expect::Fail,
        };
        for chain in &chains {
            out.push(TCase {
                file: file.to_string(),
                line: i + 1,
                table: table.clone(),
                chain: chain.clone(),
                rule: rule.to_string(),
                expect: expect.clone(),
            });
        }
    }
    out
}

type Key = (String, usize, String);

/// The committed lists under testdata/conformance.
#[derive(Debug, Default)]
pub struct Lists {
    /// What 1.8.9 legacy does instead of the `.t` expectation.
    pub differences: BTreeMap<Key, (String, Expect)>,
    /// Cases the kernel refuses for want of a runtime object: we accept them.
    pub kernel_only: BTreeMap<Key, String>,
}

impl Lists {
    pub fn load() -> std::io::Result<Lists> {
        let diff =
            std::fs::read_to_string(super::testdata("conformance/legacy-1.8.9-differences.tsv"))?;
        let kern = std::fs::read_to_string(super::testdata("conformance/kernel-only.tsv"))?;
        let mut lists = Lists::default();
        // file line chain rule status saved why
        for cols in rows(&diff) {
            let (Some(key), Some(status)) = (key(&cols), cols.get(4)) else {
                continue;
            };
            let expect = if *status == "OK" {
                Expect::Ok(cols.get(5).copied().unwrap_or("").to_string())
            } else {
                Expect::Fail
            };
            let rule = cols.get(3).copied().unwrap_or("").to_string();
            lists.differences.insert(key, (rule, expect));
        }
        // file line chain rule kernel-message
        for cols in rows(&kern) {
            if let Some(key) = key(&cols) {
                let rule = cols.get(3).copied().unwrap_or("").to_string();
                lists.kernel_only.insert(key, rule);
            }
        }
        Ok(lists)
    }

    /// What we must do with a case.
    pub fn expectation(&self, case: &TCase) -> Expect {
        let k = (case.file.clone(), case.line, case.chain.clone());
        match self.differences.get(&k) {
            Some((_, e)) => e.clone(),
            None => case.expect.clone(),
        }
    }

    /// List entries whose file/line/chain/rule is not a case any more.
    pub fn stale_entries(&self, cases: &[TCase]) -> Vec<String> {
        let live: BTreeMap<Key, &str> = cases
            .iter()
            .map(|c| ((c.file.clone(), c.line, c.chain.clone()), c.rule.as_str()))
            .collect();
        let listed = self
            .differences
            .iter()
            .map(|(k, (r, _))| (k, r))
            .chain(self.kernel_only.iter());
        listed
            .filter(|(k, r)| live.get(*k) != Some(&r.as_str()))
            .map(|(k, r)| format!("{}:{} {} {r}", k.0, k.1, k.2))
            .collect()
    }
}

fn rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').collect())
}

fn key(cols: &[&str]) -> Option<Key> {
    let file = cols.first()?;
    let line = cols.get(1)?.parse().ok()?;
    let chain = cols.get(2)?;
    Some((file.to_string(), line, chain.to_string()))
}
