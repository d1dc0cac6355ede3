//! The demo application of the `wt-server` tool (also run in-process by the adapters' tests),
//! written against the stack-independent session API only. Needs the `demo` feature (which
//! enables tokio's `rt` and `time`: the handlers spawn tasks and wait with timeouts).
//!
//! A server loops over its endpoint's `accept()` and spawns [`handle`] for each request, with
//! one [`Registry`] shared by all of them:
//!
//! ```ignore
//! let registry = Arc::new(wt_session::demo::Registry::default());
//! while let Some(request) = endpoint.accept().await {
//!     tokio::spawn(wt_session::demo::handle(request, registry.clone()));
//! }
//! ```
//!
//! Routes, all on WebTransport CONNECT:
//!
//! | path | behaviour |
//! |---|---|
//! | `/echo[?id=X]` | echo datagrams; each client uni stream comes back on a new server uni stream (FIN after the client's FIN); bidi streams are echoed in place; a client reset of a bidi stream is mirrored with the same code; how the client closed the session and the codes of its resets are kept under `X` |
//! | `/open[?id=X]` | open one bidi stream (4096 bytes, then echo, FIN after the client's FIN) and one uni stream (4096 bytes, FIN), then behave like `/echo` |
//! | `/close[?code=N&reason=S]` | close the session at once (default 42, "bye") |
//! | `/report?id=X` | open a uni stream and write `{"id","found","code","reason","resets":[...]}` about session `X` (waiting up to 3 s for it to end), FIN |
//! | anything else | 404 |
//!
//! If the client offers the protocol `echo-v1`, it is chosen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use tokio::sync::Notify;
use tracing::{debug, info};

use crate::{Error, RecvStream, SendStream, Session, SessionRequest};

/// The protocol chosen when offered.
pub const PROTOCOL: &str = "echo-v1";
/// The size of what `/open` sends first on each stream.
pub const OPEN_LEN: usize = 4096;

/// The bytes `/open` sends first on each stream.
pub fn open_payload() -> Bytes {
    (0..OPEN_LEN).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Sessions the registry remembers at most (it starts over when full).
pub const MAX_RECORDS: usize = 10_000;
/// The longest session id the registry remembers (a longer one is not recorded).
pub const MAX_ID_LEN: usize = 64;
/// Reset codes remembered per session (later ones are not recorded).
pub const MAX_RESETS: usize = 64;

/// What the server remembers about a session with an id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// The session ended: (code, reason).
    pub closed: Option<(u32, String)>,
    /// Codes of the client's stream resets, in order.
    pub resets: Vec<u32>,
}

impl Record {
    /// Remembers a reset code, up to [`MAX_RESETS`].
    fn record_reset(&mut self, code: u32) {
        if self.resets.len() < MAX_RESETS {
            self.resets.push(code);
        }
    }
}

/// Session records by id, shared by the sessions of one server.
#[derive(Debug, Default)]
pub struct Registry {
    records: Mutex<HashMap<String, Record>>,
    changed: Notify,
}

impl Registry {
    fn update(&self, id: &str, f: impl FnOnce(&mut Record)) {
        if id.len() > MAX_ID_LEN {
            return;
        }
        let mut map = self.records.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: the oldest entries do not matter for a demo, but memory must not grow forever.
        if map.len() >= MAX_RECORDS && !map.contains_key(id) {
            map.clear();
        }
        f(map.entry(id.to_string()).or_default());
        drop(map);
        self.changed.notify_waiters();
    }

    /// The record of `id`.
    pub fn get(&self, id: &str) -> Option<Record> {
        let map = self.records.lock().unwrap_or_else(|e| e.into_inner());
        map.get(id).cloned()
    }

    /// Waits up to `timeout` for session `id` to end; returns its record either way.
    pub async fn wait_closed(&self, id: &str, timeout: Duration) -> Option<Record> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let rec = self.get(id);
            if rec.as_ref().is_some_and(|r| r.closed.is_some()) {
                return rec;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.get(id);
            }
        }
    }
}

/// The report JSON for session `id`.
pub fn report_json(id: &str, record: Option<&Record>) -> String {
    let closed = record.and_then(|r| r.closed.as_ref());
    let resets: Vec<String> = record
        .map(|r| r.resets.iter().map(u32::to_string).collect())
        .unwrap_or_default();
    format!(
        "{{\"id\":{},\"found\":{},\"code\":{},\"reason\":{},\"resets\":[{}]}}",
        json_string(id),
        closed.is_some(),
        closed.map_or("null".to_string(), |(c, _)| c.to_string()),
        closed.map_or("null".to_string(), |(_, r)| json_string(r)),
        resets.join(",")
    )
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits a path into its route and query parameters.
pub fn parse_path(path: &str) -> (String, HashMap<String, String>) {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    let params = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    (route.to_string(), params)
}

/// Serves one session request.
pub async fn handle(request: SessionRequest, registry: Arc<Registry>) {
    let (route, params) = parse_path(request.path());
    let protocol = request
        .protocols()
        .iter()
        .any(|p| p == PROTOCOL)
        .then_some(PROTOCOL);
    info!(path = request.path(), origin = ?request.origin(), "session request");
    match route.as_str() {
        "/echo" | "/open" | "/close" | "/report" => {}
        _ => {
            let _ = request.reject(StatusCode::NOT_FOUND);
            return;
        }
    }
    let session = match request.accept_with(protocol, HeaderMap::new()) {
        Ok(s) => s,
        Err(e) => {
            debug!(error = %e, "accept failed");
            return;
        }
    };
    let id = params.get("id").cloned();
    match route.as_str() {
        "/close" => {
            let code = params
                .get("code")
                .and_then(|c| c.parse().ok())
                .unwrap_or(42);
            let reason = params.get("reason").map_or("bye", String::as_str);
            session.close(code, reason);
        }
        "/report" => {
            let id = id.unwrap_or_default();
            let record = registry.wait_closed(&id, Duration::from_secs(3)).await;
            let json = report_json(&id, record.as_ref());
            if let Ok(mut s) = session.open_uni().await {
                let _ = s.write_chunk(Bytes::from(json)).await;
                let _ = s.finish();
            }
            session.closed().await;
        }
        "/open" => {
            let s = session.clone();
            tokio::spawn(async move {
                if let Ok((mut send, recv)) = s.open_bi().await
                    && send.write_chunk(open_payload()).await.is_ok()
                {
                    echo_bi(send, recv, None, Arc::new(Registry::default())).await;
                }
            });
            let s = session.clone();
            tokio::spawn(async move {
                if let Ok(mut send) = s.open_uni().await {
                    let _ = send.write_chunk(open_payload()).await;
                    let _ = send.finish();
                }
            });
            echo(session, id, registry).await;
        }
        _ => echo(session, id, registry).await,
    }
}

async fn echo(session: Session, id: Option<String>, registry: Arc<Registry>) {
    if let Some(id) = &id {
        registry.update(id, |_| {});
    }
    let datagrams = {
        let s = session.clone();
        tokio::spawn(async move {
            while let Ok(d) = s.read_datagram().await {
                if s.send_datagram(d).is_err() {
                    // Too large for the return path, or the session ended.
                }
            }
        })
    };
    let uni = {
        let s = session.clone();
        let id = id.clone();
        let registry = registry.clone();
        tokio::spawn(async move {
            while let Ok(recv) = s.accept_uni().await {
                tokio::spawn(echo_uni(s.clone(), recv, id.clone(), registry.clone()));
            }
        })
    };
    let bi = {
        let s = session.clone();
        let id = id.clone();
        let registry = registry.clone();
        tokio::spawn(async move {
            while let Ok((send, recv)) = s.accept_bi().await {
                tokio::spawn(echo_bi(send, recv, id.clone(), registry.clone()));
            }
        })
    };
    let info = session.closed().await;
    debug!(?info, "echo session ended");
    if let Some(id) = &id {
        registry.update(id, |r| r.closed = Some((info.code, info.reason.clone())));
    }
    datagrams.abort();
    uni.abort();
    bi.abort();
}

async fn echo_uni(
    session: Session,
    mut recv: RecvStream,
    id: Option<String>,
    registry: Arc<Registry>,
) {
    // Echo as it arrives, on a stream opened with the first byte.
    let mut send: Option<SendStream> = None;
    loop {
        match recv.read_chunk(usize::MAX).await {
            Ok(Some(chunk)) => {
                if send.is_none() {
                    match session.open_uni().await {
                        Ok(s) => send = Some(s),
                        Err(_) => return,
                    }
                }
                if let Some(s) = send.as_mut()
                    && s.write_chunk(chunk).await.is_err()
                {
                    return;
                }
            }
            Ok(None) => {
                let mut s = match send {
                    Some(s) => s,
                    None => match session.open_uni().await {
                        Ok(s) => s,
                        Err(_) => return,
                    },
                };
                let _ = s.finish();
                return;
            }
            Err(Error::Reset(code)) => {
                if let Some(id) = &id {
                    registry.update(id, |r| r.record_reset(code));
                }
                if let Some(mut s) = send {
                    let _ = s.reset(code);
                }
                return;
            }
            Err(_) => return,
        }
    }
}

async fn echo_bi(
    mut send: SendStream,
    mut recv: RecvStream,
    id: Option<String>,
    registry: Arc<Registry>,
) {
    loop {
        match recv.read_chunk(usize::MAX).await {
            Ok(Some(chunk)) => {
                if send.write_chunk(chunk).await.is_err() {
                    return;
                }
            }
            Ok(None) => {
                let _ = send.finish();
                return;
            }
            Err(Error::Reset(code)) => {
                if let Some(id) = &id {
                    registry.update(id, |r| r.record_reset(code));
                }
                let _ = send.reset(code);
                return;
            }
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_bounded() {
        let r = Registry::default();
        for i in 0..2 * MAX_RESETS {
            r.update("a", |rec| rec.record_reset(i as u32));
        }
        assert_eq!(r.get("a").map(|rec| rec.resets.len()), Some(MAX_RESETS));
        r.update(&"x".repeat(MAX_ID_LEN + 1), |_| {});
        assert_eq!(r.get(&"x".repeat(MAX_ID_LEN + 1)), None);
        for i in 0..MAX_RECORDS + 1 {
            r.update(&i.to_string(), |_| {});
        }
        let len = r.records.lock().map(|m| m.len()).unwrap_or(0);
        assert!(len <= MAX_RECORDS, "{len}");
    }
}
