//! The README cannot rot: every shell example in it that runs iptwalk
//! (`cargo run --release -- ...` or `iptwalk ...`, in ```sh and ```console
//! blocks) is run here, as a shell runs it (quotes, pipes, redirections), in a
//! scratch directory that sees the repository's testdata/ and grammar/.
//!
//! - ```console blocks: `$ COMMAND` then the output a terminal shows (stdout
//!   and stderr together). The output must be exactly what is shown; a line
//!   `...` stands for any number of lines.
//! - ```sh blocks: each iptwalk line must run without an input or usage error
//!   (exit 0, or 1 for findings and differences).
//!
//! `cargo run --release --` is replaced by the test binary itself, so this
//! does not build twice; everything after it is the same command line.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch directory with the repository's inputs linked in and an
/// `iptwalk` on PATH, so examples that write files write them there.
fn sandbox(tag: &str) -> (PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("iptwalk-readme-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ["testdata", "grammar", "README.md", "Cargo.toml", "src"] {
        std::os::unix::fs::symlink(root().join(name), dir.join(name)).unwrap();
    }
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_iptwalk"), bin.join("iptwalk")).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (dir, path)
}

/// Runs one command line with `sh -c`; returns the exit code and what a
/// terminal would show.
fn run(dir: &Path, path: &str, cmd: &str) -> (i32, String) {
    let cmd = cmd.replace("cargo run --release --", "iptwalk");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("exec 2>&1; {cmd}"))
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .expect("sh runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Whether `shown` (with `...` lines standing for any lines) is `got`.
fn shows(shown: &str, got: &str) -> bool {
    let parts: Vec<&str> = shown.split("...\n").collect();
    if parts.len() == 1 {
        return shown == got;
    }
    let mut rest = got;
    for (i, part) in parts.iter().enumerate() {
        let found = if i == 0 {
            rest.starts_with(part).then_some(0)
        } else if i == parts.len() - 1 {
            rest.ends_with(part).then(|| rest.len() - part.len())
        } else {
            rest.find(part)
        };
        let Some(at) = found else { return false };
        // A `...` stands for whole lines: what it skips ends at a line break.
        if i > 0 && at > 0 && !rest[..at].ends_with('\n') {
            return false;
        }
        rest = &rest[at + part.len()..];
    }
    true
}

/// The fenced blocks of a markdown text with the given info string.
fn blocks<'a>(text: &'a str, lang: &str) -> Vec<&'a str> {
    let fence = format!("```{lang}\n");
    text.split(fence.as_str())
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect()
}

/// A console block's `$ ` command (with its `\` continuation lines, which the
/// shell joins) and the output shown after it.
fn console_command(block: &str) -> Option<(String, &str)> {
    let rest = block
        .strip_prefix("$ ")
        .expect("a console block starts with `$ `");
    let mut cmd = String::new();
    let mut rest = rest;
    loop {
        let (line, after) = rest.split_once('\n')?;
        cmd.push_str(line);
        rest = after;
        if !line.ends_with('\\') {
            return Some((cmd, rest));
        }
        cmd.push('\n');
    }
}

fn runs_iptwalk(line: &str) -> bool {
    line.starts_with("iptwalk ")
        || line.starts_with("cargo run --release -- ")
        || line.contains("| iptwalk ")
}

#[test]
fn readme_console_examples_print_what_they_show() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let (dir, path) = sandbox("console");
    let mut commands = Vec::new();
    for block in blocks(&readme, "console") {
        let Some((cmd, shown)) = console_command(block) else {
            continue;
        };
        let cmd = cmd.as_str();
        if !runs_iptwalk(cmd) {
            continue;
        }
        let (_, got) = run(&dir, &path, cmd);
        assert!(
            shows(shown, &got),
            "README: $ {cmd}\nshows:\n{shown}\ngot:\n{got}"
        );
        commands.push(cmd.split_whitespace().nth(1).unwrap_or("").to_string());
    }
    let _ = std::fs::remove_dir_all(&dir);
    // Every command is shown at least once with its output.
    for c in ["replay", "fmt", "lint", "graph", "trace", "diff", "test"] {
        assert!(
            commands.iter().any(|x| x == c),
            "no console example of `iptwalk {c}` in the README"
        );
    }
}

#[test]
fn readme_sh_examples_run() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let (dir, path) = sandbox("sh");
    let mut ran = 0;
    for block in blocks(&readme, "sh") {
        for line in block.lines().filter(|l| runs_iptwalk(l)) {
            let (code, got) = run(&dir, &path, line);
            assert!(code == 0 || code == 1, "README: {line}\nexit {code}\n{got}");
            ran += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ran >= 1, "the README's first example is a sh block");
}

#[test]
fn ellipsis_matches_whole_lines_only() {
    assert!(shows("a\n...\nd\n", "a\nb\nc\nd\n"));
    assert!(shows("a\n...\n", "a\nb\n"));
    assert!(!shows("a\n...\nd\n", "a\nb\nc\ne\n"));
    assert!(!shows("a\nb\n", "a\nb\nc\n"));
    assert!(!shows("a\n...\nd\n", "x\nb\nd\n"));
}

/// `iptwalk COMMAND --help` of every command (as `iptwalk --help` lists
/// them) ends with examples, and each example line names its command.
#[test]
fn help_of_every_command_has_examples() {
    let iptwalk = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_iptwalk"))
            .args(args)
            .output()
            .expect("runs");
        assert!(out.status.success(), "{args:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let top = iptwalk(&["--help"]);
    let list = top
        .split("Commands:\n")
        .nth(1)
        .and_then(|s| s.split("\n\n").next())
        .unwrap();
    let commands: Vec<&str> = list
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 7, "{commands:?}");
    assert!(top.contains("Examples:\n  iptwalk "), "iptwalk --help");
    for c in commands {
        let help = iptwalk(&[c, "--help"]);
        let examples = help
            .split("Examples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("`iptwalk {c} --help` has no examples"));
        let first = examples.lines().next().unwrap_or("");
        assert!(
            first.trim_start().contains(&format!("iptwalk {c}")),
            "iptwalk {c} --help: {first}"
        );
    }
}
