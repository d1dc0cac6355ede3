//! A server's view of an incoming session request.

use std::sync::Arc;

use http::{HeaderMap, StatusCode};
use wt_proto::{ConnectRequest, ConnectResponse, SessionId};

use crate::error::Error;
use crate::session::{Session, map_session_error};
use crate::shared::{Phase, Shared};

/// An incoming WebTransport session request. Answer it with [`accept`](Self::accept),
/// [`accept_with`](Self::accept_with) or [`reject`](Self::reject); dropping it unanswered
/// rejects it with 404.
#[derive(Debug)]
pub struct SessionRequest {
    shared: Arc<Shared>,
    id: SessionId,
    request: ConnectRequest,
    answered: bool,
}

impl SessionRequest {
    /// Wraps a request taken from [`Inner::take_request`](crate::Inner::take_request) (for
    /// transport drivers).
    pub fn new(shared: Arc<Shared>, id: SessionId, request: ConnectRequest) -> Self {
        Self {
            shared,
            id,
            request,
            answered: false,
        }
    }

    /// The session id it would get.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// `:authority`.
    pub fn authority(&self) -> &str {
        &self.request.authority
    }

    /// `:path` (with the query).
    pub fn path(&self) -> &str {
        &self.request.path
    }

    /// The `origin` field, if any.
    pub fn origin(&self) -> Option<&str> {
        self.request.origin.as_deref()
    }

    /// The other header fields.
    pub fn headers(&self) -> &HeaderMap {
        &self.request.headers
    }

    /// The application protocols the client offers (`WT-Available-Protocols`), in order.
    pub fn protocols(&self) -> &[String] {
        &self.request.available_protocols
    }

    /// The whole decoded request.
    pub fn request(&self) -> &ConnectRequest {
        &self.request
    }

    /// Accepts with 200 and no protocol.
    pub fn accept(self) -> Result<Session, Error> {
        self.accept_with(None, HeaderMap::new())
    }

    /// Accepts with 200, the chosen application `protocol` (one the client offered) and extra
    /// response `headers`.
    pub fn accept_with(
        mut self,
        protocol: Option<&str>,
        headers: HeaderMap,
    ) -> Result<Session, Error> {
        self.answered = true;
        let mut response = ConnectResponse::new(StatusCode::OK);
        response.protocol = protocol.map(str::to_string);
        response.headers = headers;
        let mut g = self.shared.lock();
        let r = g.engine.accept(self.id, response);
        if let Err(e) = r {
            let err = map_session_error(&g, self.id, e);
            g.sessions.remove(&self.id);
            return Err(err);
        }
        if let Some(s) = g.sessions.get_mut(&self.id) {
            s.phase = Phase::Established;
            s.established = true;
            s.protocol = protocol.map(str::to_string);
            s.handles = s.handles.saturating_add(1);
        }
        g.process_events();
        drop(g);
        self.shared.wake_driver();
        Ok(Session::from_parts(
            self.shared.clone(),
            self.id,
            protocol.map(str::to_string),
        ))
    }

    /// Rejects with a non-2xx `status`.
    pub fn reject(mut self, status: StatusCode) -> Result<(), Error> {
        self.answered = true;
        self.do_reject(status)
    }

    fn do_reject(&mut self, status: StatusCode) -> Result<(), Error> {
        let mut g = self.shared.lock();
        let r = g.engine.reject(self.id, status, HeaderMap::new());
        g.sessions.remove(&self.id);
        let r = r.map_err(|e| map_session_error(&g, self.id, e));
        g.process_events();
        drop(g);
        self.shared.wake_driver();
        r
    }
}

impl Drop for SessionRequest {
    fn drop(&mut self) {
        if !self.answered {
            let _ = self.do_reject(StatusCode::NOT_FOUND);
        }
    }
}
