//! Chains of pages, read at the pace of the network rather than of the
//! parser: each page's bytes are parsed into typed rows (and folded) on a
//! blocking thread while the next page is already being asked for, its
//! link read ahead from the page's first or last bytes
//! ([`next_link_hint`]) and checked against the parsed page before it is
//! used. Two buffers per chain take turns, so a chain of 100 pages of a
//! megabyte allocates two megabytes, not a hundred. Only reads; what the
//! rows mean is [`super::read`]'s.

use std::sync::Arc;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::GraphError;
use super::http::Api;

/// A page of a list, read straight into typed rows.
#[derive(Debug, serde::Deserialize)]
pub(super) struct Page<T> {
    #[serde(default = "Vec::new")]
    pub(super) value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    pub(super) next_link: Option<String>,
}

/// How far from either end of a page its `@odata.nextLink` is looked for
/// ahead of the parse (Graph writes it before or after `value`).
const HINT_WINDOW: usize = 4096;
const NEXT_LINK: &[u8] = b"\"@odata.nextLink\"";

/// The `@odata.nextLink` of the page `body`, read from its first or last
/// [`HINT_WINDOW`] bytes without parsing the rest: a guess, which the
/// caller checks against the parsed page (a key of that name inside a row
/// would mislead it, never the result).
pub(super) fn next_link_hint(body: &[u8]) -> Option<String> {
    let tail_start = body.len().saturating_sub(HINT_WINDOW);
    let head = &body[..HINT_WINDOW.min(body.len())];
    let at = find(&body[tail_start..], true)
        .map(|i| tail_start + i)
        .or_else(|| find(head, false))?;
    let mut rest = &body[at + NEXT_LINK.len()..];
    rest = rest.trim_ascii_start().strip_prefix(b":")?;
    let mut de = serde_json::Deserializer::from_slice(rest.trim_ascii_start());
    String::deserialize(&mut de).ok()
}

/// Where `NEXT_LINK` starts in `hay` (the last occurrence when `last`).
fn find(hay: &[u8], last: bool) -> Option<usize> {
    let mut at = hay.windows(NEXT_LINK.len()).enumerate();
    if last {
        at.rev().find(|(_, w)| *w == NEXT_LINK).map(|(i, _)| i)
    } else {
        at.find(|(_, w)| *w == NEXT_LINK).map(|(i, _)| i)
    }
}

/// The first page of `path` as bytes, at the largest `$top` the tenant
/// takes: each of `tops` in turn, the next on a 400, and at last none (the
/// endpoint's own default). Also says the URL asked and which `$top` was
/// taken.
pub(super) async fn first_page_bytes(
    api: &Api,
    path: &str,
    tops: &[usize],
) -> Result<(String, Vec<u8>, Option<usize>), GraphError> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut body = Vec::new();
    for &top in tops {
        let url = format!("{path}{sep}$top={top}");
        match api.get_bytes(&url, &[], &mut body).await {
            Err(GraphError::Api { status: 400, .. }) => continue,
            other => return other.map(|()| (url, body, Some(top))),
        }
    }
    api.get_bytes(path, &[], &mut body).await?;
    Ok((path.to_string(), body, None))
}

/// The body of `resp` into `buf` (emptied first, its allocation kept). A
/// body cut short ends where it was cut, as `text()` would: the parse says
/// what is missing.
pub(super) async fn read_body(mut resp: reqwest::Response, buf: &mut Vec<u8>) {
    buf.clear();
    if let Some(n) = resp.content_length() {
        buf.reserve(n as usize);
    }
    while let Ok(Some(chunk)) = resp.chunk().await {
        buf.extend_from_slice(&chunk);
    }
}

/// A request sent ahead; aborted when dropped unused.
struct Ahead(tokio::task::JoinHandle<Result<Vec<u8>, GraphError>>);

impl Drop for Ahead {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How a chain reads one page's bytes: what it keeps of the page, and the
/// page's `@odata.nextLink`.
pub(super) type PageRead<R> = serde_json::Result<(R, Option<String>)>;

/// `body` read as JSON into `T`. The text is checked to be UTF-8 once, in
/// one pass, rather than string by string as a parse of bytes does (a
/// page of users holds 20,000 strings); text that is not UTF-8 is parsed
/// as bytes, for the parser's own error.
pub(super) fn from_page<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    }
}

/// A page read as `Page<T>` (rows that own their strings), its rows
/// folded by `fold`.
pub(super) fn rows<T: DeserializeOwned, R>(
    fold: impl Fn(Vec<T>) -> R + Send + Sync + 'static,
) -> impl Fn(&[u8]) -> PageRead<R> + Send + Sync + 'static {
    move |body| {
        let page: Page<T> = from_page(body)?;
        Ok((fold(page.value), page.next_link))
    }
}

/// Every page of the chain whose first page (asked as `url`) is `body`:
/// each page's bytes read by `read` on a blocking thread (as [`rows`]
/// does, or into rows that borrow from the bytes), the results in page
/// order. The next page is asked for while a page is read when its link
/// can be read ahead; a guess the parsed page contradicts is dropped and
/// the page's own link followed.
pub(super) async fn chain<R>(
    api: Arc<Api>,
    url: String,
    body: Vec<u8>,
    read: impl Fn(&[u8]) -> PageRead<R> + Send + Sync + 'static,
) -> Result<Vec<R>, GraphError>
where
    R: Send + 'static,
{
    let read = Arc::new(read);
    let (mut url, mut body) = (url, body);
    let mut spare: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    loop {
        let hint = next_link_hint(&body);
        let ahead = hint.clone().map(|link| {
            let (api, mut buf) = (api.clone(), std::mem::take(&mut spare));
            Ahead(tokio::spawn(async move {
                api.get_bytes(&link, &[], &mut buf).await.map(|()| buf)
            }))
        });
        let (api2, read2) = (api.clone(), read.clone());
        let parsed = tokio::task::spawn_blocking(move || {
            let (rows, next) = read2(&body).map_err(|e| api2.unexpected_shape(&url, &e))?;
            Ok::<_, GraphError>((rows, next, body))
        });
        let (rows, next, buf) = joined(parsed.await)??;
        out.push(rows);
        let Some(next) = next else {
            return Ok(out);
        };
        body = match ahead {
            Some(mut a) if hint.as_deref() == Some(next.as_str()) => {
                spare = buf;
                let got = joined((&mut a.0).await)?;
                got?
            }
            _ => {
                let mut buf = buf;
                api.get_bytes(&next, &[], &mut buf).await?;
                buf
            }
        };
        url = next;
    }
}

/// Every row of the pages of `pages`, in order, in one allocation.
pub(super) fn flatten<T>(pages: Vec<Vec<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(pages.iter().map(Vec::len).sum());
    for p in pages {
        out.extend(p);
    }
    out
}

pub(super) fn joined<T>(r: Result<T, tokio::task::JoinError>) -> Result<T, GraphError> {
    r.map_err(|e| GraphError::Transport(format!("a read task failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_read_ahead_from_either_end() {
        let after = br#"{"@odata.context":"c","value":[{"id":"a"}],"@odata.nextLink":"http://x/users?$skiptoken=ab\/c"}"#;
        assert_eq!(
            next_link_hint(after).as_deref(),
            Some("http://x/users?$skiptoken=ab/c")
        );
        let before = br#"{"@odata.context":"c", "@odata.nextLink" : "http://x/n", "value":[]}"#;
        assert_eq!(next_link_hint(before).as_deref(), Some("http://x/n"));
        assert_eq!(next_link_hint(br#"{"value":[]}"#), None);
        assert_eq!(next_link_hint(br#"{"@odata.nextLink": 3}"#), None);
        // In the middle of a large page: not guessed (the parse finds it).
        let mut middle = br#"{"@odata.nextLink":"http://x/m","value":["#.to_vec();
        middle.splice(1..1, vec![b' '; HINT_WINDOW]);
        middle.extend(std::iter::repeat_n(b' ', HINT_WINDOW));
        middle.extend(b"]}");
        assert_eq!(next_link_hint(&middle), None);
        let page: Page<String> = serde_json::from_slice(&middle).unwrap();
        assert_eq!(page.next_link.as_deref(), Some("http://x/m"));
    }

    #[test]
    fn pages_read_as_text_or_as_bytes_alike() {
        let page: Page<String> = from_page(b"{\"value\":[\"a\\u00e9\",\"\xc3\xa9\"]}").unwrap();
        assert_eq!(page.value, ["a\u{e9}", "\u{e9}"]);
        // Not UTF-8: the parser of bytes says where.
        let bad = b"{\"value\":[\"\xff\"]}";
        let want = serde_json::from_slice::<Page<String>>(bad)
            .unwrap_err()
            .to_string();
        let got = from_page::<Page<String>>(bad).unwrap_err().to_string();
        assert_eq!(got, want);
        assert!(from_page::<Page<String>>(br#"{"value":[1]}"#).is_err());
    }

    #[test]
    fn pages_flatten_in_order() {
        assert_eq!(flatten(vec![vec![1, 2], vec![], vec![3]]), vec![1, 2, 3]);
    }
}
