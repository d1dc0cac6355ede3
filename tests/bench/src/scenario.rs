//! The workloads, written once against the traits of `stack`: the server side
//! ([`serve`]) and the client side ([`drive`]).
//!
//! Both sides run in the same process, so besides the network they share two in-process
//! signals: the client tells the server it is done (`client_done`), and the server hands its
//! counts to the client when its accounting is complete (`server_stats`). The client keeps its
//! connections (and its runtime, which drives them) alive until it has those counts.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use bytes::Bytes;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinSet;

use crate::stack::{Client, Conn, RecvHalf, SendHalf, Server};
use crate::workload::{
    CHUNK, DATAGRAM_IDLE, DATAGRAM_SIZE, ECHO, MANY_STREAMS, PACED_RATE, Params, SEND_BURST,
    SESSION_BATCH, Workload,
};

/// What the server counted.
#[derive(Clone, Debug, Default)]
pub(crate) struct ServerStats {
    /// Stream bytes read.
    pub bytes: u64,
    /// Streams read to their FIN.
    pub streams_done: u64,
    /// Datagrams received.
    pub datagrams: u64,
    /// Sessions established.
    pub sessions: u64,
    /// First stream byte or datagram.
    pub first: Option<Instant>,
    /// Last FIN or datagram.
    pub last: Option<Instant>,
    /// The first error a connection or stream task met.
    pub error: Option<String>,
}

/// What the client measured.
#[derive(Debug, Default)]
pub(crate) struct ClientOut {
    /// Stream bytes written.
    pub bytes_sent: u64,
    /// When the first write started.
    pub t0: Option<Instant>,
    /// Bidi: when the last reply arrived.
    pub replies_done: Option<Instant>,
    /// Datagrams the send calls accepted and refused.
    pub datagrams_sent: u64,
    pub datagrams_refused: u64,
    /// Seconds in the datagram send loop.
    pub send_secs: f64,
    /// Setup times in seconds.
    pub setups: Vec<f64>,
    /// Sessions established and echoed, and how long that took.
    pub sessions_ok: u64,
    pub sessions_secs: f64,
    /// The server's counts.
    pub server: ServerStats,
}

type Shared = Rc<RefCell<ServerStats>>;

fn fail(stats: &Shared, notify: &Notify, e: impl std::fmt::Display) {
    let mut s = stats.borrow_mut();
    if s.error.is_none() {
        s.error = Some(e.to_string());
    }
    drop(s);
    notify.notify_one();
}

/// Server side: accepts connections and handles them per workload until its accounting is
/// complete, then returns the counts.
pub(crate) async fn serve<S: Server>(
    mut server: S,
    workload: Workload,
    client_done: oneshot::Receiver<()>,
) -> Result<ServerStats> {
    let stats: Shared = Rc::default();
    let notify = Rc::new(Notify::new());
    let (st, nt) = (stats.clone(), notify.clone());
    let acceptor = tokio::task::spawn_local(async move {
        while let Some(incoming) = server.accept().await {
            tokio::task::spawn_local(handle::<S>(incoming, workload, st.clone(), nt.clone()));
        }
    });
    let expected_streams = match workload {
        Workload::Bidi1 => 1,
        Workload::Bidi10 | Workload::Uni => MANY_STREAMS,
        _ => 0,
    };
    if expected_streams > 0 {
        loop {
            {
                let s = stats.borrow();
                if let Some(e) = &s.error {
                    bail!("server: {e}");
                }
                if s.streams_done >= expected_streams {
                    break;
                }
            }
            notify.notified().await;
        }
    } else {
        // The client drops its sender when it fails: stop then as well.
        let _ = client_done.await;
        if workload.is_datagrams() {
            let done_at = Instant::now();
            loop {
                tokio::time::sleep(Duration::from_millis(25)).await;
                let quiet_since = stats.borrow().last.unwrap_or(done_at).max(done_at);
                if quiet_since.elapsed() >= DATAGRAM_IDLE {
                    break;
                }
            }
        }
    }
    acceptor.abort();
    let out = stats.borrow().clone();
    // In `setup` the client closes each session at once, which may race the server's side of
    // the setup; that is not a failure.
    if let Some(e) = &out.error
        && workload != Workload::Setup
    {
        bail!("server: {e}");
    }
    Ok(out)
}

async fn handle<S: Server>(incoming: S::Incoming, workload: Workload, st: Shared, nt: Rc<Notify>) {
    let conn = match S::establish(incoming).await {
        Ok(c) => c,
        Err(e) => return fail(&st, &nt, format!("establishing: {e:#}")),
    };
    st.borrow_mut().sessions += 1;
    match workload {
        Workload::Bidi1 | Workload::Bidi10 | Workload::Sessions => {
            let echo = workload == Workload::Sessions;
            while let Ok((send, recv)) = conn.accept_bi().await {
                tokio::task::spawn_local(bidi_stream(send, recv, echo, st.clone(), nt.clone()));
            }
        }
        Workload::Uni => {
            while let Ok(recv) = conn.accept_uni().await {
                tokio::task::spawn_local(uni_stream(recv, st.clone(), nt.clone()));
            }
        }
        Workload::Datagrams | Workload::DatagramsPaced => {
            while let Ok(d) = conn.read_datagram().await {
                let now = Instant::now();
                let mut s = st.borrow_mut();
                s.datagrams += 1;
                s.bytes += d.len() as u64;
                s.first.get_or_insert(now);
                s.last = Some(now);
            }
        }
        // Hold the session until the client closes it.
        Workload::Setup => {
            let _ = conn.accept_bi().await;
        }
    }
}

/// Reads a stream to its end, counting; returns false (after recording the error) on failure.
async fn count_to_end<R: RecvHalf>(recv: &mut R, st: &Shared, nt: &Notify) -> bool {
    loop {
        match recv.read_some().await {
            Ok(Some(n)) => {
                let mut s = st.borrow_mut();
                s.bytes += n as u64;
                s.first.get_or_insert_with(Instant::now);
            }
            Ok(None) => return true,
            Err(e) => {
                fail(st, nt, format!("reading a stream: {e:#}"));
                return false;
            }
        }
    }
}

fn stream_done(st: &Shared, nt: &Notify) {
    let mut s = st.borrow_mut();
    s.streams_done += 1;
    s.last = Some(Instant::now());
    drop(s);
    nt.notify_one();
}

async fn bidi_stream<W: SendHalf, R: RecvHalf>(
    mut send: W,
    mut recv: R,
    echo: bool,
    st: Shared,
    nt: Rc<Notify>,
) {
    let reply = if echo {
        match recv.read_all().await {
            Ok(data) => Bytes::from(data),
            Err(e) => return fail(&st, &nt, format!("reading an echo stream: {e:#}")),
        }
    } else {
        if !count_to_end(&mut recv, &st, &nt).await {
            return;
        }
        Bytes::from_static(b"k")
    };
    if let Err(e) = async {
        send.write_chunk(reply).await?;
        send.finish()
    }
    .await
    {
        return fail(&st, &nt, format!("replying: {e:#}"));
    }
    stream_done(&st, &nt);
}

async fn uni_stream<R: RecvHalf>(mut recv: R, st: Shared, nt: Rc<Notify>) {
    if count_to_end(&mut recv, &st, &nt).await {
        stream_done(&st, &nt);
    }
}

/// Client side: runs the workload, signals the server, waits for its counts, then closes.
pub(crate) async fn drive<C: Client>(
    client: Rc<C>,
    workload: Workload,
    params: Params,
    client_done: oneshot::Sender<()>,
    server_stats: oneshot::Receiver<Result<ServerStats, String>>,
) -> Result<ClientOut> {
    let mut out = ClientOut::default();
    let conns = match workload {
        Workload::Bidi1 | Workload::Bidi10 | Workload::Uni => {
            vec![streams(&*client, workload, params, &mut out).await?]
        }
        Workload::Datagrams | Workload::DatagramsPaced => {
            vec![datagrams(&*client, workload, params, &mut out).await?]
        }
        Workload::Setup => {
            setup(&*client, params, &mut out).await?;
            Vec::new()
        }
        Workload::Sessions => sessions(&client, params, &mut out).await?,
    };
    let _ = client_done.send(());
    out.server = server_stats
        .await
        .map_err(|_| anyhow!("the server thread ended without counts"))?
        .map_err(|e| anyhow!("{e}"))?;
    for c in &conns {
        c.close();
    }
    // Give the close frames a moment to leave.
    tokio::time::sleep(Duration::from_millis(5)).await;
    Ok(out)
}

async fn streams<C: Client>(
    client: &C,
    workload: Workload,
    params: Params,
    out: &mut ClientOut,
) -> Result<C::Conn> {
    let conn = client.connect().await.context("connecting")?;
    let n = if workload == Workload::Bidi1 {
        1
    } else {
        MANY_STREAMS
    };
    let per_stream = (params.mib << 20) / n;
    let chunk = Bytes::from(vec![0xA5; CHUNK]);
    let bidi = workload != Workload::Uni;
    // Open every stream before writing to any. wtransport needs this: its driver accepts
    // incoming streams one at a time in stream-id order and waits for each one's header, so a
    // stream whose header is stuck behind a connection window filled by later streams' data
    // deadlocks the connection (seen with 10 streams opened while others were writing).
    let mut opened = Vec::new();
    for _ in 0..n {
        opened.push(if bidi {
            let (s, r) = conn.open_bi().await.context("opening a bidi stream")?;
            (s, Some(r))
        } else {
            (conn.open_uni().await.context("opening a uni stream")?, None)
        });
    }
    let t0 = Instant::now();
    let mut set = JoinSet::new();
    for (mut send, recv) in opened {
        let chunk = chunk.clone();
        set.spawn_local(async move {
            let mut left = per_stream as usize;
            while left > 0 {
                let len = left.min(CHUNK);
                send.write_chunk(chunk.slice(..len))
                    .await
                    .context("writing")?;
                left -= len;
            }
            send.finish().context("finishing")?;
            if let Some(mut recv) = recv {
                let reply = recv.read_all().await.context("reading the reply")?;
                ensure!(reply == b"k", "unexpected reply {reply:?}");
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    out.t0 = Some(t0);
    out.replies_done = bidi.then(Instant::now);
    out.bytes_sent = per_stream * n;
    Ok(conn)
}

async fn datagrams<C: Client>(
    client: &C,
    workload: Workload,
    params: Params,
    out: &mut ClientOut,
) -> Result<C::Conn> {
    let conn = client.connect().await.context("connecting")?;
    let payload = Bytes::from(vec![0x5A; DATAGRAM_SIZE]);
    let total = params.datagrams;
    let mut sent = 0u64;
    let mut accepted = 0u64;
    let t0 = Instant::now();
    let mut send = |conn: &C::Conn| {
        if conn.send_datagram(payload.clone()) {
            accepted += 1;
        }
    };
    if workload == Workload::DatagramsPaced {
        while sent < total {
            let due = ((t0.elapsed().as_secs_f64() * PACED_RATE) as u64).min(total);
            if sent >= due {
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            }
            let burst_end = due.min(sent + SEND_BURST);
            while sent < burst_end {
                send(&conn);
                sent += 1;
            }
            tokio::task::yield_now().await;
        }
    } else {
        while sent < total {
            send(&conn);
            sent += 1;
            if sent.is_multiple_of(SEND_BURST) {
                tokio::task::yield_now().await;
            }
        }
    }
    out.send_secs = t0.elapsed().as_secs_f64();
    out.datagrams_sent = accepted;
    out.datagrams_refused = total - accepted;
    Ok(conn)
}

async fn setup<C: Client>(client: &C, params: Params, out: &mut ClientOut) -> Result<()> {
    for i in 0..params.setups {
        let t = Instant::now();
        let conn = client
            .connect()
            .await
            .with_context(|| format!("setup {i}"))?;
        out.setups.push(t.elapsed().as_secs_f64());
        conn.close();
    }
    Ok(())
}

async fn sessions<C: Client>(
    client: &Rc<C>,
    params: Params,
    out: &mut ClientOut,
) -> Result<Vec<C::Conn>> {
    let t0 = Instant::now();
    let mut conns = Vec::with_capacity(params.sessions as usize);
    let mut left = params.sessions;
    while left > 0 {
        let batch = left.min(SESSION_BATCH as u64);
        left -= batch;
        let mut set = JoinSet::new();
        for _ in 0..batch {
            let client = client.clone();
            set.spawn_local(async move {
                let conn = client.connect().await.context("connecting")?;
                let (mut send, mut recv) = conn.open_bi().await.context("opening")?;
                send.write_chunk(Bytes::from_static(ECHO)).await?;
                send.finish()?;
                let back = recv.read_all().await.context("reading the echo")?;
                ensure!(back == ECHO, "bad echo {back:?}");
                Ok::<_, anyhow::Error>(conn)
            });
        }
        while let Some(r) = set.join_next().await {
            conns.push(r??);
        }
    }
    out.sessions_ok = conns.len() as u64;
    out.sessions_secs = t0.elapsed().as_secs_f64();
    Ok(conns)
}
