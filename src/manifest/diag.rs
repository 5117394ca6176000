//! Diagnostics about manifests: every problem of a run, each pointing into
//! the file it is about, rendered with miette.
//!
//! Lowering and validation push [`Diagnostic`]s into a [`Diagnostics`] sink
//! and carry on, so one run reports every problem, not only the first.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, Severity};

use super::source::{Sources, Span};

mod indexed;

use indexed::Indexed;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
}

/// One problem in the manifests.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub level: Level,
    /// A stable kebab-case code, e.g. `unknown-attribute`.
    pub code: &'static str,
    pub message: String,
    pub span: Span,
    pub label: String,
    pub help: Option<String>,
    /// Other places that belong to the same problem (e.g. the other side of
    /// an overlap), possibly in other files.
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            level: Level::Error,
            code,
            message: message.into(),
            span,
            label: "here".into(),
            help: None,
            related: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            level: Level::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    pub fn related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }
}

/// The sink every stage pushes into.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    /// Order by file and place, so output does not depend on the order in
    /// which checks ran.
    pub fn sort(&mut self) {
        self.items.sort_by(|a, b| {
            (a.span.sort_key(), a.level, a.code, &a.message).cmp(&(
                b.span.sort_key(),
                b.level,
                b.code,
                &b.message,
            ))
        });
        self.items.dedup_by(|a, b| {
            a.span.same_place(&b.span) && a.code == b.code && a.message == b.message
        });
    }

    /// Render every diagnostic and a closing count, without colour when
    /// `color` is false (tests, pipes).
    pub fn render(&self, sources: &Sources, color: bool) -> String {
        let mut out = String::new();
        // Each file indexed once, for all of its diagnostics.
        let files: Vec<Indexed> = sources
            .files
            .iter()
            .map(|f| Indexed::new(f.text.clone()))
            .collect();
        for d in &self.items {
            out.push_str(&render_one(d, sources, &files, color));
            // A blank line between reports, so each stands apart.
            out.push('\n');
        }
        out
    }
}

/// `1 error, 2 warnings`.
pub fn count_line(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

/// A diagnostic attached to its source, as miette wants it.
#[derive(Debug)]
struct Report {
    level: Level,
    code: &'static str,
    message: String,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    source: NamedSource<Indexed>,
    related: Vec<Report>,
    advice: bool,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        if self.advice {
            None
        } else {
            Some(Box::new(format!("roster::{}", self.code)))
        }
    }
    fn severity(&self) -> Option<Severity> {
        Some(if self.advice {
            Severity::Advice
        } else {
            match self.level {
                Level::Error => Severity::Error,
                Level::Warning => Severity::Warning,
            }
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

fn named_source(sources: &Sources, files: &[Indexed], span: Span) -> NamedSource<Indexed> {
    let i = span.file.0 as usize;
    match (sources.files.get(i), files.get(i)) {
        (Some(f), Some(text)) => NamedSource::new(f.path.clone(), text.clone()),
        _ => NamedSource::new("<unknown>", Indexed::new(Default::default())),
    }
}

fn labeled(label: &str, span: Span, primary: bool) -> LabeledSpan {
    let s = LabeledSpan::new(Some(label.to_string()), span.start, span.len());
    if primary {
        LabeledSpan::new_primary_with_span(Some(label.to_string()), (span.start, span.len()))
    } else {
        s
    }
}

fn render_one(d: &Diagnostic, sources: &Sources, files: &[Indexed], color: bool) -> String {
    let mut labels = vec![labeled(&d.label, d.span, true)];
    let mut related = Vec::new();
    for (span, label) in &d.related {
        if span.file == d.span.file {
            labels.push(labeled(label, *span, false));
        } else {
            related.push(Report {
                level: d.level,
                code: d.code,
                message: format!("{label} ({})", sources.location(*span)),
                help: None,
                labels: vec![labeled(label, *span, true)],
                source: named_source(sources, files, *span),
                related: Vec::new(),
                advice: true,
            });
        }
    }
    let report = Report {
        level: d.level,
        code: d.code,
        message: d.message.clone(),
        help: d.help.clone(),
        labels,
        source: named_source(sources, files, d.span),
        related,
        advice: false,
    };
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        out = format!("{}: {}\n", sources.location(d.span), d.message);
    }
    out
}
