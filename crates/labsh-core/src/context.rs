//! The state every primitive shares with the engine: the tokio runtime, the cancellation
//! tokens of the session and of the current evaluation, the output layer, the global flags,
//! the script's folder (for relative paths) and per-family extension state.
//!
//! Primitives are synchronous Rhai functions; they run futures with [`Ctx::block_on`], which
//! selects every future against the current evaluation's cancellation token, so Ctrl-C ends a
//! long primitive as promptly as a pure-Rhai loop.

use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::interrupt::Interrupted;
use crate::output::Output;

/// Global flags that change how primitives behave.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Print the equivalent shell command before each primitive acts.
    pub explain: bool,
    /// Hide spinners and progress.
    pub quiet: bool,
    /// Colored output.
    pub color: bool,
    /// `--step`: pause before each lab step.
    pub step: bool,
    /// `--from STEP`: skip lab steps before this id.
    pub from: Option<String>,
    /// `--report FILE` (repeatable): where the lab report is written at the end.
    pub report: Vec<PathBuf>,
    /// Draw text diagrams with box-drawing characters (a UTF-8 terminal, colours allowed);
    /// plain ASCII otherwise.
    pub unicode: bool,
    /// `--max-string-size`, `--max-array-size`, `--max-map-size`: the sandbox limits.
    pub limits: crate::limits::Limits,
    /// `--verbose`: error traces show the stdlib's own frames too.
    pub verbose: bool,
}

/// Shared, cheaply clonable handle on the workbench state.
#[derive(Clone)]
pub struct Ctx(Arc<Inner>);

/// The tokio runtime: a host's, or one built on first use (an empty script never pays for
/// its worker threads).
enum RuntimeSlot {
    Given(tokio::runtime::Handle),
    Lazy {
        handle: OnceLock<tokio::runtime::Handle>,
        owned: Mutex<Option<tokio::runtime::Runtime>>,
    },
}

thread_local! {
    /// How many evaluations run on this thread (see [`EvalScope`]).
    static EVALS: Cell<usize> = const { Cell::new(0) };
    /// The runtime entered on this thread because it was built during an evaluation.
    static LAZY_ENTERED: RefCell<Option<tokio::runtime::EnterGuard<'static>>> =
        const { RefCell::new(None) };
}

/// Marks an evaluation on the current thread: a runtime built during it (by the first
/// primitive that needs one) is entered until the outermost evaluation ends, as if it had
/// been entered before (primitives build timers and I/O on the engine thread).
pub struct EvalScope(());

impl EvalScope {
    /// Starts an evaluation on this thread.
    pub fn begin() -> Self {
        EVALS.with(|n| n.set(n.get() + 1));
        EvalScope(())
    }
}

impl Drop for EvalScope {
    fn drop(&mut self) {
        let left = EVALS.with(|n| {
            n.set(n.get().saturating_sub(1));
            n.get()
        });
        if left == 0 {
            LAZY_ENTERED.with(|g| g.borrow_mut().take());
        }
    }
}

/// The runtime labsh builds: two workers (the engine thread blocks on it; the workers run
/// background captures and monitors).
fn build_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot start the async runtime: {e}"))
}

struct Inner {
    runtime: RuntimeSlot,
    session: CancellationToken,
    eval: Mutex<CancellationToken>,
    interrupted: AtomicBool,
    tracker: TaskTracker,
    output: Output,
    settings: Settings,
    script_dir: RwLock<PathBuf>,
    extensions: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Ctx {
    /// A context on `runtime`; the script folder starts as the current directory.
    pub fn new(runtime: tokio::runtime::Handle, settings: Settings) -> Self {
        Self::with_slot(RuntimeSlot::Given(runtime), settings)
    }

    /// A context whose runtime is built the first time a primitive needs it.
    pub fn lazy(settings: Settings) -> Self {
        Self::with_slot(
            RuntimeSlot::Lazy {
                handle: OnceLock::new(),
                owned: Mutex::new(None),
            },
            settings,
        )
    }

    fn with_slot(runtime: RuntimeSlot, settings: Settings) -> Self {
        let session = CancellationToken::new();
        let eval = session.child_token();
        let output = Output::new(settings.quiet, settings.color);
        Ctx(Arc::new(Inner {
            runtime,
            session,
            eval: Mutex::new(eval),
            interrupted: AtomicBool::new(false),
            tracker: TaskTracker::new(),
            output,
            settings,
            script_dir: RwLock::new(std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))),
            extensions: Mutex::new(HashMap::new()),
        }))
    }

    /// The tokio runtime primitives run their futures on (built now if it is lazy and was
    /// not built yet).
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        match &self.0.runtime {
            RuntimeSlot::Given(h) => h,
            RuntimeSlot::Lazy { handle, owned } => handle.get_or_init(|| {
                let rt = build_runtime();
                let h = rt.handle().clone();
                *owned.lock().expect("runtime lock") = Some(rt);
                if EVALS.with(Cell::get) > 0 {
                    // One leaked handle per session whose runtime starts mid-evaluation.
                    let leaked: &'static tokio::runtime::Handle = Box::leak(Box::new(h.clone()));
                    LAZY_ENTERED.with(|g| *g.borrow_mut() = Some(leaked.enter()));
                }
                h
            }),
        }
    }

    /// The runtime, if it runs already (never builds it).
    pub fn started_runtime(&self) -> Option<&tokio::runtime::Handle> {
        match &self.0.runtime {
            RuntimeSlot::Given(h) => Some(h),
            RuntimeSlot::Lazy { handle, .. } => handle.get(),
        }
    }

    /// The runtime this context built, for its owner to shut down (`None` if it was given or
    /// never built).
    pub fn take_owned_runtime(&self) -> Option<tokio::runtime::Runtime> {
        match &self.0.runtime {
            RuntimeSlot::Given(_) => None,
            RuntimeSlot::Lazy { owned, .. } => owned.lock().expect("runtime lock").take(),
        }
    }

    /// The output layer (print, spinners, explain lines).
    pub fn output(&self) -> &Output {
        &self.0.output
    }

    /// Global flags.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// Prints the shell command equivalent to what a primitive is about to do, when
    /// `--explain` is on. `argv` is quoted as a POSIX shell would need it. The command is
    /// kept for the HTML report's step table either way.
    pub fn explain<S: AsRef<str>>(&self, argv: &[S]) {
        let line = crate::shell::join(argv);
        self.ext::<crate::journal::Journal>().command(&line);
        if self.0.settings.explain {
            self.0.output.explain(&line);
        }
    }

    /// The folder relative paths in scripts are resolved against.
    pub fn script_dir(&self) -> PathBuf {
        self.0.script_dir.read().expect("script_dir lock").clone()
    }

    /// Sets the folder relative paths are resolved against (the running script's folder).
    pub fn set_script_dir(&self, dir: PathBuf) {
        *self.0.script_dir.write().expect("script_dir lock") = dir;
    }

    /// `path` resolved against the script's folder when it is relative.
    pub fn resolve_path(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.script_dir().join(p)
        }
    }

    /// Starts a new evaluation: a fresh cancellation token, the interrupt flag cleared.
    pub fn begin_eval(&self) -> CancellationToken {
        let token = self.0.session.child_token();
        *self.0.eval.lock().expect("eval lock") = token.clone();
        self.0.interrupted.store(false, Ordering::SeqCst);
        token
    }

    /// The current evaluation's cancellation token (cancelled by Ctrl-C).
    pub fn cancel_token(&self) -> CancellationToken {
        self.0.eval.lock().expect("eval lock").clone()
    }

    /// Ctrl-C: cancels the current evaluation and everything it started.
    pub fn interrupt(&self) {
        self.0.interrupted.store(true, Ordering::SeqCst);
        self.cancel_token().cancel();
    }

    /// Whether the current evaluation was interrupted.
    pub fn is_interrupted(&self) -> bool {
        self.0.interrupted.load(Ordering::Relaxed)
    }

    /// Runs `fut` to completion on the runtime from the engine's thread, unless the current
    /// evaluation is cancelled first. Never call it from inside an async task.
    pub fn block_on<F: Future>(&self, fut: F) -> Result<F::Output, Interrupted> {
        let token = self.cancel_token();
        if token.is_cancelled() {
            return Err(Interrupted);
        }
        self.runtime().block_on(async {
            tokio::select! {
                biased;
                _ = token.cancelled() => Err(Interrupted),
                v = fut => Ok(v),
            }
        })
    }

    /// Spawns a background task (a capture, a monitor) that must be finished before the
    /// workbench shuts down. The task should watch `cancel_token()` or [`Ctx::session_token`].
    pub fn spawn_background<F>(&self, fut: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.tracker.spawn_on(fut, self.runtime())
    }

    /// The session's token: cancelled when the workbench shuts down.
    pub fn session_token(&self) -> CancellationToken {
        self.0.session.clone()
    }

    /// Cancels everything and waits (up to `grace`) for background tasks to clean up.
    pub fn shutdown(&self, grace: Duration) {
        self.0.session.cancel();
        self.0.tracker.close();
        // Nothing can run in the background of a runtime that never started.
        let Some(runtime) = self.started_runtime() else {
            return;
        };
        let tracker = self.0.tracker.clone();
        let _ = runtime.block_on(async move { tokio::time::timeout(grace, tracker.wait()).await });
    }

    /// Per-family shared state, created on first use (e.g. the Docker client, the kube context).
    pub fn ext<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut map = self.0.extensions.lock().expect("extensions lock");
        let entry = map
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()) as Arc<dyn Any + Send + Sync>)
            .clone();
        drop(map);
        entry
            .downcast::<T>()
            .expect("extension type matches its TypeId")
    }
}
