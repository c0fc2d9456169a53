//! Thread-per-core serving: one acceptor, N single-threaded runtimes.
//!
//! With tokio's work-stealing runtime, the server side of a request and the upstream client
//! connection that serves it often sit on different workers, and every hand-off between them
//! costs a cross-thread wake-up (measured in `bench/`: about a fifth of the CPU per request).
//! Here the acceptor gives each new connection to one worker thread, round-robin, and the
//! connection lives there to the end, together with the upstream connections it opens: a
//! request never leaves its thread. One listening socket is kept (no `SO_REUSEPORT`), so a
//! second process on the same port still fails loudly.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router as HttpRouter;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

type Handoff = (std::net::TcpStream, SocketAddr);

/// The receiving end of the acceptor's hand-off, as an axum listener.
struct HandoffListener {
    connections: mpsc::UnboundedReceiver<Handoff>,
    local: SocketAddr,
}

impl axum::serve::Listener for HandoffListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Some((stream, peer)) = self.connections.recv().await else {
                // The acceptor is gone: shutdown has begun and serve stops on its own signal.
                std::future::pending::<()>().await;
                continue;
            };
            match TcpStream::from_std(stream) {
                Ok(stream) => return (stream, peer),
                Err(error) => {
                    tracing::warn!(%error, "dropping a connection that cannot be registered")
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Serves `app` on `listener` with `threads` worker threads until `shutdown`, then drains for at
/// most `drain`. The calling runtime accepts and also serves one share of the connections.
pub(crate) async fn serve(
    app: HttpRouter,
    listener: TcpListener,
    threads: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut senders = Vec::with_capacity(threads);
    let mut workers = Vec::with_capacity(threads.saturating_sub(1));
    let (local_tx, local_rx) = mpsc::unbounded_channel();
    senders.push(local_tx);
    let local_share = tokio::spawn(serve_share(
        app.clone(),
        HandoffListener {
            connections: local_rx,
            local,
        },
        stop_rx.clone(),
        drain,
    ));
    for index in 1..threads {
        let (tx, rx) = mpsc::unbounded_channel();
        senders.push(tx);
        let (app, stop_rx) = (app.clone(), stop_rx.clone());
        let worker = std::thread::Builder::new()
            .name(format!("junction-worker-{index}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(serve_share(
                    app,
                    HandoffListener {
                        connections: rx,
                        local,
                    },
                    stop_rx,
                    drain,
                ))
            })?;
        workers.push(worker);
    }

    tokio::pin!(shutdown);
    let mut next = 0usize;
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    match stream.into_std() {
                        Ok(stream) => {
                            // A worker that has stopped drops the connection; nothing else to do.
                            let _ = senders[next % senders.len()].send((stream, peer));
                            next = next.wrapping_add(1);
                        }
                        Err(error) => tracing::warn!(%error, "cannot hand off a connection"),
                    }
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    tracing::info!("shutting down: no new connections, finishing in-flight requests");
    drop(listener);
    let _ = stop_tx.send(true);
    drop(senders);
    let mut result = local_share
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
    let joined = tokio::task::spawn_blocking(move || {
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("worker panicked")))
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(std::io::Error::other)?;
    for worker_result in joined {
        if result.is_ok() {
            result = worker_result;
        }
    }
    result
}

/// One thread's share: axum's graceful serve, cut off `drain` after the stop signal.
async fn serve_share(
    app: HttpRouter,
    listener: HandoffListener,
    mut stop: watch::Receiver<bool>,
    drain: Duration,
) -> std::io::Result<()> {
    let mut stop_for_serve = stop.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop_for_serve.wait_for(|stopping| *stopping).await;
    });
    let deadline = async move {
        if stop.wait_for(|stopping| *stopping).await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(drain).await;
    };
    tokio::select! {
        result = server.into_future() => result,
        () = deadline => {
            tracing::warn!(drain_secs = drain.as_secs_f64(), "in-flight requests did not finish in time; closing them");
            Ok(())
        }
    }
}
