//! Renders [`Diagnostic`]s like rustc: `error: message`, `--> file:line:col`,
//! the source line with a caret under the span, labels and a help line.

use crate::diagnostic::{Diagnostic, Severity};
use annotate_snippets::{Level, Renderer, Snippet};

fn level(s: Severity) -> Level {
    match s {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Note => Level::Note,
    }
}

/// One diagnostic as text (no trailing newline). `color` adds ANSI styles.
pub fn render(d: &Diagnostic, color: bool) -> String {
    let file = &d.file;
    let first = file.line_col(d.span.start as usize).line;
    let last_offset = (d.span.end as usize).max(d.span.start as usize + 1) - 1;
    let mut last = file
        .line_col(last_offset.min(file.text.len().saturating_sub(1)))
        .line
        .max(first);
    for l in &d.labels {
        last = last.max(file.line_col(l.span.start as usize).line);
    }
    let first = d
        .labels
        .iter()
        .map(|l| file.line_col(l.span.start as usize).line)
        .fold(first, usize::min);
    let start = file.line_span(first).start as usize;
    let end = file.line_span(last).end as usize;
    let source = &file.text[start..end];
    let clamp = |s: usize, e: usize| {
        let s = s.saturating_sub(start).min(source.len());
        let e = e.saturating_sub(start).min(source.len()).max(s);
        if s == e && e < source.len() {
            s..e + 1
        } else {
            s..e
        }
    };
    let lvl = level(d.severity);
    let mut snippet = Snippet::source(source)
        .line_start(first)
        .origin(&file.name)
        .fold(false)
        // annotate-snippets draws `^` only under error-level spans; rustc puts
        // a caret under the primary span of every diagnostic.
        .annotation(Level::Error.span(clamp(d.span.start as usize, d.span.end as usize)));
    for l in &d.labels {
        snippet = snippet.annotation(
            Level::Warning
                .span(clamp(l.span.start as usize, l.span.end as usize))
                .label(&l.message),
        );
    }
    let title = match d.code {
        Some(code) => lvl.title(&d.message).id(code),
        None => lvl.title(&d.message),
    };
    let mut msg = title.snippet(snippet);
    if let Some(h) = &d.help {
        msg = msg.footer(Level::Help.title(h));
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let text = renderer.render(msg).to_string();
    text
}

/// All diagnostics, separated by blank lines, each ending in a newline.
pub fn render_all(diags: &[Diagnostic], color: bool) -> String {
    let mut out = String::new();
    for d in diags {
        out.push_str(&render(d, color));
        out.push_str("\n\n");
    }
    out
}
