//! The engine reports each lifecycle step and each protocol error through `tracing`, inside a
//! per-connection span.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event as TraceEvent, Metadata, Subscriber};
use wt_proto::pair::Pair;
use wt_proto::*;

/// A minimal subscriber that records every event as `level span message fields`.
#[derive(Clone, Default)]
struct Recorder {
    lines: Arc<Mutex<Vec<String>>>,
    next: Arc<AtomicU64>,
    spans: Arc<Mutex<Vec<String>>>,
    stack: Arc<Mutex<Vec<String>>>,
}

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={:?}", field.name(), value));
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let mut f = Fields(attrs.metadata().name().to_string());
        attrs.record(&mut f);
        let mut spans = self.spans.lock().unwrap();
        spans.push(f.0);
        Id::from_u64(spans.len() as u64 + self.next.load(Ordering::Relaxed))
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &TraceEvent<'_>) {
        let mut f = Fields(String::new());
        event.record(&mut f);
        let span = self
            .stack
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default();
        self.lines
            .lock()
            .unwrap()
            .push(format!("{} [{}]{}", event.metadata().level(), span, f.0));
    }
    fn enter(&self, id: &Id) {
        let spans = self.spans.lock().unwrap();
        let name = spans
            .get(id.into_u64() as usize - 1)
            .cloned()
            .unwrap_or_default();
        self.stack.lock().unwrap().push(name);
    }
    fn exit(&self, _: &Id) {
        self.stack.lock().unwrap().pop();
    }
}

#[test]
fn lifecycle_and_errors_are_traced() {
    let recorder = Recorder::default();
    let lines = recorder.lines.clone();
    tracing::subscriber::with_default(recorder, || {
        let mut pair = Pair::new();
        pair.run();
        let s = pair
            .client
            .connect(ConnectRequest::new(
                ProtocolToken::WebTransport,
                "example.com",
                "/echo",
            ))
            .unwrap();
        pair.run();
        pair.server
            .accept(s, ConnectResponse::new(http::StatusCode::OK))
            .unwrap();
        pair.run();
        pair.client.close_session(s, 9, "done").unwrap();
        pair.run();
        // A protocol error: a second control stream from the client.
        pair.server.handle_stream_data(
            StreamId(14),
            Bytes::from_static(&[0x00, 0x04, 0x00]),
            false,
        );
        pair.run();
    });
    let lines = lines.lock().unwrap();
    let all = lines.join("\n");
    for needle in [
        "settings exchanged",
        "session requested",
        "sending CONNECT",
        "session accepted",
        "session established",
        "session closed locally",
        "session closed by peer",
        "connection error",
    ] {
        assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
    }
    let error = lines
        .iter()
        .find(|l| l.contains("connection error"))
        .unwrap();
    assert!(error.starts_with("WARN [h3 side=server]"), "{error}");
    assert!(error.contains("H3_STREAM_CREATION_ERROR"), "{error}");
}
