//! Container runtimes' own names for containers, pods and their network namespaces, read
//! from the runtimes' state files and their supervisors' command lines (never their APIs):
//! Docker, Podman, containerd (and Kubernetes through its CRI plugin), CRI-O and LXC.
//!
//! Pure parsers, each tested on files captured from real runtimes
//! (`tests/fixtures/runtimes/<runtime>-<version>/`):
//! - `supervisor`: the supervising process's command line (containerd's shim, conmon, LXC's
//!   monitor, dockerd) → the container's id or name and where its runtime keeps state;
//! - `state`: Docker's `config.v2.json`/`hostconfig.json`, the OCI bundle's `config.json`
//!   (who made the network namespace, the pod annotations), containers/storage's
//!   `containers.json`, Podman's database;
//! - `bolt`: a read-only BoltDB reader for Podman's database.

pub mod bolt;
pub mod cgroup;
pub mod ownership;
pub mod state;
pub mod supervisor;
