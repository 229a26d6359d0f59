//! kind's progress lines. Without a terminal kind logs each step as it starts
//! (` • Preparing nodes 📦 📦 📦 📦  ...`) and ends (` ✓ Preparing nodes 📦 📦 📦 📦 `, or
//! ` ✗ …` when it fails); on a terminal the `•` line is a spinner redrawn with `\r`. labsh
//! shows the current step beside its own spinner.

/// Where a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    /// ` • …`: started (or, like ` • Ready after 15s 💚`, a notice).
    Running,
    /// ` ✓ …`
    Done,
    /// ` ✗ …`
    Failed,
}

/// One of kind's step lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Running, done or failed.
    pub state: StepState,
    /// The step without its marker, its trailing `...` and its emoji
    /// (`Ensuring node image (kindest/node:v1.27.3)`).
    pub text: String,
}

/// Parses a step line; anything else (`Creating cluster "lab" ...`, `Set kubectl context …`,
/// error lines) gives `None`.
pub fn parse_step(line: &str) -> Option<Step> {
    // A terminal spinner prefixes frames and colors; keep what follows the last marker.
    let line = console::strip_ansi_codes(line);
    let (idx, marker) = line
        .char_indices()
        .find(|(_, c)| matches!(c, '•' | '✓' | '✗'))?;
    if !line[..idx]
        .chars()
        .all(|c| c.is_whitespace() || is_spinner_frame(c))
    {
        return None;
    }
    let state = match marker {
        '•' => StepState::Running,
        '✓' => StepState::Done,
        _ => StepState::Failed,
    };
    let rest = line[idx + marker.len_utf8()..].trim();
    let rest = rest.strip_suffix("...").unwrap_or(rest);
    // Trailing decorations: emoji and other words with no letter or digit.
    let mut words: Vec<&str> = rest.split_whitespace().collect();
    while words
        .last()
        .is_some_and(|w| !w.chars().any(char::is_alphanumeric))
    {
        words.pop();
    }
    if words.is_empty() {
        return None;
    }
    Some(Step {
        state,
        text: words.join(" "),
    })
}

fn is_spinner_frame(c: char) -> bool {
    // kind's terminal spinner uses braille frames.
    ('\u{2800}'..='\u{28FF}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(state: StepState, text: &str) -> Option<Step> {
        Some(Step {
            state,
            text: text.into(),
        })
    }

    #[test]
    fn started_and_finished_steps_lose_their_emoji() {
        assert_eq!(
            parse_step(" ✓ Ensuring node image (kindest/node:v1.27.3) 🖼"),
            step(
                StepState::Done,
                "Ensuring node image (kindest/node:v1.27.3)"
            )
        );
        assert_eq!(
            parse_step(" • Preparing nodes 📦 📦 📦 📦  "),
            step(StepState::Running, "Preparing nodes")
        );
        assert_eq!(
            parse_step(" • Preparing nodes 📦 📦 📦 📦   ..."),
            step(StepState::Running, "Preparing nodes")
        );
        assert_eq!(
            parse_step(" • Starting control-plane 🕹️  ..."),
            step(StepState::Running, "Starting control-plane")
        );
        assert_eq!(
            parse_step(" • Waiting ≤ 5m0s for control-plane = Ready ⏳  ..."),
            step(
                StepState::Running,
                "Waiting ≤ 5m0s for control-plane = Ready"
            )
        );
        assert_eq!(
            parse_step(" ✗ Starting control-plane 🕹️"),
            step(StepState::Failed, "Starting control-plane")
        );
    }

    #[test]
    fn terminal_spinner_redraws_are_steps_too() {
        assert_eq!(
            parse_step("\x1b[32m⠈⠁\x1b[0m • Joining worker nodes 🚜 "),
            step(StepState::Running, "Joining worker nodes")
        );
    }

    #[test]
    fn other_lines_are_not_steps() {
        for line in [
            "Creating cluster \"lab\" ...",
            "Set kubectl context to \"kind-lab\"",
            "ERROR: failed to create cluster: node(s) already exist for a cluster with the name \"lab\"",
            "kubectl cluster-info --context kind-lab • x",
            "",
            " • 📦",
        ] {
            assert_eq!(parse_step(line), None, "{line:?}");
        }
    }
}
