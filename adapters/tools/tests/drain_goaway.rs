//! WT_DRAIN_SESSION and GOAWAY reach the peer's session as a draining signal, on every pairing
//! of the two stacks, and the session keeps working afterwards.

mod common;

use bytes::Bytes;
use common::{Stack, bare_server, within};
use wt_session::wt_proto::Config;

async fn pair(
    server: &common::Server,
    client: &common::ClientEp,
) -> (wt_session::Session, wt_session::Session) {
    let ep = server.endpoint.clone();
    let accepted = tokio::spawn(async move { ep.accept().await.unwrap().accept().unwrap() });
    let c = client.connect(&server.url("/drain")).await.unwrap();
    (c, accepted.await.unwrap())
}

async fn drain_and_goaway(s: Stack, c: Stack) {
    within(20, async {
        let server = bare_server(s, Config::default());
        let client = server.client(c);

        // Drain: the peer's session is told, and datagrams still flow.
        let (cs, ss) = pair(&server, &client).await;
        assert!(!cs.is_draining());
        ss.drain().unwrap();
        assert!(cs.draining().await);
        assert!(cs.is_draining());
        cs.send_datagram(Bytes::from_static(b"after drain"))
            .unwrap();
        assert_eq!(
            ss.read_datagram().await.unwrap(),
            Bytes::from_static(b"after drain")
        );

        // GOAWAY on the connection: the client's session is told to wind down.
        let (cs2, ss2) = pair(&server, &client).await;
        ss2.goaway();
        assert!(cs2.draining().await);
        cs2.close(5, "going");
        let info = ss2.closed().await;
        assert_eq!((info.code, info.reason.as_str()), (5, "going"));
    })
    .await;
}

macro_rules! pairing {
    ($name:ident, $server:expr, $client:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            drain_and_goaway($server, $client).await;
        }
    };
}

pairing!(s2n_s2n, Stack::S2n, Stack::S2n);
pairing!(quinn_s2n, Stack::Quinn, Stack::S2n);
pairing!(s2n_quinn, Stack::S2n, Stack::Quinn);
pairing!(quinn_quinn, Stack::Quinn, Stack::Quinn);
