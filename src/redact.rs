//! Secrets out of everything roster prints. This module holds the secrets
//! the process knows (the configured client secret, the access tokens and
//! client assertions it obtained) and [`text`] replaces them, and anything
//! that looks like a bearer token, a JWT or a `client_secret=`/
//! `access_token` field, with `[redacted]`. It is applied where outside text
//! enters roster (error bodies of Graph and of the identity platform, failed
//! outcomes) and where text leaves it (the error printed by `main`, and
//! every log line through [`MakeStderr`]). It must not decide anything else:
//! it never drops a message, only masks parts of it.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::Write;
use std::sync::{LazyLock, RwLock};

/// What a secret is replaced with.
pub const MASK: &str = "[redacted]";

/// Shorter values are not registered: masking them would garble ordinary
/// text, and no real secret or token is that short.
const MIN_LEN: usize = 6;

/// Tokens kept for masking: renewed tokens of a long `reconcile` loop push
/// the oldest out (they have expired long before).
const MAX_TOKENS: usize = 64;

#[derive(Default)]
struct Known {
    /// Configured secrets, for the life of the process.
    secrets: Vec<String>,
    /// Tokens and assertions obtained, the most recent last.
    tokens: VecDeque<String>,
}

static KNOWN: LazyLock<RwLock<Known>> = LazyLock::new(|| RwLock::new(Known::default()));

/// Register a configured secret (a client secret) for the life of the
/// process.
pub fn secret(value: &str) {
    let forms = forms(value);
    if forms.is_empty() {
        return;
    }
    let mut k = KNOWN.write().unwrap_or_else(|e| e.into_inner());
    for f in forms {
        if !k.secrets.contains(&f) {
            k.secrets.push(f);
        }
    }
}

/// Register a token or client assertion the process obtained or made.
pub fn token(value: &str) {
    let forms = forms(value);
    if forms.is_empty() {
        return;
    }
    let mut k = KNOWN.write().unwrap_or_else(|e| e.into_inner());
    for f in forms {
        if !k.tokens.contains(&f) {
            k.tokens.push_back(f);
        }
    }
    while k.tokens.len() > MAX_TOKENS {
        k.tokens.pop_front();
    }
}

/// The value as it may appear in output: raw, JSON-escaped (a JSON log
/// line) and form-encoded (an echoed request body).
fn forms(value: &str) -> Vec<String> {
    let value = value.trim();
    if value.len() < MIN_LEN {
        return Vec::new();
    }
    let mut out = vec![value.to_string()];
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json.trim_matches('"');
    let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    for f in [json.to_string(), form] {
        if !f.is_empty() && !out.contains(&f) {
            out.push(f);
        }
    }
    // Longest first, so a form never leaves a part of a longer one behind.
    out.sort_by_key(|f| std::cmp::Reverse(f.len()));
    out
}

/// `Bearer <token>` (an Authorization header echoed or logged).
static BEARER: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"(?i)\b(bearer)(\s+)[A-Za-z0-9\-._~+/]{6,}=*").expect("valid regex")
});

/// A JWT: three base64url parts, the first a JSON header (`eyJ`).
static JWT: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*")
        .expect("valid regex")
});

/// A credential field in a form, a query or JSON (also JSON-escaped):
/// `client_secret=…`, `"access_token": "…"`.
static FIELD: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r#"(?i)((?:access_token|refresh_token|id_token|client_secret|client_assertion)\\?["']?\s*[:=]\s*\\?["']?)([^"'&\s,;}\\]+)"#,
    )
    .expect("valid regex")
});

/// `s` with every known secret and every token-looking part masked.
pub fn text(s: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(s);
    {
        let k = KNOWN.read().unwrap_or_else(|e| e.into_inner());
        for v in k.secrets.iter().chain(k.tokens.iter()) {
            if out.contains(v.as_str()) {
                out = Cow::Owned(out.replace(v.as_str(), MASK));
            }
        }
    }
    for (re, with) in [
        (&*BEARER, "${1}${2}[redacted]"),
        (&*JWT, MASK),
        (&*FIELD, "${1}[redacted]"),
    ] {
        if re.is_match(&out) {
            out = Cow::Owned(re.replace_all(&out, with).into_owned());
        }
    }
    out
}

/// Stderr for the log formatter, every line masked with [`text`].
#[derive(Clone, Copy, Debug, Default)]
pub struct MakeStderr;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for MakeStderr {
    type Writer = Masked<std::io::Stderr>;
    fn make_writer(&'a self) -> Self::Writer {
        Masked(std::io::stderr())
    }
}

/// A writer that masks what goes through it with [`text`]. The log
/// formatter writes each event in one `write_all`, so a secret is never
/// split across two writes.
pub struct Masked<W>(pub W);

impl<W: Write> Write for Masked<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let s = String::from_utf8_lossy(buf);
        self.0.write_all(text(&s).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_secrets_are_masked_in_every_form() {
        secret("s3cr\"et/value+1");
        let raw = "invalid secret s3cr\"et/value+1 given";
        assert_eq!(text(raw), "invalid secret [redacted] given");
        let json = serde_json::to_string(raw).unwrap();
        assert!(!text(&json).contains("value+1"), "{}", text(&json));
        let form = "client_id=a&x=s3cr%22et%2Fvalue%2B1";
        assert_eq!(text(form), "client_id=a&x=[redacted]");
    }

    #[test]
    fn tokens_bearer_headers_jwts_and_credential_fields_are_masked() {
        token("emu.0123456789abcdef");
        assert_eq!(text("got emu.0123456789abcdef back"), "got [redacted] back");
        assert_eq!(
            text("Authorization: Bearer abc.DEF-123_456"),
            "Authorization: Bearer [redacted]"
        );
        assert_eq!(
            text("assertion eyJhbGciOi.eyJpc3MiOi.c2lnbmF0dXJl here"),
            "assertion [redacted] here"
        );
        assert_eq!(
            text(r#"{"access_token": "zzz999", "client_secret":"abc"}"#),
            r#"{"access_token": "[redacted]", "client_secret":"[redacted]"}"#
        );
        assert_eq!(
            text(r#"{\"access_token\":\"zzz999\"}"#),
            r#"{\"access_token\":\"[redacted]\"}"#
        );
        assert_eq!(
            text("client_secret=abc&scope=x"),
            "client_secret=[redacted]&scope=x"
        );
    }

    /// A buffer the log formatter writes into, through [`Masked`].
    #[derive(Clone, Default)]
    struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn log_lines_are_masked_in_text_and_json() {
        secret("log-secret-0451");
        for json in [false, true] {
            let buf = Buf::default();
            let out = buf.clone();
            let builder = tracing_subscriber::fmt()
                .with_writer(move || Masked(out.clone()))
                .with_ansi(false);
            let dispatch = if json {
                tracing::Dispatch::new(builder.json().finish())
            } else {
                tracing::Dispatch::new(builder.finish())
            };
            tracing::dispatcher::with_default(&dispatch, || {
                tracing::warn!(
                    body = "{\"secret\": \"log-secret-0451\"}",
                    "answer: log-secret-0451, Bearer abcdef123456"
                );
            });
            let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
            assert!(
                text.contains("answer: [redacted], Bearer [redacted]"),
                "{text}"
            );
            assert!(!text.contains("log-secret-0451"), "{text}");
            assert!(!text.contains("abcdef123456"), "{text}");
        }
    }

    #[test]
    fn ordinary_text_is_unchanged_and_short_values_are_not_registered() {
        secret("abc");
        let s = "Graph answered `GET /users` with 400 abc: bearer of news";
        assert!(matches!(text(s), Cow::Borrowed(_)));
        assert_eq!(text(s), s);
    }
}
