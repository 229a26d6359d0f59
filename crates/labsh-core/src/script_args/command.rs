//! Reading `ARGS` against a spec: a `clap::Command` built from the [`ArgSpec`] parses them
//! (`--name VALUE`, `--name=VALUE`, flags, `--` before positionals, `-h`/`--help`, the last
//! of a repeated option wins), and clap's error kinds become problems worded for the
//! script's user, with clap's "did you mean" suggestion when it has one.

use clap::builder::PossibleValuesParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, ColorChoice, Command};

use super::{ArgSpec, ArgsError, UsageError, usage};

/// The clap id of the positional arguments (`rest` is not a valid option name).
const REST: &str = "rest";

/// What an option was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Given {
    /// A flag: whether it was on the command line.
    Flag(bool),
    /// An option with a value: the value, or `None` when it was not given (the spec's default
    /// applies).
    Value(Option<String>),
}

/// The arguments, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Each option of the spec, in its order, with what it was given.
    pub options: Vec<(String, Given)>,
    /// The positional arguments.
    pub rest: Vec<String>,
}

/// What reading the arguments ends with, other than a usage error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The arguments, read.
    Parsed(Parsed),
    /// `-h` or `--help`: print this usage and end with exit code 0.
    Help(String),
}

/// Reads `argv` (the script's arguments, without a program name) against `spec`.
///
/// ```
/// use labsh_core::script_args::{ArgSpec, Given, OptionSpec, Outcome, parse};
/// let spec = ArgSpec {
///     options: vec![OptionSpec { name: "cluster".into(), value: Some("NAME".into()), ..OptionSpec::default() }],
///     ..ArgSpec::default()
/// };
/// let Ok(Outcome::Parsed(p)) = parse(&spec, &["--cluster=lab".to_string()]) else { panic!() };
/// assert_eq!(p.options, [("cluster".to_string(), Given::Value(Some("lab".into())))]);
/// ```
pub fn parse(spec: &ArgSpec, argv: &[String]) -> Result<Outcome, ArgsError> {
    spec.check()?;
    let matches = match command(spec).try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::DisplayHelp => return Ok(Outcome::Help(usage(spec))),
        Err(e) => {
            return Err(UsageError {
                script: spec.script_name().to_string(),
                problem: problem(spec, &e),
                usage: usage(spec),
            }
            .into());
        }
    };
    let options = spec
        .options
        .iter()
        .map(|o| {
            let given = match o.value {
                None => Given::Flag(matches.get_flag(&o.name)),
                Some(_) => Given::Value(matches.get_one::<String>(&o.name).cloned()),
            };
            (o.name.clone(), given)
        })
        .collect();
    let rest = if spec.positional.is_some() {
        matches
            .get_many::<String>(REST)
            .map(|v| v.cloned().collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(Outcome::Parsed(Parsed { options, rest }))
}

/// The clap command for `spec` (checked: clap asserts on duplicate or malformed names).
fn command(spec: &ArgSpec) -> Command {
    let mut cmd = Command::new(spec.script_name().to_string())
        .no_binary_name(true)
        .disable_version_flag(true)
        .args_override_self(true)
        .color(ColorChoice::Never);
    for o in &spec.options {
        let arg = Arg::new(o.name.clone()).long(o.name.clone());
        let arg = match &o.value {
            None => arg.action(ArgAction::SetTrue),
            Some(value) => {
                let arg = arg
                    .action(ArgAction::Set)
                    .value_name(value.clone())
                    .allow_negative_numbers(true);
                match &o.choices {
                    Some(choices) => arg.value_parser(PossibleValuesParser::new(choices.clone())),
                    None => arg,
                }
            }
        };
        cmd = cmd.arg(arg);
    }
    if let Some(positional) = &spec.positional {
        cmd = cmd.arg(
            Arg::new(REST)
                .value_name(positional.clone())
                .num_args(0..)
                .action(ArgAction::Append),
        );
    }
    cmd
}

/// The problem clap found, in the words `args::parse` has always used.
fn problem(spec: &ArgSpec, e: &clap::Error) -> String {
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    // clap names an option with its value: `--mode <MODE>`.
    let arg = context(ContextKind::InvalidArg).unwrap_or_default();
    let flag = arg.split(' ').next().unwrap_or_default();
    let value = context(ContextKind::InvalidValue).unwrap_or_default();
    let option = spec
        .options
        .iter()
        .find(|o| flag.strip_prefix("--") == Some(o.name.as_str()));
    let mut problem = match (e.kind(), option) {
        (ErrorKind::UnknownArgument, _) if arg.starts_with('-') => {
            format!("unknown option '{arg}'")
        }
        (ErrorKind::UnknownArgument, _) => format!("unexpected argument '{arg}'"),
        (ErrorKind::InvalidValue, Some(o)) if value.is_empty() => format!(
            "option '{flag}' needs a value: {flag} {}",
            o.value.as_deref().unwrap_or_default()
        ),
        (ErrorKind::InvalidValue, Some(o)) => format!(
            "option '{flag}': '{value}' is not one of {}",
            o.choices.as_deref().unwrap_or_default().join(", ")
        ),
        (ErrorKind::TooManyValues, Some(_)) => {
            format!("option '{flag}' is a flag and takes no value (got '{value}')")
        }
        // Anything else clap finds: its own words, without its `error: ` and usage.
        _ => {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or_default();
            first.strip_prefix("error: ").unwrap_or(first).to_string()
        }
    };
    let suggestion = context(ContextKind::SuggestedArg).or(context(ContextKind::SuggestedValue));
    if let Some(s) = suggestion {
        problem.push_str(&format!(" (did you mean '{s}'?)"));
    }
    problem
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script_args::OptionSpec;

    /// The spec of `tests/lab.rs` and the fuzz target: a valued option with a default, a
    /// choice, a flag.
    fn spec() -> ArgSpec {
        ArgSpec {
            name: Some("t.rhai".into()),
            options: vec![
                OptionSpec {
                    name: "cilium".into(),
                    value: Some("VERSION".into()),
                    default_value: Some("1.12.1".into()),
                    help: Some("Cilium version".into()),
                    ..OptionSpec::default()
                },
                OptionSpec {
                    name: "mode".into(),
                    value: Some("MODE".into()),
                    choices: Some(vec!["snat".into(), "dsr".into()]),
                    ..OptionSpec::default()
                },
                OptionSpec {
                    name: "keep".into(),
                    help: Some("keep the cluster".into()),
                    ..OptionSpec::default()
                },
            ],
            ..ArgSpec::default()
        }
    }

    fn run(spec: &ArgSpec, argv: &[&str]) -> Result<Outcome, ArgsError> {
        let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
        parse(spec, &argv)
    }

    fn parsed(argv: &[&str]) -> Parsed {
        match run(&spec(), argv) {
            Ok(Outcome::Parsed(p)) => p,
            other => panic!("{argv:?}: {other:?}"),
        }
    }

    fn problem_of(argv: &[&str]) -> String {
        match run(&spec(), argv) {
            Err(ArgsError::Usage(e)) => e.problem,
            other => panic!("{argv:?}: {other:?}"),
        }
    }

    #[test]
    fn values_flags_and_absent_options() {
        let p = parsed(&["--cilium", "1.20.2", "--keep", "--mode=dsr"]);
        assert_eq!(
            p.options,
            [
                ("cilium".into(), Given::Value(Some("1.20.2".into()))),
                ("mode".into(), Given::Value(Some("dsr".into()))),
                ("keep".into(), Given::Flag(true)),
            ]
        );
        let p = parsed(&[]);
        assert_eq!(
            p.options,
            [
                ("cilium".into(), Given::Value(None)),
                ("mode".into(), Given::Value(None)),
                ("keep".into(), Given::Flag(false)),
            ]
        );
        assert!(p.rest.is_empty());
    }

    #[test]
    fn the_last_of_a_repeated_option_wins() {
        let p = parsed(&["--cilium", "1", "--cilium=2", "--keep", "--keep"]);
        assert_eq!(p.options[0].1, Given::Value(Some("2".into())));
        assert_eq!(p.options[2].1, Given::Flag(true));
    }

    #[test]
    fn a_value_may_be_a_negative_number_or_empty() {
        assert_eq!(
            parsed(&["--cilium", "-1"]).options[0].1,
            Given::Value(Some("-1".into()))
        );
        assert_eq!(
            parsed(&["--cilium="]).options[0].1,
            Given::Value(Some(String::new()))
        );
    }

    #[test]
    fn usage_errors_say_what_is_wrong_in_the_scripts_words() {
        let cases = [
            (&["--bogus"][..], "unknown option '--bogus'"),
            (&["-x"], "unknown option '-x'"),
            (&["extra"], "unexpected argument 'extra'"),
            (
                &["--cilium"],
                "option '--cilium' needs a value: --cilium VERSION",
            ),
            (
                &["--cilium", "--keep"],
                "option '--cilium' needs a value: --cilium VERSION",
            ),
            (
                &["--keep=yes"],
                "option '--keep' is a flag and takes no value (got 'yes')",
            ),
            (
                &["--mode", "hybrid"],
                "option '--mode': 'hybrid' is not one of snat, dsr",
            ),
        ];
        for (argv, expected) in cases {
            assert_eq!(problem_of(argv), expected, "{argv:?}");
        }
    }

    #[test]
    fn a_mistyped_option_or_choice_gets_a_suggestion() {
        assert_eq!(
            problem_of(&["--cilum", "1.14"]),
            "unknown option '--cilum' (did you mean '--cilium'?)"
        );
        assert_eq!(
            problem_of(&["--mode", "snta"]),
            "option '--mode': 'snta' is not one of snat, dsr (did you mean 'snat'?)"
        );
    }

    #[test]
    fn a_usage_error_prints_the_script_the_problem_and_the_usage() {
        let Err(ArgsError::Usage(e)) = run(&spec(), &["--bogus"]) else {
            panic!("a usage error")
        };
        let text = e.to_string();
        assert!(
            text.starts_with(
                "error: t.rhai: unknown option '--bogus'\n\nUsage: labsh run t.rhai -- [OPTIONS]\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  --cilium VERSION  Cilium version [default: 1.12.1]\n"),
            "{text}"
        );
    }

    #[test]
    fn help_anywhere_before_a_problem_answers_the_usage() {
        for argv in [&["--help"][..], &["-h"], &["--keep", "--help", "--bogus"]] {
            assert_eq!(run(&spec(), argv), Ok(Outcome::Help(usage(&spec()))));
        }
        assert!(matches!(
            run(&spec(), &["--bogus", "--help"]),
            Err(ArgsError::Usage(_))
        ));
    }

    #[test]
    fn positionals_are_taken_only_when_the_spec_names_them() {
        let spec = ArgSpec {
            positional: Some("FILE".into()),
            options: vec![OptionSpec {
                name: "keep".into(),
                ..OptionSpec::default()
            }],
            ..ArgSpec::default()
        };
        let Ok(Outcome::Parsed(p)) = run(&spec, &["a.yaml", "--keep", "-", "--", "--b.yaml"])
        else {
            panic!("parsed")
        };
        assert_eq!(p.rest, ["a.yaml", "-", "--b.yaml"]);
        assert_eq!(p.options, [("keep".into(), Given::Flag(true))]);
    }

    #[test]
    fn a_spec_clap_cannot_take_is_an_error_not_a_panic() {
        let mut bad = spec();
        bad.options.push(bad.options[0].clone());
        assert!(matches!(run(&bad, &[]), Err(ArgsError::Spec(_))));
    }
}
