//! uid → user name through the C library's NSS lookup (so LDAP and sssd users resolve),
//! cached for the scan: a host has few users and many sockets.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// How a uid is named when the cache does not know it yet.
pub type Lookup = Arc<dyn Fn(u32) -> Option<Arc<str>> + Send + Sync>;

pub struct UserNames {
    cache: RefCell<HashMap<u32, Option<Arc<str>>>>,
    lookup: Lookup,
}

/// A uid's name from this host's NSS (passwd, LDAP, sssd), uncached.
pub fn nss_name(uid: u32) -> Option<Arc<str>> {
    uzers::get_user_by_uid(uid).map(|u| Arc::from(u.name().to_string_lossy().as_ref()))
}

impl Default for UserNames {
    fn default() -> Self {
        Self::with_lookup(Arc::new(nss_name))
    }
}

impl UserNames {
    /// Names from this host's NSS.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names from `lookup` (a recording's table, or NSS with a note of what was asked).
    pub fn with_lookup(lookup: Lookup) -> Self {
        UserNames {
            cache: RefCell::default(),
            lookup,
        }
    }

    /// The user's name, or `None` for a uid with no passwd entry.
    pub fn get(&self, uid: u32) -> Option<Arc<str>> {
        self.cache
            .borrow_mut()
            .entry(uid)
            .or_insert_with(|| (self.lookup)(uid))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_has_a_name_and_unknown_uids_do_not() {
        let n = UserNames::new();
        assert_eq!(n.get(0).as_deref(), Some("root"));
        assert_eq!(n.get(3_999_999_999), None);
        assert_eq!(n.get(0).as_deref(), Some("root"), "cached");
    }
}
