//! ANSI colour for the text reports. Whether to colour is decided by the CLI
//! (`--color auto|always|never`, NO_COLOR, whether the stream is a terminal);
//! this only wraps text, so the uncoloured output is the same bytes minus the
//! escape sequences.

use std::borrow::Cow;

/// What a piece of text says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Accepted, passed, added: green.
    Good,
    /// Dropped, failed, removed: red.
    Bad,
    /// Rejected, not reached, skipped: yellow.
    Warn,
    /// Headings and names: bold.
    Strong,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Good => "32",
            Style::Bad => "31",
            Style::Warn => "33",
            Style::Strong => "1",
        }
    }

    /// The style of a verdict word (ACCEPT, DROP, REJECT, NOT_REACHED).
    pub fn of_verdict(word: &str) -> Style {
        match word {
            "ACCEPT" => Style::Good,
            "DROP" => Style::Bad,
            _ => Style::Warn,
        }
    }
}

/// `text` in `style` when `on`, as it is otherwise.
pub fn paint(text: &str, style: Style, on: bool) -> Cow<'_, str> {
    if on && !text.is_empty() {
        Cow::Owned(format!("\x1b[{}m{text}\x1b[0m", style.code()))
    } else {
        Cow::Borrowed(text)
    }
}

/// `text` with each line `pick` gives a style for painted whole (the line
/// break stays outside the escape sequences), when `on`.
pub fn lines(text: &str, on: bool, pick: impl Fn(&str) -> Option<Style>) -> Cow<'_, str> {
    if !on {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        match pick(body) {
            Some(style) => out.push_str(&paint(body, style, true)),
            None => out.push_str(body),
        }
        out.push_str(nl);
    }
    Cow::Owned(out)
}

/// The style of a unified-diff line: removed red, added green, headers bold.
pub fn of_diff_line(line: &str) -> Option<Style> {
    if line.starts_with("---") || line.starts_with("+++") || line.starts_with("@@") {
        Some(Style::Strong)
    } else if line.starts_with('-') {
        Some(Style::Bad)
    } else if line.starts_with('+') {
        Some(Style::Good)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_is_the_text_itself_and_on_wraps_it() {
        assert_eq!(paint("DROP   ", Style::Bad, false), "DROP   ");
        assert_eq!(paint("DROP", Style::Bad, true), "\x1b[31mDROP\x1b[0m");
        assert_eq!(paint("", Style::Bad, true), "");
        assert_eq!(Style::of_verdict("ACCEPT"), Style::Good);
        assert_eq!(Style::of_verdict("NOT_REACHED"), Style::Warn);
    }

    #[test]
    fn lines_paint_whole_lines_and_keep_the_rest() {
        let text = "--- a\n-x\n y\n+z";
        assert_eq!(lines(text, false, of_diff_line), text);
        assert_eq!(
            lines(text, true, of_diff_line),
            "\x1b[1m--- a\x1b[0m\n\x1b[31m-x\x1b[0m\n y\n\x1b[32m+z\x1b[0m"
        );
    }
}
