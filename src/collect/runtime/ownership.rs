//! Who owns a network namespace that several containers share: the container that created
//! it. A pod's infra or sandbox container first, then one that made its own namespace (the
//! others joined it), and when the state files that would say so cannot be read, the one
//! whose processes started first (a joiner can only start after what it joins).

use crate::model::Container;

/// What a container's state says about its network namespace. Ordered by how strongly it
/// claims ownership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NetnsRole {
    /// A pod's infra (Podman) or sandbox (CRI) container: it exists to hold the namespace.
    Sandbox,
    /// Made its own namespace (or was given a runtime's bind mount of a new one).
    Creator,
    /// The state files could not be read.
    Unknown,
    /// Joined another container's namespace (`--network container:X`, a pod member).
    Joiner,
}

/// One container seen in a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub container: Container,
    pub role: NetnsRole,
    /// The earliest start time (clock ticks since boot, `/proc/PID/stat` field 22) of its
    /// processes seen in the namespace.
    pub started: Option<u64>,
}

/// Orders the containers of one namespace owner first: by role, then the earliest start,
/// then the id (so the order never depends on pid order).
pub fn owner_first(cands: &mut [Candidate]) {
    cands.sort_by(|a, b| {
        (a.role, a.started.is_none(), a.started, &a.container.id).cmp(&(
            b.role,
            b.started.is_none(),
            b.started,
            &b.container.id,
        ))
    });
}

/// The namespace's name after its owner: the pod's label when the owner is in a pod, else
/// the owner's label.
pub fn netns_name(owner: &Container) -> String {
    match &owner.pod {
        Some(p) => p.label(),
        None => owner.label(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Pod, Runtime};

    fn c(id: &str, name: &str, role: NetnsRole, started: Option<u64>) -> Candidate {
        Candidate {
            container: Container {
                runtime: Runtime::Docker,
                id: id.into(),
                name: Some(name.into()),
                image: None,
                pod: None,
            },
            role,
            started,
        }
    }

    #[test]
    fn the_joined_one_owns_whatever_the_order() {
        // The sidecar's init may have the lower pid (pid reuse) or be seen first.
        let mut v = vec![
            c("b", "side", NetnsRole::Joiner, Some(5)),
            c("a", "web", NetnsRole::Creator, Some(10)),
        ];
        owner_first(&mut v);
        assert_eq!(v[0].container.label(), "web");
        // Without state files: the one that started first.
        let mut v = vec![
            c("b", "side", NetnsRole::Unknown, Some(20)),
            c("a", "web", NetnsRole::Unknown, Some(10)),
        ];
        owner_first(&mut v);
        assert_eq!(v[0].container.label(), "web");
        // A sandbox wins even over an earlier creator; unknown start times go last.
        let mut v = vec![
            c("a", "x", NetnsRole::Creator, Some(1)),
            c("b", "y", NetnsRole::Unknown, None),
            c("c", "infra", NetnsRole::Sandbox, Some(9)),
        ];
        owner_first(&mut v);
        let order: Vec<String> = v.iter().map(|c| c.container.label()).collect();
        assert_eq!(order, ["infra", "x", "y"]);
    }

    #[test]
    fn a_pod_names_its_namespace() {
        let mut owner = c("a", "p-infra", NetnsRole::Sandbox, None).container;
        assert_eq!(netns_name(&owner), "p-infra");
        owner.pod = Some(Pod {
            namespace: Some("default".into()),
            name: "mypod".into(),
        });
        assert_eq!(netns_name(&owner), "default/mypod");
        owner.name = None;
        owner.pod = None;
        assert_eq!(netns_name(&owner), "docker:a");
    }
}
