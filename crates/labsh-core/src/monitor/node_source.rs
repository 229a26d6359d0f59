//! A Cilium agent that runs on the node itself rather than as a pod (a system service, or a
//! binary started by hand next to the kubelet): labsh finds it from the node's debug pod
//! (`crate::node::debug_pod`), which shares the node's network namespace and sees its
//! processes (`hostPID`), and runs the monitor program in the agent's mount namespace with
//! `nsenter -t PID -m`, so that the monitor reaches the agent's socket
//! (`/var/run/cilium/monitor1_2.sock`) as the agent itself sees it.
//!
//! - [`FIND`]: the command that lists the `cilium-agent` processes of the node's network
//!   namespace (`PID EXE` per line); [`agent_from_find`] reads its output.
//! - [`program_probe`]: which monitor program the agent has, `cilium-dbg` (Cilium 1.15+) or
//!   `cilium`, looked up beside the agent's executable first, then on the `PATH` of its
//!   mount namespace; [`program_from_probe`] reads its output.
//! - [`monitor_argv`]: the monitor's argument vector in the agent's mount namespace (run in
//!   the debug pod as a `crate::node::pod_process::PodProcess`, piped by [`super::pump`]).

use std::time::Duration;

use super::argv::MonitorArgs;

/// The agent's process name (`/proc/PID/comm`).
pub const AGENT_COMM: &str = "cilium-agent";

/// Lists `PID EXE` for each `cilium-agent` process whose network namespace is the one this
/// command runs in (the node's, from a `hostNetwork` pod). Only `/proc` and the shell's
/// builtins plus `cat` and `readlink`: it runs in any debug image with a shell.
pub const FIND_SCRIPT: &str = r#"me=$(readlink /proc/self/ns/net)
for d in /proc/[0-9]*; do
  [ "$(cat "$d/comm" 2>/dev/null)" = "$1" ] || continue
  [ "$(readlink "$d/ns/net" 2>/dev/null)" = "$me" ] || continue
  echo "${d#/proc/} $(readlink "$d/exe")"
done"#;

/// `sh -c FIND_SCRIPT labsh cilium-agent`.
pub fn find_argv() -> Vec<String> {
    ["sh", "-c", FIND_SCRIPT, "labsh", AGENT_COMM]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// How long each probe (finding the agent, its program) may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// A Cilium agent process on a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAgent {
    /// Its pid, in the node's pid namespace.
    pub pid: u32,
    /// Its executable's path as its mount namespace sees it (`/usr/bin/cilium-agent`).
    pub exe: String,
}

impl NodeAgent {
    /// The folder of the agent's executable (`/usr/bin`), `""` when unknown.
    pub fn exe_dir(&self) -> &str {
        match self.exe.rfind('/') {
            Some(0) => "/",
            Some(i) => &self.exe[..i],
            None => "",
        }
    }
}

/// The agent in [`FIND_SCRIPT`]'s output on `node`; an error when there is none, when there
/// are several (which one to follow would be a guess), or when the output is not `PID EXE`.
pub fn agent_from_find(node: &str, stdout: &str) -> Result<NodeAgent, String> {
    let mut found = Vec::new();
    for line in stdout.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (pid, exe) = line.split_once(' ').unwrap_or((line, ""));
        match pid.parse::<u32>() {
            Ok(pid) => found.push(NodeAgent {
                pid,
                exe: exe.trim().to_string(),
            }),
            Err(_) => {
                return Err(format!(
                    "looking for a {AGENT_COMM} process on node {node}: unexpected output `{line}`"
                ));
            }
        }
    }
    match found.len() {
        0 => Err(format!(
            "no Cilium agent on node {node}: no agent pod there, and no {AGENT_COMM} process in the node's network namespace"
        )),
        1 => Ok(found.remove(0)),
        _ => Err(format!(
            "{} {AGENT_COMM} processes in the network namespace of node {node} (pids {}): which one to follow is ambiguous",
            found.len(),
            found
                .iter()
                .map(|a| a.pid.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The prefix that runs a command in `agent`'s mount namespace.
fn in_agent(agent: &NodeAgent) -> Vec<String> {
    vec![
        "nsenter".to_string(),
        "-t".into(),
        agent.pid.to_string(),
        "-m".into(),
        "--".into(),
    ]
}

/// Prints the monitor program's path, beside the agent's executable (`$1`) or on the `PATH`.
pub const PROGRAM_SCRIPT: &str = r#"for p in "$1/cilium-dbg" "$1/cilium"; do
  if [ -x "$p" ]; then echo "$p"; exit 0; fi
done
command -v cilium-dbg || command -v cilium"#;

/// `nsenter -t PID -m -- sh -c PROGRAM_SCRIPT labsh EXE_DIR`.
pub fn program_probe(agent: &NodeAgent) -> Vec<String> {
    let mut argv = in_agent(agent);
    argv.extend(
        ["sh", "-c", PROGRAM_SCRIPT, "labsh", agent.exe_dir()]
            .iter()
            .map(|s| s.to_string()),
    );
    argv
}

/// The program's path in [`program_probe`]'s output (its first line, whose last component
/// is `cilium-dbg` or `cilium`), or an error saying what was found instead.
pub fn program_from_probe(
    node: &str,
    agent: &NodeAgent,
    stdout: &str,
    code: i64,
) -> Result<String, String> {
    let first = stdout.lines().map(str::trim).find(|l| !l.is_empty());
    if let Some(path) = first {
        let base = path.rsplit('/').next().unwrap_or("");
        if code == 0 && (base == "cilium-dbg" || base == "cilium") {
            return Ok(path.to_string());
        }
    }
    Err(format!(
        "neither cilium-dbg nor cilium beside {} nor on the PATH of the mount namespace of {AGENT_COMM} (pid {}) on node {node} (the probe {})",
        if agent.exe.is_empty() {
            "the agent"
        } else {
            &agent.exe
        },
        agent.pid,
        match first {
            Some(l) if code == 0 => format!("printed `{l}`"),
            _ => format!("exited with code {code}"),
        }
    ))
}

/// `nsenter -t PID -m -- PROGRAM monitor …`.
pub fn monitor_argv(agent: &NodeAgent, program: &str, args: &MonitorArgs) -> Vec<String> {
    let mut argv = in_agent(agent);
    argv.extend(args.argv(program));
    argv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> NodeAgent {
        NodeAgent {
            pid: 4242,
            exe: "/opt/cilium/bin/cilium-agent".into(),
        }
    }

    #[test]
    fn the_find_output_names_the_agent_and_its_executable() {
        let a = agent_from_find("labsh-node-2", "4242 /opt/cilium/bin/cilium-agent\n").unwrap();
        assert_eq!(a, agent());
        assert_eq!(a.exe_dir(), "/opt/cilium/bin");
    }

    #[test]
    fn no_agent_process_says_where_labsh_looked() {
        let err = agent_from_find("labsh-node", "\n").unwrap_err();
        assert_eq!(
            err,
            "no Cilium agent on node labsh-node: no agent pod there, and no cilium-agent process in the node's network namespace"
        );
    }

    #[test]
    fn two_agents_in_one_namespace_are_ambiguous() {
        let err = agent_from_find("n", "10 /a/cilium-agent\n20 /b/cilium-agent\n").unwrap_err();
        assert!(err.contains("pids 10, 20"), "{err}");
    }

    #[test]
    fn unexpected_output_is_an_error_not_a_pid() {
        let err = agent_from_find("n", "sh: readlink: not found\n").unwrap_err();
        assert!(err.contains("unexpected output"), "{err}");
    }

    #[test]
    fn the_program_probe_looks_beside_the_agent_in_its_mount_namespace() {
        let argv = program_probe(&agent());
        assert_eq!(&argv[..5], ["nsenter", "-t", "4242", "-m", "--"]);
        assert_eq!(&argv[5..7], ["sh", "-c"]);
        assert_eq!(&argv[8..], ["labsh", "/opt/cilium/bin"]);
    }

    #[test]
    fn the_probe_output_gives_the_program_path() {
        let a = agent();
        assert_eq!(
            program_from_probe("n", &a, "/opt/cilium/bin/cilium\n", 0).unwrap(),
            "/opt/cilium/bin/cilium"
        );
        assert_eq!(
            program_from_probe("n", &a, "/usr/bin/cilium-dbg\n", 0).unwrap(),
            "/usr/bin/cilium-dbg"
        );
        let err = program_from_probe("n", &a, "", 1).unwrap_err();
        assert!(err.contains("exited with code 1"), "{err}");
        assert!(err.contains("beside /opt/cilium/bin/cilium-agent"), "{err}");
    }

    #[test]
    fn the_monitor_runs_in_the_agents_mount_namespace() {
        let args = MonitorArgs {
            related_to: vec![1890],
            verbose: 1,
            ..MonitorArgs::default()
        };
        assert_eq!(
            monitor_argv(&agent(), "/opt/cilium/bin/cilium", &args),
            [
                "nsenter",
                "-t",
                "4242",
                "-m",
                "--",
                "/opt/cilium/bin/cilium",
                "monitor",
                "-v",
                "--related-to",
                "1890"
            ]
        );
    }
}
