//! A test double standing in for the `cilium monitor` exec (which needs a cluster): it plays
//! scripted lines into a channel, keeps the channel open like a live monitor, and records
//! when the monitor closes it (the receiver dropped) and when the close hook runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use labsh::Ctx;
use labsh::monitor::{CloseHook, Monitor, MonitorOptions};
use tokio::sync::mpsc;

/// What the monitor did to the scripted source.
#[derive(Default)]
pub struct SourceRecord {
    /// The producer saw its channel closed (the monitor dropped the receiver).
    pub channel_closed: AtomicBool,
    /// The close hook ran.
    pub hook_ran: AtomicBool,
    /// A clone of the producer's sender, read from the test's thread: the producer task runs
    /// on the session's runtime, which a dropped session shuts down, possibly before the
    /// task sees its channel closed.
    pub sender: Mutex<Option<mpsc::Sender<String>>>,
}

impl SourceRecord {
    pub fn channel_closed(&self) -> bool {
        self.channel_closed.load(Ordering::SeqCst)
            || self
                .sender
                .lock()
                .unwrap()
                .as_ref()
                .is_some_and(|tx| tx.is_closed())
    }

    pub fn hook_ran(&self) -> bool {
        self.hook_ran.load(Ordering::SeqCst)
    }
}

/// Starts a monitor fed with `lines` (one every `gap`), then left open until closed.
pub fn scripted_monitor(
    ctx: &Ctx,
    lines: Vec<String>,
    gap: Duration,
    options: MonitorOptions,
    record: Arc<SourceRecord>,
) -> Monitor {
    let (tx, rx) = mpsc::channel::<String>(64);
    *record.sender.lock().unwrap() = Some(tx.clone());
    let r = record.clone();
    ctx.runtime().spawn(async move {
        for line in lines {
            if !gap.is_zero() {
                tokio::time::sleep(gap).await;
            }
            if tx.send(line).await.is_err() {
                break;
            }
        }
        tx.closed().await;
        r.channel_closed.store(true, Ordering::SeqCst);
    });
    let r = record.clone();
    let hook = CloseHook::new(move || r.hook_ran.store(true, Ordering::SeqCst));
    Monitor::spawn(ctx, rx, hook, options)
}
