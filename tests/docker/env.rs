//! Whether the real Docker engine is here: tests skip with a visible message when it is not,
//! and fail instead when `LABSH_REQUIRE_DOCKER=1` (CI sets it).

use std::io::Write;
use std::sync::OnceLock;

use bollard::Docker;

use super::image;

/// The runtime the test helpers (image, stand-in cluster) run on.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

/// The engine and the test image.
pub struct Engine {
    pub docker: Docker,
    pub image: String,
}

fn required() -> bool {
    std::env::var("LABSH_REQUIRE_DOCKER").is_ok_and(|v| v == "1")
}

/// The engine with the test image ready, or `None` (after printing why) when Docker is not
/// reachable or the test image cannot be built (no debootstrap, not root). Panics instead when
/// `LABSH_REQUIRE_DOCKER=1`.
pub fn engine(test: &str) -> Option<Engine> {
    static ENGINE: OnceLock<Result<(Docker, String), String>> = OnceLock::new();
    let ready = ENGINE.get_or_init(|| {
        // Host-side captures (tcpdump on a node's veth) need CAP_NET_RAW, and building the
        // image needs root: without them the Docker tier is skipped, not failed.
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        if labsh::primitives::preflight::cap_eff_has_net_raw(&status) != Some(true) {
            return Err(
                "not root (no CAP_NET_RAW): host-side captures and the test image need it"
                    .to_string(),
            );
        }
        runtime().block_on(async {
            let host = labsh::docker::client::docker_host();
            let docker = labsh::docker::client::connect(&host)
                .await
                .map_err(|e| format!("no Docker engine: {e}"))?;
            let image = image::ensure(&docker)
                .await
                .map_err(|e| format!("cannot build the test image: {e}"))?;
            Ok((docker, image))
        })
    });
    match ready {
        Ok((docker, image)) => Some(Engine {
            docker: docker.clone(),
            image: image.clone(),
        }),
        Err(e) if required() => panic!("LABSH_REQUIRE_DOCKER=1 but {e}"),
        Err(e) => {
            // Straight to stderr: the test harness captures `eprintln!` of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "skipping {test}: {e} (set LABSH_REQUIRE_DOCKER=1 to make this a failure)"
            );
            None
        }
    }
}
