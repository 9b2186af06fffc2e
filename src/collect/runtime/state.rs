//! Runtime state files, parsed: Docker's per-container `config.v2.json` and
//! `hostconfig.json`, the OCI bundle's `config.json` every runc-based runtime writes (its
//! network namespace and annotations, where containerd's CRI plugin and CRI-O put the pod),
//! Podman's `containers.json` (containers/storage) and its state database's pods.
//!
//! Pure functions of the files' text: the caller reads them (with the user's rights) and
//! finds where they are (supervisor.rs). Fields a file lacks are `None`, never guessed.

use super::bolt;
use crate::model::Pod;
use serde::Deserialize;
use std::collections::BTreeMap;

/// How a container got its network namespace (Docker's `HostConfig.NetworkMode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkMode {
    /// Its own namespace: `default`, `bridge`, `none` or a user network.
    Own(String),
    /// The host's namespace.
    Host,
    /// Joined another container's (`container:ID`, the full id).
    Container(String),
}

impl NetworkMode {
    fn parse(mode: &str) -> NetworkMode {
        match mode {
            "host" => NetworkMode::Host,
            m => match m.strip_prefix("container:") {
                Some(id) => NetworkMode::Container(id.to_string()),
                None => NetworkMode::Own(m.to_string()),
            },
        }
    }
}

/// What Docker's state says of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerContainer {
    pub id: String,
    pub name: Option<String>,
    pub image: Option<String>,
    pub pid: Option<u32>,
    pub network: Option<NetworkMode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigV2 {
    #[serde(rename = "ID")]
    id: String,
    name: Option<String>,
    config: Option<ConfigV2Config>,
    state: Option<ConfigV2State>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigV2Config {
    image: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigV2State {
    running: Option<bool>,
    pid: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HostConfig {
    network_mode: Option<String>,
}

/// `<data-root>/containers/<id>/config.v2.json` and, if read, `hostconfig.json`.
pub fn docker(config_v2: &str, hostconfig: Option<&str>) -> Result<DockerContainer, String> {
    let c: ConfigV2 = serde_json::from_str(config_v2).map_err(|e| e.to_string())?;
    let network = match hostconfig {
        Some(text) => serde_json::from_str::<HostConfig>(text)
            .map_err(|e| e.to_string())?
            .network_mode
            .as_deref()
            .map(NetworkMode::parse),
        None => None,
    };
    let running = c.state.as_ref().and_then(|s| s.running) == Some(true);
    Ok(DockerContainer {
        id: c.id,
        // Docker stores the name with a leading `/` (its link hierarchy's root).
        name: c
            .name
            .map(|n| n.trim_start_matches('/').to_string())
            .filter(|n| !n.is_empty()),
        image: c.config.and_then(|c| c.image).filter(|i| !i.is_empty()),
        pid: c.state.and_then(|s| s.pid).filter(|&p| running && p > 0),
        network,
    })
}

/// Where an OCI bundle's network namespace comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleNetns {
    /// The runtime made a new one for this container: it owns it.
    Own,
    /// Joined the namespace of another container's process (`/proc/PID/ns/net`).
    Process(u32),
    /// A namespace file: a runtime's bind mount (`/run/netns/netns-…`, CNI's `cni-…`,
    /// Docker's `<exec-root>/netns/default` for the host). The container is the first user
    /// of a namespace its runtime made, so it counts as the owner.
    File(String),
    /// No network namespace entry at all: the host's.
    Host,
}

/// What a pod-aware runtime wrote into a bundle's annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodInfo {
    /// The pod's sandbox (infra/pause) container rather than a workload.
    pub sandbox: bool,
    pub sandbox_id: Option<String>,
    pub pod: Option<Pod>,
    pub container_name: Option<String>,
    pub image: Option<String>,
}

/// An OCI bundle's `config.json`, as far as naming needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub netns: BundleNetns,
    pub annotations: BTreeMap<String, String>,
    pub hostname: Option<String>,
}

#[derive(Deserialize)]
struct OciConfig {
    hostname: Option<String>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
    linux: Option<OciLinux>,
}

#[derive(Deserialize)]
struct OciLinux {
    #[serde(default)]
    namespaces: Vec<OciNamespace>,
}

#[derive(Deserialize)]
struct OciNamespace {
    #[serde(rename = "type")]
    kind: String,
    path: Option<String>,
}

pub fn bundle(config_json: &str) -> Result<Bundle, String> {
    let c: OciConfig = serde_json::from_str(config_json).map_err(|e| e.to_string())?;
    let network = c
        .linux
        .iter()
        .flat_map(|l| &l.namespaces)
        .find(|n| n.kind == "network");
    let netns = match network {
        None => BundleNetns::Host,
        Some(OciNamespace { path: None, .. }) => BundleNetns::Own,
        Some(OciNamespace {
            path: Some(path), ..
        }) => match path
            .strip_prefix("/proc/")
            .and_then(|r| r.strip_suffix("/ns/net"))
            .and_then(|pid| pid.parse().ok())
        {
            Some(pid) => BundleNetns::Process(pid),
            None if path.is_empty() => BundleNetns::Own,
            None => BundleNetns::File(path.clone()),
        },
    };
    Ok(Bundle {
        netns,
        annotations: c.annotations.unwrap_or_default(),
        hostname: c.hostname.filter(|h| !h.is_empty()),
    })
}

impl Bundle {
    /// The manager Podman writes (`io.container.manager: libpod`): it shares CRI-O's
    /// annotation names, so this tells the two apart.
    pub fn is_podman(&self) -> bool {
        self.annotation("io.container.manager") == Some("libpod")
    }

    fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The pod, as containerd's CRI plugin (`io.kubernetes.cri.*`) or CRI-O
    /// (`io.kubernetes.cri-o.*` and the kubelet's `io.kubernetes.pod.*` labels) wrote it.
    /// Podman writes CRI-O's names too, without the pod's name (that is in its database).
    pub fn pod_info(&self) -> Option<PodInfo> {
        let a = |k| self.annotation(k).map(str::to_string);
        if let Some(kind) = self.annotation("io.kubernetes.cri.container-type") {
            return Some(PodInfo {
                sandbox: kind == "sandbox",
                sandbox_id: a("io.kubernetes.cri.sandbox-id"),
                pod: a("io.kubernetes.cri.sandbox-name").map(|name| Pod {
                    namespace: a("io.kubernetes.cri.sandbox-namespace"),
                    name,
                }),
                container_name: a("io.kubernetes.cri.container-name"),
                image: a("io.kubernetes.cri.image-name"),
            });
        }
        let kind = self.annotation("io.kubernetes.cri-o.ContainerType")?;
        Some(PodInfo {
            sandbox: kind == "sandbox",
            sandbox_id: a("io.kubernetes.cri-o.SandboxID"),
            pod: a("io.kubernetes.pod.name").map(|name| Pod {
                namespace: a("io.kubernetes.pod.namespace"),
                name,
            }),
            container_name: a("io.kubernetes.container.name"),
            image: a("io.kubernetes.cri-o.ImageName"),
        })
    }
}

/// One container of containers/storage's `containers.json` (Podman, Buildah, CRI-O).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageContainer {
    pub id: String,
    pub name: Option<String>,
    pub image: Option<String>,
}

#[derive(Deserialize)]
struct StorageEntry {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    /// A JSON document inside a string: `{"image-name": …, "name": …}`.
    #[serde(default)]
    metadata: String,
}

#[derive(Deserialize)]
struct StorageMetadata {
    #[serde(rename = "image-name")]
    image_name: Option<String>,
}

/// `<graphroot>/<driver>-containers/containers.json`.
pub fn storage_containers(json: &str) -> Result<Vec<StorageContainer>, String> {
    let entries: Vec<StorageEntry> = serde_json::from_str(json).map_err(|e| e.to_string())?;
    Ok(entries
        .into_iter()
        .map(|e| StorageContainer {
            image: serde_json::from_str::<StorageMetadata>(&e.metadata)
                .ok()
                .and_then(|m| m.image_name)
                .filter(|i| !i.is_empty()),
            name: e.names.into_iter().next(),
            id: e.id,
        })
        .collect())
}

/// Podman's database: pod id → pod name (bucket `allPods`) and container id → pod id
/// (`ctr/<id>/pod-id`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodmanPods {
    pub pod_names: BTreeMap<String, String>,
    pub pod_of: BTreeMap<String, String>,
}

/// `<graphroot>/libpod/bolt_state.db`, already read into memory.
pub fn podman_pods(db: &[u8]) -> Result<PodmanPods, bolt::BoltError> {
    let root = bolt::read(db)?;
    let mut out = PodmanPods::default();
    if let Some(pods) = root.bucket("allPods") {
        out.pod_names = pods
            .text_pairs()
            .map(|(id, name)| (id.to_string(), name.to_string()))
            .collect();
    }
    if let Some(ctrs) = root.bucket("ctr") {
        for (id, v) in &ctrs.entries {
            if let (Ok(id), bolt::Value::Bucket(b)) = (std::str::from_utf8(id), v)
                && let Some(pod) = b.text("pod-id")
            {
                out.pod_of.insert(id.to_string(), pod.to_string());
            }
        }
    }
    Ok(out)
}

/// `data-root` of dockerd's configuration file (`/etc/docker/daemon.json`, or
/// `--config-file`); `None` when it does not say (the default `/var/lib/docker` then).
pub fn docker_daemon_json_data_root(json: &str) -> Result<Option<String>, String> {
    #[derive(Deserialize)]
    struct DaemonJson {
        #[serde(rename = "data-root")]
        data_root: Option<String>,
        /// The name before Docker 17.05.
        graph: Option<String>,
    }
    let d: DaemonJson = serde_json::from_str(json).map_err(|e| e.to_string())?;
    Ok(d.data_root.or(d.graph).filter(|r| !r.is_empty()))
}

/// `state` and `root` of a containerd `config.toml` (top-level keys).
pub fn containerd_config_dirs(toml_text: &str) -> Result<(Option<String>, Option<String>), String> {
    let table: toml::Table = toml_text
        .parse()
        .map_err(|e: toml::de::Error| e.to_string())?;
    let get = |k: &str| table.get(k).and_then(|v| v.as_str()).map(str::to_string);
    Ok((get("state"), get("root")))
}

/// A machine systemd-machined registered: `/run/systemd/machines/NAME`, an env-style file
/// (`NAME=`, `SCOPE=`, `SERVICE=`, `CLASS=`, `LEADER=`, ...; systemd's machine.c).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Machine {
    pub name: Option<String>,
    /// The scope unit the machine runs in (`machine-foo.scope`).
    pub scope: Option<String>,
    /// Who registered it: `systemd-nspawn`, `libvirt-lxc`, ...
    pub service: Option<String>,
    /// `container` or `vm`.
    pub class: Option<String>,
}

/// Parses a machined state file. systemd writes values bare or double-quoted with C
/// escapes; only `\\` and `\"` are undone here (names with other escapes keep them).
pub fn machine(text: &str) -> Machine {
    let mut m = Machine::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue; // comments ("# This is private data") and blank lines
        };
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .map_or_else(
                || value.to_string(),
                |v| v.replace("\\\"", "\"").replace("\\\\", "\\"),
            );
        let slot = match key {
            "NAME" => &mut m.name,
            "SCOPE" | "UNIT" => &mut m.scope,
            "SERVICE" => &mut m.service,
            "CLASS" => &mut m.class,
            _ => continue,
        };
        *slot = Some(value).filter(|v| !v.is_empty());
    }
    m
}

#[cfg(test)]
mod tests {

    #[test]
    fn daemon_configs_say_where_state_is() {
        assert_eq!(
            docker_daemon_json_data_root(r#"{"data-root": "/srv/docker", "debug": true}"#),
            Ok(Some("/srv/docker".into()))
        );
        assert_eq!(
            docker_daemon_json_data_root(r#"{"graph": "/old"}"#),
            Ok(Some("/old".into()))
        );
        assert_eq!(docker_daemon_json_data_root("{}"), Ok(None));
        assert!(docker_daemon_json_data_root("{").is_err());
        let toml = read("containerd-1.6.20/tree/state/tmp/r13/ctd/cfg.toml");
        assert_eq!(
            containerd_config_dirs(&toml),
            Ok((
                Some("/tmp/r13/ctd/state".into()),
                Some("/tmp/r13/ctd/root".into())
            ))
        );
        assert_eq!(containerd_config_dirs("version = 2\n"), Ok((None, None)));
        assert!(containerd_config_dirs("state = ").is_err());
    }

    #[test]
    fn machined_files() {
        let m = machine(&read(
            "machined-handwritten/state/run/systemd/machines/my-box",
        ));
        assert_eq!(m.name.as_deref(), Some("my-box"));
        assert_eq!(m.scope.as_deref(), Some("machine-my\\x2dbox.scope"));
        assert_eq!(m.service.as_deref(), Some("systemd-nspawn"));
        assert_eq!(m.class.as_deref(), Some("container"));
        let quoted = machine("NAME=\"a \\\"b\\\"\"\nCLASS=\nnoise\n");
        assert_eq!(quoted.name.as_deref(), Some("a \"b\""));
        assert_eq!(quoted.class, None);
        assert_eq!(machine(""), Machine::default());
    }
    use super::*;

    const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/runtimes");

    fn read(path: &str) -> String {
        std::fs::read_to_string(format!("{FIX}/{path}")).unwrap()
    }

    const WEB: &str = "02175b2a1941f7f7b1a4301c29df7bd0cbfb075bd2aa98a733d75725acb36a5f";

    #[test]
    fn docker_names_images_and_network_modes() {
        let c = |name: &str| {
            docker(
                &read(&format!("docker-20.10.24/{name}/config.v2.json")),
                Some(&read(&format!("docker-20.10.24/{name}/hostconfig.json"))),
            )
            .unwrap()
        };
        let web = c("web");
        assert_eq!(web.id, WEB);
        assert_eq!(web.name.as_deref(), Some("web"));
        assert_eq!(web.image.as_deref(), Some("bs:1"));
        assert!(web.pid.is_some());
        assert_eq!(web.network, Some(NetworkMode::Own("default".into())));
        assert_eq!(c("nonet").network, Some(NetworkMode::Own("none".into())));
        assert_eq!(c("hostc").network, Some(NetworkMode::Host));
        assert_eq!(c("side").network, Some(NetworkMode::Container(WEB.into())));
        assert_eq!(c("brc").network, Some(NetworkMode::Own("n13".into())));
        assert!(docker("{", None).is_err());
        assert!(docker("[]", None).is_err());
    }

    #[test]
    fn bundles_say_who_made_the_namespace() {
        let b = |path: &str| bundle(&read(path)).unwrap();
        assert_eq!(
            b("docker-20.10.24/web/task-config.json").netns,
            BundleNetns::Own
        );
        assert_eq!(
            b("docker-20.10.24/side/task-config.json").netns,
            BundleNetns::Process(7236)
        );
        assert_eq!(
            b("docker-20.10.24/hostc/task-config.json").netns,
            BundleNetns::File("/tmp/r13/docker-exec/netns/default".into())
        );
        let infra = b("podman-4.3.1/4fc0c101f5e9-infra/config.json");
        assert_eq!(
            infra.netns,
            BundleNetns::File("/run/netns/netns-58e32b46-a35a-f890-5963-8641f8ed77d0".into())
        );
        assert!(infra.is_podman());
        let member = b("podman-4.3.1/p1web/config.json");
        assert_eq!(member.netns, BundleNetns::Process(20155));
        let pod = member.pod_info().unwrap();
        assert!(!pod.sandbox);
        assert_eq!(
            pod.sandbox_id.as_deref(),
            Some("09d1d549948b30f48259c4837804deb6722e9f2640ebc4c35f9a91dd80d7751d")
        );
        assert_eq!(pod.pod, None, "Podman keeps the pod's name in its database");
    }

    #[test]
    fn cri_annotations_name_the_kubernetes_pod() {
        let ctr = bundle(&read("containerd-1.6.20/k8s.io/ctr0456/config.json")).unwrap();
        assert_eq!(
            ctr.pod_info(),
            Some(PodInfo {
                sandbox: false,
                sandbox_id: Some("sbx0123".into()),
                pod: Some(Pod {
                    namespace: Some("default".into()),
                    name: "mypod".into()
                }),
                container_name: Some("web".into()),
                image: Some("docker.io/library/bs:1".into()),
            })
        );
        let sbx = bundle(&read("containerd-1.6.20/k8s.io/sbx0123/config.json")).unwrap();
        assert!(sbx.pod_info().unwrap().sandbox);
        assert!(!sbx.is_podman());
        let plain = bundle(&read("containerd-1.6.20/r13ns/plain1/config.json")).unwrap();
        assert_eq!(plain.pod_info(), None);
    }

    #[test]
    fn podman_storage_and_database() {
        let all = storage_containers(&read("podman-4.3.1/containers.json")).unwrap();
        let pnone = all
            .iter()
            .find(|c| c.name.as_deref() == Some("pnone"))
            .unwrap();
        assert_eq!(pnone.image.as_deref(), Some("localhost/bs:1"));
        assert!(storage_containers("{}").is_err());

        let db = std::fs::read(format!("{FIX}/podman-4.3.1/libpod/bolt_state.db")).unwrap();
        let pods = podman_pods(&db).unwrap();
        let p1 = "4fc0c101f5e9ff3556decc29b54c6d01aa27ee971835d6f73e99892fe10c02ab";
        assert_eq!(pods.pod_names.get(p1).map(String::as_str), Some("p1"));
        assert_eq!(
            pods.pod_of
                .get("b4174f756b5f16359902a88f8400b251344fbbdd27176c7ae042953b3fd6a049")
                .map(String::as_str),
            Some(p1),
            "p1web is in pod p1"
        );
        assert!(
            !pods
                .pod_of
                .contains_key("7140d7eaf5d935b52ab3061b4fa0359230a61e08e1c8dfc5b56d18df3a9774c0"),
            "pnone is in no pod"
        );
    }
}
