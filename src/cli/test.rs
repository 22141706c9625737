//! `iptwalk test`: check firewall expectations written in TOML
//! (grammar/test-spec.md) by replay; pass/fail per expectation with the
//! deciding rule, exit 1 on any failure, JUnit XML on request.

use super::model::load_rules;
use super::model::TextOrJson as Format;
use super::Ctx;
use iptwalk::eval::engine::Options;
use iptwalk::eval::expect::{check_capture, check_packet, CheckResult, Spec};
use iptwalk::report::style;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// The expectations (TOML, see grammar/test-spec.md).
    #[arg(value_name = "SPEC")]
    spec: PathBuf,
    /// Also write the results as JUnit XML (for CI).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Output: text or json.
    #[arg(long, default_value = "text", value_name = "FORMAT")]
    format: Format,
}

fn load(path: &Path) -> Result<Spec, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Spec::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn run(ctx: &Ctx, args: TestArgs) -> ExitCode {
    let spec = match load(&args.spec) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let base = args.spec.parent().unwrap_or(Path::new(".")).to_path_buf();
    let rules_path = base.join(&spec.rules);
    let Some(rs) = load_rules(ctx, &rules_path.to_string_lossy()) else {
        return ExitCode::from(2);
    };
    let (host, params) = match (spec.host(&base), spec.params()) {
        (Ok(h), Ok(p)) => (h, p),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {}: {e}", args.spec.display());
            return ExitCode::from(2);
        }
    };
    let ipset_path = spec.ipset.as_ref().map(|p| base.join(p));
    let Ok(ipsets) = super::model::load_ipsets(ctx, ipset_path.as_deref(), &[&rs]) else {
        return ExitCode::from(2);
    };
    let opts = Options {
        trust_checksums: spec.trust_checksums,
        trace: false,
        ipsets,
        ..Options::default()
    };
    let mut results: Vec<CheckResult> = spec
        .expect
        .iter()
        .map(|e| check_packet(&rs, &host, &params, &opts, e))
        .collect();
    results.extend(
        spec.capture
            .iter()
            .map(|c| check_capture(&rs, &host, &params, &opts, &base, c)),
    );
    let failed = results.iter().filter(|r| !r.passed).count();
    match args.format {
        Format::Text => print!(
            "{}",
            style::lines(&render(&results), ctx.color_stdout(), |l| {
                match l.get(..6) {
                    Some("PASS  ") => Some(style::Style::Good),
                    Some("FAIL  ") => Some(style::Style::Bad),
                    _ => None,
                }
            })
        ),
        Format::Json => println!(
            "{}",
            serde_json::json!({"passed": results.len() - failed, "failed": failed, "results": results})
        ),
    }
    if let Some(path) = &args.junit {
        let suite = args.spec.display().to_string();
        if let Err(e) = std::fs::write(path, junit(&suite, &results)) {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn render(results: &[CheckResult]) -> String {
    let mut s = String::new();
    for r in results {
        let mark = if r.passed { "PASS" } else { "FAIL" };
        let _ = writeln!(s, "{mark}  {}", r.name);
        let _ = writeln!(s, "      got {}", r.got);
        if let Some(f) = &r.failure {
            for line in f.lines() {
                let _ = writeln!(s, "      {line}");
            }
        }
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    let _ = writeln!(s, "\n{} passed, {failed} failed", results.len() - failed);
    s
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML as CI systems read it: one testsuite, a testcase per expectation.
fn junit(suite: &str, results: &[CheckResult]) -> String {
    let failed = results.iter().filter(|r| !r.passed).count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites tests=\"{}\" failures=\"{failed}\">\n  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\">",
        results.len(),
        xml_escape(suite),
        results.len()
    );
    for r in results {
        let _ = write!(
            s,
            "    <testcase classname=\"{}\" name=\"{}\">",
            xml_escape(suite),
            xml_escape(&r.name)
        );
        if let Some(f) = &r.failure {
            let _ = write!(
                s,
                "\n      <failure message=\"{}\">got {}\n{}</failure>\n    ",
                xml_escape(f.lines().next().unwrap_or("")),
                xml_escape(&r.got),
                xml_escape(f)
            );
        }
        let _ = writeln!(
            s,
            "<system-out>got {}</system-out></testcase>",
            xml_escape(&r.got)
        );
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}
