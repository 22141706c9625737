//! A throw-away network namespace in which the real iptables-legacy tools run,
//! so tests can compare with them without touching the host's rules.
//!
//! Only used when running as root with `ip` and `iptables-legacy-restore`
//! installed ([`available`]); the namespace is deleted on drop.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Why the real tools cannot be used, or `None` when they can.
pub fn unavailable() -> Option<String> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("not running as root".into());
    }
    for tool in [
        "ip",
        "iptables-legacy-restore",
        "iptables-legacy-save",
        "iptables-legacy",
    ] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!("`{tool}` not found"));
        }
    }
    None
}

pub struct Netns {
    name: String,
}

impl Netns {
    pub fn new(tag: &str) -> Option<Netns> {
        let name = format!("iptwalk-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Netns { name })
    }

    /// Runs `prog args...` inside the namespace, feeding `stdin`.
    pub fn run(&self, prog: &str, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, prog])
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn ip netns exec");
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            let _ = pipe.write_all(text.as_bytes());
        }
        child.wait_with_output().expect("wait for ip netns exec")
    }

    /// `iptables-legacy-save -t TABLE` without `#` lines.
    pub fn save_table(&self, table: &str) -> String {
        let out = self.run("iptables-legacy-save", &["-t", table], None);
        strip_comments(&String::from_utf8_lossy(&out.stdout))
    }

    /// Empties every table (a fresh namespace per file costs more).
    pub fn reset(&self) {
        for t in ["filter", "nat", "mangle", "raw", "security"] {
            self.run("iptables-legacy", &["-t", t, "-F"], None);
            self.run("iptables-legacy", &["-t", t, "-X"], None);
            self.run("iptables-legacy", &["-t", t, "-Z"], None);
            for c in ["INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING"] {
                self.run("iptables-legacy", &["-t", t, "-P", c, "ACCEPT"], None);
            }
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

pub fn strip_comments(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The line iptables-restore names in its error: "Error occurred at line: N"
/// (parse errors), "COMMIT expected at line N" (end of file inside a table)
/// or "line N failed" (the kernel refused the COMMIT).
pub fn error_line(stderr: &str) -> Option<usize> {
    for l in stderr.lines() {
        if let Some(rest) = l.split("Error occurred at line: ").nth(1) {
            return rest.trim().parse().ok();
        }
        // "COMMIT expected at line N" (the line after the last one)
        if let Some(rest) = l.split("COMMIT expected at line ").nth(1) {
            return rest.trim().parse().ok();
        }
        // iptables-nft-restore: "line N: RULE_APPEND failed (...)"
        if let Some(rest) = l.strip_prefix("line ") {
            if let Some(n) = rest.split(':').next().and_then(|n| n.parse().ok()) {
                return Some(n);
            }
        }
        if let Some(rest) = l.split(": line ").nth(1) {
            return rest.split_whitespace().next()?.parse().ok();
        }
    }
    None
}
