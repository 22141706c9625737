//! `iptwalk replay`: a capture through the ruleset, packet by packet.

use super::model::ModelArgs;
use super::progress::Progress;
use super::split::{Kept, Split};
use super::totals::{Tally, Totals};
use super::{read_source, Ctx};
use iptwalk::eval::engine::{Options, Step};
use iptwalk::eval::outcome::Record;
use iptwalk::eval::parallel;
use iptwalk::packet::{CaptureError, CaptureReader, Format as CaptureFormat, Frame};
use iptwalk::report::style::{paint, Style};
use std::collections::BTreeMap;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// Rule file (iptables-save/-restore text or a shell script).
    #[arg(value_name = "RULES")]
    rules: String,
    /// Capture (pcap or pcapng); `-` reads it from standard input (`tcpdump -w - | ...`).
    #[arg(value_name = "PCAP")]
    pcap: PathBuf,
    #[command(flatten)]
    model: ModelArgs,
    /// Write the sets as the replay left them (`-j SET` changes, element
    /// counters), as `ipset save` prints them.
    #[arg(long, value_name = "FILE", requires = "ipset")]
    ipset_out: Option<PathBuf>,
    /// Output: a readable report, one JSON object per record, or totals only.
    #[arg(long, default_value = "text", value_name = "FORMAT")]
    format: Format,
    /// Write the ruleset with the counters the kernel would have after this
    /// capture, as `iptables-save -c` prints it.
    #[arg(long, value_name = "FILE")]
    counters: Option<PathBuf>,
    /// Show the lines LOG rules would write to the kernel log, as dmesg prints
    /// them without the timestamp: under each packet in the text and trace
    /// formats (`LOG: ` lines), as a `log` array in jsonl records.
    #[arg(long)]
    log: bool,
    /// Write every record, as read, to DIR/accepted.pcap, dropped.pcap,
    /// rejected.pcap, not_reached.pcap (never reached the filter table) and
    /// skipped.pcap (not IPv4), classic pcap to open in Wireshark. All five
    /// are created; their counts are printed on stderr. Unreadable records go
    /// nowhere. Link type: the first record's (pcapng records of another link
    /// type go to NAME.linktype-N.pcap); timestamps as read (nanosecond files
    /// for nanosecond pcap and for pcapng).
    #[arg(long, value_name = "DIR")]
    split: Option<PathBuf>,
    /// No progress bar and no --split counts on stderr. (The bar is only
    /// drawn when stderr is a terminal and the records are not printed to a
    /// terminal: stdout redirected, or --format summary.)
    #[arg(long, short)]
    quiet: bool,
    /// Print on stderr how long reading the rules, compiling them and the
    /// replay took, the packet rate, and the peak memory (VmHWM).
    #[arg(long)]
    timings: bool,
    /// Worker threads (default: the number of cores, at most 255; one for a
    /// capture file under 2 MiB, where a second worker costs more than it saves).
    /// Records are sharded by address pair and printed in capture order, identical
    /// to `--jobs 1`; rulesets with cross-flow state (NAT, limit, recent, set, ...)
    /// run on one worker (`--timings` says which mode ran and why).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Walk the tables for every packet. By default a packet of a connection
    /// whose previous packet went through walks that read only what stays
    /// the same (addresses, ports, interfaces, conntrack state and mark, ...)
    /// gets that outcome without walking again; the result is the same
    /// (tested on every kernel-truth scenario), this is only slower. For
    /// cross-checking.
    #[arg(long)]
    walk_every_packet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Jsonl,
    Trace,
    Summary,
}

pub fn run(ctx: &Ctx, args: ReplayArgs) -> ExitCode {
    let mut clock = Timings::start();
    if !super::stdin_at_most_once(&[args.rules.as_ref(), args.pcap.as_os_str()]) {
        return ExitCode::from(2);
    }
    let Some(file) = read_source(&args.rules) else {
        return ExitCode::from(2);
    };
    clock.lap(Phase::Read);
    let loaded = iptwalk::ir::load(&file);
    ctx.report(&loaded.diagnostics);
    if loaded.has_errors() {
        return ExitCode::from(2);
    }
    let (host, params) = match (args.model.host(), args.model.params()) {
        (Ok(h), Ok(p)) => (h, p),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let Ok(ipsets) =
        super::model::load_ipsets(ctx, args.model.ipset.as_deref(), &[&loaded.ruleset])
    else {
        return ExitCode::from(2);
    };
    let (source, format) = match open_capture(&args.pcap) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", args.pcap.display());
            return ExitCode::from(2);
        }
    };
    let mut split = match args.split.as_deref().map(|d| Split::create(d, format)) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            eprintln!("error: --split: {e}");
            return ExitCode::from(2);
        }
    };
    let meta = std::fs::metadata(&args.pcap).ok();
    let size = meta.as_ref().map(std::fs::Metadata::len);
    // A pipe's length says nothing of the capture's (`<(tcpdump -w - ...)` has 0).
    let file_size = meta.filter(std::fs::Metadata::is_file).map(|m| m.len());
    let per_record = args.format != Format::Summary;
    let mut progress = Progress::new(size, args.quiet, per_record, ctx.color);
    let (jobs, small) = match args.jobs {
        Some(n) => (n, None),
        None if file_size.is_some_and(|s| s < SHARD_FROM_BYTES) => (1, Some(SMALL_CAPTURE)),
        None => (
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            None,
        ),
    };
    // Summary records are only counted (unless --split writes them out): the workers'
    // records then render to nothing.
    let only_counted = args.format == Format::Summary && args.split.is_none();
    let mut plan = parallel::Plan {
        renders_nothing: only_counted,
        ..parallel::plan(&loaded.ruleset, jobs)
    };
    if let Some(why) = small {
        // One worker asked of `plan` is no fallback to it; `--timings` says why here.
        plan.reason = Some(why.to_string());
    }
    let setup = parallel::Setup {
        rs: &loaded.ruleset,
        host,
        params,
        opts: Options {
            trust_checksums: args.model.trust_checksums,
            trace: args.format == Format::Trace,
            verdicts_only: args.format == Format::Summary,
            ipsets,
            log: args.log,
            walk_every_packet: args.walk_every_packet,
        },
    };
    clock.lap(Phase::Compile);
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut errors = 0u64;
    let mut stop: Option<ExitCode> = None;
    let (format, color, split_on) = (args.format, ctx.color_stdout(), split.is_some());
    let one_thread = plan.workers <= 1;
    let sink = |item: parallel::Item<Out>| -> bool {
        let out_item = match item {
            parallel::Item::Record(o) => o,
            parallel::Item::Progress(offset) => {
                progress.at(offset);
                return true;
            }
            parallel::Item::Error(e) => {
                errors += 1;
                // The lines of the records before it first, in capture order.
                let _ = Pool::flush_pending(&mut out);
                eprintln!("error: {}: {e}", args.pcap.display());
                if args.format == Format::Jsonl {
                    // The record's line, in capture order, with what went wrong.
                    if let iptwalk::packet::CaptureError::Record { index, .. } = &e {
                        let rec = iptwalk::eval::outcome::Skipped {
                            index: *index,
                            skipped: None,
                            error: Some(e.to_string()),
                        };
                        let _ =
                            writeln!(out, "{}", serde_json::to_string(&rec).unwrap_or_default());
                    } else {
                        let _ = writeln!(out, "{}", serde_json::json!({"error": e.to_string()}));
                    }
                }
                return true;
            }
        };
        if let Some(Err(e)) = split.as_mut().zip(out_item.split).map(|(s, k)| s.write(&k)) {
            let _ = Pool::flush_pending(&mut out); // the lines of the records before it
            eprintln!("error: --split: {e}");
            stop = Some(ExitCode::from(2));
            return false;
        }
        // With one thread the record was appended to the pending output itself (see
        // [`Pool::keep_pending`]): written only once it is large, not copied per record.
        let lines = out_item.lines;
        let written = if !one_thread || lines.len() >= Pool::FLUSH_AT {
            out.write_all(&lines)
        } else {
            Pool::keep_pending(lines);
            return true;
        };
        if written.is_err() {
            stop = Some(ExitCode::SUCCESS); // stdout closed (e.g. `| head`)
            return false;
        }
        Pool::give(lines);
        true
    };
    // On the workers: the record's lines and split copy, which must come out
    // in capture order, and the totals, which the workers count themselves.
    // Summary records are only counted: this closure runs for every record, so
    // it is inlined into the replay loop and the rest is out of line
    // (`lines_of`), decided once here.
    // (An attribute on a closure is allowed only where it is an argument.)
    let mut finished = parallel::replay(
        source,
        setup,
        &plan,
        |_| Tally::default(),
        #[inline(always)]
        |tally: &mut Tally, frame: &Frame, step: &Step| -> Option<Out> {
            tally.add(frame, step);
            if only_counted {
                return None;
            }
            Some(lines_of(Pool::take(), frame, step, format, color, split_on))
        },
        sink,
    );
    if let Some(code) = stop {
        return code;
    }
    if Pool::flush_pending(&mut out).is_err() {
        return ExitCode::SUCCESS; // stdout closed
    }
    let (mut totals, last_ts) = Tally::merge(std::mem::take(&mut finished.states));
    totals.errors = errors;
    progress.finish();
    if let Some(s) = split {
        let fallback = finished
            .linktype
            .unwrap_or(iptwalk::packet::link::linktype::ETHERNET);
        match s.finish(fallback) {
            Ok(counts) if !args.quiet => {
                eprintln!("{}", split_summary(args.split.as_deref(), &counts))
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: --split: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let _ = match args.format {
        Format::Summary => writeln!(out, "{}", totals.json()),
        Format::Text => text_totals(&mut out, &totals),
        Format::Jsonl | Format::Trace => Ok(()),
    };
    let _ = out.flush();
    clock.lap(Phase::Replay);
    if args.timings {
        eprintln!("{}", clock.report(totals.packets + totals.skipped));
        eprintln!("timings: replay mode: {}", plan.describe());
        eprintln!("{}", lane_report(finished.lane_packets, totals.packets));
        eprintln!(
            "timings: conntrack: {} connections live at the end",
            finished.live_connections
        );
    }
    if let (Some(w), false) = (table_size_warning(finished.live_connections), args.quiet) {
        eprintln!("{w}");
    }
    if let Some(path) = &args.counters {
        let text = iptwalk::ir::save::save(
            &finished.ruleset_with_counters(&loaded.ruleset),
            iptwalk::ir::save::SaveOptions { counters: true },
        );
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if let (Some(path), Some(sets)) = (&args.ipset_out, finished.ipsets.as_ref()) {
        let now = iptwalk::ext::state::jiffies(u64::try_from(last_ts.max(0)).unwrap_or(0));
        if let Err(e) = std::fs::write(path, sets.save(now)) {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// A record's output lines and `--split` copy (see `run`'s `render`); out of
/// line so that the closure counting every record stays small.
#[inline(never)]
fn lines_of(
    mut lines: Vec<u8>,
    frame: &Frame,
    step: &Step,
    format: Format,
    color: bool,
    split_on: bool,
) -> Out {
    if format == Format::Jsonl && !split_on {
        // Straight from the step: a lane packet's record is never built.
        lines.reserve(512);
        step.write_json(&mut lines);
        lines.push(b'\n');
        return Out { lines, split: None };
    }
    let record = &*step.record();
    let split = split_on.then(|| Kept::of(frame, record));
    let _ = match format {
        Format::Jsonl => {
            lines.reserve(512);
            record.write_json(&mut lines);
            lines.push(b'\n');
            Ok(())
        }
        Format::Text => text_line(&mut lines, record, frame.ts_ns, color),
        Format::Trace => trace_lines(&mut lines, record, frame.ts_ns, color),
        Format::Summary => Ok(()),
    };
    Out { lines, split }
}

/// The capture as the workers read it: a regular file each opens itself, or
/// the bytes of a pipe (`-`, a FIFO), read once, from the first, after its
/// header was checked here. And its container format.
fn open_capture(path: &Path) -> Result<(parallel::Source<'_>, CaptureFormat), CaptureError> {
    let stream: Box<dyn Read + Send> = if path == Path::new("-") {
        Box::new(std::io::stdin())
    } else {
        let f = std::fs::File::open(path).map_err(CaptureError::Open)?;
        if f.metadata().is_ok_and(|m| m.is_file()) {
            let format = CaptureReader::new(f)?.format();
            return Ok((parallel::Source::File(path), format));
        }
        Box::new(f)
    };
    let reader = CaptureReader::new(parallel::Rewind::new(stream))?;
    let format = reader.format();
    let (rewind, _) = reader.into_parts();
    Ok((parallel::Source::Stream(Box::new(rewind.rewound())), format))
}

/// Line buffers handed back by the sink, for the next records the same thread renders.
/// With one worker (the calling thread renders and sinks, one record at a time) the one
/// buffer is the pending output: each record's lines are appended to the lines before it
/// ([`Pool::keep_pending`]) and written once [`Pool::FLUSH_AT`] bytes wait, rather than
/// copied into the `BufWriter` record by record (that copy cost ~70 instructions a JSON
/// line) or allocated and freed for every record.
/// Per thread, so taking and giving need no lock; with several workers the buffers reach
/// the calling thread and wait there unused and empty (at most [`Pool::MAX`]), and the
/// workers allocate theirs as they did without a pool.
struct Pool;

thread_local! {
    static SPARE: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Pool {
    /// Buffers kept per thread: one is ever in flight with one worker.
    const MAX: usize = 16;

    /// A buffer to append a record's lines to: on the one-worker path the pending output
    /// [`Pool::keep_pending`] kept (its lines must stay in front), otherwise an empty
    /// buffer, allocated if none waits.
    fn take() -> Vec<u8> {
        SPARE.with_borrow_mut(Vec::pop).unwrap_or_default()
    }

    /// Pending output written at once when it reaches this size.
    const FLUSH_AT: usize = 1 << 16;

    /// Keeps `lines`, not emptied: the next record's lines go after them.
    fn keep_pending(lines: Vec<u8>) {
        SPARE.with_borrow_mut(|spare| spare.push(lines));
    }

    /// Writes the lines [`Pool::keep_pending`] kept on this thread, if any.
    fn flush_pending(out: &mut impl Write) -> std::io::Result<()> {
        let lines = Self::take();
        let written = out.write_all(&lines);
        Self::give(lines);
        written
    }

    /// Keeps `lines`, emptied, for another record.
    fn give(mut lines: Vec<u8>) {
        lines.clear();
        SPARE.with_borrow_mut(|spare| {
            if spare.len() < Self::MAX {
                spare.push(lines);
            }
        });
    }
}

/// What a worker sends the calling thread of one record, in capture order.
struct Out {
    lines: Vec<u8>,
    split: Option<Kept>,
}

/// `split into DIR: accepted.pcap 7, dropped.pcap 2, ...` (stderr).
fn split_summary(dir: Option<&std::path::Path>, counts: &[(String, u64)]) -> String {
    let files: Vec<String> = counts.iter().map(|(n, c)| format!("{n} {c}")).collect();
    let dir = dir.map(|d| d.display().to_string()).unwrap_or_default();
    format!("split into {dir}: {}", files.join(", "))
}

fn text_line(
    out: &mut impl Write,
    record: &Record,
    ts_ns: i128,
    color: bool,
) -> std::io::Result<()> {
    let secs = ts_ns.div_euclid(1_000_000_000);
    let micros = ts_ns.rem_euclid(1_000_000_000) / 1000;
    match record {
        Record::Skipped(s) => writeln!(
            out,
            "{:>6} {secs}.{micros:06} skipped: {}",
            s.index,
            s.skipped.as_deref().or(s.error.as_deref()).unwrap_or("")
        ),
        Record::Packet(o) => {
            let rule = o.rule.as_deref().unwrap_or("policy");
            let state = o.ctstate.unwrap_or("-");
            let verdict = format!("{:<11}", o.verdict.name());
            let verdict = paint(&verdict, Style::of_verdict(o.verdict.name()), color);
            write!(
                out,
                "{:>6} {secs}.{micros:06} {:<7} {verdict} {:<11} {:<24} {}",
                o.index,
                o.hook.unwrap_or("-"),
                state,
                rule,
                o.summary
            )?;
            if let Some(r) = o.reject_with {
                write!(out, " ({r})")?;
            }
            if !o.depends_on.is_empty() {
                write!(out, "  [depends on {}]", o.depends_on.join(", "))?;
            }
            if let Some(n) = &o.note {
                write!(out, "  ({n})")?;
            }
            writeln!(out)?;
            for l in &o.log {
                writeln!(out, "        LOG: {l}")?;
            }
            Ok(())
        }
    }
}

/// `--format trace`: the packet, the kernel's TRACE words, the conntrack line.
fn trace_lines(
    out: &mut impl Write,
    record: &Record,
    ts_ns: i128,
    color: bool,
) -> std::io::Result<()> {
    text_line(out, record, ts_ns, color)?;
    if let Record::Packet(o) = record {
        for t in &o.trace {
            writeln!(out, "        TRACE: {t}")?;
        }
        let ct = match (&o.ctstate, &o.ct_after) {
            (None, _) => "not tracked (dropped before conntrack)".to_string(),
            (Some(s), Some(c)) => {
                let mut words = vec![*s, o.ctdir.unwrap_or("-")];
                words.extend(c.tcp_state);
                format!(
                    "{} orig {} reply {} [{}]",
                    words.join(" "),
                    c.orig,
                    c.reply,
                    c.status.names().collect::<Vec<_>>().join(",")
                )
            }
            (Some(s), None) => format!("{s} (no entry after the packet)"),
        };
        writeln!(out, "        conntrack: {ct}")?;
    }
    Ok(())
}

fn text_totals(out: &mut impl Write, t: &Totals) -> std::io::Result<()> {
    writeln!(
        out,
        "\n{} packets, {} skipped, {} unreadable",
        t.packets, t.skipped, t.errors
    )?;
    let line = |m: BTreeMap<&'static str, u64>| {
        if m.is_empty() {
            return "none".to_string();
        }
        m.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    writeln!(out, "verdicts: {}", line(t.verdicts()))?;
    writeln!(out, "hooks:    {}", line(t.hooks()))?;
    writeln!(out, "ctstate:  {}", line(t.ctstates()))?;
    let top = t.top_rules();
    if !top.is_empty() {
        writeln!(out, "rules that decided most packets:")?;
        for (r, n) in top.iter().take(10) {
            writeln!(out, "  {n:>8}  {r}")?;
        }
    }
    let depends = t.depends();
    if !depends.is_empty() {
        writeln!(
            out,
            "packets whose outcome depends on what iptwalk cannot judge offline: {}",
            line(depends)
        )?;
    }
    Ok(())
}

/// `timings: established-flow lane: 830177 of 1000000 packets (83.0%)
/// skipped the table walks`: what the lane saved (none with
/// `--walk-every-packet`, `--format trace`, or a rule in raw PREROUTING).
fn lane_report(lane: u64, packets: u64) -> String {
    let share = if packets == 0 {
        0.0
    } else {
        lane as f64 * 100.0 / packets as f64
    };
    format!(
        "timings: established-flow lane: {lane} of {packets} packets ({share:.1}%) skipped the \
         table walks"
    )
}

/// The warning for a replay whose conntrack table outgrew a default kernel's: the limit is
/// not modelled (see [`iptwalk::conntrack::KERNEL_DEFAULT_MAX`]), so the user must know that
/// the verdicts from where it was reached on may not be the kernel's.
fn table_size_warning(live: usize) -> Option<String> {
    let max = iptwalk::conntrack::KERNEL_DEFAULT_MAX;
    (live > max).then(|| {
        format!(
            "warning: {live} connections were live at the end of the capture, more than \
             {max}, nf_conntrack_max on a default 64-bit kernel with over 4 GiB: such a \
             kernel early-drops unassured connections or drops new ones once its table is \
             full, which iptwalk does not model, so verdicts from there on may differ (check \
             /proc/sys/net/netfilter/nf_conntrack_max on your host)"
        )
    })
}

/// A capture file smaller than this replays on one worker unless `--jobs` says otherwise.
/// A second worker costs a few milliseconds before it pays (its thread's start, its engine,
/// the first deals) and saves ~75 ns a record after; on prefixes of the bench's mix_100k
/// (one core each), at 1.7 MB one worker took 9.5 ms and two 14.8 ms (`--format summary`;
/// jsonl 16.7 against 29.3 ms), at 2.7 MB they were even, at 3.9 MB two were 10% faster.
const SHARD_FROM_BYTES: u64 = 2 << 20;

/// Why a small capture ran on one worker (`--timings`).
const SMALL_CAPTURE: &str = "the capture is under 2 MiB, where a second worker costs more than \
                             it saves; --jobs N shards it anyway";

/// The phases `--timings` reports.
#[derive(Debug, Clone, Copy)]
enum Phase {
    Read,
    Compile,
    Replay,
}

/// Wall-clock time per phase.
struct Timings {
    last: std::time::Instant,
    secs: [f64; 3],
}

impl Timings {
    fn start() -> Timings {
        Timings {
            last: std::time::Instant::now(),
            secs: [0.0; 3],
        }
    }

    /// Ends `phase`: the time since the previous lap is its.
    fn lap(&mut self, phase: Phase) {
        let now = std::time::Instant::now();
        self.secs[phase as usize] += now.duration_since(self.last).as_secs_f64();
        self.last = now;
    }

    /// `timings: read 0.001 s, compile 0.012 s, replay 3.210 s (1000000 records,
    /// 311526 records/s, 3210 ns/record), peak memory 35.2 MiB`.
    fn report(&self, records: u64) -> String {
        let [read, compile, replay] = self.secs;
        let rate = if replay > 0.0 {
            format!(
                ", {:.0} records/s, {:.0} ns/record",
                records as f64 / replay,
                replay * 1e9 / records.max(1) as f64
            )
        } else {
            String::new()
        };
        let peak = peak_memory_kib().map_or_else(
            || "unknown (no /proc/self/status)".to_string(),
            |k| format!("{:.1} MiB", k as f64 / 1024.0),
        );
        format!(
            "timings: read {read:.3} s, compile {compile:.3} s, replay {replay:.3} s \
             ({records} records{rate}), peak memory {peak}"
        )
    }
}

/// The process's peak resident set (`VmHWM` in /proc/self/status, in kB).
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_report_gives_the_share_and_survives_an_empty_capture() {
        assert_eq!(
            lane_report(830_177, 1_000_000),
            "timings: established-flow lane: 830177 of 1000000 packets (83.0%) skipped the table walks"
        );
        assert!(lane_report(0, 0).contains("0 of 0 packets (0.0%)"));
    }

    #[test]
    fn the_table_size_warning_starts_past_the_default_limit() {
        assert_eq!(table_size_warning(262_144), None);
        let w = table_size_warning(453_671).unwrap_or_default();
        assert!(
            w.starts_with("warning: 453671 connections were live"),
            "{w}"
        );
        assert!(w.contains("more than 262144"), "{w}");
    }

    #[test]
    fn timings_report_names_every_phase_and_the_peak() {
        let mut t = Timings::start();
        t.secs = [0.5, 0.25, 2.0];
        let r = t.report(1_000_000);
        assert!(
            r.starts_with("timings: read 0.500 s, compile 0.250 s, replay 2.000 s (1000000 records, 500000 records/s, 2000 ns/record), peak memory "),
            "{r}"
        );
        if std::path::Path::new("/proc/self/status").exists() {
            assert!(peak_memory_kib().is_some_and(|k| k > 0));
            assert!(r.ends_with(" MiB"), "{r}");
        }
        t.lap(Phase::Replay);
        assert!(t.secs[2] >= 2.0);
    }
}
