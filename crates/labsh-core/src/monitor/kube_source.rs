//! The Kubernetes side of `cilium monitor` in an agent pod: which program the agent has
//! (`cilium-dbg` from Cilium 1.15, `cilium` before — found with one cheap exec, `sh -c
//! 'command -v cilium-dbg || command -v cilium'`). The monitor exec itself is piped into a
//! [`crate::monitor::Monitor`]'s channel by [`super::pump`].

use std::time::Duration;

use crate::context::Ctx;
use crate::kube::KubeError;
use crate::kube::exec::{ExecLine, exec_lines};

/// The probe run in the agent container: prints the path of the first program found.
pub const PROBE: [&str; 3] = ["sh", "-c", "command -v cilium-dbg || command -v cilium"];

/// How long the probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs [`PROBE`] in `container` of `namespace/pod` and returns the monitor program there:
/// `"cilium-dbg"` or `"cilium"`.
pub async fn detect_program(
    ctx: &Ctx,
    namespace: &str,
    pod: &str,
    container: &str,
) -> Result<String, KubeError> {
    let argv: Vec<String> = PROBE.iter().map(|s| s.to_string()).collect();
    let run = async {
        let mut stream = exec_lines(ctx, namespace, pod, Some(container), &argv).await?;
        let mut stdout = Vec::new();
        while let Some(line) = stream.lines.recv().await {
            if let ExecLine::Stdout(l) = line {
                stdout.push(l);
            }
        }
        let info = stream.wait_exit().await;
        program_from_probe(namespace, pod, container, &stdout, info.code, &info.message)
    };
    match tokio::time::timeout(PROBE_TIMEOUT, run).await {
        Ok(found) => found,
        // The stream is dropped with the future: the probe's exec is closed.
        Err(_) => Err(KubeError::Other(format!(
            "looking for cilium-dbg or cilium in container {container} of pod {namespace}/{pod}: \
             no answer after {}",
            crate::kube::error::human(PROBE_TIMEOUT)
        ))),
    }
}

/// The monitor program named by the probe's output (its first line, a path), or an error
/// saying what was found instead. `code` is the probe's exit code.
pub fn program_from_probe(
    namespace: &str,
    pod: &str,
    container: &str,
    stdout: &[String],
    code: Option<i32>,
    message: &str,
) -> Result<String, KubeError> {
    let first = stdout
        .iter()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let base = first.rsplit('/').next().unwrap_or("");
    if code == Some(0) && (base == "cilium-dbg" || base == "cilium") {
        return Ok(base.to_string());
    }
    let why = match code {
        Some(0) => format!("the probe printed `{first}`"),
        Some(c) => format!("the probe exited with code {c}"),
        None if message.is_empty() => "the probe ended without an exit status".to_string(),
        None => message.to_string(),
    };
    Err(KubeError::Other(format!(
        "neither cilium-dbg nor cilium is on the PATH of container {container} in pod \
         {namespace}/{pod} ({why}); is it a Cilium agent?"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_probe_names_cilium_dbg_or_cilium() {
        let p = |out: &[&str]| {
            program_from_probe(
                "kube-system",
                "cilium-x7k2p",
                "cilium-agent",
                &lines(out),
                Some(0),
                "",
            )
        };
        assert_eq!(p(&["/usr/bin/cilium-dbg"]).unwrap(), "cilium-dbg");
        assert_eq!(p(&["/usr/bin/cilium"]).unwrap(), "cilium");
        assert_eq!(p(&["", "/opt/cilium/bin/cilium"]).unwrap(), "cilium");
    }

    #[test]
    fn a_probe_finding_nothing_says_so() {
        let err = program_from_probe(
            "kube-system",
            "cilium-x7k2p",
            "cilium-agent",
            &[],
            Some(1),
            "",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "neither cilium-dbg nor cilium is on the PATH of container cilium-agent in pod \
             kube-system/cilium-x7k2p (the probe exited with code 1); is it a Cilium agent?"
        );
        let err = program_from_probe(
            "kube-system",
            "cilium-x7k2p",
            "cilium-agent",
            &lines(&["/bin/ciliumx"]),
            Some(0),
            "",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("the probe printed `/bin/ciliumx`"),
            "{err}"
        );
    }
}
