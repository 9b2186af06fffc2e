//! The reasons an option has no value. A snapshot of 50,000 sockets carries a handful of
//! distinct reasons, so each is one shared string rather than one per socket.
//!
//! The not-applicable ones are typed as such here, where they are made; their words start
//! with `not applicable` or `read for listening`, which is how `Missing::from_file_text`
//! knows them again in a file (a test below holds the two together).

use crate::model::{Missing, Reason};
use std::collections::HashMap;
use std::sync::LazyLock;

macro_rules! reasons {
    ($($name:ident = $text:expr;)*) => {
        $(pub static $name: LazyLock<Reason> = LazyLock::new(|| Reason::from($text));)*
    };
}

macro_rules! not_applicable {
    ($($name:ident = $text:expr;)*) => {
        $(pub static $name: LazyLock<Missing> =
            LazyLock::new(|| Missing::NotApplicable(Reason::from($text)));)*
        /// Every not-applicable reason, for the test that files read them back as such.
        #[cfg(test)]
        static ALL_NOT_APPLICABLE: &[&LazyLock<Missing>] = &[$(&$name),*];
    };
}

// O_NONBLOCK matters to a listener (a blocking accept); on other sockets it is not read.
not_applicable! {
    NOT_IPV4 = "not applicable to IPv4 sockets";
    NOT_UDP = "not applicable to UDP";
    LISTENERS_ONLY = "read for listening sockets only";
}

reasons! {
    NOT_READ_FOR_CONNECTIONS = "not read for connections";
    NO_OWNER = "no process holds this socket (TIME_WAIT, request or not yet accepted)";
    NOT_PROBED = "not probed";
    NOT_READ = "not read";
    FDINFO_UNREADABLE = "the holder's fdinfo could not be read";
    NO_PROBE_FLAG = "not probed (--no-probe)";
    NEW_SOCKET = "new socket: read at the next sample";
}

/// Shares equal reasons built at run time (error texts).
#[derive(Default)]
pub struct Interner {
    seen: HashMap<String, Reason>,
}

impl Interner {
    pub fn get(&mut self, text: String) -> Reason {
        if let Some(r) = self.seen.get(&text) {
            return r.clone();
        }
        let r = Reason::from(text.as_str());
        self.seen.insert(text, r.clone());
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn interned_reasons_share_one_allocation() {
        let mut i = Interner::default();
        let a = i.get("needs root".to_string());
        let b = i.get("needs root".to_string());
        assert!(Arc::ptr_eq(&a, &b));
        assert!(Arc::ptr_eq(NOT_UDP.reason(), NOT_UDP.clone().reason()));
    }

    #[test]
    fn files_read_back_each_reason_as_the_kind_it_was_made() {
        for na in ALL_NOT_APPLICABLE {
            let m: &Missing = na;
            assert_eq!(&Missing::from_file_text(m.reason()), m);
        }
        for unknown in [
            &NOT_READ_FOR_CONNECTIONS,
            &NO_OWNER,
            &NOT_PROBED,
            &NOT_READ,
            &FDINFO_UNREADABLE,
            &NO_PROBE_FLAG,
            &NEW_SOCKET,
        ] {
            let text: &Reason = unknown;
            assert!(
                matches!(Missing::from_file_text(text), Missing::Unknown(_)),
                "{text}"
            );
        }
    }
}
