//! Log output on stderr: human-readable by default, one JSON object per line with
//! `--log-format json`. `RUST_LOG` filters as usual (default `info`).
//!
//! With one access-log line per request, writing each line straight to stderr cost a `write`
//! syscall per request on the serving threads, and handing lines to a writer thread cost a
//! thread wake-up per request instead (both measured in `bench/`). So lines are copied into one
//! shared buffer, written out when it fills and at least every [`FLUSH_EVERY`] by a timer
//! thread, and on exit. A line reaches stderr at most that late.
//!
//! Colours are used only when stderr is a terminal.

use std::io::{BufWriter, IsTerminal, Stderr, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::cli::LogFormat;

const FLUSH_EVERY: Duration = Duration::from_millis(50);
const BUFFER_BYTES: usize = 64 * 1024;

/// Sets up logging. Keep the guard until exit: dropping it writes out the last lines.
pub fn init(format: LogFormat) -> FlushGuard {
    let buffer = Arc::new(Batched(Mutex::new(BufWriter::with_capacity(
        BUFFER_BYTES,
        std::io::stderr(),
    ))));
    let stop = Arc::new(AtomicBool::new(false));
    let flusher = {
        let (buffer, stop) = (buffer.clone(), stop.clone());
        std::thread::Builder::new()
            .name("junction-log-flush".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(FLUSH_EVERY);
                    buffer.flush_now();
                }
            })
            .ok()
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(SharedBatched(buffer.clone()));
    let result = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    if let Err(e) = result {
        eprintln!("warning: logging already initialised: {e}");
    }
    FlushGuard {
        buffer,
        stop,
        flusher,
    }
}

/// Writes out buffered lines when dropped, and stops the timer thread.
pub struct FlushGuard {
    buffer: Arc<Batched>,
    stop: Arc<AtomicBool>,
    flusher: Option<std::thread::JoinHandle<()>>,
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(flusher) = self.flusher.take() {
            let _ = flusher.join();
        }
        self.buffer.flush_now();
    }
}

struct Batched(Mutex<BufWriter<Stderr>>);

impl Batched {
    fn flush_now(&self) {
        // A poisoned lock means a writer panicked mid-line; the buffer is still writable.
        let mut out = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let _ = out.flush();
    }
}

#[derive(Clone)]
struct SharedBatched(Arc<Batched>);

/// The per-event writer: the formatter writes each whole line in one `write_all`, under the
/// lock, so lines never interleave.
struct LineWriter<'a>(&'a Batched);

impl Write for LineWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut out = self.0.0.lock().unwrap_or_else(|p| p.into_inner());
        out.write_all(bytes)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for SharedBatched {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(&self.0)
    }
}
