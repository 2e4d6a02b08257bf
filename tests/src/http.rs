//! A minimal HTTP/1.1 client over a raw TCP socket, so requests go on the wire exactly as the
//! Functions host sends them (chunked bodies without `Content-Length`, chosen headers only).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::SimError;

/// How the request body is framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// No body.
    Empty,
    /// `Transfer-Encoding: chunked`, no `Content-Length`, sent in these chunks.
    Chunked(Vec<Vec<u8>>),
    /// `Content-Length` framing.
    Fixed(Vec<u8>),
}

impl Body {
    /// A chunked body split into chunks of at most `chunk` bytes (at least one chunk).
    pub fn chunked(bytes: &[u8], chunk: usize) -> Self {
        let chunk = chunk.max(1);
        Body::Chunked(bytes.chunks(chunk).map(<[u8]>::to_vec).collect())
    }
}

/// A raw request.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, e.g. `/Echo`.
    pub path: String,
    /// Headers in order (the client adds `Host` and the framing header).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
}

/// A raw response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers as received (names lower-cased).
    pub headers: Vec<(String, String)>,
    /// The de-chunked body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header of that (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as (lossy) text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Send one request on a new connection and read the response.
pub async fn send(addr: SocketAddr, request: &Request, timeout: Duration) -> Result<Response, SimError> {
    tokio::time::timeout(timeout, send_inner(addr, request))
        .await
        .map_err(|_| SimError::Timeout(format!("{} {} after {timeout:?}", request.method, request.path)))?
}

async fn send_inner(addr: SocketAddr, request: &Request) -> Result<Response, SimError> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut head = format!("{} {} HTTP/1.1\r\nHost: {addr}\r\n", request.method, request.path);
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match &request.body {
        Body::Empty => {}
        Body::Chunked(_) => head.push_str("Transfer-Encoding: chunked\r\n"),
        Body::Fixed(bytes) => head.push_str(&format!("Content-Length: {}\r\n", bytes.len())),
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    match &request.body {
        Body::Empty => {}
        Body::Fixed(bytes) => stream.write_all(bytes).await?,
        Body::Chunked(chunks) => {
            for chunk in chunks.iter().filter(|c| !c.is_empty()) {
                stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await?;
                stream.write_all(chunk).await?;
                stream.write_all(b"\r\n").await?;
                stream.flush().await?;
            }
            stream.write_all(b"0\r\n\r\n").await?;
        }
    }
    stream.flush().await?;
    read_response(&mut stream).await
}

fn protocol(msg: impl Into<String>) -> SimError {
    SimError::Protocol(msg.into())
}

async fn read_response(stream: &mut TcpStream) -> Result<Response, SimError> {
    let mut buf = Vec::new();
    let header_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(protocol(format!("connection closed before the response head ({} bytes read)", buf.len())));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let mut rest = buf[header_end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| protocol(format!("bad status line {status_line:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let get = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let body = if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        read_chunked(stream, rest).await?
    } else if let Some(len) = get("content-length") {
        let len: usize = len.parse().map_err(|_| protocol(format!("bad content-length {len:?}")))?;
        while rest.len() < len {
            let mut chunk = vec![0u8; (len - rest.len()).min(1 << 20)];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(protocol("connection closed inside the body"));
            }
            rest.extend_from_slice(&chunk[..n]);
        }
        rest.truncate(len);
        rest
    } else if status == 204 || status == 304 || (100..200).contains(&status) {
        Vec::new()
    } else {
        stream.read_to_end(&mut rest).await?;
        rest
    };
    Ok(Response { status, headers, body })
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>, need: usize) -> Result<(), SimError> {
    while buf.len() < need {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(protocol("connection closed inside a chunked body"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}

async fn read_chunked(stream: &mut TcpStream, mut buf: Vec<u8>) -> Result<Vec<u8>, SimError> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(pos) = find(&buf, b"\r\n") {
                break pos;
            }
            let need = buf.len() + 1;
            fill(stream, &mut buf, need).await?;
        };
        let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| protocol(format!("bad chunk size {size_text:?}")))?;
        buf.drain(..line_end + 2);
        if size == 0 {
            return Ok(body);
        }
        fill(stream, &mut buf, size + 2).await?;
        body.extend_from_slice(&buf[..size]);
        buf.drain(..size + 2);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
