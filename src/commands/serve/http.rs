//! Just enough HTTP/1.1 for a metrics endpoint: one `GET` or `HEAD` request per connection,
//! answered with `Connection: close`. Prometheus and curl need nothing more, and a server
//! this small is one whose every path can be read: nothing from a request reaches the
//! filesystem or the collector, the request's head is capped at [`MAX_HEAD`] bytes, and a
//! client that sends nothing is dropped after the caller's read timeout.

use std::io::{self, Read, Write};

/// The longest request head read (request line and headers). Prometheus sends about 300
/// bytes; a browser about 1 KiB.
pub const MAX_HEAD: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// The path, without the query string.
    pub path: String,
    /// The `Accept` header, when sent.
    pub accept: Option<String>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("request head larger than {MAX_HEAD} bytes")]
    TooLarge,
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    #[error("connection closed before a whole request")]
    Closed,
    #[error("no whole request within the time allowed")]
    TimedOut,
    #[error("reading the request: {0}")]
    Io(String),
}

/// Parses a request head, `Ok(None)` while it is incomplete (no blank line yet).
pub fn parse_head(buf: &[u8]) -> Result<Option<Request>, RequestError> {
    // The head ends at an empty line; RFC 9112 §2.2 lets a server take a bare LF for CRLF.
    let end = match (find(buf, b"\r\n\r\n"), find(buf, b"\n\n")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let Some(end) = end.filter(|&e| e < MAX_HEAD) else {
        return if buf.len() >= MAX_HEAD {
            Err(RequestError::TooLarge)
        } else {
            Ok(None)
        };
    };
    let head =
        std::str::from_utf8(&buf[..end]).map_err(|_| RequestError::Malformed("not UTF-8"))?;
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let line = lines.next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(RequestError::Malformed("request line"));
    };
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(RequestError::Malformed("HTTP version"));
    }
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(RequestError::Malformed("method"));
    }
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        other => Method::Other(other.to_string()),
    };
    let path = target
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_string();
    let mut accept = None;
    for h in lines {
        let Some((name, value)) = h.split_once(':') else {
            return Err(RequestError::Malformed("header line"));
        };
        if name.eq_ignore_ascii_case("accept") {
            accept = Some(value.trim().to_string());
        }
    }
    Ok(Some(Request {
        method,
        path,
        accept,
    }))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads one request head from `conn` (whose reads the caller bounds in time: see
/// [`Deadlined`]).
pub fn read_request(conn: &mut dyn Read) -> Result<Request, RequestError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = match conn.read(&mut chunk) {
            Ok(0) => return Err(RequestError::Closed),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(RequestError::TimedOut);
            }
            Err(e) => return Err(RequestError::Io(e.to_string())),
        };
        // Only what could still end the head is kept: a flood stops at MAX_HEAD.
        let room = (MAX_HEAD + 4).saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..n.min(room)]);
        if let Some(r) = parse_head(&buf)? {
            return Ok(r);
        }
    }
}

/// Whether the client prefers OpenMetrics 1.0 to the Prometheus text format: an
/// `application/openmetrics-text` range (version 1.0.0 or none) with a quality above 0 and
/// at least that of `text/plain`. `*/*` alone means the classic text, as it does for
/// node_exporter.
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    let mut best_om: f32 = 0.0;
    let mut best_text: f32 = 0.0;
    for range in accept.split(',') {
        let mut params = range.split(';').map(str::trim);
        let media = params.next().unwrap_or_default().to_ascii_lowercase();
        let mut q: f32 = 1.0;
        let mut version: Option<String> = None;
        for p in params {
            if let Some((k, v)) = p.split_once('=') {
                let v = v.trim().trim_matches('"');
                match k.trim().to_ascii_lowercase().as_str() {
                    "q" => q = v.parse().unwrap_or(0.0),
                    "version" => version = Some(v.to_string()),
                    _ => {}
                }
            }
        }
        match media.as_str() {
            "application/openmetrics-text" if version.as_deref().is_none_or(|v| v == "1.0.0") => {
                best_om = best_om.max(q);
            }
            "text/plain" => best_text = best_text.max(q),
            _ => {}
        }
    }
    best_om > 0.0 && best_om >= best_text
}

/// One response, always closing the connection.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// `Allow` header (405 answers).
    pub allow: Option<&'static str>,
}

impl Response {
    pub fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.as_bytes().to_vec(),
            allow: None,
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    }
}

/// Writes `r`; for a `HEAD` request the headers only (with the body's length).
pub fn write_response(w: &mut dyn Write, r: &Response, head_only: bool) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        r.status,
        reason(r.status),
        r.content_type,
        r.body.len()
    );
    if let Some(allow) = r.allow {
        head.push_str(&format!("Allow: {allow}\r\n"));
    }
    head.push_str("\r\n");
    w.write_all(head.as_bytes())?;
    if !head_only {
        w.write_all(&r.body)?;
    }
    w.flush()
}

/// A connection whose reads and writes together must end by `deadline`: each call gets the
/// time left as its timeout, so a client that sends (or reads) one byte every few seconds
/// cannot hold its slot longer than a silent one.
pub struct Deadlined<'a> {
    pub stream: &'a std::net::TcpStream,
    pub deadline: std::time::Instant,
}

impl Deadlined<'_> {
    fn left(&self) -> io::Result<std::time::Duration> {
        let left = self
            .deadline
            .saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection deadline",
            ))
        } else {
            Ok(left)
        }
    }
}

impl Read for Deadlined<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_read_timeout(Some(self.left()?))?;
        (&mut &*self.stream).read(buf)
    }
}

impl Write for Deadlined<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.set_write_timeout(Some(self.left()?))?;
        (&mut &*self.stream).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&mut &*self.stream).flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(text: &str) -> Result<Option<Request>, RequestError> {
        parse_head(text.as_bytes())
    }

    #[test]
    fn requests() {
        let r = req("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n\r\n")
            .expect("parses")
            .expect("complete");
        assert_eq!(r.method, Method::Get);
        assert_eq!(r.path, "/metrics");
        assert_eq!(r.accept.as_deref(), Some("text/plain"));
        let r = req("HEAD / HTTP/1.0\r\n\r\n")
            .expect("ok")
            .expect("complete");
        assert_eq!((r.method, r.path.as_str()), (Method::Head, "/"));
        let r = req("POST /metrics HTTP/1.1\r\n\r\n")
            .expect("ok")
            .expect("complete");
        assert_eq!(r.method, Method::Other("POST".into()));
        assert_eq!(req("GET /metrics HTTP/1.1\r\nHost: a\r\n"), Ok(None));
        let bare = req("GET /metrics HTTP/1.1\nAccept: text/plain\n\n")
            .expect("bare LF parses")
            .expect("complete");
        assert_eq!(bare.accept.as_deref(), Some("text/plain"));
        for bad in [
            "GET /metrics\r\n\r\n",
            "GET /metrics HTTP/2\r\n\r\n",
            "GET /metrics HTTP/1.9\r\n\r\n",
            "get / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1 extra\r\n\r\n",
            "GET / HTTP/1.1\r\nno colon\r\n\r\n",
            "\r\n\r\n",
        ] {
            assert!(
                matches!(req(bad), Err(RequestError::Malformed(_))),
                "{bad:?}"
            );
        }
        let flood = vec![b'a'; MAX_HEAD + 10];
        assert_eq!(parse_head(&flood), Err(RequestError::TooLarge));
        assert!(matches!(
            parse_head(b"GET /\xff HTTP/1.1\r\n\r\n"),
            Err(RequestError::Malformed(_))
        ));
    }

    #[test]
    fn reading_stops_at_the_cap_and_at_eof() {
        let mut flood: &[u8] = &vec![b'x'; MAX_HEAD * 4];
        assert_eq!(read_request(&mut flood), Err(RequestError::TooLarge));
        let mut cut: &[u8] = b"GET / HTTP/1.1\r\n";
        assert_eq!(read_request(&mut cut), Err(RequestError::Closed));
        let mut ok: &[u8] = b"GET /metrics HTTP/1.1\r\n\r\n";
        assert_eq!(read_request(&mut ok).map(|r| r.path), Ok("/metrics".into()));
    }

    /// What Prometheus 2.x and 3.x send, and what curl and browsers send.
    #[test]
    fn negotiation() {
        let prom2 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(wants_openmetrics(Some(prom2)));
        let prom_text_first =
            "text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5";
        assert!(!wants_openmetrics(Some(prom_text_first)));
        assert!(!wants_openmetrics(Some(
            "application/openmetrics-text;version=0.0.1"
        )));
        assert!(!wants_openmetrics(Some("*/*")));
        assert!(!wants_openmetrics(None));
        assert!(!wants_openmetrics(Some(
            "application/openmetrics-text; q=0"
        )));
        assert!(wants_openmetrics(Some("Application/OpenMetrics-Text")));
        assert!(!wants_openmetrics(Some("text/html,application/xhtml+xml")));
    }

    #[test]
    fn responses() {
        let mut out = Vec::new();
        let mut r = Response::text(405, "only GET\n");
        r.allow = Some("GET, HEAD");
        write_response(&mut out, &r, false).expect("write");
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: 9\r\nConnection: close\r\nAllow: GET, HEAD\r\n\r\nonly GET\n"
        );
        let mut out = Vec::new();
        write_response(&mut out, &Response::text(200, "abc"), true).expect("write");
        assert!(
            String::from_utf8(out)
                .expect("utf-8")
                .ends_with("Content-Length: 3\r\nConnection: close\r\n\r\n")
        );
    }
}
