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
}
