//! What the local fakes of outside services (SOLAPI, PortOne, a partner) share: a loopback
//! listener, and a thread with its own runtime serving the fake's router until told to stop.

use std::future::Future;
use std::net::TcpListener;
use std::pin::Pin;

/// A listener on a free loopback port, and its `http://127.0.0.1:<port>` address.
pub(crate) fn loopback() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// Work a fake runs beside its server (PortOne's webhook sender).
pub(crate) type Beside = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Serves `app` on `listener` in a thread of its own (with `beside` spawned on the same
/// runtime) until the returned sender fires or is dropped.
pub(crate) fn serve(
    listener: TcpListener,
    app: axum::Router,
    beside: Option<Beside>,
) -> tokio::sync::oneshot::Sender<()> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            if let Some(work) = beside {
                tokio::spawn(work);
            }
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
    });
    stop
}
