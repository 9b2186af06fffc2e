//! How much each fact matters: every severity rule in one place, as a pure function of the
//! fact (the README's severity table). Keeping the judgement apart from detection and words
//! lets the rules change (noise on real hosts, known services) without touching either.

use super::fact::{DadProblem, Fact, HolderUnseen, NonlocalAllowance, Unbound};
use crate::model::Severity;

impl Fact<'_> {
    pub fn severity(&self) -> Severity {
        match self {
            // Another user's service receiving traffic meant for yours is a warning; one
            // user's own layered binds (admin on loopback beside public) are usual.
            // Multicast responders share their port by design (RFC 6762 §15.1).
            Fact::WildcardOverlap {
                multicast: Some(_), ..
            }
            | Fact::CrossUserPort {
                multicast: Some(_), ..
            }
            | Fact::UdpReuseaddrTakeover {
                multicast: Some(_), ..
            } => Severity::Info,
            Fact::WildcardOverlap { users, .. } => {
                if users.len() > 1 {
                    Severity::Warning
                } else {
                    Severity::Notice
                }
            }
            Fact::ReuseportGroup { .. } => Severity::Info,
            // IPv6 only leaves all IPv4 to anyone; IPv4 only leaves IPv6, which fewer
            // clients use first; a loopback service leaves only its local clients.
            Fact::FamilySplit { open, .. } => match open {
                Unbound::AllIpv4 => Severity::Warning,
                Unbound::AllIpv6 | Unbound::LoopbackIpv6 => Severity::Notice,
                // Only clients that dial 127.0.0.1 by number miss a service on ::1.
                Unbound::LoopbackIpv4 => Severity::Info,
            },
            // One process holds every socket: whichever takes the traffic, it reaches the
            // same service; the users differ only by when it dropped privileges.
            Fact::CrossUserPort {
                held_by_one: Some(_),
                ..
            } => Severity::Info,
            Fact::CrossUserPort { udp_overlap, .. } => {
                if *udp_overlap {
                    Severity::Warning
                } else {
                    Severity::Notice
                }
            }
            Fact::UdpReuseaddrTakeover { .. } => Severity::Warning,
            Fact::ListenRace { .. } | Fact::DeviceGap { .. } => Severity::Notice,
            Fact::AcceptQueueGrowing { .. } => Severity::Warning,
            // Over the limit, or drops counted: connections are being lost.
            Fact::AcceptQueueFull {
                queue, overflows, ..
            } => {
                if queue.len > queue.backlog || *overflows > 0 {
                    Severity::Critical
                } else {
                    Severity::Warning
                }
            }
            Fact::OverflowsUnseen { .. } => Severity::Critical,
            // A full SYN queue loses handshakes; with TCP_DEFER_ACCEPT waiting requests are
            // expected.
            Fact::SynBacklog {
                syn_recv,
                backlog,
                defer_accept,
                ..
            } => match (syn_recv >= backlog, defer_accept) {
                (true, _) => Severity::Critical,
                (false, Some(_)) => Severity::Notice,
                (false, None) => Severity::Warning,
            },
            Fact::SynQueueOverflow { drops, .. } => {
                if *drops > 0 {
                    Severity::Critical
                } else {
                    Severity::Warning
                }
            }
            Fact::BlockingListener { .. } => Severity::Notice,
            // An option the service set on purpose (a floating IP, a transparent proxy).
            Fact::NonlocalBind { allowed_by, .. } => match allowed_by {
                NonlocalAllowance::Freebind | NonlocalAllowance::Transparent => Severity::Info,
                NonlocalAllowance::Sysctl
                | NonlocalAllowance::NoIpv4InNamespace
                | NonlocalAllowance::Unseen => Severity::Notice,
            },
            Fact::TentativeBind { .. } => Severity::Warning,
            Fact::StuckAddress { problem, .. } => match problem {
                DadProblem::Dadfailed => Severity::Warning,
                DadProblem::Tentative => Severity::Notice,
            },
            Fact::CrossUserSocket { .. } => Severity::Info,
            // A SO_REUSEPORT socket is a concrete takeover for the other programs of its user.
            Fact::SharedUid { reuseport, .. } => {
                if reuseport.is_empty() {
                    Severity::Info
                } else {
                    Severity::Notice
                }
            }
            // Unreadable fd tables are bindscope's blind spot, not the host's problem.
            Fact::HolderUnknown { why, .. } => match why {
                HolderUnseen::Unreadable(_) => Severity::Info,
                HolderUnseen::KernelHeld | HolderUnseen::NotVisible => Severity::Notice,
            },
        }
    }
}
