//! Exec in a pod over kube-rs's WebSocket: [`exec_lines`] streams stdout and stderr lines on
//! a channel (the monitor and `kube::exec_stream` read it), [`ExecStream::close`] or dropping
//! the stream ends the exec and closes the WebSocket, and the exit code comes from the
//! status channel.
//!
//! Closing an exec before its command ended does not end the command: neither the API server
//! nor containerd signals a process whose exec stream went away (`kubectl exec` leaves it
//! running too). So after closing, labsh runs [`KILL_SCRIPT`] in the same container: it ends
//! the processes whose command line is exactly the exec's argv and whose parent is outside the
//! container (PPid 0: started by an exec, not by the container's own processes).

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{Api, AttachParams, AttachedProcess};
use tokio::io::AsyncRead;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::context::Ctx;
use crate::kube::{KubeError, connect};

/// One line of output, without its line ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecLine {
    /// A line on stdout.
    Stdout(String),
    /// A line on stderr.
    Stderr(String),
}

/// How the remote command ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExitInfo {
    /// Exit code (`None` when closed before it ended, or the server gave none).
    pub code: Option<i32>,
    /// The status message when it failed without an exit code (`executable not found`).
    pub message: String,
}

/// A running exec. Dropping it (or [`ExecStream::close`]) ends the exec and closes the
/// WebSocket.
pub struct ExecStream {
    /// Output lines, in arrival order per stream; the channel closes when the command ends.
    pub lines: mpsc::Receiver<ExecLine>,
    token: CancellationToken,
    guard: DropGuard,
    exit: oneshot::Receiver<ExitInfo>,
}

impl ExecStream {
    /// Ends the exec: the WebSocket is closed, the lines channel ends.
    pub fn close(&self) {
        self.token.cancel();
    }

    /// Waits for the command to end and returns its exit code (`None` when it was closed
    /// first or the server sent no status). Does not close the exec.
    pub async fn exit_code(self) -> Option<i32> {
        self.exit_info().await.code
    }

    /// Like [`ExecStream::exit_code`], with the failure message.
    pub async fn exit_info(self) -> ExitInfo {
        let ExecStream {
            lines, guard, exit, ..
        } = self;
        // Keep reading possible: the caller gave up the receiver, so drain it or the
        // command blocks on a full channel.
        drop(lines);
        let token = guard.disarm();
        let info = exit.await.unwrap_or_default();
        token.cancel();
        info
    }

    /// Waits for the command to end without giving up the lines already received.
    pub async fn wait_exit(&mut self) -> ExitInfo {
        (&mut self.exit).await.unwrap_or_default()
    }
}

/// Starts `argv` in `pod` (container `container`, or the default one) and streams its
/// output lines.
pub async fn exec_lines(
    ctx: &Ctx,
    namespace: &str,
    pod: &str,
    container: Option<&str>,
    argv: &[String],
) -> Result<ExecStream, KubeError> {
    let conn = connect(ctx).await?;
    let api: Api<Pod> = Api::namespaced(conn.client.clone(), namespace);
    let mut ap = AttachParams::default()
        .stdin(false)
        .stdout(true)
        .stderr(true);
    if let Some(c) = container {
        ap = ap.container(c);
    }
    let what = || {
        format!(
            "exec {:?} in pod {namespace}/{pod}{}",
            argv.join(" "),
            container
                .map(|c| format!(" (container {c})"))
                .unwrap_or_default()
        )
    };
    let proc = api
        .exec(pod, argv.to_vec(), &ap)
        .await
        .map_err(|e| conn.error(what, e))?;
    let (tx, rx) = mpsc::channel(1024);
    let (exit_tx, exit_rx) = oneshot::channel();
    let token = CancellationToken::new();
    let killer = Killer {
        api: api.clone(),
        pod: pod.to_string(),
        container: container.map(str::to_string),
        argv: argv.to_vec(),
    };
    tokio::spawn(drive(proc, killer, tx, token.clone(), exit_tx));
    Ok(ExecStream {
        lines: rx,
        guard: token.clone().drop_guard(),
        token,
        exit: exit_rx,
    })
}

/// Ends, in the container, what an exec closed early left running.
pub const KILL_SCRIPT: &str = r#"want=$(printf '%s\n' "$@")
for d in /proc/[0-9]*; do
  p=${d#/proc/}
  [ "$p" = "$$" ] && continue
  ppid=
  while read -r k v; do [ "$k" = PPid: ] && ppid=$v; done < "$d/status" 2>/dev/null
  [ "$ppid" = 0 ] || continue
  [ "$(tr '\0' '\n' < "$d/cmdline" 2>/dev/null)" = "$want" ] && kill -TERM "$p" 2>/dev/null
done
exit 0"#;

struct Killer {
    api: Api<Pod>,
    pod: String,
    container: Option<String>,
    argv: Vec<String>,
}

impl Killer {
    /// Best effort, bounded: a container without `sh` keeps the process (nothing else can
    /// reach it).
    async fn kill(self) {
        let mut argv = vec![
            "sh".to_string(),
            "-c".to_string(),
            KILL_SCRIPT.to_string(),
            "labsh-kill".to_string(),
        ];
        argv.extend(self.argv);
        // kube-rs wants one stream attached: stderr, which the script leaves empty.
        let mut ap = AttachParams::default()
            .stdin(false)
            .stdout(false)
            .stderr(true);
        if let Some(c) = &self.container {
            ap = ap.container(c);
        }
        let run = async {
            if let Ok(mut proc) = self.api.exec(&self.pod, argv, &ap).await {
                if let Some(status) = proc.take_status() {
                    let _ = status.await;
                }
                let _ = proc.join().await;
            }
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(3), run).await;
    }
}

async fn drive(
    mut proc: AttachedProcess,
    killer: Killer,
    tx: mpsc::Sender<ExecLine>,
    token: CancellationToken,
    exit_tx: oneshot::Sender<ExitInfo>,
) {
    let stdout = proc.stdout();
    let stderr = proc.stderr();
    let status = proc.take_status();
    let work = async move {
        let out = async {
            if let Some(r) = stdout {
                pump(r, &tx, ExecLine::Stdout).await;
            }
        };
        let err = async {
            if let Some(r) = stderr {
                pump(r, &tx, ExecLine::Stderr).await;
            }
        };
        futures::join!(out, err);
        match status {
            Some(s) => s.await,
            None => None,
        }
    };
    tokio::select! {
        _ = token.cancelled() => {
            // Aborting the message loop drops the WebSocket: the server sees it close.
            proc.abort();
            drop(proc);
            killer.kill().await;
            let _ = exit_tx.send(ExitInfo::default());
        }
        status = work => {
            let _ = exit_tx.send(exit_info(status));
            drop(proc);
        }
    }
}

async fn pump(
    reader: impl AsyncRead + Unpin,
    tx: &mpsc::Sender<ExecLine>,
    wrap: fn(String) -> ExecLine,
) {
    let mut lines = crate::follow::lines(reader);
    while let Some(Ok(line)) = lines.next().await {
        // Nobody reads: keep draining so the exec can finish.
        let _ = tx.send(wrap(line)).await;
    }
}

/// The exit code in an exec's final status: `Success` is 0, `NonZeroExitCode` carries it
/// in `details.causes[reason=ExitCode]`.
pub fn exit_info(status: Option<Status>) -> ExitInfo {
    let Some(s) = status else {
        return ExitInfo {
            code: None,
            message: "the exec ended without a status".into(),
        };
    };
    if s.status.as_deref() == Some("Success") {
        return ExitInfo {
            code: Some(0),
            message: String::new(),
        };
    }
    let code = s
        .details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .and_then(|causes| {
            causes
                .iter()
                .find(|c| c.reason.as_deref() == Some("ExitCode"))
                .and_then(|c| c.message.as_deref())
                .and_then(|m| m.trim().parse::<i32>().ok())
        });
    ExitInfo {
        code,
        message: s.message.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_come_from_the_status_channel() {
        let ok: Status = serde_json::from_value(serde_json::json!({
            "metadata": {}, "status": "Success"
        }))
        .unwrap();
        assert_eq!(exit_info(Some(ok)).code, Some(0));
        let failed: Status = serde_json::from_value(serde_json::json!({
            "metadata": {}, "status": "Failure",
            "message": "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}
        }))
        .unwrap();
        assert_eq!(exit_info(Some(failed)).code, Some(3));
        let oci: Status = serde_json::from_value(serde_json::json!({
            "metadata": {}, "status": "Failure",
            "message": "OCI runtime exec failed: exec failed: unable to start container process: exec: \"nope\": executable file not found in $PATH",
            "reason": "InternalError"
        }))
        .unwrap();
        let info = exit_info(Some(oci));
        assert_eq!(info.code, None);
        assert!(info.message.contains("executable file not found"));
        assert_eq!(exit_info(None).code, None);
    }
}
