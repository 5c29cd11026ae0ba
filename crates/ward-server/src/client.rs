//! A small blocking HTTP/1.1 client for ward's own endpoints, over the unix socket or TCP: what
//! the hook process (no async runtime, start-up is its budget), the CLI and the load tool use.
//! It speaks exactly what `ward serve` answers: `Content-Length` or chunked bodies, keep-alive.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// Where the daemon listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    /// `host:port`
    Tcp(String),
}

impl Endpoint {
    /// `http://host:port` (a trailing path is ignored) or `unix:/path`.
    pub fn parse(s: &str) -> Option<Endpoint> {
        if let Some(p) = s.strip_prefix("unix:") {
            return Some(Endpoint::Unix(PathBuf::from(p)));
        }
        let rest = s.strip_prefix("http://")?;
        let hostport = rest.split('/').next()?;
        (!hostport.is_empty()).then(|| Endpoint::Tcp(hostport.to_string()))
    }
}

/// What went wrong, and whether the request could have reached the daemon.
#[derive(Debug)]
pub enum ClientError {
    /// Nothing was sent: the daemon is not there.
    Connect(std::io::Error),
    /// The request was (perhaps) sent, but no whole answer came back.
    Exchange(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Connect(e) => write!(f, "cannot connect: {e}"),
            ClientError::Exchange(m) => write!(f, "{m}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Unix(s) => s.flush(),
            Stream::Tcp(s) => s.flush(),
        }
    }
}

/// Largest answer accepted.
const MAX_RESPONSE: usize = 16 << 20;

/// One connection; requests on it reuse it (keep-alive).
pub struct Connection {
    reader: BufReader<Stream>,
    host: String,
}

impl Connection {
    pub fn open(ep: &Endpoint, timeout: Duration) -> Result<Connection, ClientError> {
        let (stream, host) = match ep {
            Endpoint::Unix(p) => {
                let s = UnixStream::connect(p).map_err(ClientError::Connect)?;
                s.set_read_timeout(Some(timeout))
                    .and_then(|_| s.set_write_timeout(Some(timeout)))
                    .map_err(ClientError::Connect)?;
                (Stream::Unix(s), "localhost".to_string())
            }
            Endpoint::Tcp(hp) => {
                use std::net::ToSocketAddrs;
                let addr = hp
                    .to_socket_addrs()
                    .map_err(ClientError::Connect)?
                    .next()
                    .ok_or_else(|| {
                        ClientError::Connect(std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            format!("`{hp}` resolves to no address"),
                        ))
                    })?;
                let s = TcpStream::connect_timeout(&addr, timeout.min(Duration::from_secs(10)))
                    .map_err(ClientError::Connect)?;
                s.set_nodelay(true)
                    .and_then(|_| s.set_read_timeout(Some(timeout)))
                    .and_then(|_| s.set_write_timeout(Some(timeout)))
                    .map_err(ClientError::Connect)?;
                (Stream::Tcp(s), hp.clone())
            }
        };
        Ok(Connection {
            reader: BufReader::with_capacity(16 * 1024, stream),
            host,
        })
    }

    /// Change how long a read may wait (a hook waiting for an approver waits longer).
    pub fn set_timeout(&mut self, timeout: Duration) {
        let _ = match self.reader.get_ref() {
            Stream::Unix(s) => s.set_read_timeout(Some(timeout)),
            Stream::Tcp(s) => s.set_read_timeout(Some(timeout)),
        };
    }

    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, ClientError> {
        let x =
            |e: std::io::Error| ClientError::Exchange(format!("the daemon did not answer: {e}"));
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        for (k, v) in headers {
            head.push_str(k);
            head.push_str(": ");
            head.push_str(v);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let mut msg = head.into_bytes();
        msg.extend_from_slice(body);
        let w = self.reader.get_mut();
        let written = w.write_all(&msg).and_then(|_| w.flush());
        // A server may answer (a refusal) and close before it read the whole body: the write
        // then fails, but the answer is there to read.
        match (written, self.read_response()) {
            (_, Ok(r)) => Ok(r),
            (Err(e), Err(_)) => Err(x(e)),
            (Ok(()), Err(ClientError::Connect(e))) => Err(x(e)),
            (Ok(()), Err(e)) => Err(e),
        }
    }

    fn read_line(&mut self) -> Result<String, ClientError> {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .map_err(|e| ClientError::Exchange(format!("the daemon did not answer: {e}")))?;
        if n == 0 {
            return Err(ClientError::Exchange(
                "the daemon closed the connection without answering".into(),
            ));
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }

    fn read_response(&mut self) -> Result<Response, ClientError> {
        let bad = |m: &str| ClientError::Exchange(format!("malformed answer from the daemon: {m}"));
        let status_line = self.read_line()?;
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| bad("no status"))?;
        let mut headers = Vec::new();
        loop {
            let line = self.read_line()?;
            if line.is_empty() {
                break;
            }
            let (k, v) = line.split_once(':').ok_or_else(|| bad("header"))?;
            headers.push((k.trim().to_string(), v.trim().to_string()));
            if headers.len() > 100 {
                return Err(bad("too many headers"));
            }
        }
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                let size_line = self.read_line()?;
                let size =
                    usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                        .map_err(|_| bad("chunk size"))?;
                if size == 0 {
                    let _ = self.read_line()?;
                    break;
                }
                if body.len() + size > MAX_RESPONSE {
                    return Err(bad("too large"));
                }
                let start = body.len();
                body.resize(start + size, 0);
                self.reader.read_exact(&mut body[start..]).map_err(|e| {
                    ClientError::Exchange(format!("the daemon did not answer: {e}"))
                })?;
                let _ = self.read_line()?;
            }
        } else if let Some(len) = get("content-length") {
            let len: usize = len.parse().map_err(|_| bad("content-length"))?;
            if len > MAX_RESPONSE {
                return Err(bad("too large"));
            }
            body.resize(len, 0);
            self.reader
                .read_exact(&mut body)
                .map_err(|e| ClientError::Exchange(format!("the daemon did not answer: {e}")))?;
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// One request on a fresh connection.
pub fn request(
    ep: &Endpoint,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<Response, ClientError> {
    Connection::open(ep, timeout)?.request(method, path, headers, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:7878/v1"),
            Some(Endpoint::Tcp("127.0.0.1:7878".into()))
        );
        assert_eq!(
            Endpoint::parse("unix:/tmp/w.sock"),
            Some(Endpoint::Unix("/tmp/w.sock".into()))
        );
        assert_eq!(Endpoint::parse("https://x"), None);
        assert_eq!(Endpoint::parse("http://"), None);
    }

    #[test]
    fn reads_length_and_chunked_answers_on_one_connection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            for answer in [
                "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nward-event-id: evt_1\r\n\r\nhello",
                "HTTP/1.1 403 Forbidden\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            ] {
                // Read one request (headers + a 2-byte body).
                let mut line = String::new();
                loop {
                    line.clear();
                    r.read_line(&mut line).unwrap();
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut b = [0u8; 2];
                r.read_exact(&mut b).unwrap();
                s.write_all(answer.as_bytes()).unwrap();
            }
        });
        let ep = Endpoint::Unix(path);
        let mut c = Connection::open(&ep, Duration::from_secs(5)).unwrap();
        let a = c.request("POST", "/x", &[], b"{}").unwrap();
        assert_eq!((a.status, a.body.as_slice()), (200, b"hello".as_slice()));
        assert_eq!(a.header("Ward-Event-Id"), Some("evt_1"));
        let b = c.request("POST", "/y", &[("a", "b")], b"{}").unwrap();
        assert_eq!((b.status, b.body.as_slice()), (403, b"abcde".as_slice()));
        server.join().unwrap();
        // Nobody listening: a connect error, which the hook treats as "daemon down".
        drop(c);
        assert!(matches!(
            request(&ep, "GET", "/", &[], b"", Duration::from_secs(1)),
            Err(ClientError::Connect(_))
        ));
    }
}
