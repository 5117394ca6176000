//! A bare HTTP/1.1 exchange on loopback for the suites that stand in for a
//! service roster talks to (a token endpoint, a CI's token service).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Read one request: the headers, then `Content-Length` bytes of body.
pub fn read_request(conn: &mut TcpStream) -> Vec<u8> {
    conn.set_nonblocking(false).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = conn.read(&mut chunk).unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                break;
            }
        }
    }
    buf
}

/// Answer with `status` and a JSON `body` (plus `extra` header lines), and
/// close.
pub fn answer(conn: &mut TcpStream, status: u16, extra: &str, body: &str) {
    let reply = format!(
        "HTTP/1.1 {status} Answer\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(reply.as_bytes());
}
