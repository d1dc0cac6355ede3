//! The implementations under test, each behind the traits of `stack`.
//!
//! Fairness rules shared by all of them:
//! * every quinn-based stack (quinn, wtransport, web-transport-quinn, wt-quinn) uses the very
//!   same `TransportConfig` values, those of `wt_quinn::tls::transport_config()` (quinn and the
//!   WebTransport crates re-export quinn-proto's `TransportConfig`, so it is the same type);
//! * every quinn-based stack gets a UDP socket asking for 4 MiB send and receive buffers, as
//!   wt-quinn's driver does for its own socket (see [`udp_socket`]);
//! * all of them use an rcgen ECDSA P-256 self-signed certificate; quinn-based clients pin its
//!   SHA-256, s2n-quic clients trust exactly that certificate (s2n-tls on both s2n stacks);
//! * s2n-quic and wt-s2n-quic use the same limits (`wt_s2n_quic::tls::limits()`) and the same
//!   datagram queue sizes.

use std::net::{SocketAddr, UdpSocket};

pub(crate) mod quinn;
pub(crate) mod s2n;
pub(crate) mod wt_quinn;
pub(crate) mod wt_s2n;
pub(crate) mod wtq;
pub(crate) mod wtransport;

/// Socket buffer size requested for the quinn-based stacks' sockets (wt-quinn's value).
const SOCKET_BUFFER: usize = 4 << 20;

/// A UDP socket on 127.0.0.1 (ephemeral port) with the buffer sizes wt-quinn's driver asks for.
pub(crate) fn udp_socket() -> std::io::Result<UdpSocket> {
    let socket = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let state = ::quinn::udp::UdpSocketState::new((&socket).into())?;
    let _ = state.set_recv_buffer_size((&socket).into(), SOCKET_BUFFER);
    let _ = state.set_send_buffer_size((&socket).into(), SOCKET_BUFFER);
    Ok(socket)
}

/// `127.0.0.1:0`.
pub(crate) fn loopback_any() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}
