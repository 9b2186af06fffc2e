//! What this run could not see for lack of privileges, said in two lines for people: what is
//! missing, and how to get it. The same lines go to stderr and into `privileges.missing`.

use super::procfs::{self, ProcRoot};

/// Bit of CAP_SYS_PTRACE in the capability sets (include/uapi/linux/capability.h).
pub const CAP_SYS_PTRACE: u64 = 1 << 19;

/// The effective capabilities of this process.
pub fn own_caps(root: &ProcRoot) -> Option<u64> {
    let status = std::fs::read_to_string(root.path().join("self/status")).ok()?;
    procfs::parse_cap_eff(&status)
}

/// What limited this run, as the inputs of [`privilege_notes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivilegeFacts {
    pub euid: u32,
    /// CAP_SYS_PTRACE is effective (root has it unless a container dropped it).
    pub can_ptrace: bool,
    /// Sockets whose options could not be read for lack of permission.
    pub options_denied: u32,
    /// Processes whose fd tables could not be read.
    pub processes_unreadable: usize,
    /// Network namespaces that could not be entered.
    pub netns_not_entered: usize,
    /// Processes whose network namespace could not be read: a namespace only they hold is
    /// not listed at all.
    pub netns_unreadable_pids: u32,
    /// Who those processes are, from what anyone may read (their cgroups and supervisors):
    /// container labels, sorted and without repeats. The namespaces of these containers are
    /// the ones that may be missing.
    pub netns_unreadable_containers: Vec<String>,
    /// Namespaces seen (through a bind mount, or a process) but not entered, by name.
    pub netns_not_entered_names: Vec<String>,
}

/// At most this many names in a note; the rest are counted. The note must say which
/// namespaces are missing, so the whole list of an ordinary host fits; a host with hundreds
/// of containers gets a count after the first fifty.
const NAMES_SHOWN: usize = 50;

/// "a, b, c and 4 more".
fn some_names(names: &[String]) -> String {
    let shown = names
        .iter()
        .take(NAMES_SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match names.len().saturating_sub(NAMES_SHOWN) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

/// "1 socket", "3 sockets".
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Two lines for people (empty when nothing is missing): what this run could not see, and
/// how to get it. The same lines go to stderr and into `privileges.missing`.
pub fn privilege_notes(f: &PrivilegeFacts) -> Vec<String> {
    let mut what = Vec::new();
    if f.options_denied > 0 {
        what.push(format!(
            "the options (SO_REUSEADDR, SO_REUSEPORT, TCP_DEFER_ACCEPT, TCP_FASTOPEN) of {} are unknown",
            plural(f.options_denied as usize, "socket", "sockets")
        ));
    }
    if f.processes_unreadable > 0 {
        what.push(format!(
            "the fds of {} are unreadable, so holder lists may be incomplete",
            plural(f.processes_unreadable, "process", "processes")
        ));
    }
    if f.netns_not_entered > 0 {
        let names = if f.netns_not_entered_names.is_empty() {
            String::new()
        } else {
            format!(" ({})", some_names(&f.netns_not_entered_names))
        };
        what.push(format!(
            "the sockets of {}{names} are unknown",
            plural(
                f.netns_not_entered,
                "network namespace",
                "network namespaces"
            )
        ));
    }
    if f.netns_unreadable_pids > 0 {
        // Which namespaces are missing cannot be known (their inodes are what could not be
        // read), but whose they are can: containers are named from world-readable cgroups.
        let whose = match f.netns_unreadable_containers.len() {
            0 => String::new(),
            1 => format!(
                " (among them container {}'s)",
                f.netns_unreadable_containers[0]
            ),
            _ => format!(
                " (among them those of containers {})",
                some_names(&f.netns_unreadable_containers)
            ),
        };
        what.push(format!(
            "the network namespaces of {}{whose} are unknown, so namespaces held only by them are not listed",
            plural(f.netns_unreadable_pids as usize, "process", "processes")
        ));
    }
    if what.is_empty() {
        return Vec::new();
    }
    let how = if f.can_ptrace {
        // CAP_SYS_PTRACE (root's, or granted with setcap) is still refused for processes of a
        // parent user namespace or under a security module's ptrace policy.
        "even with CAP_SYS_PTRACE these refuse access (another user namespace or a security module's \
         policy): run bindscope in the host's namespaces to see them"
            .to_string()
    } else {
        // setns(2) into another network namespace needs CAP_SYS_ADMIN; reading other
        // users' fds and pidfd_getfd(2) need CAP_SYS_PTRACE (and DAC_READ_SEARCH for fd/).
        let caps = if f.netns_not_entered > 0 {
            "cap_sys_ptrace,cap_dac_read_search,cap_sys_admin"
        } else {
            "cap_sys_ptrace,cap_dac_read_search"
        };
        // The capabilities are offered for a group only: any user of such a binary reads
        // every process's cmdlines and enters every namespace.
        format!(
            "to see everything run it as root (or with sudo), or let one group of admins run \
             it with {caps} (see \"Privileges\" in bindscope's README: setcap on a copy only \
             that group can run)"
        )
    };
    let who = if f.euid == 0 {
        "root".to_string()
    } else {
        format!("uid {}", f.euid)
    };
    vec![format!("as {who}, {}.", what.join("; ")), how]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_say_what_is_missing_and_how_to_get_it() {
        let mut f = PrivilegeFacts {
            euid: 65534,
            can_ptrace: false,
            options_denied: 3,
            processes_unreadable: 12,
            netns_not_entered: 0,
            netns_unreadable_pids: 0,
            netns_unreadable_containers: Vec::new(),
            netns_not_entered_names: Vec::new(),
        };
        let n = privilege_notes(&f);
        assert_eq!(n.len(), 2);
        assert!(n[0].starts_with("as uid 65534, the options"), "{}", n[0]);
        assert!(n[0].contains("of 3 sockets are") && n[0].contains("fds of 12 processes are"));
        assert!(n[1].contains("with cap_sys_ptrace,cap_dac_read_search (see"));
        f.can_ptrace = true;
        assert!(
            privilege_notes(&f)[1].contains("another user namespace"),
            "setcap'd"
        );
        f.euid = 0;
        assert!(privilege_notes(&f)[1].contains("another user namespace"));
        f.can_ptrace = false;
        f.euid = 1000;
        f.netns_not_entered = 2;
        let n = privilege_notes(&f);
        assert!(
            n[0].contains("sockets of 2 network namespaces are unknown"),
            "{}",
            n[0]
        );
        assert!(n[1].contains("cap_sys_admin"));
        f.netns_not_entered = 0;
        f.netns_unreadable_pids = 4;
        assert!(privilege_notes(&f)[0].contains("network namespaces of 4 processes are unknown"));
        f.netns_unreadable_containers = vec!["web".into()];
        assert!(
            privilege_notes(&f)[0].contains("4 processes (among them container web's) are unknown"),
            "{:?}",
            privilege_notes(&f)
        );
        f.netns_unreadable_containers = (1..=52).map(|i| format!("c{i}")).collect();
        assert!(
            privilege_notes(&f)[0].contains(
                "(among them those of containers c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19, c20, c21, c22, c23, c24, c25, c26, c27, c28, c29, c30, c31, c32, c33, c34, c35, c36, c37, c38, c39, c40, c41, c42, c43, c44, c45, c46, c47, c48, c49, c50 and 2 more) are unknown"
            ),
            "{:?}",
            privilege_notes(&f)
        );
        f.netns_not_entered = 2;
        f.netns_not_entered_names = vec!["nonet".into(), "p1".into()];
        assert!(
            privilege_notes(&f)[0]
                .contains("the sockets of 2 network namespaces (nonet, p1) are unknown"),
            "{:?}",
            privilege_notes(&f)
        );
        f.netns_not_entered = 0;
        f.netns_unreadable_pids = 0;
        f.options_denied = 0;
        f.processes_unreadable = 0;
        assert!(privilege_notes(&f).is_empty());
    }
}
