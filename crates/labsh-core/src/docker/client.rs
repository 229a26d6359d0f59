//! Connecting to the Docker engine: `DOCKER_HOST` (or the default socket), then API version
//! negotiation — bollard's default API version is newer than many engines (this machine's
//! Docker 20.10 speaks 1.41). Errors name the socket or host so "Docker is not running" is
//! never a mystery.

use bollard::Docker;
use tokio::sync::OnceCell;

use crate::context::Ctx;

/// The default engine address when `DOCKER_HOST` is unset.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// Why the engine could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// Connecting or negotiating the API version failed.
    #[error(
        "cannot reach the Docker engine at {host}: {reason}; is Docker running (`systemctl status docker`), or is DOCKER_HOST right?"
    )]
    Unreachable { host: String, reason: String },
    /// An API call failed.
    #[error("{what}: {source}")]
    Api {
        what: String,
        source: bollard::errors::Error,
    },
    /// Anything else (with its context in the message).
    #[error("{0}")]
    Other(String),
}

impl DockerError {
    /// Wraps a bollard error with what was being done.
    pub fn api(what: impl Into<String>) -> impl FnOnce(bollard::errors::Error) -> DockerError {
        let what = what.into();
        move |source| DockerError::Api { what, source }
    }
}

/// The engine address labsh uses: `DOCKER_HOST`, else the default socket.
pub fn docker_host() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_HOST.to_string())
}

/// Connects to `host` and negotiates the API version (one round-trip to `/version`).
pub async fn connect(host: &str) -> Result<Docker, DockerError> {
    let unreachable = |reason: String| DockerError::Unreachable {
        host: host.to_string(),
        reason,
    };
    let docker = Docker::connect_with_host(host).map_err(|e| unreachable(e.to_string()))?;
    docker
        .negotiate_version()
        .await
        .map_err(|e| unreachable(error_chain(&e)))
}

/// An error and its sources, joined with `: ` (hyper's "client error (Connect)" alone says
/// little; its source says "Connection refused").
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_msg = s.to_string();
        if !msg.contains(&s_msg) {
            msg.push_str(": ");
            msg.push_str(&s_msg);
        }
        source = s.source();
    }
    msg
}

/// The session's Docker client, created on first use (a failed attempt is retried next time).
#[derive(Default)]
pub struct DockerClient {
    cell: OnceCell<Docker>,
}

impl DockerClient {
    /// The client, connecting on first use.
    pub async fn get(&self) -> Result<Docker, DockerError> {
        self.cell
            .get_or_try_init(|| async { connect(&docker_host()).await })
            .await
            .cloned()
    }
}

/// The session's Docker client (see [`DockerClient`]).
pub async fn client(ctx: &Ctx) -> Result<Docker, DockerError> {
    ctx.ext::<DockerClient>().get().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dead_socket_error_names_the_socket() {
        let err = connect("unix:///nonexistent.sock").await.unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unix:///nonexistent.sock"), "{msg}");
        assert!(msg.contains("cannot reach the Docker engine"), "{msg}");
    }

    #[tokio::test]
    async fn unsupported_scheme_error_names_the_host() {
        let err = connect("gopher://nowhere").await.unwrap_err();
        assert!(err.to_string().contains("gopher://nowhere"), "{err}");
    }
}
