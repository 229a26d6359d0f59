//! The kind commands labsh runs, each with a timeout, `--explain` and errors that say what
//! failed: `kind get clusters`, `kind create cluster` (with kind's steps on a spinner and its
//! full output on failure), `kind delete cluster`, `kind delete clusters --all`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::cluster::Cluster;
use super::config::{ClusterShape, KindConfig};
use super::progress::{StepState, parse_step};
use crate::context::Ctx;
use crate::errors::{Error, Result};
use crate::process::{ProcessError, Spec};
use crate::tool::{self, Progress};

/// How `cluster::create` makes a cluster.
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// The shape labsh writes a config for, when `config` is `None`.
    pub shape: ClusterShape,
    /// A kind config file to use as it is.
    pub config: Option<PathBuf>,
    /// `--image kindest/node:…`.
    pub image: Option<String>,
    /// `--wait`: how long kind waits for the control-plane; `None` leaves the flag out.
    pub wait: Option<Duration>,
    /// Delete an existing cluster of that name first instead of reusing it.
    pub recreate: bool,
    /// Ends `kind create cluster` (and its children) after this long.
    pub timeout: Duration,
}

impl Default for CreateOptions {
    fn default() -> Self {
        CreateOptions {
            shape: ClusterShape::default(),
            config: None,
            image: None,
            wait: Some(super::DEFAULT_WAIT),
            recreate: false,
            timeout: super::CREATE_TIMEOUT,
        }
    }
}

/// The argument vector of `kind create cluster`.
pub fn create_argv(name: &str, config: &str, opts: &CreateOptions) -> Vec<String> {
    let mut argv: Vec<String> = [
        "kind", "create", "cluster", "--name", name, "--config", config,
    ]
    .map(String::from)
    .into();
    if let Some(wait) = opts.wait {
        argv.extend(["--wait".into(), crate::duration::format(wait)]);
    }
    if let Some(image) = &opts.image {
        argv.extend(["--image".into(), image.clone()]);
    }
    argv
}

fn say(ctx: &Ctx, line: &str) {
    if !ctx.output().quiet() {
        ctx.output().eprintln(line);
    }
}

/// `kind get clusters`: the names of the existing clusters.
pub fn list(ctx: &Ctx, timeout: Duration) -> Result<Vec<String>> {
    let spec = Spec::new(["kind", "get", "clusters"]).timeout(timeout);
    let out = tool::run(ctx, &spec, None).and_then(|c| c.check(&spec))?;
    // "No kind clusters found." goes to stderr; stdout has one name per line.
    Ok(out
        .stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// `cluster::get`: the existing cluster `name`, or an error listing the existing ones.
pub fn get(ctx: &Ctx, name: &str, timeout: Duration) -> Result<Cluster> {
    super::validate_name("cluster::get", name).map_err(Error::Message)?;
    let names = list(ctx, timeout)?;
    if !names.iter().any(|n| n == name) {
        return Err(Error::msg(if names.is_empty() {
            format!(
                "cluster::get: there is no kind cluster `{name}` (there is no kind cluster at all; create one with cluster::create(\"{name}\"))"
            )
        } else {
            format!(
                "cluster::get: there is no kind cluster `{name}`; existing clusters: {}",
                names.join(", ")
            )
        }));
    }
    let cluster = Cluster::new(name, true);
    cluster.select(ctx);
    Ok(cluster)
}

/// `kind delete cluster --name N`.
pub fn delete(ctx: &Ctx, name: &str, timeout: Duration) -> Result<()> {
    super::validate_name("cluster::delete", name).map_err(Error::Message)?;
    let spec = Spec::new(["kind", "delete", "cluster", "--name", name]).timeout(timeout);
    tool::run(
        ctx,
        &spec,
        Some(Progress::spinner(format!("kind delete cluster {name}"))),
    )
    .and_then(|c| c.check(&spec))?;
    Ok(())
}

/// `kind delete clusters --all` (the handout's clean-kind.sh).
pub fn delete_all(ctx: &Ctx, timeout: Duration) -> Result<()> {
    let spec = Spec::new(["kind", "delete", "clusters", "--all"]).timeout(timeout);
    tool::run(
        ctx,
        &spec,
        Some(Progress::spinner("kind delete clusters --all")),
    )
    .and_then(|c| c.check(&spec))?;
    Ok(())
}

/// `cluster::create`: reuses an existing cluster `name` (unless `recreate`), else runs
/// `kind create cluster` with a spinner showing kind's current step. The cluster's context
/// becomes the one `kube::` uses.
pub fn create(ctx: &Ctx, name: &str, opts: &CreateOptions) -> Result<Cluster> {
    super::validate_name("cluster::create", name).map_err(Error::Message)?;
    if crate::process::which("docker").is_none() {
        let missing = ProcessError::NotFound {
            program: "docker".into(),
            hint: crate::process::install_hint("docker"),
        };
        return Err(Error::msg(format!(
            "cluster::create: {missing} (kind runs each node as a Docker container)"
        )));
    }
    if let Some(path) = &opts.config
        && !path.is_file()
    {
        return Err(Error::msg(format!(
            "cluster::create: kind config {} not found",
            path.display()
        )));
    }
    if list(ctx, super::CALL_TIMEOUT)?.iter().any(|n| n == name) {
        if !opts.recreate {
            say(
                ctx,
                &format!(
                    "cluster `{name}` already exists: reusing it (recreate: true deletes it first)"
                ),
            );
            let cluster = Cluster::new(name, true);
            cluster.select(ctx);
            return Ok(cluster);
        }
        say(
            ctx,
            &format!("cluster `{name}` exists: deleting it (recreate: true)"),
        );
        delete(ctx, name, super::CALL_TIMEOUT)?;
    }
    let config_file = match &opts.config {
        Some(path) => ConfigFile::Given(path.clone()),
        None => ConfigFile::Written(write_config(ctx, &opts.shape)?),
    };
    let config_path = config_file.path().display().to_string();
    let spec = Spec::new(create_argv(name, &config_path, opts)).timeout(opts.timeout);
    let started = Instant::now();
    let mut current_step = |line: &str| {
        parse_step(line)
            .filter(|s| s.state == StepState::Running)
            .map(|s| s.text)
    };
    let progress = Progress {
        message: format!("kind create cluster {name}"),
        on_line: Some(&mut current_step),
    };
    let out = match tool::run(ctx, &spec, Some(progress)) {
        Ok(out) => out,
        Err(stopped @ (ProcessError::TimedOut { .. } | ProcessError::Interrupted)) => {
            drop(config_file);
            delete_partial(ctx, name);
            return Err(stopped.into());
        }
        Err(other) => return Err(other.into()),
    };
    drop(config_file);
    if out.code != 0 {
        let mut full = out.stderr.trim_end().to_string();
        if !out.stdout.trim().is_empty() {
            full = format!("{}\n{full}", out.stdout.trim_end());
        }
        return Err(Error::msg(format!(
            "`{}` failed with exit status {}; kind's output:\n{full}",
            spec.command_line(),
            out.code
        )));
    }
    let shape = match &opts.config {
        Some(path) => format!("from {}", path.display()),
        None => format!(
            "1 control-plane + {} worker{}",
            opts.shape.workers,
            if opts.shape.workers == 1 { "" } else { "s" }
        ),
    };
    say(
        ctx,
        &format!(
            "cluster `{name}` created ({shape}) in {}; context kind-{name}",
            crate::duration::format(started.elapsed())
        ),
    );
    let cluster = Cluster::new(name, false);
    cluster.select(ctx);
    Ok(cluster)
}

/// A `kind create cluster` killed at its timeout or by Ctrl-C leaves node containers behind
/// (kind cleans up only when it fails by itself): delete them, whatever the evaluation's
/// cancellation, so nothing keeps running.
fn delete_partial(ctx: &Ctx, name: &str) {
    say(
        ctx,
        &format!("deleting the partial cluster `{name}` left by the stopped `kind create cluster`"),
    );
    let spec =
        Spec::new(["kind", "delete", "cluster", "--name", name]).timeout(super::CALL_TIMEOUT);
    ctx.explain(&spec.argv);
    let token = ctx.session_token();
    let result = ctx
        .runtime()
        .block_on(tool::run_streaming(
            &spec,
            &token,
            &mut |_| {},
            ctx.settings().limits.string_bytes(),
        ))
        .and_then(|c| c.check(&spec));
    if let Err(e) = result {
        ctx.output().eprintln(&format!(
            "could not delete the partial cluster `{name}` ({e}); run `kind delete cluster --name {name}`"
        ));
    }
}

/// The config kind reads: the script's, or one labsh wrote (removed when dropped).
enum ConfigFile {
    Given(PathBuf),
    Written(tempfile::NamedTempFile),
}

impl ConfigFile {
    fn path(&self) -> &std::path::Path {
        match self {
            ConfigFile::Given(p) => p,
            ConfigFile::Written(f) => f.path(),
        }
    }
}

fn write_config(ctx: &Ctx, shape: &ClusterShape) -> Result<tempfile::NamedTempFile> {
    let yaml = KindConfig::from_shape(shape)
        .to_yaml()
        .map_err(Error::Message)?;
    crate::temp_yaml::write(
        ctx,
        "labsh-kind-",
        "cluster::create",
        "the kind config file",
        &yaml,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_argv_has_the_lab_facts_shape() {
        let argv = create_argv("lab", "/tmp/k.yaml", &CreateOptions::default());
        assert_eq!(
            crate::shell::join(&argv),
            "kind create cluster --name lab --config /tmp/k.yaml --wait 5m"
        );
        let opts = CreateOptions {
            wait: None,
            image: Some("kindest/node:v1.27.3".into()),
            ..CreateOptions::default()
        };
        assert_eq!(
            crate::shell::join(&create_argv("lab", "/tmp/k.yaml", &opts)),
            "kind create cluster --name lab --config /tmp/k.yaml --image kindest/node:v1.27.3"
        );
    }
}
