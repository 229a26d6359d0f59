//! The connection to the selected kubeconfig context, created lazily and cached per session;
//! rebuilt when `selection::current(ctx).generation` changes (`kube::use_context`, the kind
//! lifecycle). Every kube-rs error goes through [`Conn::error`], which turns connection
//! failures into an error naming the context and the server URL.

use std::sync::{Arc, Mutex};

use kube::api::{Api, DynamicObject};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::context::Ctx;
use crate::kube::KubeError;
use crate::kube::kinds::{Catalog, Kind};

/// A client on one context, with its discovery catalog.
pub struct Conn {
    /// The kube-rs client.
    pub client: Client,
    /// The context name.
    pub context: String,
    /// The API server URL.
    pub server: String,
    /// The context's namespace (`default` unless the kubeconfig says otherwise).
    pub default_namespace: String,
    generation: u64,
    catalog: tokio::sync::Mutex<Option<Arc<Catalog>>>,
}

/// The per-session cached connection (a [`Ctx::ext`] extension).
#[derive(Default)]
pub struct ConnCache(Mutex<Option<Arc<Conn>>>);

/// The connection for the selected context, built on first use and rebuilt after the
/// selection changes. Building it reads the kubeconfig but does not contact the server.
pub async fn connect(ctx: &Ctx) -> Result<Arc<Conn>, KubeError> {
    let selection = crate::selection::current(ctx);
    let cache = ctx.ext::<ConnCache>();
    if let Some(conn) = cache.0.lock().expect("conn cache lock").as_ref()
        && conn.generation == selection.generation
    {
        return Ok(conn.clone());
    }
    let (kubeconfig, source_desc) = match &selection.kubeconfig {
        Some(path) => (Kubeconfig::read_from(path), path.display().to_string()),
        None => (
            Kubeconfig::read(),
            match std::env::var("KUBECONFIG") {
                Ok(v) if !v.is_empty() => format!("KUBECONFIG={v}"),
                _ => "~/.kube/config".to_string(),
            },
        ),
    };
    if let Some(missing) = missing_kubeconfig(selection.kubeconfig.as_deref()) {
        return Err(KubeError::Config {
            source_desc,
            message: format!(
                "{missing} does not exist; create a cluster (kind writes the kubeconfig) or point KUBECONFIG at one"
            ),
        });
    }
    let kubeconfig = kubeconfig.map_err(|e| KubeError::Config {
        source_desc: source_desc.clone(),
        message: crate::kube::error::root_cause(&e),
    })?;
    let context = match selection
        .context
        .clone()
        .or(kubeconfig.current_context.clone())
    {
        Some(c) => c,
        None => {
            return Err(KubeError::Config {
                source_desc,
                message: "no current context; select one with kube::use_context(name)".into(),
            });
        }
    };
    if !kubeconfig.contexts.iter().any(|c| c.name == context) {
        let known: Vec<&str> = kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        return Err(KubeError::Config {
            source_desc,
            message: format!(
                "no context named `{context}`; known contexts: {}",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        });
    }
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..Default::default()
    };
    let config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| KubeError::Config {
            source_desc: format!("{source_desc}, context `{context}`"),
            message: crate::kube::error::root_cause(&e),
        })?;
    let server = config.cluster_url.to_string();
    let server = server.trim_end_matches('/').to_string();
    let default_namespace = config.default_namespace.clone();
    let client = Client::try_from(config).map_err(|e| KubeError::Config {
        source_desc: format!("{source_desc}, context `{context}`"),
        message: crate::kube::error::root_cause(&e),
    })?;
    let conn = Arc::new(Conn {
        client,
        context,
        server,
        default_namespace,
        generation: selection.generation,
        catalog: tokio::sync::Mutex::new(None),
    });
    *cache.0.lock().expect("conn cache lock") = Some(conn.clone());
    Ok(conn)
}

impl Conn {
    /// Maps a kube-rs error: connection-level failures name the context and server;
    /// API errors carry `what` and the server's message.
    pub fn error(&self, what: impl FnOnce() -> String, err: kube::Error) -> KubeError {
        match err {
            kube::Error::Api(status) => KubeError::Api {
                what: what(),
                code: status.code,
                message: if status.message.is_empty() {
                    status.reason.clone()
                } else {
                    status.message.clone()
                },
                context: self.context.clone(),
            },
            kube::Error::HyperError(_) | kube::Error::Service(_) => KubeError::Unreachable {
                context: self.context.clone(),
                server: self.server.clone(),
                detail: crate::kube::error::root_cause(&err),
            },
            other => KubeError::Other(format!(
                "{}: {} (context `{}`)",
                what(),
                crate::kube::error::root_cause(&other),
                self.context
            )),
        }
    }

    /// The discovery catalog, fetched on first use.
    pub async fn catalog(&self) -> Result<Arc<Catalog>, KubeError> {
        let mut guard = self.catalog.lock().await;
        if let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        let c = Arc::new(Catalog::discover(self).await?);
        *guard = Some(c.clone());
        Ok(c)
    }

    /// Re-runs discovery (after a CRD was applied).
    pub async fn refresh_catalog(&self) -> Result<Arc<Catalog>, KubeError> {
        let c = Arc::new(Catalog::discover(self).await?);
        *self.catalog.lock().await = Some(c.clone());
        Ok(c)
    }

    /// Resolves a kubectl kind name (`svc`, `deployments.apps`, `cep`).
    pub async fn kind(&self, name: &str) -> Result<Kind, KubeError> {
        let catalog = self.catalog().await?;
        catalog
            .resolve(name)
            .cloned()
            .map_err(|hint| KubeError::UnknownKind {
                name: name.to_string(),
                context: self.context.clone(),
                hint,
            })
    }

    /// A dynamic API for `kind`: in `namespace` (or the context's default) for namespaced
    /// kinds, cluster-wide otherwise. [`Conn::api_all`] spans every namespace.
    pub fn api(&self, kind: &Kind, namespace: Option<&str>) -> Api<DynamicObject> {
        if kind.namespaced {
            let ns = namespace.unwrap_or(&self.default_namespace);
            Api::namespaced_with(self.client.clone(), ns, &kind.resource)
        } else {
            Api::all_with(self.client.clone(), &kind.resource)
        }
    }

    /// A dynamic API across all namespaces (or the cluster, for cluster-scoped kinds).
    pub fn api_all(&self, kind: &Kind) -> Api<DynamicObject> {
        Api::all_with(self.client.clone(), &kind.resource)
    }

    /// The namespace used for `namespace`: the given one or the context's default.
    pub fn namespace<'a>(&'a self, namespace: Option<&'a str>) -> &'a str {
        namespace.unwrap_or(&self.default_namespace)
    }
}

/// The kubeconfig file that would be read, when none of the candidates exists.
fn missing_kubeconfig(explicit: Option<&std::path::Path>) -> Option<String> {
    let candidates: Vec<std::path::PathBuf> = match explicit {
        Some(p) => vec![p.to_path_buf()],
        None => match std::env::var_os("KUBECONFIG") {
            Some(v) if !v.is_empty() => std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect(),
            _ => std::env::var_os("HOME")
                .map(|h| vec![std::path::PathBuf::from(h).join(".kube").join("config")])
                .unwrap_or_default(),
        },
    };
    if candidates.is_empty() || candidates.iter().any(|p| p.exists()) {
        return None;
    }
    Some(
        candidates
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    )
}
