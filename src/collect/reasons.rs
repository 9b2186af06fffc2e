//! The reasons an option is unknown. A snapshot of 50,000 sockets carries a handful of
//! distinct reasons, so each is one shared string rather than one per socket.

use crate::model::Reason;
use std::collections::HashMap;
use std::sync::LazyLock;

macro_rules! reasons {
    ($($name:ident = $text:expr;)*) => {
        $(pub static $name: LazyLock<Reason> = LazyLock::new(|| Reason::from($text));)*
    };
}

reasons! {
    NOT_IPV4 = "not applicable to IPv4 sockets";
    NOT_UDP = "not applicable to UDP";
    LISTENERS_ONLY = "read for listening sockets only";
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
        assert!(Arc::ptr_eq(&NOT_UDP, &NOT_UDP.clone()));
    }
}
