//! The `iptwalk` binary: everything lives in the library; see `cli`.
#![forbid(unsafe_code)]

mod cli;

/// mimalloc: loading a large rule file and replaying a capture make many
/// small, short-lived allocations, where it is markedly faster than glibc's.
///
/// Built with its `no_thp` feature (Cargo.toml): mimalloc then leaves the
/// system's transparent-huge-page policy alone instead of asking for huge pages
/// with `madvise`. A huge page's first touch zeroes 2 MiB, and on a virtual
/// machine that hands freed memory back to its host (virtio-balloon free page
/// reporting, as on the reference machine) that first touch costs ~2.3 ms a MiB
/// once the memory has been free for a second, against ~0.45 ms for 4 KiB
/// pages (measured with a 64 MiB touch loop). A replay run as a command, after
/// a pause, paid that: mix_1m took 0.29 s with huge pages and 0.21 s without
/// (median of 5 runs, 2 s apart), mix_10m 2.1-4.1 s against 2.0-2.6 s.
/// Back to back, huge pages are ~5% faster (the host still holds the memory).
/// Where the system's policy is `always`, the kernel still uses huge pages.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run()
}
