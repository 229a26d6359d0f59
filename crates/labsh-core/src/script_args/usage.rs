//! The usage text `--help` prints and a usage error ends with.
//!
//! Hand-written rather than clap's help renderer: clap writes a value as `--cilium <VERSION>`
//! and choices as `[possible values: …]`, while the lab's handout, its scripts' footers and the
//! tests show `--cilium VERSION` and `(one of: snat, dsr, hybrid)`. The layout below is the
//! one `stdlib/args.rhai` printed, kept as it was.

use super::ArgSpec;

/// The usage text of `spec`: about, synopsis, one row per option, `-h, --help`, footer.
pub fn usage(spec: &ArgSpec) -> String {
    let name = spec.name.as_deref().unwrap_or("SCRIPT");
    let mut text = String::new();
    if let Some(about) = &spec.about {
        text.push_str(about);
        text.push_str("\n\n");
    }
    text.push_str(&format!("Usage: labsh run {name} -- [OPTIONS]"));
    if let Some(positional) = &spec.positional {
        text.push(' ');
        text.push_str(positional);
    }
    text.push_str("\n\nOptions:\n");
    let mut rows: Vec<(String, String)> = spec
        .options
        .iter()
        .map(|o| {
            let mut left = format!("  --{}", o.name);
            if let Some(value) = &o.value {
                left.push(' ');
                left.push_str(value);
            }
            let mut help = o.help.clone().unwrap_or_default();
            if let Some(choices) = &o.choices {
                help.push_str(&format!(" (one of: {})", choices.join(", ")));
            }
            if let (Some(_), Some(default)) = (&o.value, &o.default_value) {
                help.push_str(&format!(" [default: {default}]"));
            }
            (left, help)
        })
        .collect();
    rows.push(("  -h, --help".into(), "print this help and exit".into()));
    let width = rows
        .iter()
        .map(|(left, _)| left.chars().count())
        .max()
        .unwrap_or(0);
    for (left, help) in rows {
        let pad = width + 2 - left.chars().count();
        text.push_str(&left);
        text.extend(std::iter::repeat_n(' ', pad));
        text.push_str(&help);
        text.push('\n');
    }
    if let Some(footer) = &spec.footer {
        text.push('\n');
        text.push_str(footer);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script_args::OptionSpec;

    #[test]
    fn options_are_aligned_with_their_choices_and_defaults() {
        let spec = ArgSpec {
            name: Some("t.rhai".into()),
            about: Some("What it does.".into()),
            positional: Some("FILE…".into()),
            options: vec![
                OptionSpec {
                    name: "mode".into(),
                    value: Some("MODE".into()),
                    default_value: Some("dsr".into()),
                    choices: Some(vec!["snat".into(), "dsr".into()]),
                    help: Some("load balancing".into()),
                },
                OptionSpec {
                    name: "keep".into(),
                    default_value: Some("ignored for a flag".into()),
                    ..OptionSpec::default()
                },
            ],
            footer: Some("Steps: a b".into()),
        };
        assert_eq!(
            usage(&spec),
            "What it does.\n\n\
             Usage: labsh run t.rhai -- [OPTIONS] FILE…\n\n\
             Options:\n  \
             --mode MODE  load balancing (one of: snat, dsr) [default: dsr]\n  \
             --keep       \n  \
             -h, --help   print this help and exit\n\n\
             Steps: a b\n"
        );
    }

    #[test]
    fn a_spec_without_a_name_says_script() {
        assert_eq!(
            usage(&ArgSpec::default()),
            "Usage: labsh run SCRIPT -- [OPTIONS]\n\nOptions:\n  -h, --help  print this help and exit\n"
        );
    }
}
