//! The binaries end to end, on both backends: `wt-server --backend X` is spawned (ephemeral
//! ports), its demo page is fetched over HTTP, and `wt-client --backend Y` runs against it in
//! every mode for all four (X, Y) pairs; a wrong hash and a wrong path make `wt-client` fail.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BACKENDS: [&str; 2] = ["quinn", "s2n-quic"];

struct ServerProcess {
    child: Child,
    port: u16,
    hash: String,
    page: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_server(backend: &str) -> ServerProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wt-server"))
        .args(["--backend", backend])
        .args(["--addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut port, mut hash, mut page) = (None, None, None);
    let deadline = Instant::now() + Duration::from_secs(20);
    while port.is_none() || hash.is_none() || page.is_none() {
        assert!(
            Instant::now() < deadline,
            "wt-server ({backend}) did not start"
        );
        let line = lines.next().expect("wt-server exited").unwrap();
        if let Some(rest) = line.strip_prefix("WebTransport server on https://") {
            port = rest
                .split(' ')
                .next()
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| p.parse().ok());
        } else if let Some(h) = line.strip_prefix("certificate SHA-256: ") {
            hash = Some(h.trim().to_string());
        } else if let Some(p) = line.strip_prefix("demo page: ") {
            page = Some(p.trim().to_string());
        }
    }
    ServerProcess {
        child,
        port: port.unwrap(),
        hash: hash.unwrap(),
        page: page.unwrap(),
    }
}

fn run_client(backend: &str, args: &[&str]) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wt-client"))
        .args(["--backend", backend])
        .args(args)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("wt-client ({backend}) timed out");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.success(), format!("{out}{err}"))
}

/// `wt-client --backend Y` against `wt-server --backend server_backend`, for both Y.
fn clients_against(server_backend: &str) {
    let server = spawn_server(server_backend);
    let url = format!("https://127.0.0.1:{}/echo", server.port);
    for client in BACKENDS {
        let pair = format!("server {server_backend}, client {client}");
        for mode in ["datagram", "uni", "bidi", "all"] {
            let (ok, out) = run_client(
                client,
                &[
                    "--url",
                    &url,
                    "--mode",
                    mode,
                    "--payload",
                    "20000",
                    "--count",
                    "5",
                    "--cert-hash",
                    &server.hash,
                ],
            );
            println!("--- {pair}: wt-client --mode {mode}\n{out}");
            assert!(ok, "{pair}: mode {mode} failed:\n{out}");
            assert!(out.contains("result: OK"), "{pair}: {out}");
            if mode != "all" {
                assert!(out.contains(&format!("{mode}: sent ")), "{pair}: {out}");
            }
        }
        // A large payload once, byte-exact.
        let (ok, out) = run_client(
            client,
            &[
                "--url",
                &url,
                "--mode",
                "bidi",
                "--payload",
                "4000000",
                "--count",
                "1",
                "--cert-hash",
                &server.hash,
            ],
        );
        assert!(ok, "{pair}: large bidi payload:\n{out}");
        // Failures exit non-zero.
        let (ok, out) = run_client(
            client,
            &[
                "--url",
                &url,
                "--cert-hash",
                &"00".repeat(32),
                "--count",
                "1",
            ],
        );
        assert!(!ok, "{pair}: a wrong certificate hash must fail:\n{out}");
        let bad = format!("https://127.0.0.1:{}/missing", server.port);
        let (ok, out) = run_client(
            client,
            &["--url", &bad, "--cert-hash", &server.hash, "--count", "1"],
        );
        assert!(
            !ok && out.contains("404"),
            "{pair}: a 404 must fail:\n{out}"
        );
    }
}

#[test]
fn wt_client_on_each_backend_against_a_quinn_wt_server() {
    clients_against("quinn");
}

#[test]
fn wt_client_on_each_backend_against_an_s2n_quic_wt_server() {
    clients_against("s2n-quic");
}

#[test]
fn wt_server_serves_the_demo_page_on_each_backend() {
    for backend in BACKENDS {
        let server = spawn_server(backend);
        let addr = server
            .page
            .trim_start_matches("http://")
            .trim_end_matches('/');
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            tcp,
            "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut body = String::new();
        tcp.read_to_string(&mut body).unwrap();
        assert!(body.starts_with("HTTP/1.1 200"), "{backend}: {body}");
        assert!(
            body.contains(&server.hash),
            "{backend}: the page carries the certificate hash"
        );
        assert!(body.contains("serverCertificateHashes"));
        assert!(body.contains(&format!("\"{}\"", server.port)));
    }
}
