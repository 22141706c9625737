//! Helpers shared by the data-driven integration tests: finding the shared
//! corpus and reading the upstream `.t` files with our committed lists.
#![allow(dead_code)]

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
