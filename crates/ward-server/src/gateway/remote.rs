//! An upstream MCP server reached over Streamable HTTP (`url = "http://…"` or `"https://…"`,
//! TLS verified against the public roots or the server's `ca_file`). ward is that server's
//! client: it sends its own credential (`bearer_secret`), never the client's; it keeps
//! its own `Mcp-Session-Id` with the upstream, distinct from the client's with ward; and it
//! derives the 2026-07-28 headers from each body it sends.

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::sync::Mutex;
use tokio::sync::mpsc;
use ward_core::{ErrorCode, WardError};
use ward_mcp::http::{META_VERSION, SseReader};

/// The largest upstream message ward reads.
const MAX_MESSAGE: usize = 8 << 20;

/// One client session's (or the stateless requests') link to the upstream.
pub struct RemoteSession {
    host: String,
    port: u16,
    path: String,
    /// For `https://`: how the server's certificate is verified.
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    bearer: Option<String>,
    session: Mutex<Option<String>>,
    /// The protocol version `initialize` negotiated (sent on every later request).
    version: std::sync::Arc<Mutex<Option<String>>>,
    listener: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

fn bad(msg: impl Into<String>) -> WardError {
    WardError::new(ErrorCode::Io, msg)
}

/// The CA certificates of a PEM file (at least one).
pub fn read_ca_file(
    path: &str,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, WardError> {
    use rustls::pki_types::pem::PemObject;
    let bad = |m: String| WardError::new(ErrorCode::Config, m);
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(format!("cannot read the CA file `{path}`: {e}")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("the CA file `{path}` is not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(bad(format!("the CA file `{path}` holds no certificate")));
    }
    Ok(certs)
}

/// How an `https://` upstream's certificate is verified: against `ca_file`, else the public roots.
pub fn tls_config(ca_file: Option<&str>) -> Result<rustls::ClientConfig, WardError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(f) => {
            for cert in read_ca_file(f)? {
                roots.add(cert).map_err(|e| {
                    WardError::new(
                        ErrorCode::Config,
                        format!("a certificate in `{f}` is not a usable CA: {e}"),
                    )
                })?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| WardError::new(ErrorCode::Config, format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The TLS settings for `ca_file` (`None`: the public roots), built once per daemon rather than
/// on every upstream connection (which would read the CA file each time).
fn tls_for(ca_file: Option<&str>) -> Result<std::sync::Arc<rustls::ClientConfig>, WardError> {
    type Built =
        Mutex<std::collections::HashMap<Option<String>, std::sync::Arc<rustls::ClientConfig>>>;
    static BUILT: std::sync::OnceLock<Built> = std::sync::OnceLock::new();
    let built = BUILT.get_or_init(Built::default);
    let key = ca_file.map(str::to_string);
    if let Some(c) = built.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(c);
    }
    let c = std::sync::Arc::new(tls_config(ca_file)?);
    if let Ok(mut m) = built.lock() {
        m.insert(key, c.clone());
    }
    Ok(c)
}

/// `http[s]://host[:port]/path` → host, port, path, and whether it is TLS.
pub fn parse_url(url: &str) -> Result<(String, u16, String, bool), WardError> {
    let (rest, tls) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
        (Some(r), _) => (r, false),
        (_, Some(r)) => (r, true),
        _ => {
            return Err(WardError::new(
                ErrorCode::Config,
                format!("`{url}` is not an http:// or https:// URL"),
            ));
        }
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (
            h.trim_start_matches('[').trim_end_matches(']').to_string(),
            p.parse::<u16>().map_err(|_| {
                WardError::new(ErrorCode::Config, format!("`{url}` has a bad port"))
            })?,
        ),
        _ => (authority.to_string(), if tls { 443 } else { 80 }),
    };
    if host.is_empty() {
        return Err(WardError::new(
            ErrorCode::Config,
            format!("`{url}` has no host"),
        ));
    }
    Ok((host, port, path.to_string(), tls))
}

/// An `Mcp-Name` value: ASCII as is, anything else as `=?base64?…?=`.
fn encode_name(name: &str) -> String {
    if name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        name.to_string()
    } else {
        format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(name)
        )
    }
}

/// An HTTP/1.1 client connection over `io`, driven in the background.
async fn http1<T>(io: T) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, WardError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| bad(format!("the MCP server's HTTP: {e}")))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

impl RemoteSession {
    pub fn new(
        url: &str,
        bearer: Option<String>,
        ca_file: Option<&str>,
    ) -> Result<RemoteSession, WardError> {
        let (host, port, path, tls) = parse_url(url)?;
        let tls = match tls {
            true => Some(tls_for(ca_file)?),
            false => None,
        };
        Ok(RemoteSession {
            host,
            port,
            path,
            tls,
            bearer,
            session: Mutex::new(None),
            version: std::sync::Arc::default(),
            listener: Mutex::new(None),
        })
    }

    fn request_for(
        &self,
        method: hyper::Method,
        body: Option<&Value>,
    ) -> Result<hyper::Request<Full<Bytes>>, WardError> {
        let mut b = hyper::Request::builder()
            .method(method)
            .uri(&self.path)
            .header("host", format!("{}:{}", self.host, self.port))
            .header("accept", "application/json, text/event-stream");
        if let Some(t) = &self.bearer {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        if let Some(s) = self.session.lock().ok().and_then(|s| s.clone()) {
            b = b.header("mcp-session-id", s);
        }
        let meta_version = body
            .and_then(|m| m.pointer("/params/_meta"))
            .and_then(|m| m.get(META_VERSION))
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(v) = meta_version.or_else(|| self.version.lock().ok().and_then(|v| v.clone())) {
            b = b.header("mcp-protocol-version", v);
        }
        if let Some(m) = body {
            if let Some(method) = m.get("method").and_then(Value::as_str) {
                b = b.header("mcp-method", method);
                if let Some(n) = ward_mcp::http::name_of(m) {
                    b = b.header("mcp-name", encode_name(n));
                }
            }
            b = b.header("content-type", "application/json");
        }
        let bytes = body.map(|m| m.to_string()).unwrap_or_default();
        b.body(Full::new(Bytes::from(bytes)))
            .map_err(|e| bad(format!("cannot build the upstream request: {e}")))
    }

    /// A new HTTP/1.1 connection to the upstream (TLS for `https://`).
    async fn connect(
        host: &str,
        port: u16,
        tls: Option<&std::sync::Arc<rustls::ClientConfig>>,
    ) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, WardError> {
        let stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| bad(format!("cannot reach the MCP server at {host}:{port}: {e}")))?;
        let _ = stream.set_nodelay(true);
        match tls {
            None => http1(stream).await,
            Some(cfg) => {
                let name = rustls::pki_types::ServerName::try_from(host.to_string())
                    .map_err(|e| bad(format!("`{host}` is not a TLS server name: {e}")))?;
                let tls = tokio_rustls::TlsConnector::from(cfg.clone())
                    .connect(name, stream)
                    .await
                    .map_err(|e| {
                        bad(format!(
                            "TLS with the MCP server at {host}:{port} failed: {e} (a private CA goes in the server's `ca_file`)"
                        ))
                    })?;
                http1(tls).await
            }
        }
    }

    async fn send_raw(
        &self,
        req: hyper::Request<Full<Bytes>>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, WardError> {
        let mut sender = RemoteSession::connect(&self.host, self.port, self.tls.as_ref()).await?;
        sender
            .send_request(req)
            .await
            .map_err(|e| bad(format!("the MCP server did not answer: {e}")))
    }

    /// A JSON answer body, read whole up to [`MAX_MESSAGE`].
    async fn json_body(body: &mut hyper::body::Incoming) -> Result<Value, WardError> {
        let mut buf = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| bad(format!("reading the MCP server: {e}")))?;
            if let Some(d) = frame.data_ref() {
                if buf.len() + d.len() > MAX_MESSAGE {
                    return Err(bad("the MCP server's answer is too large"));
                }
                buf.extend_from_slice(d);
            }
        }
        serde_json::from_slice(&buf).map_err(|_| bad("the MCP server's answer is not JSON"))
    }

    /// Read a JSON or SSE answer body into `sink`, message by message; when `version` is given
    /// (an `initialize`), the protocol version an answer negotiates is kept there first.
    async fn pump(
        resp: hyper::Response<hyper::body::Incoming>,
        sink: &mpsc::Sender<Value>,
        version: Option<&Mutex<Option<String>>>,
    ) -> Result<(), WardError> {
        let deliver = |v: Value| async move {
            if let Some(slot) = version
                && let Some(pv) = v.pointer("/result/protocolVersion").and_then(Value::as_str)
                && let Ok(mut s) = slot.lock()
            {
                *s = Some(pv.to_string());
            }
            sink.send(v).await.is_ok()
        };
        let sse = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let mut body = resp.into_body();
        if !sse {
            let items = match RemoteSession::json_body(&mut body).await? {
                Value::Array(a) => a,
                one => vec![one],
            };
            for m in items {
                if !deliver(m).await {
                    break;
                }
            }
            return Ok(());
        }
        let mut reader = SseReader::new(MAX_MESSAGE);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| bad(format!("reading the MCP server: {e}")))?;
            let Some(d) = frame.data_ref() else { continue };
            for ev in reader.feed(d).map_err(bad)? {
                if let Ok(v) = serde_json::from_str::<Value>(&ev.data)
                    && !deliver(v).await
                {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// POST a request; its answer and the messages before it arrive on the receiver.
    pub async fn request(&self, msg: Value) -> Result<mpsc::Receiver<Value>, WardError> {
        let req = self.request_for(hyper::Method::POST, Some(&msg))?;
        let resp = self.send_raw(req).await?;
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let is_init = msg.get("method").and_then(Value::as_str) == Some("initialize");
        if is_init
            && let Some(s) = resp.headers().get("mcp-session-id")
            && let Ok(s) = s.to_str()
            && let Ok(mut slot) = self.session.lock()
        {
            *slot = Some(s.to_string());
        }
        let (tx, rx) = mpsc::channel(64);
        let status = resp.status();
        if !status.is_success() {
            // A JSON-RPC error the upstream gave is passed on; otherwise one is made.
            let mut body = resp.into_body();
            let v = match RemoteSession::json_body(&mut body).await {
                Ok(v) if v.get("error").is_some() => v,
                _ => json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32603,
                    "message": format!("the MCP server answered HTTP {status}")}}),
            };
            let _ = tx.send(v).await;
            return Ok(rx);
        }
        let version = self.version.clone();
        tokio::spawn(async move {
            let kept = is_init.then_some(version.as_ref());
            if let Err(e) = RemoteSession::pump(resp, &tx, kept).await {
                let _ = tx
                    .send(json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32603,
                        "message": format!("ward: {}", e.message)}}))
                    .await;
            }
        });
        Ok(rx)
    }

    /// POST a notification or an answer to one of the upstream's requests.
    pub async fn send(&self, msg: &Value) -> Result<(), WardError> {
        let req = self.request_for(hyper::Method::POST, Some(msg))?;
        let resp = self.send_raw(req).await?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(bad(format!(
                "the MCP server refused a message: HTTP {}",
                resp.status()
            )))
        }
    }

    /// The upstream's own stream (GET), relayed to the receiver.
    pub fn listen(self: &std::sync::Arc<Self>) -> mpsc::Receiver<Value> {
        let (tx, rx) = mpsc::channel(256);
        let me = self.clone();
        let task = tokio::spawn(async move {
            let Ok(req) = me.request_for(hyper::Method::GET, None) else {
                return;
            };
            if let Ok(resp) = me.send_raw(req).await
                && resp.status().is_success()
            {
                let _ = RemoteSession::pump(resp, &tx, None).await;
            }
        });
        if let Ok(mut l) = self.listener.lock()
            && let Some(old) = l.replace(task)
        {
            old.abort();
        }
        rx
    }

    /// End the upstream session (DELETE), in the background.
    pub fn end(&self) {
        if let Ok(mut l) = self.listener.lock()
            && let Some(t) = l.take()
        {
            t.abort();
        }
        if self.session.lock().ok().and_then(|s| s.clone()).is_none() {
            return;
        }
        let Ok(req) = self.request_for(hyper::Method::DELETE, None) else {
            return;
        };
        let (host, port, tls) = (self.host.clone(), self.port, self.tls.clone());
        tokio::spawn(async move {
            if let Ok(mut s) = RemoteSession::connect(&host, port, tls.as_ref()).await {
                let _ = s.send_request(req).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn urls_split_into_host_port_and_path() {
        assert_eq!(
            parse_url("http://127.0.0.1:8931/mcp").unwrap(),
            ("127.0.0.1".into(), 8931, "/mcp".into(), false)
        );
        assert_eq!(
            parse_url("http://localhost").unwrap(),
            ("localhost".into(), 80, "/".into(), false)
        );
        assert_eq!(
            parse_url("http://[::1]:9/x").unwrap(),
            ("::1".into(), 9, "/x".into(), false)
        );
        assert_eq!(
            parse_url("https://mcp.example.com/v1").unwrap(),
            ("mcp.example.com".into(), 443, "/v1".into(), true)
        );
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("http://:80/").is_err());
        assert_eq!(encode_name("get_weather"), "get_weather");
        assert_eq!(
            ward_mcp::http::decode_name(&encode_name("wetter_überall")).as_deref(),
            Some("wetter_überall")
        );
    }
}
