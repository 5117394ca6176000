//! Which URLs may carry credentials: the client secret, a client assertion
//! or a bearer token goes only to an `https://` URL, or to `http://` on a
//! loopback host (`127.0.0.0/8`, `::1`, `localhost`: the emulator on this
//! machine). The host is judged from the parsed URL alone, never resolved,
//! so a refusal happens before any lookup or connection. This module only
//! decides; it must not send anything.

use std::net::IpAddr;

use super::GraphError;

/// Refuse `url` unless it may carry credentials. `origin` names where the
/// URL came from (`--graph-endpoint`, a tenant setting), for the message.
pub fn check(url: &str, origin: &str) -> Result<(), GraphError> {
    let parsed = url::Url::parse(url).map_err(|e| {
        GraphError::Config(format!(
            "`{url}` ({origin}) is not a URL: {e}\nhint: write a full URL such as https://graph.microsoft.com"
        ))
    })?;
    if allowed(&parsed) {
        return Ok(());
    }
    Err(GraphError::Insecure {
        url: printable(&parsed),
        origin: origin.to_string(),
    })
}

/// Refuse a `link` Graph gave unless it is on the same scheme, host and
/// port as the Graph endpoint `base` (both already judged by [`check`]).
pub fn same_origin(link: &str, base: &str) -> Result<(), GraphError> {
    let origin = |u: &str| url::Url::parse(u).ok().map(|u| u.origin());
    match (origin(link), origin(base)) {
        (Some(l), Some(b)) if l == b && l.is_tuple() => Ok(()),
        _ => Err(GraphError::ForeignLink {
            url: url::Url::parse(link).map_or_else(|_| link.to_string(), |u| printable(&u)),
            endpoint: url::Url::parse(base).map_or_else(|_| base.to_string(), |u| printable(&u)),
        }),
    }
}

/// `https://`, or `http://` to a loopback host.
pub fn allowed(url: &url::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => url.host().is_some_and(|h| loopback(&h)),
        _ => false,
    }
}

fn loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => {
            d.eq_ignore_ascii_case("localhost") || d.eq_ignore_ascii_case("localhost.")
        }
        url::Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// The URL without a password, for messages.
fn printable(url: &url::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_password(None);
    u.to_string()
}

/// Redirects are followed only to URLs that may carry credentials (a
/// `307`/`308` resends the form with the secret), at most 10 times.
pub fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= 10 {
            attempt.error("too many redirects")
        } else if allowed(attempt.url()) {
            attempt.follow()
        } else {
            let url = printable(attempt.url());
            attempt.error(RefusedRedirect(url))
        }
    })
}

/// A redirect [`redirect_policy`] did not follow, to this URL.
#[derive(Debug)]
struct RefusedRedirect(String);

impl std::fmt::Display for RefusedRedirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused a redirect to `{}`", self.0)
    }
}

impl std::error::Error for RefusedRedirect {}

/// The refusal, when `e` failed because a redirect was not followed.
/// `origin` names the request (`a redirect of the token request`).
pub fn refused_redirect(e: &reqwest::Error, origin: &str) -> Option<GraphError> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<RefusedRedirect>() {
            return Some(GraphError::Insecure {
                url: r.0.clone(),
                origin: origin.to_string(),
            });
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> bool {
        check(url, "test").is_ok()
    }

    #[test]
    fn https_and_loopback_http_are_accepted() {
        for url in [
            "https://graph.microsoft.com",
            "https://login.microsoftonline.com/",
            "https://10.1.2.3:8443/",
            "http://127.0.0.1:8080",
            "http://127.1.2.3/",
            "http://[::1]:8080/",
            "http://localhost:8080",
            "http://LOCALHOST/",
        ] {
            assert!(ok(url), "{url}");
        }
    }

    #[test]
    fn plain_http_beyond_loopback_and_other_schemes_are_refused() {
        for url in [
            "http://roster-test.invalid/",
            "http://10.1.2.3/",
            "http://graph.microsoft.com",
            "http://[::2]/",
            "http://128.0.0.1/",
            "http://localhost.evil.example/",
            "http://127.0.0.1.nip.io/",
            "ftp://127.0.0.1/",
            "ws://localhost/",
        ] {
            assert!(!ok(url), "{url}");
        }
        assert!(matches!(
            check("not a url", "test"),
            Err(GraphError::Config(_))
        ));
    }

    #[test]
    fn the_refusal_names_the_url_its_origin_and_the_fix_without_a_password() {
        let e = check("http://me:pw@10.1.2.3/x", "`--graph-endpoint`").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("`http://me@10.1.2.3/x`"), "{text}");
        assert!(text.contains("(from `--graph-endpoint`)"), "{text}");
        assert!(text.contains("https://"), "{text}");
        assert!(text.contains("hint:"), "{text}");
        assert!(!text.contains("pw"), "{text}");
    }
}
