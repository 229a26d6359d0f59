//! The script-argument parser (`labsh_core::script_args::parse`, behind `args::parse`) on
//! arbitrary argument vectors: one argument per input line, against a spec with a valued
//! option, a flag, a choice and positionals. `--help` answers the usage, a bad argument a
//! usage error naming the script and ending with the usage; a panic (clap's included) or an
//! error about the spec is a crash.
#![no_main]
use std::sync::LazyLock;

use labsh_core::script_args::{ArgSpec, ArgsError, Given, OptionSpec, Outcome, parse, usage};
use libfuzzer_sys::fuzz_target;

static SPEC: LazyLock<ArgSpec> = LazyLock::new(|| ArgSpec {
    name: Some("fuzz.rhai".into()),
    about: Some("fuzzing args::parse".into()),
    positional: Some("FILE…".into()),
    options: vec![
        OptionSpec {
            name: "cluster".into(),
            value: Some("NAME".into()),
            default_value: Some("tp12".into()),
            help: Some("kind cluster".into()),
            ..OptionSpec::default()
        },
        OptionSpec {
            name: "cilium".into(),
            value: Some("VERSION".into()),
            choices: Some(vec!["1.12".into(), "1.18".into()]),
            help: Some("Cilium".into()),
            ..OptionSpec::default()
        },
        OptionSpec {
            name: "keep".into(),
            help: Some("keep the cluster".into()),
            ..OptionSpec::default()
        },
    ],
    footer: None,
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let argv: Vec<String> = text.split('\n').map(str::to_string).collect();
    match parse(&SPEC, &argv) {
        Ok(Outcome::Parsed(p)) => {
            assert_eq!(p.options.len(), 3);
            if let (_, Given::Value(Some(v))) = &p.options[1] {
                assert!(v == "1.12" || v == "1.18", "--cilium took {v:?}");
            }
        }
        Ok(Outcome::Help(h)) => assert_eq!(h, usage(&SPEC)),
        Err(ArgsError::Usage(e)) => {
            assert_eq!(e.script, "fuzz.rhai");
            assert!(!e.problem.is_empty());
            assert!(e.to_string().ends_with(&usage(&SPEC)));
        }
        Err(ArgsError::Spec(e)) => panic!("the spec was refused on {text:?}: {e}"),
    }
});
