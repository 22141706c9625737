//! Target extensions (`-j NAME`), one file each; listed in `ext::registry!`.
//! The standard verdicts (ACCEPT, DROP, RETURN, QUEUE) and jumps to user
//! chains are not extensions: see `ir::rule::Verdict`.

pub mod log;
