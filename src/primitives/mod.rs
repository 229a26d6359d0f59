//! The primitives scripts call, one family per module. Each family exposes one `register`
//! function; [`all`] is the one list that registers them all (wezterm's `env-bootstrap`).
//!
//! A family registers its functions into a Rhai static module (`kube::apply`) through
//! [`Registry::func`], which keeps each function's doc comment (with its Rhai example) for
//! `help()`, `labsh api` and the editor definition files. Methods and properties of the
//! family's types (`node.exec(…)`, `cap.stop()`) are global, registered with [`method`].
//!
//! Where each Rhai module is registered: the module's name alone finds its file or folder,
//! and no file registers two modules.
//!
//! | Rhai module   | file or folder            | parts                                          |
//! |---------------|---------------------------|------------------------------------------------|
//! | (global)      | `builtins.rs`             | `env`, `exit_with`, `sleep`, `shown`           |
//! | (global)      | `strings.rs`              | `trimmed`, `trimmed_start`, `trimmed_end`, `replaced` (values, beside Rhai's in-place `trim`, `replace`) |
//! | `time::`      | `time.rs`                 | `now`, `stamp`                                 |
//! | (global)      | `records.rs`              | the `Record` type's methods; every engine has them (`workbench`) |
//! | `args::`      | `args.rs`                 | also `import "args"` (`crate::stdlib::NATIVE`) |
//! | `proc::`      | `proc.rs`                 |                                                |
//! | `fs::`        | `fs.rs`                   |                                                |
//! | `yaml::`      | `yaml.rs`                 |                                                |
//! | `json::`      | `json.rs`                 |                                                |
//! | `preflight::` | `preflight.rs`            |                                                |
//! | `cluster::`   | `cluster/`                | `kind.rs` (lifecycle, `Cluster`), `nodes.rs` (Docker-side nodes, `Node`), `any.rs` (any context's cluster and nodes) |
//! | `helm::`      | `helm.rs`                 |                                                |
//! | `tcpdump::`   | `tcpdump.rs`              | and the `Capture` type                         |
//! | `http::`      | `http.rs`                 |                                                |
//! | `logs::`      | `logs/`                   | `pods.rs` (pod logs), `access.rs` (`parse_access`) |
//! | `steps::`     | `steps.rs`                |                                                |
//! | `checks::`    | `checks.rs`               |                                                |
//! | `report::`    | `report.rs`               |                                                |
//! | `kube::`      | `kube/`                   | `context.rs`, `apply.rs`, `objects.rs`, `waits.rs`, `exec.rs`, `probe.rs`, `policy.rs`, `types.rs` (`Pod`, `Service`), `options.rs`, shared helpers in `mod.rs` |
//! | `monitor::`   | `monitor/`                | `mod.rs` (`parse`, the `Monitor` methods), `start.rs` (`start`, `capture`), `lookup.rs` (`agent_pod`, `endpoint_id`) |
//!
//! The domain code behind them is in the Rhai-free core crate, `labsh_core`, in modules of
//! the same names (`labsh_core::kube`, `::monitor`, `::tcpdump`, …, re-exported at this
//! crate's root); `cluster::` is `kind` and `docker`, `logs::` is `kube::logs` and
//! `access_log`, the step and check records are `journal`. The bindings only convert: script
//! values to the core's typed arguments, the core's values and errors to script values
//! (`crate::convert`, `crate::errors::Script`).

use std::collections::BTreeMap;

use rhai::{Engine, FuncRegistration, Module, RhaiNativeFunc, Variant};

use crate::context::Ctx;

pub mod api_server;
pub mod args;
pub mod builtins;
pub mod checks;
pub mod cluster;
pub mod follower;
pub mod fs;
pub mod helm;
pub mod http;
pub mod json;
pub mod kube;
pub mod logs;
pub mod monitor;
pub mod output_fit;
pub mod preflight;
pub mod proc;
pub mod records;
pub mod report;
pub mod steps;
pub mod strings;
pub mod tcpdump;
pub mod time;
pub mod yaml;

/// One family of primitives: its name and how to register it. Several families may add
/// functions to the same Rhai module (the `cluster` module holds kind's lifecycle and the
/// Docker-side nodes).
#[derive(Clone, Copy)]
pub struct Family {
    /// The family's name (usually its Rhai module: `kube`, `tcpdump`, …).
    pub name: &'static str,
    /// One-line description for `help()`.
    pub summary: &'static str,
    /// Registers the family's functions and types.
    pub register: fn(&mut Registry, &Ctx),
}

/// Every family labsh ships, in the order `help()` lists them.
pub fn all() -> Vec<Family> {
    vec![
        builtins::FAMILY,
        strings::FAMILY,
        time::FAMILY,
        args::FAMILY,
        proc::FAMILY,
        fs::FAMILY,
        yaml::FAMILY,
        json::FAMILY,
        preflight::FAMILY,
        cluster::kind::FAMILY,
        helm::FAMILY,
        cluster::nodes::FAMILY,
        cluster::any::FAMILY,
        tcpdump::FAMILY,
        http::FAMILY,
        logs::access::FAMILY,
        steps::FAMILY,
        checks::FAMILY,
        report::FAMILY,
        kube::FAMILY,
        logs::pods::FAMILY,
        logs::start::FAMILY,
        monitor::lookup::FAMILY,
        monitor::FAMILY,
        monitor::start::FAMILY,
    ]
}

/// Collects the families' functions into static modules, then installs them into the engine.
pub struct Registry<'e> {
    engine: &'e mut Engine,
    modules: BTreeMap<&'static str, Module>,
    docs: bool,
}

impl<'e> Registry<'e> {
    /// A registry that installs into `engine` when [`Registry::finish`] is called, with each
    /// function's parameter names and doc comment.
    pub fn new(engine: &'e mut Engine) -> Self {
        Registry {
            engine,
            modules: BTreeMap::new(),
            docs: true,
        }
    }

    /// Without the parameter names and doc comments: `labsh run` and `labsh check` never
    /// show them, and building them for every primitive is most of the registration cost.
    pub fn without_docs(mut self) -> Self {
        self.docs = false;
        self
    }

    /// The registration of `name`, with its metadata when docs are on.
    fn registration(&self, name: &str, params: &[&str], doc: &str) -> FuncRegistration {
        let reg = FuncRegistration::new(name);
        if self.docs {
            reg.with_params_info(params)
                .with_comments([doc_comment(doc)])
        } else {
            reg
        }
    }

    /// The engine, to register custom types and their getters.
    pub fn engine(&mut self) -> &mut Engine {
        self.engine
    }

    /// Adds `module::name` with its parameter list (`["url: String", "opts: Map", "Map"]`:
    /// the last entry is the return type) and its doc (plain text, one `///` line per line;
    /// end it with a ```rhai example).
    pub fn func<A: 'static, const N: usize, const X: bool, R, const F: bool, FUNC>(
        &mut self,
        module: &'static str,
        name: &str,
        params: &[&str],
        doc: &str,
        func: FUNC,
    ) -> &mut Self
    where
        R: Variant + Clone,
        FUNC: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
    {
        let registration = self.registration(name, params, doc);
        let m = self.modules.entry(module).or_insert_with(|| {
            let mut m = Module::new();
            m.set_id(module);
            m
        });
        // Wrapped so a failure points at the call site (see `call_site::with_call_position`).
        let native = crate::call_site::with_call_position(func.into_rhai_function(true, false));
        registration.set_into_module_raw(m, FUNC::param_types(), native);
        self
    }

    /// Registers a global function or a method (`node.exec(argv)` is `exec(node, argv)`),
    /// with docs.
    pub fn method<A: 'static, const N: usize, const X: bool, R, const F: bool, FUNC>(
        &mut self,
        name: &str,
        params: &[&str],
        doc: &str,
        func: FUNC,
    ) -> &mut Self
    where
        R: Variant + Clone,
        FUNC: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
    {
        self.registration(name, params, doc)
            .register_into_engine(self.engine, func);
        self
    }

    /// Installs the collected modules as static modules (`kube::apply`).
    pub fn finish(self) {
        for (name, module) in self.modules {
            self.engine.register_static_module(name, module.into());
        }
    }
}

/// Turns plain doc text into Rhai's `///` doc-comment block.
pub fn doc_comment(doc: &str) -> String {
    doc.trim_matches('\n')
        .lines()
        .map(|l| {
            if l.is_empty() {
                "///".to_string()
            } else {
                format!("/// {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13: a family (one file, see the map above) adds to one Rhai module, the one it
    /// is named after; the global family adds to none.
    #[test]
    fn each_family_registers_into_the_one_module_it_is_named_after() {
        let ctx = Ctx::lazy(crate::Settings::default());
        for family in all() {
            let mut engine = Engine::new();
            let mut reg = Registry::new(&mut engine).without_docs();
            (family.register)(&mut reg, &ctx);
            let modules: Vec<&str> = reg.modules.keys().copied().collect();
            let expected: Vec<&str> = if family.name.is_empty() {
                vec![]
            } else {
                vec![family.name]
            };
            assert_eq!(
                modules, expected,
                "family `{}`: {}",
                family.name, family.summary
            );
        }
    }
}
