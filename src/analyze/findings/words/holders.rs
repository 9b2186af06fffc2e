//! The words of findings about who holds sockets.

use super::Words;
use crate::analyze::describe::{self, endpoint};
use crate::analyze::findings::fact::{HolderUnseen, Program, User};
use crate::model::{Snapshot, Socket};
use crate::text::{clean, count};

pub(super) fn cross_user_socket(
    snap: &Snapshot,
    s: &Socket,
    owner: &User,
    holders: &[User],
    foreign_owner: bool,
) -> Words {
    let owner = describe::user(owner.name, owner.uid);
    let users: Vec<String> = holders
        .iter()
        .map(|u| describe::user(u.name, u.uid))
        .collect();
    let why = if foreign_owner {
        format!(
            "The socket was created by {owner} but is held only by other users: the fd was passed (socket activation, \
             SCM_RIGHTS) or the creator dropped privileges. SO_REUSEPORT compares the socket's uid, not the holders': \
             only sockets created by {owner} can join its port."
        )
    } else {
        "Processes of different users hold the same socket (a privileged parent and unprivileged workers, or an \
         inherited fd). Each of them can accept, read and close it."
            .to_string()
    };
    Words {
        summary: format!(
            "{}{} is held by {} (socket of {owner})",
            endpoint(s),
            describe::netns_of(snap, s),
            users.join(", "),
        ),
        explanation: format!(
            "{}. {why} Usually intended; if a worker should not be able to accept on this socket, close it in the worker.",
            describe::socket(s)
        ),
    }
}

pub(super) fn holder_unknown(snap: &Snapshot, s: &Socket, why: HolderUnseen) -> Words {
    let why = match why {
        HolderUnseen::KernelHeld => {
            "Its inode is 0: no file refers to it. The kernel holds it (an in-kernel server such as nfsd or ksmbd), or it is \
             an orphan left behind."
                .to_string()
        }
        HolderUnseen::Unreadable(reason) => format!(
            "No process visible to bindscope holds it: {reason}. Run bindscope with the privileges it names to see the holder."
        ),
        HolderUnseen::NotVisible => {
            "Every process was readable and none holds it: it belongs to a process in another PID namespace that is \
             not visible from here, or to the kernel."
                .to_string()
        }
    };
    Words {
        summary: format!(
            "{}{} has no visible holder",
            endpoint(s),
            describe::netns_of(snap, s)
        ),
        explanation: format!(
            "{} (socket of {}). {why}",
            endpoint(s),
            describe::user(s.user.as_deref(), s.uid)
        ),
    }
}

pub(super) fn shared_uid(
    user: &User,
    programs: &[Program],
    sockets: &[&Socket],
    reuseport: &[&Socket],
) -> Words {
    let who = describe::user(user.name, user.uid);
    let names: Vec<String> = programs
        .iter()
        .map(|p| {
            let pids: Vec<String> = p.pids.iter().map(u32::to_string).collect();
            format!("{} [{}]", clean(p.name), pids.join(", "))
        })
        .collect();
    let listed: Vec<String> = sockets.iter().map(|s| endpoint(s)).collect();
    let takeover = if reuseport.is_empty() {
        String::new()
    } else {
        let rp: Vec<String> = reuseport.iter().map(|s| endpoint(s)).collect();
        format!(
            " {} SO_REUSEPORT: any other program of this user can bind the same address and port \
             with SO_REUSEPORT, join the group and receive a share of its connections or datagrams.",
            if rp.len() == 1 {
                format!("{} has", rp.join(", "))
            } else {
                format!("{} have", rp.join(", "))
            }
        )
    };
    Words {
        summary: format!(
            "{who} runs {}: {}",
            count(programs.len(), "unrelated program", "unrelated programs"),
            names.join("; ")
        ),
        explanation: format!(
            "These programs run as the same user ({who}) and are not parent and child, yet each holds sockets of its own \
             ({}). Processes of one user in one namespace can send each other signals, bind sockets as each other and, \
             unless a process made itself non-dumpable (as daemons that drop root do) or kernel.yama.ptrace_scope forbids it, \
             ptrace each other and read each other's memory.{takeover} \
             Give each service its own user (a dedicated account, or systemd's DynamicUser=).",
            listed.join(", ")
        ),
    }
}
