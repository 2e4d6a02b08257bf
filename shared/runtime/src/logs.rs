//! Invocation logs: a `tracing` layer that collects the events emitted inside an invocation
//! into the response's `Logs` array, and writes every event to the console.
//!
//! The host logs `Logs` on the invocation's logger, but **only when the response is 2xx**: on a
//! failed invocation they are dropped. So every event is *also* written as a plain text line
//! to stdout (`WARN`/`ERROR` to stderr), which the host logs under `Host.Function.Console`.
//! A console line is `<UTC time> [<function> <invocation id>] <Logs line>`, so each `Logs`
//! entry appears verbatim on the console.
//!
//! The runtime wraps each invocation in a span named `invocation` (target
//! `custom_handler::invocation`); the layer keeps a per-span buffer in the span's extensions.
//! Events from tasks the handler spawns are collected only if those tasks are instrumented
//! with the current span (`tracing::Instrument::in_current_span`).
//!
//! The subscriber must be built on [`tracing_subscriber::Registry`] (as [`init_tracing`]
//! does) for the runtime to read the buffers back.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Span, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// The target of the per-invocation span.
pub const INVOCATION_TARGET: &str = "custom_handler::invocation";
/// The name of the per-invocation span.
pub const INVOCATION_SPAN: &str = "invocation";
/// At most this many lines are kept per invocation; later ones are counted, not kept.
pub const MAX_LINES: usize = 10_000;

#[derive(Default)]
struct Lines {
    lines: Vec<String>,
    dropped: usize,
}

#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Lines>>);

impl LogBuffer {
    fn push(&self, line: String) {
        let mut lines = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if lines.lines.len() < MAX_LINES {
            lines.lines.push(line);
        } else {
            lines.dropped += 1;
        }
    }

    fn take(&self) -> Vec<String> {
        let mut lines = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let dropped = std::mem::take(&mut lines.dropped);
        let mut out = std::mem::take(&mut lines.lines);
        if dropped > 0 {
            out.push(format!("({dropped} more log lines dropped; see the console)"));
        }
        out
    }
}

#[derive(Clone)]
struct Label(String);

/// The layer. Add it to a [`Registry`]-based subscriber (see [`init_tracing`]).
#[derive(Debug, Clone)]
pub struct InvocationLogLayer {
    console: bool,
}

impl Default for InvocationLogLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl InvocationLogLayer {
    /// A layer that collects invocation logs and writes every event to stdout/stderr.
    pub fn new() -> Self {
        Self { console: true }
    }

    /// Turn the console output off (when another layer already writes to stdout; remember
    /// that `Logs` are lost on failed invocations).
    pub fn without_console(mut self) -> Self {
        self.console = false;
        self
    }
}

#[derive(Default)]
struct LineVisitor {
    message: String,
    fields: String,
}

impl Visit for LineVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let name = field.name().trim_start_matches("r#");
            let _ = write!(self.fields, " {name}={value:?}");
        }
    }
}

#[derive(Default)]
struct LabelVisitor {
    function: String,
    invocation_id: String,
}

impl Visit for LabelVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "function" => self.function = format!("{value:?}"),
            "invocation_id" => self.invocation_id = format!("{value:?}"),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "function" => self.function = value.to_string(),
            "invocation_id" => self.invocation_id = value.to_string(),
            _ => {}
        }
    }
}

/// Makes untrusted text safe for a one-line log: control characters (newlines, carriage returns, ANSI escapes,
/// NUL, DEL and the C1 range), the Unicode line and paragraph separators and the bidirectional overrides are
/// written as escapes (`\n`, `\r`, `\t`, `\u{1b}`), so a request id, MessageId or alert field cannot start a
/// forged log line, recolour a terminal or reorder what a reader sees. Everything else is kept as it is.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Format an event as a `Logs` line: `LEVEL target: message key=value ...`. Messages and field values often
/// carry what a caller sent (`request_id = %id`, `"bad message {text}"`): both are escaped, so one event is
/// always exactly one line ([`escape_control`]).
fn format_line(event: &Event<'_>) -> String {
    let mut visitor = LineVisitor::default();
    event.record(&mut visitor);
    let meta = event.metadata();
    format!(
        "{} {}: {}{}",
        meta.level(),
        meta.target(),
        escape_control(&visitor.message),
        escape_control(&visitor.fields)
    )
}

fn is_invocation_span(meta: &tracing::Metadata<'_>) -> bool {
    meta.name() == INVOCATION_SPAN && meta.target() == INVOCATION_TARGET
}

impl<S> Layer<S> for InvocationLogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !is_invocation_span(attrs.metadata()) {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut label = LabelVisitor::default();
        attrs.record(&mut label);
        let mut ext = span.extensions_mut();
        ext.insert(LogBuffer::default());
        let text = format!("[{} {}]", label.function, label.invocation_id);
        ext.insert(Label(escape_control(&text).into_owned()));
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let line = format_line(event);
        let mut label = None;
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                let ext = span.extensions();
                if let Some(buffer) = ext.get::<LogBuffer>() {
                    buffer.push(line.clone());
                    label = ext.get::<Label>().map(|l| l.0.clone());
                    break;
                }
            }
        }
        if self.console {
            write_console(*event.metadata().level(), label.as_deref(), &line);
        }
    }
}

fn write_console(level: Level, label: Option<&str>, line: &str) {
    let now =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let text = match label {
        Some(label) => format!("{now} {label} {line}\n"),
        None => format!("{now} {line}\n"),
    };
    // One write per line, so lines from concurrent invocations do not interleave.
    if level <= Level::WARN {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    } else {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

/// Take the lines collected for an invocation span (empty when the subscriber is not built on
/// a [`Registry`] with [`InvocationLogLayer`], or the span is disabled).
pub fn take_logs(span: &Span) -> Vec<String> {
    span.with_subscriber(|(id, dispatch)| {
        let registry = dispatch.downcast_ref::<Registry>()?;
        let span = registry.span(id)?;
        let ext = span.extensions();
        ext.get::<LogBuffer>().map(LogBuffer::take)
    })
    .flatten()
    .unwrap_or_default()
}

/// Install the global subscriber: [`InvocationLogLayer`] (plain text lines on stdout/stderr,
/// and the invocation `Logs`) filtered by `RUST_LOG` (default `info`). The invocation span is
/// always enabled so `Logs` work under any filter. Calling it twice is harmless.
pub fn init_tracing() {
    let filter = match EnvFilter::try_from_default_env() {
        Ok(filter) => filter,
        Err(e) => {
            if std::env::var_os("RUST_LOG").is_some() {
                eprintln!("WARN ignoring invalid RUST_LOG ({e}); using \"info\"");
            }
            EnvFilter::new("info")
        }
    };
    let filter = match format!("{INVOCATION_TARGET}=trace").parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    let _ = tracing_subscriber::registry().with(filter).with(InvocationLogLayer::new()).try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Instrument as _;

    fn subscriber() -> impl Subscriber + Send + Sync {
        tracing_subscriber::registry().with(InvocationLogLayer::new().without_console())
    }

    #[test]
    fn events_inside_the_invocation_span_are_collected() {
        tracing::subscriber::with_default(subscriber(), || {
            let span =
                tracing::info_span!(target: INVOCATION_TARGET, INVOCATION_SPAN, function = "F", invocation_id = "id");
            tracing::info!("outside");
            span.in_scope(|| {
                tracing::info!(n = 5, name = "x", "hello {}", "world");
                let child = tracing::info_span!("child");
                child.in_scope(|| tracing::warn!("nested"));
            });
            let logs = take_logs(&span);
            let target = module_path!();
            assert_eq!(
                logs,
                vec![format!("INFO {target}: hello world n=5 name=\"x\""), format!("WARN {target}: nested"),]
            );
            assert!(take_logs(&span).is_empty(), "take empties the buffer");
        });
    }

    #[test]
    fn concurrent_invocations_keep_separate_buffers() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let _guard = tracing::subscriber::set_default(subscriber());
        rt.block_on(async {
            let a =
                tracing::info_span!(target: INVOCATION_TARGET, INVOCATION_SPAN, function = "A", invocation_id = "1");
            let b =
                tracing::info_span!(target: INVOCATION_TARGET, INVOCATION_SPAN, function = "B", invocation_id = "2");
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let fa = async {
                tracing::info!("a1");
                let _ = rx.await;
                tracing::info!("a2");
            }
            .instrument(a.clone());
            let fb = async {
                tracing::info!("b1");
                let _ = tx.send(());
            }
            .instrument(b.clone());
            tokio::join!(fa, fb);
            let la = take_logs(&a);
            let lb = take_logs(&b);
            assert_eq!(la.len(), 2);
            assert!(la[0].ends_with("a1") && la[1].ends_with("a2"), "{la:?}");
            assert_eq!(lb.len(), 1);
            assert!(lb[0].ends_with("b1"), "{lb:?}");
        });
    }

    #[test]
    fn untrusted_text_cannot_forge_a_log_line() {
        tracing::subscriber::with_default(subscriber(), || {
            let span =
                tracing::info_span!(target: INVOCATION_TARGET, INVOCATION_SPAN, function = "F", invocation_id = "id");
            span.in_scope(|| {
                let id = "r1\nINFO forged: restore approved\r\u{1b}[2J\u{202e}";
                tracing::info!(request_id = %id, message_id = id, "received {id}");
            });
            let logs = take_logs(&span);
            assert_eq!(logs.len(), 1);
            let line = &logs[0];
            assert!(!line.chars().any(|c| c.is_control() || c == '\u{202e}'), "{line:?}");
            assert!(line.contains("received r1\\nINFO forged: restore approved\\r\\u{1b}[2J\\u{202e}"), "{line}");
            assert!(line.contains("request_id=r1\\nINFO forged"), "{line}");
        });
        assert_eq!(escape_control("plain é 漢"), Cow::Borrowed("plain é 漢"));
        assert_eq!(escape_control("a\tb\u{7f}\u{85}"), "a\\tb\\u{7f}\\u{85}");
    }

    #[test]
    fn without_the_layer_logs_are_empty() {
        let span = tracing::info_span!(target: INVOCATION_TARGET, INVOCATION_SPAN);
        assert!(take_logs(&span).is_empty());
    }
}
