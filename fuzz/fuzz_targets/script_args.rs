//! The script-argument parser (`stdlib/args.rhai`'s `args::parse`) on arbitrary argument
//! vectors: one argument per input line, against a spec with a valued option, a flag, a
//! choice and positionals. Ending the script (`--help`, a bad argument: `exit_with`) is
//! fine; a panic or any other kind of error is a crash.
#![no_main]
use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use rhai::{Array, Dynamic};

const SCRIPT: &str = r#"
import "args" as args;
args::parse(fuzz_args(), #{
    name: "fuzz.rhai",
    about: "fuzzing args::parse",
    positional: "FILE…",
    options: [
        #{name: "cluster", value: "NAME", default_value: "tp12", help: "kind cluster"},
        #{name: "cilium", value: "VERSION", choices: ["1.12", "1.18"], help: "Cilium"},
        #{name: "keep", help: "keep the cluster"},
    ],
})
"#;

thread_local! {
    static ARGS: RefCell<Array> = const { RefCell::new(Array::new()) };
    static SESSION: RefCell<labsh::Session> = RefCell::new({
        let mut s = labsh::Workbench::new()
            .with_primitives(labsh::primitives::all())
            .build()
            .expect("a session");
        s.engine_mut().on_print(|_| {});
        s.engine_mut()
            .register_fn("fuzz_args", || ARGS.with(|a| a.borrow().clone()));
        s
    });
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let argv: Array = text.split('\n').map(|a| Dynamic::from(a.to_string())).collect();
    ARGS.with(|a| *a.borrow_mut() = argv);
    SESSION.with(|s| {
        let mut s = s.borrow_mut();
        match s.eval("fuzz.rhai", SCRIPT) {
            Ok(v) => assert!(v.is_map(), "args::parse returned {v:?}"),
            Err(labsh::ScriptError::Exit { code, .. }) => assert!(code == 0 || code == 2),
            Err(e) => panic!("args::parse failed on {text:?}: {e}"),
        }
    });
});
