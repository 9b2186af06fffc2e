//! Container runtimes' own names for containers, pods and their network namespaces, read
//! from the runtimes' state files and their supervisors' command lines (never their APIs):
//! Docker, Podman, containerd (and Kubernetes through its CRI plugin), CRI-O, LXC and
//! systemd-machined.
//!
//! Pure parsers, each tested on files captured from real runtimes
//! (`tests/fixtures/runtimes/<runtime>-<version>/`; hand-written only where a runtime could
//! not run here: `crio-handwritten`, `machined-handwritten`):
//! - `supervisor`: the supervising process's command line (containerd's shim, conmon, LXC's
//!   monitor, dockerd) → the container's id or name and where its runtime keeps state;
//! - `state`: Docker's `config.v2.json`/`hostconfig.json`, the OCI bundle's `config.json`
//!   (who made the network namespace, the pod annotations), containers/storage's
//!   `containers.json`, Podman's database;
//! - `bolt`: a read-only BoltDB reader for Podman's database;
//! - `cgroup`: `/proc/PID/cgroup` → the runtime and full id of a process's container (or its
//!   systemd unit);
//! - `ownership`: which of the containers sharing a network namespace owns it, and its name.
//!
//! `collect::linux::containers` reads the files and runs these for a live host or a
//! recording.

pub mod bolt;
pub mod cgroup;
pub mod ownership;
pub mod state;
pub mod supervisor;
