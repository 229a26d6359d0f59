//! kubectl's tables, from the API server's own `Table`: `kube::table` asks for the list as
//! `application/json;as=Table;v=v1;g=meta.k8s.io` (what `kubectl get` sends), so the columns,
//! their `-o wide` priority, the AGE cells and a CRD's `additionalPrinterColumns` are the
//! server's, and prints it the way kubectl's printer does
//! (`k8s.io/cli-runtime/pkg/printers/tableprinter.go`): upper-cased headers, a NAMESPACE
//! column first for `--all-namespaces`, string cells cut at their first line break with
//! `...`, ESC and CR escaped, and columns aligned as its tabwriter does (minimum width 6,
//! padding 3, the last column unpadded).
//!
//! A server that answers with a plain list instead (no Table support) gets the fallback
//! kubectl itself used before server-side printing: NAME and AGE.

use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;
use serde::Deserialize;
use serde_json::Value;

use crate::kube::kinds::Kind;
use crate::kube::objects::ListQuery;
use crate::kube::{Conn, KubeError};

/// What `kubectl get` sends: a v1 Table, else a v1beta1 Table, else the plain list.
pub const TABLE_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,\
application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

/// The server's `meta.k8s.io/v1` `Table`, with what the printer needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerTable {
    #[serde(default)]
    pub column_definitions: Vec<Column>,
    #[serde(default)]
    pub rows: Vec<Row>,
}

/// One `TableColumnDefinition`.
#[derive(Debug, Clone, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type", default)]
    pub type_: String,
    #[serde(default)]
    pub format: String,
    /// 0: shown by default; > 0: only with `-o wide`.
    #[serde(default)]
    pub priority: i64,
}

/// One `TableRow`: its cells and (by default) the object's metadata.
#[derive(Debug, Clone, Deserialize)]
pub struct Row {
    #[serde(default)]
    pub cells: Vec<Value>,
    #[serde(default)]
    pub object: Option<Value>,
}

/// What the server answered to a Table request.
pub enum Fetched {
    Table(ServerTable),
    /// The server does not do server-side printing: the list's items.
    Items(Vec<Value>),
}

/// Lists `kind` as a Table, as `kubectl get` does.
pub async fn fetch(conn: &Conn, kind: &Kind, query: &ListQuery) -> Result<Fetched, KubeError> {
    let api = if query.all_namespaces {
        conn.api_all(kind)
    } else {
        conn.api(kind, query.namespace.as_deref())
    };
    let what = || format!("list {}", query.describe(conn, kind));
    let lp: ListParams = query.params();
    let mut request = kube::core::Request::new(api.resource_url())
        .list(&lp)
        .map_err(|e| KubeError::Other(format!("{}: {e}", what())))?;
    request.headers_mut().insert(
        http::header::ACCEPT,
        http::HeaderValue::from_static(TABLE_ACCEPT),
    );
    let text = conn
        .client
        .request_text(request)
        .await
        .map_err(|e| conn.error(what, e))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        KubeError::Other(format!("{}: the server's answer is not JSON: {e}", what()))
    })?;
    if value.get("kind").and_then(Value::as_str) == Some("Table") {
        let table: ServerTable = serde_json::from_value(value)
            .map_err(|e| KubeError::Other(format!("{}: unreadable Table: {e}", what())))?;
        return Ok(Fetched::Table(table));
    }
    let items = value
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(Fetched::Items(items))
}

/// How to print: kubectl's `-o wide` and `--all-namespaces`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrintOptions {
    pub wide: bool,
    pub with_namespace: bool,
}

/// kubectl's message when nothing matched (it writes it to stderr).
pub fn no_resources(namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("No resources found in {ns} namespace."),
        None => "No resources found".to_string(),
    }
}

/// Prints the server's table as kubectl does; `None` when it has no rows (kubectl then
/// prints no header, only [`no_resources`]).
pub fn render(table: &ServerTable, options: PrintOptions) -> Option<String> {
    if table.rows.is_empty() {
        return None;
    }
    let shown: Vec<usize> = table
        .column_definitions
        .iter()
        .enumerate()
        .filter(|(_, c)| options.wide || c.priority == 0)
        .map(|(i, _)| i)
        .collect();
    let mut lines: Vec<Vec<String>> = Vec::with_capacity(table.rows.len() + 1);
    let mut header: Vec<String> = Vec::new();
    if options.with_namespace {
        header.push("NAMESPACE".into());
    }
    header.extend(
        shown
            .iter()
            .map(|&i| table.column_definitions[i].name.to_uppercase()),
    );
    lines.push(header);
    for row in &table.rows {
        let mut line = Vec::with_capacity(lines[0].len());
        if options.with_namespace {
            let ns = row
                .object
                .as_ref()
                .and_then(|o| o.pointer("/metadata/namespace"))
                .and_then(Value::as_str)
                .unwrap_or("");
            line.push(escape(ns));
        }
        for &i in &shown {
            // A row shorter than the columns: kubectl prints nothing for the missing cells.
            if let Some(cell) = row.cells.get(i) {
                line.push(cell_text(cell));
            } else {
                break;
            }
        }
        lines.push(line);
    }
    Some(tabwrite(&lines))
}

/// A cell as kubectl prints it: strings cut at their first line break (`...` marks it),
/// `null` as nothing, numbers and booleans as Go's `fmt.Sprint` writes them.
fn cell_text(cell: &Value) -> String {
    match cell {
        Value::Null => String::new(),
        Value::String(s) => match s.find(['\n', '\r', '\x0c']) {
            Some(cut) => format!("{}...", escape(&s[..cut])),
            None => escape(s),
        },
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(cell_text).collect();
            escape(&format!("[{}]", parts.join(" ")))
        }
        Value::Object(m) => {
            let mut parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}:{}", cell_text(v)))
                .collect();
            parts.sort();
            escape(&format!("map[{}]", parts.join(" ")))
        }
    }
}

/// kubectl's terminal escaper: ESC → `^[`, CR → `\r`.
fn escape(s: &str) -> String {
    if !s.contains(['\x1b', '\r']) {
        return s.to_string();
    }
    s.replace('\x1b', "^[").replace('\r', "\\r")
}

/// Go's tabwriter as kubectl sets it up (`tabwriter.NewWriter(out, 6, 4, 3, ' ', 0)`): every
/// cell but a line's last is padded to its column's width, the widest cell plus 3, at least 6.
/// The `tabwriter` crate pads to `max(minwidth, widest) + padding` where Go pads to
/// `max(minwidth, widest + padding)`: minwidth 3 and padding 3 give Go's 6 and 3.
/// Cells are joined with tabs as kubectl's printer writes them; a tab inside a cell splits it,
/// as it does in kubectl. Widths are display columns (Go counts runes: the two differ only
/// for wide characters such as CJK or emoji).
fn tabwrite(lines: &[Vec<String>]) -> String {
    use std::io::Write;
    let mut tw = tabwriter::TabWriter::new(Vec::new()).minwidth(3).padding(3);
    // Every line ends with a newline, the last one too: tabwriter drops an empty last cell of
    // an unterminated line, and that cell is what makes the one before it part of a column
    // (a row whose last cell is empty, as kubectl prints a missing IPv6).
    let mut text = String::new();
    for line in lines {
        text.push_str(&line.join("\t"));
        text.push('\n');
    }
    // Writing to a Vec cannot fail.
    tw.write_all(text.as_bytes()).expect("write to memory");
    let out = tw.into_inner().expect("flush to memory");
    let mut out = String::from_utf8(out).expect("cells are UTF-8 and tabwriter only adds spaces");
    if out.ends_with('\n') {
        out.pop();
    }
    out
}

/// The fallback for servers that return no Table: NAME and AGE, as kubectl printed
/// before server-side columns.
pub fn render_items(objects: &[Value], options: PrintOptions, now: Timestamp) -> Option<String> {
    if objects.is_empty() {
        return None;
    }
    let mut lines = Vec::with_capacity(objects.len() + 1);
    let mut header = vec!["NAME".to_string(), "AGE".to_string()];
    if options.with_namespace {
        header.insert(0, "NAMESPACE".into());
    }
    lines.push(header);
    for obj in objects {
        let mut line = vec![str_at(obj, "/metadata/name").to_string(), age(obj, now)];
        if options.with_namespace {
            line.insert(0, str_at(obj, "/metadata/namespace").to_string());
        }
        lines.push(line);
    }
    Some(tabwrite(&lines))
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn age(obj: &Value, now: Timestamp) -> String {
    match str_at(obj, "/metadata/creationTimestamp").parse::<Timestamp>() {
        Ok(t) => human_age(now.as_second() - t.as_second()),
        Err(_) => "<unknown>".into(),
    }
}

/// kubectl's `HumanDuration` (k8s.io/apimachinery/pkg/util/duration). Hand-written on
/// purpose: its rounding (`2d5h` up to 8 days, `3y40d` up to 8 years) is kubectl's own, not a
/// duration format a crate writes.
pub fn human_age(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(v: Value) -> ServerTable {
        serde_json::from_value(v).unwrap()
    }

    /// The shape kube-apiserver 1.20 answers for `kubectl get svc` (cells as it sends them).
    fn services() -> ServerTable {
        table(json!({
            "kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "columnDefinitions": [
                {"name": "Name", "type": "string", "format": "name", "priority": 0},
                {"name": "Type", "type": "string", "format": "", "priority": 0},
                {"name": "Cluster-IP", "type": "string", "format": "", "priority": 0},
                {"name": "External-IP", "type": "string", "format": "", "priority": 0},
                {"name": "Port(s)", "type": "string", "format": "", "priority": 0},
                {"name": "Age", "type": "string", "format": "", "priority": 0},
                {"name": "Selector", "type": "string", "format": "", "priority": 1}
            ],
            "rows": [
                {"cells": ["frontend", "NodePort", "10.97.12.7", "<none>", "80:32150/TCP", "5m", "app=guestbook,tier=frontend"],
                 "object": {"kind": "PartialObjectMetadata", "metadata": {"name": "frontend", "namespace": "default"}}},
                {"cells": ["kubernetes", "ClusterIP", "10.97.0.1", "<none>", "443/TCP", "2d", "<none>"],
                 "object": {"kind": "PartialObjectMetadata", "metadata": {"name": "kubernetes", "namespace": "default"}}}
            ]
        }))
    }

    #[test]
    fn columns_are_upper_cased_and_aligned_as_kubectl_tabwriter_does() {
        let out = render(&services(), PrintOptions::default()).unwrap();
        assert_eq!(
            out,
            "NAME         TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)        AGE\n\
             frontend     NodePort    10.97.12.7   <none>        80:32150/TCP   5m\n\
             kubernetes   ClusterIP   10.97.0.1    <none>        443/TCP        2d"
        );
    }

    #[test]
    fn wide_adds_the_priority_columns_and_all_namespaces_a_namespace_column() {
        let out = render(
            &services(),
            PrintOptions {
                wide: true,
                with_namespace: true,
            },
        )
        .unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("NAMESPACE   NAME "), "{out}");
        assert!(lines[0].ends_with("AGE   SELECTOR"), "{out}");
        assert!(lines[1].starts_with("default     frontend "), "{out}");
        assert!(lines[1].ends_with("app=guestbook,tier=frontend"), "{out}");
    }

    #[test]
    fn narrow_columns_are_at_least_six_wide() {
        let t = table(json!({
            "columnDefinitions": [{"name": "A", "priority": 0}, {"name": "B", "priority": 0}],
            "rows": [{"cells": ["x", 1]}]
        }));
        assert_eq!(
            render(&t, PrintOptions::default()).unwrap(),
            "A     B\nx     1"
        );
    }

    #[test]
    fn cells_are_cut_at_a_line_break_and_terminal_escapes_are_shown() {
        let t = table(json!({
            "columnDefinitions": [{"name": "Name", "priority": 0}, {"name": "Message", "priority": 0}],
            "rows": [{"cells": ["e\u{1b}[31m", "first\nsecond"]}, {"cells": [null, true]}]
        }));
        let out = render(&t, PrintOptions::default()).unwrap();
        assert_eq!(out, "NAME      MESSAGE\ne^[[31m   first...\n          true");
    }

    /// Found on the real tier (`kubectl get cep`): a last row whose last cell is empty still
    /// widens the column before it, as Go's tabwriter does.
    #[test]
    fn an_empty_last_cell_keeps_the_cell_before_it_in_its_column() {
        let t = table(json!({
            "columnDefinitions": [{"name": "IPv4", "priority": 0}, {"name": "IPv6", "priority": 0}],
            "rows": [{"cells": ["10.85.0.9", ""]}]
        }));
        assert_eq!(
            render(&t, PrintOptions::default()).unwrap(),
            "IPV4        IPV6\n10.85.0.9   "
        );
    }

    #[test]
    fn an_empty_table_prints_nothing_and_kubectl_says_no_resources() {
        let t = table(json!({"columnDefinitions": [{"name": "Name"}], "rows": []}));
        assert!(render(&t, PrintOptions::default()).is_none());
        assert_eq!(
            no_resources(Some("default")),
            "No resources found in default namespace."
        );
        assert_eq!(no_resources(None), "No resources found");
    }

    #[test]
    fn the_fallback_without_a_server_table_is_name_and_age() {
        let now: Timestamp = "2026-01-01T00:10:00Z".parse().unwrap();
        let items = vec![json!({"metadata": {"name": "a", "namespace": "default",
            "creationTimestamp": "2026-01-01T00:00:00Z"}})];
        assert_eq!(
            render_items(&items, PrintOptions::default(), now).unwrap(),
            "NAME   AGE\na      10m"
        );
    }

    #[test]
    fn human_age_matches_kubectl() {
        for (secs, want) in [
            (5, "5s"),
            (119, "119s"),
            (150, "2m30s"),
            (600, "10m"),
            (3 * 3600 + 5 * 60, "3h5m"),
            (30 * 3600, "30h"),
            (3 * 86400 + 3600, "3d1h"),
            (20 * 86400, "20d"),
            (3 * 365 * 86400, "3y"),
        ] {
            assert_eq!(human_age(secs), want, "{secs}s");
        }
    }
}
