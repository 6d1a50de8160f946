//! The accept loop: TLS of its own (rustls), a header-read timeout, a bound on open connections,
//! and a graceful stop.
//!
//! `axum::serve` cannot bound connections or time out a client that never finishes its request
//! headers (measured: a half-sent request stayed open indefinitely, and 13,271 half-open
//! connections were held), so this loop accepts connections itself and gives each to hyper's
//! HTTP/1.1 connection with:
//! - a header-read timeout (`--header-timeout`, 10 s): a request whose headers are not complete in
//!   time closes the connection; the same timer closes a keep-alive connection idle that long, and
//!   bounds the TLS handshake;
//! - at most `--max-connections` (1024) open connections: the loop takes a permit before it accepts,
//!   so beyond the bound new connections wait in the kernel's listen backlog until one closes
//!   (they are not refused: a burst is served late rather than not at all);
//! - a read buffer of [`MAX_BUF`], well above the application's own limits, so those answer first
//!   with their 413/414/431;
//! - the client's socket address as `ConnectInfo<SocketAddr>` in every request (read by
//!   [`crate::client::ClientAddr`]).
//!
//! HTTP/1.1 only (ALPN `http/1.1`): HTTP/2 would bring its own slow-client surface (hyper has no
//! header-read timeout for it) for no gain on a site of forms and small pages.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::client::TrustedProxies;
use crate::{AppState, router_with};

/// hyper's read buffer per connection: comfortably above the application's limits on the
/// request line, the headers and the body (64 KiB each at most), so a too-long request reaches the
/// application and gets its problem document rather than hyper's bare answer.
pub const MAX_BUF: usize = 256 * 1024;

/// How long a stop waits for requests in flight before it closes the remaining connections.
pub const GRACE: Duration = Duration::from_secs(30);

/// Default of `--header-timeout`.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Default of `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// A TLS server configuration: the certificate chain and private key of `serve --tls-cert
/// --tls-key`, TLS 1.3 and TLS 1.2 with ECDHE key exchange and AEAD ciphers only (rustls has no
/// older version and no other TLS 1.2 suite), ALPN `http/1.1`.
#[derive(Clone)]
pub struct Tls(Arc<rustls::ServerConfig>);

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls(<server config>)")
    }
}

impl Tls {
    /// Reads a PEM certificate chain (leaf first) and a PEM private key (PKCS#8, PKCS#1 or SEC1).
    /// Errors name the file and what is wrong; they never contain key material.
    pub fn from_pem_files(cert: &Path, key: &Path) -> io::Result<Self> {
        let bad = |path: &Path, what: String| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: {what}", path.display()),
            )
        };
        let certs = CertificateDer::pem_file_iter(cert)
            .map_err(|e| bad(cert, format!("cannot read a PEM certificate: {e}")))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(cert, format!("not a PEM certificate chain: {e}")))?;
        if certs.is_empty() {
            return Err(bad(cert, "no CERTIFICATE in the file".into()));
        }
        let key_der = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| bad(key, format!("no PEM private key: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| io::Error::other(format!("TLS set-up: {e}")))?
            .with_no_client_auth()
            .with_single_cert(certs, key_der)
            .map_err(|e| {
                bad(
                    key,
                    format!("the key does not fit the certificate, or is unsupported: {e}"),
                )
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        // The server's order (the provider's: AES-256-GCM, AES-128-GCM, ChaCha20-Poly1305) rather
        // than the client's. Every suite offered is strong either way; testssl rates a missing
        // server order HIGH (docs/tls-scan.md).
        config.ignore_client_order = true;
        Ok(Self(Arc::new(config)))
    }
}

/// How `serve` listens.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// TLS of its own; `None` serves plain HTTP.
    pub tls: Option<Tls>,
    /// A TLS-terminating proxy is in front: the site is reached over HTTPS although this process
    /// speaks plain HTTP.
    pub behind_proxy: bool,
    /// Proxies whose forwarding headers name the client.
    pub trusted_proxies: TrustedProxies,
    /// A request's headers (and a TLS handshake) must arrive within this; an idle keep-alive
    /// connection is closed after it too.
    pub header_timeout: Duration,
    /// Open connections at most; more wait in the listen backlog.
    pub max_connections: usize,
    /// The addresses the privacy office answers; empty: every address.
    pub office_allow: TrustedProxies,
}

impl ServeOptions {
    /// Plain HTTP on `listen` with the defaults.
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            listen,
            tls: None,
            behind_proxy: false,
            trusted_proxies: TrustedProxies::default(),
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            office_allow: TrustedProxies::default(),
        }
    }

    /// Whether people reach the site over HTTPS (TLS here or at the proxy): cookies are then
    /// `Secure` with the `__Host-` prefix, and every response carries HSTS.
    pub fn https(&self) -> bool {
        self.tls.is_some() || self.behind_proxy
    }
}

/// Binds `opts.listen` and serves `app` until `stop` completes; then stops accepting, lets
/// requests in flight finish (at most [`GRACE`]) and returns.
pub async fn run(
    app: jikimi_core::Jikimi,
    opts: ServeOptions,
    stop: impl Future<Output = ()>,
) -> io::Result<()> {
    let listener = TcpListener::bind(opts.listen).await?;
    tracing::info!(
        addr = %listener.local_addr()?,
        tls = opts.tls.is_some(),
        header_timeout_secs = opts.header_timeout.as_secs_f64(),
        max_connections = opts.max_connections,
        "listening"
    );
    let router = router_with(AppState {
        app,
        secure_cookies: opts.https(),
        trusted_proxies: opts.trusted_proxies.clone(),
        body_timeout: opts.header_timeout,
        office_allow: opts.office_allow.clone(),
    });
    let acceptor = opts.tls.map(|t| tokio_rustls::TlsAcceptor::from(t.0));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(opts.header_timeout)
        .keep_alive(true)
        .max_buf_size(MAX_BUF);
    let permits = Arc::new(Semaphore::new(opts.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        // The permit first: beyond the bound, connections stay in the kernel's backlog.
        let permit = tokio::select! {
            () = &mut stop => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            r = listener.accept() => match r {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let conn = Connection {
            router: router.clone(),
            http: http.clone(),
            acceptor: acceptor.clone(),
            header_timeout: opts.header_timeout,
            watcher: graceful.watcher(),
        };
        tokio::spawn(async move {
            conn.serve(stream, peer).await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(GRACE) => {
            tracing::warn!(grace_secs = GRACE.as_secs(), "connections still open after the grace period; stopping anyway");
        }
    }
    Ok(())
}

/// What one connection needs.
struct Connection {
    router: Router,
    http: hyper::server::conn::http1::Builder,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    header_timeout: Duration,
    watcher: hyper_util::server::graceful::Watcher,
}

impl Connection {
    async fn serve(self, stream: TcpStream, peer: SocketAddr) {
        let _ = stream.set_nodelay(true);
        match self.acceptor.clone() {
            None => self.http(stream, peer).await,
            Some(acceptor) => {
                // A client that stalls its handshake is closed like one that stalls its headers.
                match tokio::time::timeout(self.header_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => self.http(tls, peer).await,
                    Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!("TLS handshake timed out"),
                }
            }
        }
    }

    async fn http<S>(self, io: S, peer: SocketAddr)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let router = self.router;
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let mut router = router.clone();
            async move { tower::Service::call(&mut router, req).await }
        });
        let conn = self.http.serve_connection(TokioIo::new(io), service);
        if let Err(e) = self.watcher.watch(conn).await {
            // Header timeouts, resets, malformed requests: the client's doing, not ours.
            tracing::debug!(error = %e, "connection ended with an error");
        }
    }
}
