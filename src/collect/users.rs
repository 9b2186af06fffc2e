//! uid → user name through the C library's NSS lookup (so LDAP and sssd users resolve),
//! cached for the scan: a host has few users and many sockets.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Default)]
pub struct UserNames {
    cache: RefCell<HashMap<u32, Option<Arc<str>>>>,
}

impl UserNames {
    pub fn new() -> Self {
        Self::default()
    }

    /// The user's name, or `None` for a uid with no passwd entry.
    pub fn get(&self, uid: u32) -> Option<Arc<str>> {
        self.cache
            .borrow_mut()
            .entry(uid)
            .or_insert_with(|| {
                uzers::get_user_by_uid(uid).map(|u| Arc::from(u.name().to_string_lossy().as_ref()))
            })
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
