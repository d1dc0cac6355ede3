//! Stream handles: `SendStream` (tokio `AsyncWrite`) and `RecvStream` (tokio `AsyncRead`), with
//! zero-copy chunk calls.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use wt_proto::{SessionId, StreamError, StreamId};

use crate::error::Error;
use crate::shared::{Inner, Shared};

/// The most bytes one `AsyncWrite::poll_write` copies into a chunk.
const COPY_CHUNK: usize = 64 * 1024;

/// The send side of a WebTransport stream.
///
/// Dropping it without [`finish`](Self::finish) or [`reset`](Self::reset) finishes it.
#[derive(Debug)]
pub struct SendStream {
    shared: Arc<Shared>,
    id: StreamId,
    session: SessionId,
    /// Finished or reset locally.
    done: bool,
}

/// The receive side of a WebTransport stream.
///
/// Dropping it before the end of the stream stops it with code 0.
#[derive(Debug)]
pub struct RecvStream {
    shared: Arc<Shared>,
    id: StreamId,
    session: SessionId,
    /// FIN read, or stopped locally.
    done: bool,
}

/// The error for a stream call that the engine refused.
fn stream_error(g: &Inner, id: StreamId, session: SessionId, e: &StreamError) -> Error {
    let st = g.streams.get(&id);
    if let Some(code) = st.and_then(|s| s.stopped) {
        return Error::Stopped(code);
    }
    if let Some(code) = st.and_then(|s| s.reset) {
        return Error::Reset(code);
    }
    if let Some(err) = g.session_error(session) {
        return err;
    }
    match e {
        StreamError::ConnectionClosed => g
            .connection_error()
            .cloned()
            .unwrap_or_else(|| Error::ConnectionLost("connection closed".into())),
        _ => Error::ClosedStream,
    }
}

impl SendStream {
    pub(crate) fn new(shared: Arc<Shared>, id: StreamId, session: SessionId) -> Self {
        Self {
            shared,
            id,
            session,
            done: false,
        }
    }

    /// The QUIC stream id.
    pub fn id(&self) -> StreamId {
        self.id
    }

    /// Writes a prefix of `data` without copying; returns how many bytes were taken (at least
    /// one), waiting while the stream's send buffer is full.
    pub fn poll_write_chunk(
        &mut self,
        cx: &mut Context<'_>,
        data: &mut Bytes,
    ) -> Poll<Result<usize, Error>> {
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut g = self.shared.lock();
        if self.done {
            return Poll::Ready(Err(Error::ClosedStream));
        }
        if let Some(code) = g.streams.get(&self.id).and_then(|s| s.stopped) {
            return Poll::Ready(Err(Error::Stopped(code)));
        }
        match g.engine.write(self.id, data.clone()) {
            Ok(0) => {
                if let Some(st) = g.streams.get_mut(&self.id) {
                    st.write_waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            Ok(n) => {
                data.advance(n);
                drop(g);
                self.shared.wake_driver();
                Poll::Ready(Ok(n))
            }
            Err(e) => Poll::Ready(Err(stream_error(&g, self.id, self.session, &e))),
        }
    }

    /// Writes all of `data` without copying it.
    pub async fn write_chunk(&mut self, mut data: Bytes) -> Result<(), Error> {
        while !data.is_empty() {
            poll_fn(|cx| self.poll_write_chunk(cx, &mut data)).await?;
        }
        Ok(())
    }

    /// Writes a prefix of `buf` (copied); returns how many bytes were taken.
    pub async fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
        let mut chunk = Bytes::copy_from_slice(&buf[..buf.len().min(COPY_CHUNK)]);
        poll_fn(|cx| self.poll_write_chunk(cx, &mut chunk)).await
    }

    /// Finishes the stream after the bytes written so far.
    pub fn finish(&mut self) -> Result<(), Error> {
        let mut g = self.shared.lock();
        if self.done {
            return Err(Error::ClosedStream);
        }
        let r = g.engine.finish(self.id);
        let r = r.map_err(|e| stream_error(&g, self.id, self.session, &e));
        if r.is_ok() {
            self.done = true;
        }
        drop(g);
        self.shared.wake_driver();
        r
    }

    /// Resets the stream with an application `code`; unsent bytes are dropped.
    pub fn reset(&mut self, code: u32) -> Result<(), Error> {
        let mut g = self.shared.lock();
        if self.done {
            return Err(Error::ClosedStream);
        }
        let r = g.engine.reset(self.id, code);
        let r = r.map_err(|e| stream_error(&g, self.id, self.session, &e));
        self.done = true;
        g.process_events();
        drop(g);
        self.shared.wake_driver();
        r
    }

    /// Whether the peer asked us to stop sending, and with which code.
    pub fn stopped(&self) -> Option<u32> {
        let g = self.shared.lock();
        g.streams.get(&self.id).and_then(|s| s.stopped)
    }
}

impl Drop for SendStream {
    fn drop(&mut self) {
        let mut g = self.shared.lock();
        if !self.done {
            let _ = g.engine.finish(self.id);
        }
        if let Some(st) = g.streams.get_mut(&self.id) {
            st.send_handle = false;
            st.write_waker = None;
        }
        g.release_stream(self.id);
        drop(g);
        if !self.done {
            self.shared.wake_driver();
        }
    }
}

impl AsyncWrite for SendStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let mut chunk = Bytes::copy_from_slice(&buf[..buf.len().min(COPY_CHUNK)]);
        this.poll_write_chunk(cx, &mut chunk).map_err(Into::into)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(Ok(()));
        }
        Poll::Ready(this.finish().map_err(Into::into))
    }
}

impl RecvStream {
    pub(crate) fn new(shared: Arc<Shared>, id: StreamId, session: SessionId) -> Self {
        Self {
            shared,
            id,
            session,
            done: false,
        }
    }

    /// The QUIC stream id.
    pub fn id(&self) -> StreamId {
        self.id
    }

    /// Reads up to `max` bytes without copying; `None` at the end of the stream.
    pub fn poll_read_chunk(
        &mut self,
        cx: &mut Context<'_>,
        max: usize,
    ) -> Poll<Result<Option<Bytes>, Error>> {
        let mut g = self.shared.lock();
        if self.done {
            return match g.streams.get(&self.id) {
                Some(st) if st.fin_read => Poll::Ready(Ok(None)),
                _ => Poll::Ready(Err(Error::ClosedStream)),
            };
        }
        match g.engine.read(self.id, max) {
            Ok(Some(chunk)) => {
                // A read that gave a full stream room again queued `ResumeReading`.
                let wake = g.engine.has_actions();
                drop(g);
                if wake {
                    self.shared.wake_driver();
                }
                Poll::Ready(Ok(Some(chunk)))
            }
            Ok(None) => {
                self.done = true;
                if let Some(st) = g.streams.get_mut(&self.id) {
                    st.fin_read = true;
                }
                Poll::Ready(Ok(None))
            }
            Err(StreamError::Blocked) => {
                if let Some(st) = g.streams.get_mut(&self.id) {
                    st.read_waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            Err(e) => {
                let st = g.streams.get(&self.id);
                let err = match st.and_then(|s| s.reset) {
                    Some(code) => Error::Reset(code),
                    None => stream_error(&g, self.id, self.session, &e),
                };
                Poll::Ready(Err(err))
            }
        }
    }

    /// Reads the next chunk of at most `max` bytes without copying; `None` at the end.
    pub async fn read_chunk(&mut self, max: usize) -> Result<Option<Bytes>, Error> {
        poll_fn(|cx| self.poll_read_chunk(cx, max)).await
    }

    /// Reads into `buf`; `None` at the end of the stream.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<Option<usize>, Error> {
        let chunk = self.read_chunk(buf.len()).await?;
        Ok(chunk.map(|c| {
            buf[..c.len()].copy_from_slice(&c);
            c.len()
        }))
    }

    /// Reads the rest of the stream, failing if it is longer than `limit`.
    pub async fn read_to_end(&mut self, limit: usize) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        while let Some(chunk) = self.read_chunk(usize::MAX).await? {
            if out.len().saturating_add(chunk.len()) > limit {
                return Err(Error::Invalid(format!("stream longer than {limit} bytes")));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Stops reading, asking the peer to reset the stream with an application `code`.
    pub fn stop(&mut self, code: u32) -> Result<(), Error> {
        let mut g = self.shared.lock();
        if self.done {
            return Err(Error::ClosedStream);
        }
        self.done = true;
        let r = g.engine.stop(self.id, code);
        let r = r.map_err(|e| stream_error(&g, self.id, self.session, &e));
        drop(g);
        self.shared.wake_driver();
        r
    }

    /// Whether the peer reset the stream, and with which code.
    pub fn received_reset(&self) -> Option<u32> {
        let g = self.shared.lock();
        g.streams.get(&self.id).and_then(|s| s.reset)
    }
}

impl Drop for RecvStream {
    fn drop(&mut self) {
        let mut g = self.shared.lock();
        let stop = !self.done
            && g.streams
                .get(&self.id)
                .is_some_and(|s| s.reset.is_none() && !s.fin_read);
        if stop {
            let _ = g.engine.stop(self.id, 0);
        }
        if let Some(st) = g.streams.get_mut(&self.id) {
            st.recv_handle = false;
            st.read_waker = None;
        }
        g.release_stream(self.id);
        drop(g);
        if stop {
            self.shared.wake_driver();
        }
    }
}

impl AsyncRead for RecvStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let max = buf.remaining();
        if max == 0 {
            return Poll::Ready(Ok(()));
        }
        match this.poll_read_chunk(cx, max) {
            Poll::Ready(Ok(Some(chunk))) => {
                buf.put_slice(&chunk);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Ok(None)) => Poll::Ready(Ok(())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e.into())),
            Poll::Pending => Poll::Pending,
        }
    }
}
