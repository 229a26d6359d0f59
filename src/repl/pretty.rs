//! Values as the REPL prints them: short values on one line, maps and arrays that would make
//! a long line spread over several, indented.

use rhai::Dynamic;

/// Lines longer than this are spread over several.
const WIDTH: usize = 72;

/// How values of labsh's own types show (`print`'s text for a `Pod`); `None` for the
/// others.
pub type Opaque<'a> = &'a dyn Fn(&Dynamic) -> Option<String>;

/// The REPL's rendering of a top-level value: strings unquoted (so command output reads as
/// text), everything else as [`pretty`] renders it.
pub fn top_level(value: &Dynamic) -> String {
    top_level_with(value, &|_| None)
}

/// [`top_level`], values of labsh's types shown as `opaque` says (as `print` shows them).
pub fn top_level_with(value: &Dynamic, opaque: Opaque<'_>) -> String {
    if value.is_string() {
        value.to_string()
    } else {
        pretty_with(value, 0, opaque)
    }
}

/// `value` rendered at indentation `level` (4 spaces a level).
pub fn pretty(value: &Dynamic, level: usize) -> String {
    pretty_with(value, level, &|_| None)
}

fn pretty_with(value: &Dynamic, level: usize, opaque: Opaque<'_>) -> String {
    let inline = one_line_with(value, opaque);
    if inline.len() + level * 4 <= WIDTH {
        return inline;
    }
    let pad = "    ".repeat(level + 1);
    let close = "    ".repeat(level);
    if let Some(map) = value.read_lock::<rhai::Map>() {
        let mut out = String::from("#{\n");
        for (k, v) in map.iter() {
            out.push_str(&format!(
                "{pad}{}: {},\n",
                key(k),
                pretty_with(v, level + 1, opaque)
            ));
        }
        out.push_str(&close);
        out.push('}');
        return out;
    }
    if let Some(array) = value.read_lock::<rhai::Array>() {
        let mut out = String::from("[\n");
        for v in array.iter() {
            out.push_str(&format!("{pad}{},\n", pretty_with(v, level + 1, opaque)));
        }
        out.push_str(&close);
        out.push(']');
        return out;
    }
    inline
}

/// `value` on one line, strings quoted.
pub fn one_line(value: &Dynamic) -> String {
    one_line_with(value, &|_| None)
}

fn one_line_with(value: &Dynamic, opaque: Opaque<'_>) -> String {
    if let Some(map) = value.read_lock::<rhai::Map>() {
        let items: Vec<String> = map
            .iter()
            .map(|(k, v)| format!("{}: {}", key(k), one_line_with(v, opaque)))
            .collect();
        return format!("#{{{}}}", items.join(", "));
    }
    if let Some(array) = value.read_lock::<rhai::Array>() {
        let items: Vec<String> = array.iter().map(|v| one_line_with(v, opaque)).collect();
        return format!("[{}]", items.join(", "));
    }
    if let Some(text) = opaque(value) {
        return text;
    }
    if value.is_string() {
        return format!("{:?}", value.to_string());
    }
    if value.is_unit() {
        return "()".to_string();
    }
    value.to_string()
}

/// A map key as Rhai would accept it in a literal.
fn key(k: &str) -> String {
    let ident = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident {
        k.to_string()
    } else {
        format!("{k:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(s: &str) -> Dynamic {
        rhai::Engine::new().eval::<Dynamic>(s).unwrap()
    }

    #[test]
    fn short_maps_stay_on_one_line() {
        assert_eq!(pretty(&eval(r#"#{a: 1, b: "x"}"#), 0), r#"#{a: 1, b: "x"}"#);
    }

    #[test]
    fn long_maps_spread_over_indented_lines() {
        let v = eval(
            r#"#{name: "frontend", labels: #{app: "guestbook", tier: "frontend"}, ports: [80, 443], "node-name": "kind-worker2"}"#,
        );
        assert_eq!(
            pretty(&v, 0),
            "#{\n    labels: #{app: \"guestbook\", tier: \"frontend\"},\n    name: \"frontend\",\n    \"node-name\": \"kind-worker2\",\n    ports: [80, 443],\n}"
        );
    }
}
