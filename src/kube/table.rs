//! kubectl's tables: the same columns as `kubectl get` for pods, services, deployments,
//! nodes and daemonsets (with `-o wide`), a NAME/AGE table for anything else, aligned as
//! kubectl's tabwriter does (each column as wide as its widest cell plus three spaces).

use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::kube::typed::{pod_ready_counts, pod_status};

/// Renders `objects` of resource `plural` (`services`, `pods`, …) as kubectl would.
pub fn render(
    plural: &str,
    objects: &[Value],
    wide: bool,
    all_namespaces: bool,
    now: Timestamp,
) -> String {
    if objects.is_empty() {
        return "No resources found".to_string();
    }
    let (mut header, wide_header): (Vec<&str>, Vec<&str>) = match plural {
        "pods" => (
            vec!["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
            vec!["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
        ),
        "services" => (
            vec![
                "NAME",
                "TYPE",
                "CLUSTER-IP",
                "EXTERNAL-IP",
                "PORT(S)",
                "AGE",
            ],
            vec!["SELECTOR"],
        ),
        "deployments" => (
            vec!["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
            vec!["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        "nodes" => (
            vec!["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
            vec![
                "INTERNAL-IP",
                "EXTERNAL-IP",
                "OS-IMAGE",
                "KERNEL-VERSION",
                "CONTAINER-RUNTIME",
            ],
        ),
        "daemonsets" => (
            vec![
                "NAME",
                "DESIRED",
                "CURRENT",
                "READY",
                "UP-TO-DATE",
                "AVAILABLE",
                "NODE SELECTOR",
                "AGE",
            ],
            vec!["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        _ => (vec!["NAME", "AGE"], vec![]),
    };
    if wide {
        header.extend(wide_header);
    }
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(objects.len() + 1);
    let mut head: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    if all_namespaces {
        head.insert(0, "NAMESPACE".into());
    }
    rows.push(head);
    for obj in objects {
        let age = age(obj, now);
        let name = str_at(obj, "/metadata/name").to_string();
        let mut row = match plural {
            "pods" => pod_row(obj, name, age, wide),
            "services" => service_row(obj, name, age, wide),
            "deployments" => deployment_row(obj, name, age, wide),
            "nodes" => node_row(obj, name, age, wide),
            "daemonsets" => daemonset_row(obj, name, age, wide),
            _ => vec![name, age],
        };
        if all_namespaces {
            row.insert(0, str_at(obj, "/metadata/namespace").to_string());
        }
        rows.push(row);
    }
    align(&rows)
}

fn align(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < row.len() {
                let pad = widths[c] + 3 - cell.chars().count();
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.pop();
    out
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn int_at(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn or_none(s: String) -> String {
    if s.is_empty() { "<none>".into() } else { s }
}

fn age(obj: &Value, now: Timestamp) -> String {
    match str_at(obj, "/metadata/creationTimestamp").parse::<Timestamp>() {
        Ok(t) => human_age(now.as_second() - t.as_second()),
        Err(_) => "<unknown>".into(),
    }
}

/// kubectl's `HumanDuration` (k8s.io/apimachinery/pkg/util/duration).
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

fn pod_row(obj: &Value, name: String, age: String, wide: bool) -> Vec<String> {
    let (ready, total, restarts) = pod_ready_counts(obj);
    let mut row = vec![
        name,
        format!("{ready}/{total}"),
        pod_status(obj),
        restarts.to_string(),
        age,
    ];
    if wide {
        row.push(or_none(str_at(obj, "/status/podIP").into()));
        row.push(or_none(str_at(obj, "/spec/nodeName").into()));
        row.push(or_none(str_at(obj, "/status/nominatedNodeName").into()));
        row.push("<none>".into());
    }
    row
}

/// `80:32150/TCP,443/TCP`.
pub fn service_ports(svc: &Value) -> String {
    let ports = svc.pointer("/spec/ports").and_then(Value::as_array);
    let Some(ports) = ports else {
        return "<none>".into();
    };
    let parts: Vec<String> = ports
        .iter()
        .map(|p| {
            let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
            let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            match p.get("nodePort").and_then(Value::as_i64) {
                Some(np) if np != 0 => format!("{port}:{np}/{proto}"),
                _ => format!("{port}/{proto}"),
            }
        })
        .collect();
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(",")
    }
}

fn service_external_ip(svc: &Value) -> String {
    let externals: Vec<&str> = svc
        .pointer("/spec/externalIPs")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    match str_at(svc, "/spec/type") {
        "ExternalName" => str_at(svc, "/spec/externalName").to_string(),
        "LoadBalancer" => {
            let mut ips: Vec<String> = svc
                .pointer("/status/loadBalancer/ingress")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|i| {
                            i.get("ip")
                                .or_else(|| i.get("hostname"))
                                .and_then(Value::as_str)
                        })
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            ips.extend(externals.iter().map(|s| s.to_string()));
            if ips.is_empty() {
                "<pending>".into()
            } else {
                ips.join(",")
            }
        }
        _ => or_none(externals.join(",")),
    }
}

fn map_selector(v: Option<&Value>) -> String {
    let Some(Value::Object(m)) = v else {
        return "<none>".into();
    };
    let mut pairs: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    pairs.sort();
    or_none(pairs.join(","))
}

fn service_row(obj: &Value, name: String, age: String, wide: bool) -> Vec<String> {
    let type_ = match str_at(obj, "/spec/type") {
        "" => "ClusterIP",
        t => t,
    };
    let mut row = vec![
        name,
        type_.to_string(),
        or_none(str_at(obj, "/spec/clusterIP").into()),
        service_external_ip(obj),
        service_ports(obj),
        age,
    ];
    if wide {
        row.push(map_selector(obj.pointer("/spec/selector")));
    }
    row
}

fn containers_and_images(obj: &Value) -> (String, String) {
    let cs = obj
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = cs
        .iter()
        .map(|c| c.get("name").and_then(Value::as_str).unwrap_or(""))
        .collect();
    let images: Vec<&str> = cs
        .iter()
        .map(|c| c.get("image").and_then(Value::as_str).unwrap_or(""))
        .collect();
    (or_none(names.join(",")), or_none(images.join(",")))
}

fn label_selector(obj: &Value) -> String {
    obj.pointer("/spec/selector")
        .and_then(crate::kube::target::selector_string)
        .unwrap_or_else(|| "<none>".into())
}

fn deployment_row(obj: &Value, name: String, age: String, wide: bool) -> Vec<String> {
    let desired = obj
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let mut row = vec![
        name,
        format!("{}/{desired}", int_at(obj, "/status/readyReplicas")),
        int_at(obj, "/status/updatedReplicas").to_string(),
        int_at(obj, "/status/availableReplicas").to_string(),
        age,
    ];
    if wide {
        let (c, i) = containers_and_images(obj);
        row.extend([c, i, label_selector(obj)]);
    }
    row
}

fn daemonset_row(obj: &Value, name: String, age: String, wide: bool) -> Vec<String> {
    let mut row = vec![
        name,
        int_at(obj, "/status/desiredNumberScheduled").to_string(),
        int_at(obj, "/status/currentNumberScheduled").to_string(),
        int_at(obj, "/status/numberReady").to_string(),
        int_at(obj, "/status/updatedNumberScheduled").to_string(),
        int_at(obj, "/status/numberAvailable").to_string(),
        map_selector(obj.pointer("/spec/template/spec/nodeSelector")),
        age,
    ];
    if wide {
        let (c, i) = containers_and_images(obj);
        row.extend([c, i, label_selector(obj)]);
    }
    row
}

fn node_row(obj: &Value, name: String, age: String, wide: bool) -> Vec<String> {
    let mut status = if crate::kube::typed::condition_true(obj, "Ready") {
        "Ready".to_string()
    } else if obj
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            c.iter()
                .any(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
        })
    {
        "NotReady".to_string()
    } else {
        "Unknown".to_string()
    };
    if obj.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push_str(",SchedulingDisabled");
    }
    let mut roles: Vec<String> = crate::kube::typed::labels(obj)
        .into_iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("node-role.kubernetes.io/")
                .map(String::from)
                .or_else(|| (k == "kubernetes.io/role").then_some(v))
        })
        .filter(|r| !r.is_empty())
        .collect();
    roles.sort();
    let mut row = vec![
        name,
        status,
        or_none(roles.join(",")),
        age,
        str_at(obj, "/status/nodeInfo/kubeletVersion").to_string(),
    ];
    if wide {
        let addr = |t: &str| {
            obj.pointer("/status/addresses")
                .and_then(Value::as_array)
                .and_then(|a| {
                    a.iter()
                        .find(|x| x.get("type").and_then(Value::as_str) == Some(t))
                })
                .and_then(|x| x.get("address").and_then(Value::as_str))
                .unwrap_or("")
                .to_string()
        };
        row.extend([
            or_none(addr("InternalIP")),
            or_none(addr("ExternalIP")),
            str_at(obj, "/status/nodeInfo/osImage").to_string(),
            str_at(obj, "/status/nodeInfo/kernelVersion").to_string(),
            str_at(obj, "/status/nodeInfo/containerRuntimeVersion").to_string(),
        ]);
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::typed::tests::{crashing_cilium_pod, frontend_service};
    use serde_json::json;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn kubernetes_service() -> Value {
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default", "creationTimestamp": "2022-09-14T20:20:00Z"},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1",
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}})
    }

    #[test]
    fn services_table_matches_the_handout() {
        // The handout's `kubectl get svc`, 107 s after the service was created.
        let now = at("2022-09-14T20:36:33Z");
        let table = render("services", &[frontend_service()], false, false, now);
        assert_eq!(
            table,
            "NAME       TYPE       CLUSTER-IP     EXTERNAL-IP   PORT(S)        AGE\n\
             frontend   NodePort   10.96.188.84   <none>        80:32150/TCP   107s"
        );
    }

    #[test]
    fn columns_widen_to_the_longest_cell() {
        let now = at("2022-09-14T20:36:33Z");
        let table = render(
            "services",
            &[frontend_service(), kubernetes_service()],
            false,
            false,
            now,
        );
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "NAME         TYPE        CLUSTER-IP     EXTERNAL-IP   PORT(S)        AGE"
        );
        assert_eq!(
            lines[1],
            "frontend     NodePort    10.96.188.84   <none>        80:32150/TCP   107s"
        );
        assert_eq!(
            lines[2],
            "kubernetes   ClusterIP   10.96.0.1      <none>        443/TCP        16m"
        );
    }

    #[test]
    fn wide_services_show_the_selector() {
        let now = at("2022-09-14T20:36:33Z");
        let table = render("services", &[frontend_service()], true, false, now);
        assert!(
            table.lines().next().unwrap().ends_with("AGE    SELECTOR"),
            "{table}"
        );
        assert!(table.ends_with("app=guestbook,tier=frontend"), "{table}");
    }

    #[test]
    fn pods_table_shows_crash_loops_and_restarts() {
        let now = at("2022-09-14T20:36:00Z");
        let table = render("pods", &[crashing_cilium_pod()], true, true, now);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>().join(" "),
            "NAMESPACE NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES"
        );
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            [
                "kube-system",
                "cilium-x7k2p",
                "0/1",
                "CrashLoopBackOff",
                "4",
                "6m",
                "172.18.0.4",
                "lab-worker2",
                "<none>",
                "<none>"
            ]
        );
    }

    #[test]
    fn deployments_nodes_and_daemonsets_use_kubectl_columns() {
        let now = at("2022-09-14T21:00:00Z");
        let deploy = json!({"metadata": {"name": "frontend", "creationTimestamp": "2022-09-14T20:34:46Z"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "guestbook", "tier": "frontend"}},
                "template": {"spec": {"containers": [{"name": "php-redis", "image": "gcr.io/google-samples/gb-frontend:v4"}]}}},
            "status": {"readyReplicas": 1, "updatedReplicas": 1, "availableReplicas": 1}});
        assert_eq!(
            render(
                "deployments",
                std::slice::from_ref(&deploy),
                false,
                false,
                now
            ),
            "NAME       READY   UP-TO-DATE   AVAILABLE   AGE\nfrontend   1/1     1            1           25m"
        );
        assert!(
            render("deployments", &[deploy], true, false, now).ends_with(
                "php-redis    gcr.io/google-samples/gb-frontend:v4   app=guestbook,tier=frontend"
            )
        );
        let node = json!({"metadata": {"name": "lab-control-plane", "creationTimestamp": "2022-09-14T20:00:00Z",
                "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "status": {"conditions": [{"type": "Ready", "status": "False"}], "nodeInfo": {"kubeletVersion": "v1.25.0"}}});
        assert_eq!(
            render("nodes", &[node], false, false, now),
            "NAME                STATUS     ROLES           AGE   VERSION\nlab-control-plane   NotReady   control-plane   60m   v1.25.0"
        );
        let ds = json!({"metadata": {"name": "cilium", "creationTimestamp": "2022-09-14T20:30:00Z"},
            "spec": {"template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}}}},
            "status": {"desiredNumberScheduled": 4, "currentNumberScheduled": 4, "numberReady": 2,
                "updatedNumberScheduled": 4, "numberAvailable": 2}});
        assert_eq!(
            render("daemonsets", &[ds], false, false, now),
            "NAME     DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR            AGE\n\
             cilium   4         4         2       4            2           kubernetes.io/os=linux   30m"
        );
    }

    #[test]
    fn other_kinds_get_name_and_age() {
        let now = at("2022-09-14T21:00:00Z");
        let cep = json!({"metadata": {"name": "frontend-abc", "namespace": "default", "creationTimestamp": "2022-09-14T20:59:00Z"}});
        assert_eq!(
            render("ciliumendpoints", &[cep], false, false, now),
            "NAME           AGE\nfrontend-abc   60s"
        );
        assert_eq!(render("pods", &[], false, false, now), "No resources found");
    }

    #[test]
    fn ages_follow_kubectl_human_duration() {
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (120, "2m"),
            (150, "2m30s"),
            (600, "10m"),
            (10799, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 60, "3h1m"),
            (30 * 3600, "30h"),
            (50 * 3600, "2d2h"),
            (10 * 86400, "10d"),
            (800 * 86400, "2y70d"),
            (-1, "0s"),
            (-5, "<invalid>"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_age(secs), want, "{secs}");
        }
    }

    #[test]
    fn load_balancer_and_multi_port_services() {
        let svc = json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "clusterIP": "10.96.1.2",
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]},
            "status": {"loadBalancer": {}}});
        assert_eq!(service_ports(&svc), "80:30080/TCP,53/UDP");
        assert_eq!(service_external_ip(&svc), "<pending>");
    }
}
