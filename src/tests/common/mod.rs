//! Helpers shared by the data-driven integration tests: finding the shared
//! corpus and reading the upstream `.t` files with our committed lists.
#![allow(dead_code, unused_macros)]

pub mod netns;
pub mod tfile;

use std::path::{Path, PathBuf};

/// `shared/corpus/<sub>`: from `IPTWALK_CORPUS`, else the first ancestor of
/// the manifest directory holding `shared/corpus` (the crate may live in a
/// worktree a few levels below the shared directory).
pub fn corpus_dir(sub: &str) -> Option<PathBuf> {
    if let Ok(root) = std::env::var("IPTWALK_CORPUS") {
        let p = Path::new(&root).join(sub);
        return p.is_dir().then_some(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .skip(1)
        .map(|a| a.join("shared/corpus").join(sub))
        .find(|p| p.is_dir())
}

/// A file under the crate's testdata/.
pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

/// Runs the iptwalk binary in the crate root without colour; returns (exit
/// code, stdout, stderr).
pub fn iptwalk(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_iptwalk"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("run iptwalk");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An insta snapshot in testdata/snapshots, named without the module.
macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../../testdata/snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        });
    };
}
