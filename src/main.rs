//! The `iptwalk` binary: everything lives in the library; see `cli`.
#![forbid(unsafe_code)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
