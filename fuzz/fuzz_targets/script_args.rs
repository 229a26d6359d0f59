//! The script-argument parser (`stdlib/args.rhai`'s `args::parse`) on arbitrary argument
//! vectors: one argument per input line, against a spec with a valued option, a flag, a
//! choice and positionals. Ending the script (`--help`: `exit(0)`; a bad argument:
//! `exit_with(2, …)`) is fine; a panic or any other error is a crash. The script is compiled once; each input
//! only runs it.
#![no_main]
use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use rhai::{AST, Array, Dynamic, Scope};

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
    static SESSION: (labsh::Session, AST) = {
        let mut s = labsh::Workbench::new()
            .with_primitives(labsh::primitives::all())
            .without_docs()
            .build()
            .expect("a session");
        s.engine_mut().on_print(|_| {});
        s.engine_mut()
            .register_fn("fuzz_args", || ARGS.with(|a| a.borrow().clone()));
        let ast = s.compile("fuzz.rhai", SCRIPT).expect("the fuzz script compiles");
        (s, ast)
    };
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let argv: Array = text
        .split('\n')
        .map(|a| Dynamic::from(a.to_string()))
        .collect();
    ARGS.with(|a| *a.borrow_mut() = argv);
    SESSION.with(|(s, ast)| {
        match s
            .engine()
            .eval_ast_with_scope::<Dynamic>(&mut Scope::new(), ast)
        {
            // `--help`/`-h` prints the usage and ends the script with Rhai's `exit(0)`.
            Ok(v) => assert!(
                v.is_map() || v.as_int() == Ok(0),
                "args::parse returned {v:?}"
            ),
            Err(e) => match labsh::errors::exit_request(&e) {
                Some(exit) => assert!(exit.code == 0 || exit.code == 2, "exit {}", exit.code),
                None => panic!("args::parse failed on {text:?}: {e}"),
            },
        }
    });
});
