//! What can go wrong talking to a cluster, with the context a user needs to act on it: the
//! kubeconfig context and server URL when the API server cannot be reached, the object and
//! the server's message when a request is refused, the file/line/column of a bad manifest,
//! and what was last seen when a wait times out.

use std::time::Duration;

/// A Kubernetes-side failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KubeError {
    /// No usable kubeconfig.
    #[error("cannot load the kubeconfig ({source_desc}): {message}")]
    Config {
        /// Which file (or `KUBECONFIG`/`~/.kube/config`).
        source_desc: String,
        /// Why.
        message: String,
    },
    /// The API server did not answer (connection refused, DNS, TLS, timeout).
    #[error("cannot reach the Kubernetes API server of context `{context}` at {server}: {detail}")]
    Unreachable {
        /// The kubeconfig context.
        context: String,
        /// The server URL from the kubeconfig.
        server: String,
        /// The underlying error.
        detail: String,
    },
    /// The API server answered before, and no longer does (killed, network gone): a watch
    /// or a log stream cannot go on.
    #[error(
        "{what}: lost the connection to the Kubernetes API server of context `{context}` at {server} (no answer to {attempts} attempts): {detail}"
    )]
    Lost {
        /// What was going on (`logs of pod default/frontend-abc`).
        what: String,
        /// The kubeconfig context.
        context: String,
        /// The server URL from the kubeconfig.
        server: String,
        /// How many tries failed.
        attempts: u32,
        /// The last error.
        detail: String,
    },
    /// The API server answered with an error status.
    #[error("{what}: {message} (HTTP {code}, context `{context}`)")]
    Api {
        /// What was being done (`get deployments.apps/frontend in default`).
        what: String,
        /// HTTP status code.
        code: u16,
        /// The server's message.
        message: String,
        /// The kubeconfig context.
        context: String,
    },
    /// A kind name that discovery does not know.
    #[error("unknown resource kind `{name}` on context `{context}`{hint}")]
    UnknownKind {
        /// The name given (`svcs`).
        name: String,
        /// The kubeconfig context.
        context: String,
        /// `; did you mean …?` or empty.
        hint: String,
    },
    /// A manifest whose apiVersion/kind the cluster does not serve.
    #[error(
        "{source_desc}: unknown kind: apiVersion `{api_version}`, kind `{kind}` is not served by the cluster (is its CRD installed?)"
    )]
    UnknownGvk {
        /// The file or `<yaml string>`/`<map>`.
        source_desc: String,
        /// The document's apiVersion.
        api_version: String,
        /// The document's kind.
        kind: String,
    },
    /// YAML that does not parse.
    #[error("{source_desc}{}: invalid YAML: {}", match error.location { Some((line, column)) => format!(":{line}:{column}"), None => String::new() }, error.message)]
    Yaml {
        /// The file or `<yaml string>`.
        source_desc: String,
        /// Why and where.
        error: crate::yaml::YamlError,
    },
    /// A manifest that parses but is not a Kubernetes object.
    #[error("{source_desc}: {message}")]
    Manifest {
        /// The file or `<yaml string>`/`<map>`.
        source_desc: String,
        /// What is wrong.
        message: String,
    },
    /// A wait that did not finish in time.
    #[error("{what}: timed out after {}; last seen: {last_seen}", crate::kube::error::human(*after))]
    Timeout {
        /// The wait (`kube::wait_ready(pods, k8s-app=cilium)`).
        what: String,
        /// The timeout.
        after: Duration,
        /// A summary of the last state seen.
        last_seen: String,
    },
    /// A wait ended before its timeout: a pod it waits for cannot progress (an image that
    /// cannot be pulled).
    #[error("{what}: {blocker}; last seen: {last_seen}")]
    Blocked {
        /// The wait.
        what: String,
        /// The blocking state, worded (`pod lab/web-5d4f: ErrImagePull: image "…" …`).
        blocker: String,
        /// A summary of the last state seen.
        last_seen: String,
    },
    /// Anything else, already worded.
    #[error("{0}")]
    Other(String),
}

/// `30s`, `2m`, `1m30s`, `500ms`: how timeouts are printed. Hand-written beside
/// `crate::duration::format` (jiff): under a minute it keeps a tenth of a second (`1.5s`).
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let s = d.as_secs();
    if s < 60 {
        if ms.is_multiple_of(1000) {
            format!("{s}s")
        } else {
            format!("{:.1}s", d.as_secs_f64())
        }
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{}m{}s", s / 60, s % 60)
    }
}

/// The innermost message of an error chain (`connection refused` rather than `client error`).
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut messages = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        messages.push(e.to_string());
        cur = e.source();
    }
    // The innermost message, with the one wrapping it when that adds something:
    // "tcp connect error: Connection refused (os error 111)".
    messages.dedup();
    let inner = messages.pop().unwrap_or_default();
    match messages.pop() {
        Some(outer) if outer.contains(&inner) => outer,
        Some(outer) => format!("{outer}: {inner}"),
        None => inner,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_print_like_the_options_read() {
        assert_eq!(human(Duration::from_millis(500)), "500ms");
        assert_eq!(human(Duration::from_secs(30)), "30s");
        assert_eq!(human(Duration::from_secs(120)), "2m");
        assert_eq!(human(Duration::from_secs(90)), "1m30s");
    }

    #[test]
    fn unreachable_names_context_and_server() {
        let e = KubeError::Unreachable {
            context: "kind-lab".into(),
            server: "https://127.0.0.1:40123".into(),
            detail: "Connection refused".into(),
        };
        assert_eq!(
            e.to_string(),
            "cannot reach the Kubernetes API server of context `kind-lab` at https://127.0.0.1:40123: Connection refused"
        );
    }
}
