//! The monitor's background task: reads batches of lines from the source, parses and
//! filters them, prints them when asked, pushes them into the bounded buffer (warning once
//! when it overflows) and wakes the waiters; at the end it closes the source exactly once.

use std::sync::Arc;

use futures::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;

use super::{EndReason, EventFilter, Shared};
use crate::monitor::event::Event;
use crate::monitor::line::parse_owned;
use crate::output::Output;

/// Lines taken from the source at once when they are already there (a busy agent).
const INGEST_BATCH: usize = 256;

/// The monitor's task: follow `lines` until stopped, shut down or ended, then close.
pub(super) async fn follow<S>(
    shared: Arc<Shared>,
    lines: S,
    stop: CancellationToken,
    session: CancellationToken,
    print: Option<Output>,
    output: Output,
    filter: Option<EventFilter>,
) where
    S: Stream<Item = String> + Send + 'static,
{
    let reason = {
        // Lines already waiting come as one batch: one lock and one wake-up per batch.
        let mut batches = std::pin::pin!(lines.ready_chunks(INGEST_BATCH));
        let stopped = stop.cancelled();
        let mut stopped = std::pin::pin!(stopped);
        let shutdown = session.cancelled();
        let mut shutdown = std::pin::pin!(shutdown);
        let mut events = Vec::with_capacity(INGEST_BATCH);
        loop {
            tokio::select! {
                biased;
                _ = &mut stopped => break EndReason::Stopped,
                _ = &mut shutdown => break EndReason::SessionShutdown,
                batch = batches.next() => match batch {
                    None => break EndReason::SourceEnded,
                    Some(batch) => {
                        ingest(&shared, batch, &mut events, print.as_ref(), &output, filter.as_ref())
                    }
                },
            }
        }
        // The source is dropped here: a producer sees its channel closed.
    };
    shared.close_source();
    shared.lock().ended = Some(reason);
    shared.notify.notify_waiters();
}

fn ingest(
    shared: &Shared,
    batch: Vec<String>,
    events: &mut Vec<Event>,
    print: Option<&Output>,
    output: &Output,
    filter: Option<&EventFilter>,
) {
    events.clear();
    for line in batch {
        let event = parse_owned(line);
        if filter.is_none_or(|keep| keep(&event)) {
            if let Some(out) = print {
                out.println(event.raw());
            }
            events.push(event);
        }
    }
    if events.is_empty() {
        return;
    }
    let first_drop = {
        let mut s = shared.lock();
        let mut dropped = false;
        for event in events.drain(..) {
            dropped |= s.buffer.push(event);
        }
        let first = dropped && !s.warned;
        if first {
            s.warned = true;
        }
        first.then(|| s.buffer.capacity())
    };
    if let Some(cap) = first_drop {
        output.eprintln(&format!(
            "{}: event buffer full ({cap} events): dropping the oldest; mon.dropped() counts them",
            shared.name
        ));
    }
    shared.notify.notify_waiters();
}
