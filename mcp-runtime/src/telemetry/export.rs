//! [`SpanBatcher`]: the span processor `Telemetry` installs in front of the OTLP exporter.
//!
//! The SDK's batch processor hands every finished span to its export task through a channel, which wakes
//! that task (a system call) once per span. Here a finished span is pushed on a bounded buffer under a
//! short lock; the export task wakes on its interval, or when a full batch is waiting, and exports what is
//! there. A request thus pays for one push; a full buffer drops the span and counts it (logged, never silent).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use tokio::sync::{Notify, mpsc};

/// Spans per export call.
const BATCH: usize = 512;
/// Spans waiting at most; beyond it they are dropped (and counted).
const MAX_QUEUE: usize = 8192;

struct Shared {
    queue: Mutex<Vec<SpanData>>,
    full: Notify,
    dropped: AtomicU64,
}

enum Control {
    Flush(std::sync::mpsc::Sender<()>),
    Shutdown(std::sync::mpsc::Sender<()>),
}

/// Batches finished spans for an exporter running on the Tokio runtime.
pub struct SpanBatcher {
    shared: Arc<Shared>,
    control: mpsc::UnboundedSender<Control>,
}

impl std::fmt::Debug for SpanBatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpanBatcher")
            .field("dropped", &self.shared.dropped.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl SpanBatcher {
    /// Starts the export task (call it inside a Tokio runtime): it exports every `interval`, or sooner when
    /// a full batch waits. Give the exporter its resource first (`SpanExporter::set_resource`): the
    /// processor does not pass it on.
    pub fn start<E: SpanExporter + 'static>(exporter: E, interval: Duration) -> Self {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Vec::with_capacity(BATCH)),
            full: Notify::new(),
            dropped: AtomicU64::new(0),
        });
        let (control, commands) = mpsc::unbounded_channel();
        tokio::spawn(run(exporter, Arc::clone(&shared), commands, interval));
        Self { shared, control }
    }

    /// Asks the task to export everything queued, and waits for it (up to `timeout`). Called from
    /// synchronous code; on a multi-threaded runtime's thread the wait hands the thread's other tasks on
    /// (`block_in_place`), so the export task can run. On a current-thread runtime it cannot: the wait times out.
    fn ask(&self, command: fn(std::sync::mpsc::Sender<()>) -> Control, timeout: Duration) -> OTelSdkResult {
        let (done, finished) = std::sync::mpsc::channel();
        self.control.send(command(done)).map_err(|_| OTelSdkError::AlreadyShutdown)?;
        let wait = || match finished.recv_timeout(timeout) {
            Ok(()) => Ok(()),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(OTelSdkError::Timeout(timeout)),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(OTelSdkError::AlreadyShutdown),
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(wait)
            }
            _ => wait(),
        }
    }
}

impl SpanProcessor for SpanBatcher {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        let mut queue = self.shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.len() >= MAX_QUEUE {
            drop(queue);
            let total = self.shared.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if total == 1 || total.is_multiple_of(10_000) {
                tracing::warn!(dropped = total, "spans dropped: the OTLP exporter cannot keep up");
            }
            return;
        }
        queue.push(span);
        let full = queue.len() == BATCH;
        drop(queue);
        if full {
            self.shared.full.notify_one();
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.ask(Control::Flush, Duration::from_secs(30))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.ask(Control::Shutdown, timeout)
    }
}

async fn run<E: SpanExporter>(
    exporter: E,
    shared: Arc<Shared>,
    mut commands: mpsc::UnboundedReceiver<Control>,
    interval: Duration,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate: nothing is queued yet
    loop {
        let command = tokio::select! {
            _ = tick.tick() => None,
            () = shared.full.notified() => None,
            command = commands.recv() => Some(command),
        };
        export_queued(&exporter, &shared).await;
        match command {
            None => {}
            Some(Some(Control::Flush(done))) => {
                let _ = done.send(());
            }
            Some(Some(Control::Shutdown(done))) => {
                let _ = exporter.shutdown();
                let _ = done.send(());
                return;
            }
            Some(None) => {
                // Every SpanBatcher is gone without a shutdown: export what is left and stop.
                let _ = exporter.shutdown();
                return;
            }
        }
    }
}

/// Exports everything queued, a batch at a time.
async fn export_queued<E: SpanExporter>(exporter: &E, shared: &Shared) {
    loop {
        let batch: Vec<SpanData> = {
            let mut queue = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
            if queue.is_empty() {
                return;
            }
            let at = queue.len().min(BATCH);
            let rest = queue.split_off(at);
            std::mem::replace(&mut *queue, rest)
        };
        if let Err(e) = exporter.export(batch).await {
            tracing::debug!(error = %e, "span export failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_batch_is_exported_before_the_interval_and_flush_exports_the_rest() {
        let exporter = InMemorySpanExporter::default();
        let batcher = SpanBatcher::start(exporter.clone(), Duration::from_secs(3600));
        let provider = SdkTracerProvider::builder().with_span_processor(batcher).build();
        let tracer = provider.tracer("test");
        for _ in 0..BATCH + 10 {
            tracer.in_span("work", |_| {});
        }
        let waited = std::time::Instant::now();
        while exporter.get_finished_spans().unwrap().len() < BATCH {
            assert!(waited.elapsed() < Duration::from_secs(10), "a full batch is exported without waiting an hour");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        provider.force_flush().unwrap();
        assert_eq!(exporter.get_finished_spans().unwrap().len(), BATCH + 10);
        provider.shutdown().unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_drops_and_counts() {
        let exporter = InMemorySpanExporter::default();
        let batcher = SpanBatcher::start(exporter.clone(), Duration::from_secs(3600));
        let shared = Arc::clone(&batcher.shared);
        // Fill the queue under its lock so the export task cannot drain it meanwhile.
        let provider = SdkTracerProvider::builder().with_span_processor(batcher).build();
        let tracer = provider.tracer("test");
        {
            let mut queue = shared.queue.lock().unwrap();
            let span = {
                let exporter = InMemorySpanExporter::default();
                let p = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
                p.tracer("t").in_span("filler", |_| {});
                exporter.get_finished_spans().unwrap().remove(0)
            };
            queue.resize(MAX_QUEUE, span);
        }
        tracer.in_span("one too many", |_| {});
        assert_eq!(shared.dropped.load(Ordering::Relaxed), 1);
        provider.force_flush().unwrap();
        assert_eq!(exporter.get_finished_spans().unwrap().len(), MAX_QUEUE, "what was queued is exported");
        provider.shutdown().unwrap();
    }
}
