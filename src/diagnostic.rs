//! One diagnostic type for parse errors, build errors and lint findings.
//!
//! A [`Diagnostic`] names its file and span; `report::diagnostics` renders it the
//! way rustc does (`file:line:col`, the line, a caret under the token, help).

use crate::source::{SourceFile, Span};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// A secondary span with a message ("first defined here").
#[derive(Debug, Clone)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A mechanical fix: replace the text of `span` with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub span: Span,
    pub replacement: String,
    /// Applied by `iptwalk lint --fix` (it does not change what the rules do).
    pub safe: bool,
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// `IPTnnn` for lints, `E...` style codes are not used for parse errors: `None`.
    pub code: Option<&'static str>,
    pub severity: Severity,
    pub message: String,
    pub file: Arc<SourceFile>,
    pub span: Span,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    pub fix: Option<Fix>,
}

impl Diagnostic {
    pub fn error(file: &Arc<SourceFile>, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Error, file, span, message)
    }

    pub fn warning(file: &Arc<SourceFile>, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Warning, file, span, message)
    }

    pub fn new(
        severity: Severity,
        file: &Arc<SourceFile>,
        span: Span,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            code: None,
            severity,
            message: message.into(),
            file: Arc::clone(file),
            span,
            labels: Vec::new(),
            help: None,
            fix: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_fix(
        mut self,
        span: Span,
        replacement: impl Into<String>,
        safe: bool,
    ) -> Diagnostic {
        self.fix = Some(Fix {
            span,
            replacement: replacement.into(),
            safe,
        });
        self
    }

    pub fn with_code(mut self, code: &'static str) -> Diagnostic {
        self.code = Some(code);
        self
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:col`
    pub fn location(&self) -> String {
        let lc = self.file.line_col(self.span.start as usize);
        format!("{}:{}", self.file.name, lc)
    }
}
