//! What a script says about its parameters: its name, a line about it, its options, the name
//! of its positional arguments, a footer. Checked before clap sees it, so that a spec clap
//! cannot take is an error naming the option rather than a panic inside clap.

use std::collections::BTreeSet;

/// A script's parameters, as `args::parse(ARGS, spec)` receives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArgSpec {
    /// The script's name in the usage (`scripts/tp12.rhai`); `SCRIPT` when absent.
    pub name: Option<String>,
    /// What the script does, first in the usage.
    pub about: Option<String>,
    /// The name of its positional arguments (`FILE…`); without it, a positional argument is
    /// a usage error.
    pub positional: Option<String>,
    /// Its options, in the order the usage lists them.
    pub options: Vec<OptionSpec>,
    /// Text after the options in the usage.
    pub footer: Option<String>,
}

/// One `--name` option: a flag, or an option with a value when `value` names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionSpec {
    /// `cluster` for `--cluster`.
    pub name: String,
    /// The value's name in the usage (`NAME`); `None` makes the option a flag.
    pub value: Option<String>,
    /// The default, as the usage shows it (`[default: tp12]`).
    pub default_value: Option<String>,
    /// The only values accepted, when given.
    pub choices: Option<Vec<String>>,
    /// One line of help.
    pub help: Option<String>,
}

/// A spec that cannot describe a command line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// An option name that is empty, starts with `-`, or holds characters other than letters,
    /// digits, `-` and `_`.
    #[error(
        "option name `{name}` cannot be written as `--{name}`: use letters, digits, `-` and `_`, not starting with `-`"
    )]
    BadName {
        /// The name as given.
        name: String,
    },
    /// A name used by labsh itself: `help` (`--help`) or `rest` (the positional arguments).
    #[error(
        "option name `{name}` is taken: `--help` prints the usage and `rest` holds the positional arguments"
    )]
    Reserved {
        /// The name as given.
        name: String,
    },
    /// Two options with one name.
    #[error("option `--{name}` is described twice")]
    Duplicate {
        /// The name given twice.
        name: String,
    },
    /// `choices` without a value: a flag takes no value.
    #[error("option `--{name}` has `choices` but no `value`: a flag takes no value")]
    ChoicesOnFlag {
        /// The option's name.
        name: String,
    },
    /// An empty list of choices: no value could be accepted.
    #[error("option `--{name}` has an empty list of `choices`")]
    NoChoices {
        /// The option's name.
        name: String,
    },
}

impl ArgSpec {
    /// The script's name in messages: the spec's, or `script`.
    pub fn script_name(&self) -> &str {
        self.name.as_deref().unwrap_or("script")
    }

    /// Checks what clap would refuse (with a panic in its debug assertions).
    pub fn check(&self) -> Result<(), SpecError> {
        let mut seen = BTreeSet::new();
        for o in &self.options {
            let name = &o.name;
            let well_formed = !name.is_empty()
                && !name.starts_with('-')
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
            if !well_formed {
                return Err(SpecError::BadName { name: name.clone() });
            }
            if name == "help" || name == "rest" {
                return Err(SpecError::Reserved { name: name.clone() });
            }
            if !seen.insert(name.as_str()) {
                return Err(SpecError::Duplicate { name: name.clone() });
            }
            match (&o.value, &o.choices) {
                (None, Some(_)) => return Err(SpecError::ChoicesOnFlag { name: name.clone() }),
                (Some(_), Some(c)) if c.is_empty() => {
                    return Err(SpecError::NoChoices { name: name.clone() });
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(options: Vec<OptionSpec>) -> ArgSpec {
        ArgSpec {
            options,
            ..ArgSpec::default()
        }
    }

    fn flag(name: &str) -> OptionSpec {
        OptionSpec {
            name: name.into(),
            ..OptionSpec::default()
        }
    }

    #[test]
    fn names_clap_cannot_take_are_refused_naming_them() {
        for bad in ["", "-x", "a b", "a=b"] {
            assert_eq!(
                with(vec![flag(bad)]).check(),
                Err(SpecError::BadName { name: bad.into() })
            );
        }
        assert_eq!(
            with(vec![flag("help")]).check(),
            Err(SpecError::Reserved {
                name: "help".into()
            })
        );
        assert_eq!(
            with(vec![flag("keep"), flag("keep")]).check(),
            Err(SpecError::Duplicate {
                name: "keep".into()
            })
        );
        assert!(
            with(vec![flag("lb-mode"), flag("node_image")])
                .check()
                .is_ok()
        );
    }

    #[test]
    fn choices_need_a_value_and_at_least_one_entry() {
        let mut o = flag("mode");
        o.choices = Some(vec!["snat".into()]);
        assert_eq!(
            with(vec![o.clone()]).check(),
            Err(SpecError::ChoicesOnFlag {
                name: "mode".into()
            })
        );
        o.value = Some("MODE".into());
        assert!(with(vec![o.clone()]).check().is_ok());
        o.choices = Some(vec![]);
        assert_eq!(
            with(vec![o]).check(),
            Err(SpecError::NoChoices {
                name: "mode".into()
            })
        );
    }
}
