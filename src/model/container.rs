//! A container as its runtime names it: which runtime, its id, and the names an admin asks
//! by (container name, image, pod).

use serde::{Deserialize, Serialize};

/// The runtime that made a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Runtime {
    Docker,
    Podman,
    /// containerd used directly (`ctr`, nerdctl) or by Kubernetes' CRI plugin.
    Containerd,
    #[serde(rename = "cri-o")]
    Crio,
    Lxc,
    /// A systemd-machined machine (systemd-nspawn, libvirt-lxc).
    Nspawn,
    /// A runtime this build does not know (a newer file).
    #[serde(other)]
    Other,
}

impl Runtime {
    /// The name in files, filters and labels (the serde name).
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Podman => "podman",
            Runtime::Containerd => "containerd",
            Runtime::Crio => "cri-o",
            Runtime::Lxc => "lxc",
            Runtime::Nspawn => "nspawn",
            Runtime::Other => "other",
        }
    }
}

/// A pod: Kubernetes' (namespace and name) or Podman's (name only).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Pod {
    /// The Kubernetes namespace; `None` for a Podman pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl Pod {
    /// `NAMESPACE/NAME` for Kubernetes, `NAME` for Podman: how `pod:` filters spell it.
    pub fn label(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// One container. Only `runtime` and `id` are always known: names come from state files
/// that may be unreadable to the user running bindscope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Container {
    pub runtime: Runtime,
    /// The runtime's id: 64 hex digits for Docker, Podman, containerd and CRI-O; the
    /// name for LXC and machined, which have no other.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The image as the user gave it (`nginx:1.25`, `localhost/bs:1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<Pod>,
}

impl Container {
    /// The id as people quote it: the first 12 characters of a hex id, a name id whole.
    pub fn short_id(&self) -> &str {
        if self.id.len() == 64 && self.id.bytes().all(|b| b.is_ascii_hexdigit()) {
            &self.id[..12]
        } else {
            &self.id
        }
    }

    /// `name` if known, else `runtime:short-id` (`docker:02175b2a1941`).
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("{}:{}", self.runtime.name(), self.short_id()),
        }
    }
}

/// Reads a namespace's `container` as files have written it: an object since 0.13, a
/// `runtime:short-id` string before (`docker:02175b2a1941`, `k8s-pod:UID`).
pub fn deserialize_lenient<'de, D>(d: D) -> Result<Option<Container>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Object(Container),
        Text(String),
    }
    Ok(match Option::<Written>::deserialize(d)? {
        None => None,
        Some(Written::Object(c)) => Some(c),
        Some(Written::Text(t)) => Some(Container::from_old_label(&t)),
    })
}

impl Container {
    /// The container of an old file's `runtime:id` label; the runtime is `Other` when the
    /// prefix is not one of the old labels'.
    pub fn from_old_label(text: &str) -> Container {
        let (runtime, id) = match text.split_once(':') {
            Some(("docker", id)) => (Runtime::Docker, id),
            Some(("podman", id)) => (Runtime::Podman, id),
            Some(("containerd" | "k8s-pod", id)) => (Runtime::Containerd, id),
            _ => (Runtime::Other, text),
        };
        Container {
            runtime,
            id: id.to_string(),
            name: None,
            image: None,
            pod: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_prefer_the_name_and_shorten_hex_ids_only() {
        let mut c = Container {
            runtime: Runtime::Docker,
            id: "02175b2a1941f7f7b1a4301c29df7bd0cbfb075bd2aa98a733d75725acb36a5f".into(),
            name: None,
            image: None,
            pod: None,
        };
        assert_eq!(c.label(), "docker:02175b2a1941");
        c.name = Some("web".into());
        assert_eq!(c.label(), "web");
        let lxc = Container {
            runtime: Runtime::Lxc,
            id: "lx1".into(),
            name: Some("lx1".into()),
            image: None,
            pod: None,
        };
        assert_eq!(lxc.short_id(), "lx1");
        let pod = Pod {
            namespace: Some("default".into()),
            name: "mypod".into(),
        };
        assert_eq!(pod.label(), "default/mypod");
    }

    #[test]
    fn the_file_form_is_stable() {
        let c = Container {
            runtime: Runtime::Crio,
            id: "x".into(),
            name: Some("n".into()),
            image: None,
            pod: Some(Pod {
                namespace: None,
                name: "p1".into(),
            }),
        };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            json,
            r#"{"runtime":"cri-o","id":"x","name":"n","pod":{"name":"p1"}}"#
        );
        for r in [
            Runtime::Docker,
            Runtime::Podman,
            Runtime::Containerd,
            Runtime::Crio,
            Runtime::Lxc,
            Runtime::Nspawn,
        ] {
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.name())
            );
        }
        let newer: Container = serde_json::from_str(r#"{"runtime":"kata","id":"y"}"#).unwrap();
        assert_eq!(newer.runtime, Runtime::Other);
    }

    #[test]
    fn old_files_string_labels_still_load() {
        #[derive(Deserialize)]
        struct N {
            #[serde(default, deserialize_with = "deserialize_lenient")]
            container: Option<Container>,
        }
        let old: N = serde_json::from_str(r#"{"container":"docker:02175b2a1941"}"#).unwrap();
        let c = old.container.unwrap();
        assert_eq!(
            (c.runtime, c.id.as_str()),
            (Runtime::Docker, "02175b2a1941")
        );
        let new: N =
            serde_json::from_str(r#"{"container":{"runtime":"lxc","id":"lx1","name":"lx1"}}"#)
                .unwrap();
        assert_eq!(new.container.unwrap().name.as_deref(), Some("lx1"));
        let none: N = serde_json::from_str(r#"{"container":null}"#).unwrap();
        assert!(none.container.is_none());
        let absent: N = serde_json::from_str("{}").unwrap();
        assert!(absent.container.is_none());
        assert_eq!(Container::from_old_label("weird").runtime, Runtime::Other);
    }
}
