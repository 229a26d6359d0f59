//! The object store: every object the server holds, the resource version counter, and the event
//! history that watches replay and follow.
//!
//! One global `resourceVersion` counter (as etcd's revision): every write bumps it, and the
//! written object carries the new value. Each write is also an event (ADDED, MODIFIED, DELETED)
//! kept in the history (for `watch?resourceVersion=N`; whole: a server lives for one test) and
//! broadcast to open watches.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::resources::{self, ResourceType};

/// Where an object lives: its group and kind (any version), namespace (`""` when
/// cluster-scoped) and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjKey {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjKey {
    pub fn new(rt: &ResourceType, namespace: Option<&str>, name: &str) -> Self {
        ObjKey {
            group: rt.group.clone(),
            kind: rt.kind.clone(),
            namespace: if rt.namespaced {
                namespace.unwrap_or("default").to_string()
            } else {
                String::new()
            },
            name: name.to_string(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One write, as watches see it.
#[derive(Clone, Debug)]
pub struct Event {
    pub rv: u64,
    pub kind: EventType,
    pub key: ObjKey,
    /// The object after the write (for DELETED: the last state, with the deletion's version).
    pub object: Value,
    /// The object before the write (MODIFIED and DELETED), to tell selector transitions.
    pub previous: Option<Value>,
}

pub struct Store {
    objects: BTreeMap<ObjKey, Value>,
    rv: u64,
    uids: u64,
    history: Vec<Arc<Event>>,
    events: broadcast::Sender<Arc<Event>>,
}

impl Store {
    /// A store holding the namespaces a fresh kind cluster has.
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(4096);
        let mut store = Store {
            objects: BTreeMap::new(),
            rv: 1000,
            uids: 0,
            history: Vec::new(),
            events,
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            store.put_new(json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": { "name": ns },
                "spec": { "finalizers": ["kubernetes"] },
                "status": { "phase": "Active" },
            }));
        }
        store
    }

    /// Current resource version (the last write's).
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    pub fn get(&self, key: &ObjKey) -> Option<&Value> {
        self.objects.get(key)
    }

    /// Objects of a type, in one namespace or all, sorted by namespace then name.
    pub fn list<'a>(
        &'a self,
        rt: &'a ResourceType,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Value> + 'a {
        self.objects
            .iter()
            .filter(move |(k, _)| {
                k.group == rt.group
                    && k.kind == rt.kind
                    && namespace.is_none_or(|ns| !rt.namespaced || k.namespace == ns)
            })
            .map(|(_, v)| v)
    }

    /// Stores a new object: fills in the metadata a real server sets (namespace, uid,
    /// creationTimestamp, resourceVersion, generation) and emits ADDED. Returns the stored object.
    /// The caller has checked that the key is free and the type is known.
    pub fn create(&mut self, rt: &ResourceType, mut obj: Value) -> Value {
        let key = ObjKey::new(rt, obj["metadata"]["namespace"].as_str(), name_of(&obj));
        self.rv += 1;
        self.uids += 1;
        let meta = metadata_mut(&mut obj);
        if rt.namespaced {
            meta.insert("namespace".into(), Value::String(key.namespace.clone()));
        } else {
            meta.remove("namespace");
        }
        meta.insert(
            "uid".into(),
            Value::String(format!("00000000-0000-4000-8000-{:012x}", self.uids)),
        );
        meta.entry("creationTimestamp")
            .or_insert_with(|| Value::String(now_rfc3339()));
        meta.insert("resourceVersion".into(), Value::String(self.rv.to_string()));
        meta.insert("generation".into(), json!(1));
        self.objects.insert(key.clone(), obj.clone());
        self.emit(EventType::Added, key, obj.clone(), None);
        obj
    }

    /// Replaces a stored object: keeps uid and creationTimestamp, bumps resourceVersion (and
    /// generation when anything outside metadata and status changed), emits MODIFIED.
    pub fn replace(&mut self, key: &ObjKey, mut obj: Value) -> Option<Value> {
        let previous = self.objects.get(key)?.clone();
        self.rv += 1;
        let generation = previous["metadata"]["generation"].as_i64().unwrap_or(1);
        let spec_changed = without_meta_and_status(&previous) != without_meta_and_status(&obj);
        let meta = metadata_mut(&mut obj);
        for kept in ["uid", "creationTimestamp", "namespace", "name"] {
            match previous["metadata"].get(kept) {
                Some(v) => meta.insert(kept.into(), v.clone()),
                None => meta.remove(kept),
            };
        }
        meta.insert("resourceVersion".into(), Value::String(self.rv.to_string()));
        meta.insert(
            "generation".into(),
            json!(generation + i64::from(spec_changed)),
        );
        self.objects.insert(key.clone(), obj.clone());
        self.emit(
            EventType::Modified,
            key.clone(),
            obj.clone(),
            Some(previous),
        );
        Some(obj)
    }

    /// Removes an object at once and emits DELETED. There are no finalizers (`metadata.finalizers`
    /// does not hold a deletion) and no garbage collection (deleting a namespace leaves what it
    /// holds).
    pub fn remove(&mut self, key: &ObjKey) -> Option<Value> {
        let previous = self.objects.remove(key)?;
        self.rv += 1;
        let mut obj = previous.clone();
        metadata_mut(&mut obj).insert("resourceVersion".into(), Value::String(self.rv.to_string()));
        self.emit(EventType::Deleted, key.clone(), obj.clone(), Some(previous));
        Some(obj)
    }

    /// The live event feed (events after the current resource version).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.subscribe()
    }

    /// Events after `rv`.
    pub fn events_since(&self, rv: u64) -> Vec<Arc<Event>> {
        let start = self.history.partition_point(|e| e.rv <= rv);
        self.history[start..].to_vec()
    }

    /// Inserts a fully formed object without validation; used to seed the store.
    fn put_new(&mut self, obj: Value) {
        let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_string();
        let kind = obj["kind"].as_str().unwrap_or_default().to_string();
        if let Some(rt) = resources::type_of(&api_version, &kind) {
            self.create(&rt, obj);
        }
    }

    fn emit(&mut self, kind: EventType, key: ObjKey, object: Value, previous: Option<Value>) {
        let event = Arc::new(Event {
            rv: self.rv,
            kind,
            key,
            object,
            previous,
        });
        self.history.push(event.clone());
        // No receiver is not an error: nobody is watching.
        let _ = self.events.send(event);
    }
}

/// `metadata.name`, or `""`.
pub fn name_of(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or_default()
}

/// The `metadata` map of an object, created if absent or not a map.
pub fn metadata_mut(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    let map = obj.as_object_mut().expect("checked above");
    let meta = map.entry("metadata").or_insert_with(|| json!({}));
    if !meta.is_object() {
        *meta = json!({});
    }
    meta.as_object_mut().expect("checked above")
}

fn without_meta_and_status(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    v
}

/// Now, as the API server prints timestamps (`2024-05-01T10:00:00Z`).
pub fn now_rfc3339() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
