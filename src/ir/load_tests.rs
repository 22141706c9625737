//! Command-semantics cases checked through [`super::load`], each verified
//! against iptables-legacy(-restore/-save) 1.8.9 in a network namespace.

use super::load;
use crate::source::SourceFile;

/// Loads a restore file; `Ok(save text)` or `Err((line, message))` of the
/// first error.
fn run(text: &str) -> Result<String, (usize, String)> {
    let f = SourceFile::new("t", text);
    let l = load(&f);
    match l.diagnostics.iter().find(|d| d.is_error()) {
        Some(d) => Err((f.line_col(d.span.start as usize).line, d.message.clone())),
        None => Ok(super::save::save(&l.ruleset, Default::default())),
    }
}

fn rule(spec: &str) -> Result<String, (usize, String)> {
    run(&format!("*filter\n-A FORWARD {spec}\nCOMMIT\n")).map(|s| {
        s.lines()
            .filter(|l| l.starts_with("-A "))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[test]
fn generic_options_with_equals_take_the_whole_word() {
    // `host/network `--source=1.2.3.4' not found`
    let e = rule("--source=1.2.3.4 -j ACCEPT").unwrap_err();
    assert!(e.1.contains("--source=1.2.3.4"), "{e:?}");
    assert!(rule("--protocol=tcp").is_err());
    assert!(rule("--in-interface=eth0").is_err());
    assert!(rule("--jump=ACCEPT").is_err());
    // -m, -g and the command options use getopt's optarg.
    assert_eq!(rule("--match=comment --comment x").unwrap(), "-A FORWARD -m comment --comment x");
    let saved = run("*filter\n--append=FORWARD -j ACCEPT\nCOMMIT\n").unwrap();
    assert!(saved.contains("\n-A FORWARD -j ACCEPT\n"), "{saved}");
}
