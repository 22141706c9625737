//! The `iptwalk` binary: everything lives in the library; see `cli`.
#![forbid(unsafe_code)]

mod cli;

/// mimalloc: loading a large rule file and replaying a capture make many
/// small, short-lived allocations, where it is markedly faster than glibc's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run()
}
