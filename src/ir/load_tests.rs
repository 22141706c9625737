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
    assert_eq!(
        rule("--match=comment --comment x").unwrap(),
        "-A FORWARD -m comment --comment x"
    );
    let saved = run("*filter\n--append=FORWARD -j ACCEPT\nCOMMIT\n").unwrap();
    assert!(saved.contains("\n-A FORWARD -j ACCEPT\n"), "{saved}");
}

#[test]
fn addresses_are_resolved_after_the_other_options() {
    // `-s ! 1.2.3.4`: legacy takes `!` as the address, then refuses the
    // stray word first: "Bad argument `1.2.3.4'".
    let e = rule("-s ! 1.2.3.4 -j ACCEPT").unwrap_err();
    assert_eq!(e.1, "Bad argument `1.2.3.4'");
}

#[test]
fn policy_messages_name_policy_then_chain() {
    let e = run("*filter\n:INPUT REJECT [0:0]\nCOMMIT\n").unwrap_err();
    assert_eq!(
        e,
        (
            2,
            "Can't set policy `REJECT' on `INPUT' line 2: Bad policy name".into()
        )
    );
    let e = run("*filter\n:u ACCEPT [0:0]\nCOMMIT\n").unwrap_err();
    assert_eq!(
        e.1,
        "Can't set policy `ACCEPT' on `u' line 2: Bad built-in chain name"
    );
}

/// iptables-nft-restore names line 6 in both files: the jump with which a
/// loop first becomes reachable from a built-in chain.
#[test]
fn a_loop_is_blamed_on_the_jump_that_closes_it() {
    let e = run("*filter\n:a - [0:0]\n:b - [0:0]\n-A a -j b\n-A b -j a\n-A INPUT -j a\nCOMMIT\n");
    assert_eq!(e.unwrap_err().0, 6);
    let e = run("*filter\n:a - [0:0]\n:b - [0:0]\n-A INPUT -j a\n-A a -j b\n-A b -j a\nCOMMIT\n");
    assert_eq!(e.unwrap_err().0, 6);
    // A loop no built-in chain reaches loads.
    assert!(run("*filter\n:a - [0:0]\n:b - [0:0]\n-A a -j b\n-A b -j a\nCOMMIT\n").is_ok());
}

#[test]
fn comma_lists_expand_sources_outer_and_insert_reverses() {
    let s = rule("-s 10.1.2.3/8,1.1.1.1 -d 2.2.2.2,3.3.3.3 -j ACCEPT").unwrap();
    let want = [
        "-A FORWARD -s 10.0.0.0/8 -d 2.2.2.2/32 -j ACCEPT",
        "-A FORWARD -s 10.0.0.0/8 -d 3.3.3.3/32 -j ACCEPT",
        "-A FORWARD -s 1.1.1.1/32 -d 2.2.2.2/32 -j ACCEPT",
        "-A FORWARD -s 1.1.1.1/32 -d 3.3.3.3/32 -j ACCEPT",
    ];
    assert_eq!(s, want.join("\n"));
    let saved = run("*filter\n-A INPUT -s 1.1.1.1\n-I INPUT -s 2.2.2.2,3.3.3.3\nCOMMIT\n").unwrap();
    let rules: Vec<&str> = saved.lines().filter(|l| l.starts_with("-A")).collect();
    assert_eq!(
        rules,
        [
            "-A INPUT -s 3.3.3.3/32",
            "-A INPUT -s 2.2.2.2/32",
            "-A INPUT -s 1.1.1.1/32"
        ]
    );
}

/// Found by the property test (`-N ""`); messages as iptables-legacy 1.8.9.
#[test]
fn new_chain_names_are_checked() {
    let first = |cmd: &str| run(&format!("*filter\n{cmd}\nCOMMIT\n")).unwrap_err().1;
    assert_eq!(
        first("-N \"\""),
        "chain name may not clash with target name"
    );
    assert_eq!(first("-N \"a b\""), "Invalid chain name `a b'");
    assert_eq!(first("-N !x"), "chain name not allowed to start with `!'");
    assert_eq!(
        first("-N ACCEPT"),
        "chain name may not clash with target name"
    );
}
