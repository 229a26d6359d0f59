//! The tier's two nodes: both Ready with a podCIDR of their own, and routed to each other so
//! that a NodePort called on one node reaches a pod on the other (the handout's topology).

use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use super::{T, eventually, k8s, strings};

#[test]
fn both_nodes_are_ready_reachable_and_route_each_others_distinct_pod_cidrs() {
    let Some(t) = T::new("both_nodes_ready") else {
        return;
    };
    assert_eq!(t.cluster.nodes.len(), k8s::NODES);
    let out = t.cluster.kubectl_ok(&["get", "nodes", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), k8s::NODES, "{out}");
    let mut cidrs = vec![];
    for node in &t.cluster.nodes {
        let item = items
            .iter()
            .find(|i| i["metadata"]["name"] == node.name.as_str())
            .unwrap_or_else(|| panic!("no node {} in {out}", node.name));
        let ready = item["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready")
            .map(|c| c["status"].clone());
        assert_eq!(ready, Some("True".into()), "{} not Ready", node.name);
        let internal = item["status"]["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["type"] == "InternalIP")
            .map(|a| a["address"].clone());
        assert_eq!(internal, Some(node.ip.as_str().into()), "{}", node.name);
        let cidr = item["spec"]["podCIDR"].as_str().unwrap_or("").to_string();
        assert!(
            cidr.starts_with("10.85.") && cidr.ends_with(".0/24"),
            "{}: podCIDR {cidr:?} is not a /24 of 10.85.0.0/16",
            node.name
        );
        cidrs.push(cidr);
    }
    let mut distinct = cidrs.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), cidrs.len(), "podCIDRs shared: {cidrs:?}");
    // The host reaches every node's address: each kubelet's port answers there.
    for node in &t.cluster.nodes {
        let addr = format!("{}:10250", node.ip).parse().unwrap();
        if let Err(e) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            panic!("{}: cannot reach the kubelet at {addr}: {e}", node.name);
        }
    }
    // Each node routes the other nodes' podCIDRs via those nodes.
    for (i, node) in t.cluster.nodes.iter().enumerate() {
        for (j, other) in t.cluster.nodes.iter().enumerate() {
            if i == j {
                continue;
            }
            let out = Command::new("ip")
                .args(["-n", &node.netns, "route", "show", &cidrs[j]])
                .output()
                .unwrap();
            let route = String::from_utf8_lossy(&out.stdout);
            assert!(
                route.contains(&format!("via {} ", other.ip)),
                "{}: route to {} ({}): {route:?}",
                node.name,
                cidrs[j],
                other.name
            );
        }
    }
}

#[test]
fn a_pod_on_the_second_node_answers_the_nodeport_of_the_first_from_the_host() {
    let Some(mut t) = T::new("nodeport_across_nodes") else {
        return;
    };
    let first = t.cluster.nodes[0].ip.clone();
    let second = t.cluster.nodes[1].name.clone();
    let (dep, svc) = (
        t.file("scripts/tp12/frontend-deployment.yaml"),
        t.file("scripts/tp12/frontend-svc.yaml"),
    );
    // The lab's frontend, pinned to the second node.
    t.run(&format!(
        r#"let d = yaml::parse(fs::read("{dep}"));
           d.spec.template.spec.nodeSelector = #{{"kubernetes.io/hostname": "{second}"}};
           kube::apply(d, #{{namespace: NS}});
           kube::apply("{svc}", #{{namespace: NS}});
           kube::wait_rollout("deployment/frontend", #{{namespace: NS, timeout: "2m"}});"#
    ));
    let pod_node = t.ok(r#"kube::pods(#{namespace: NS, selector: "tier=frontend"})[0].node"#);
    assert_eq!(pod_node.into_string().unwrap(), second);
    let url = t.frontend_url("/");
    assert!(url.starts_with(&format!("http://{first}:")), "{url}");
    let mut status = String::new();
    eventually("the first node's NodePort to answer", 30, || {
        let v = t.ok(&format!(
            r#"let r = http::get("{url}", #{{timeout: "2s", fail: false, headers: #{{"User-Agent": "across-nodes"}}}}); r.status ?? r.error"#
        ));
        status = format!("{v:?}");
        status == "200"
    });
    // The request crossed from the first node to the second: kube-proxy on the first SNATed
    // it to its own address, which the frontend logged.
    let mut clients = vec![];
    eventually("the access line in the pod's log", 20, || {
        clients = strings(t.ok(
            r#"logs::since("deployment/frontend", "5m", #{namespace: NS})
                   .map(|l| logs::parse_access(l.line)).filter(|e| e != () && e.agent == "across-nodes")
                   .map(|e| e.client)"#,
        ));
        !clients.is_empty()
    });
    assert_eq!(clients[0], first, "the pod saw {clients:?}");
}

/// Each node has its own /var/log (a mount namespace per node): kubelet 1.20's garbage
/// collector deletes, about once a minute, every /var/log/pods folder whose pod it does not
/// run, so with one shared /var/log each kubelet would delete the other node's pod logs.
#[test]
fn pod_logs_on_each_node_outlive_the_other_kubelets_garbage_collection() {
    let Some(mut t) = T::new("pod_logs_outlive_gc") else {
        return;
    };
    t.run(
        r#"kube::apply(#{apiVersion: "apps/v1", kind: "DaemonSet", metadata: #{name: "web"},
              spec: #{selector: #{matchLabels: #{app: "web"}},
                      template: #{metadata: #{labels: #{app: "web"}},
                                  spec: #{containers: [#{name: "web", image: "gcr.io/google-samples/gb-frontend:v4"}]}}}},
              #{namespace: NS});
           kube::wait_ready("daemonsets", #{namespace: NS, timeout: "2m"});
           kube::wait_ready("pods", #{namespace: NS, selector: "app=web", timeout: "2m"});"#,
    );
    let logs = |t: &mut T| {
        strings(t.ok(r#"kube::pods(#{namespace: NS, selector: "app=web"})
                   .map(|p| `${p.node}: ${logs::tail(p, 5, #{namespace: NS})}`)"#))
    };
    let before = logs(&mut t);
    assert_eq!(before.len(), k8s::NODES, "{before:?}");
    // Longer than the kubelet's container GC period (1 minute), with margin.
    std::thread::sleep(Duration::from_secs(80));
    let after = logs(&mut t);
    for line in &after {
        assert!(line.contains("frontend listening on :80"), "{after:?}");
    }
}
