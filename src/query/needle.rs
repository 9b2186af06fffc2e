//! Case-insensitive text search for the filter's values, without allocating for ASCII
//! needles: matching runs per keystroke over every socket.

/// A lowercase needle, and whether it is ASCII (then matching never allocates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Needle {
    pub(super) lower: String,
    ascii: bool,
    /// Every character can occur in an endpoint's text without a device name (`tcp`,
    /// `udp`, digits, hex, `.:[]% `). Formatting addresses is most of the cost of free text
    /// over 50,000 sockets, and most words (`nginx`) can only match a device name there.
    pub(super) endpoint_chars: bool,
}

impl Needle {
    pub(super) fn new(text: &str) -> Needle {
        let lower = text.to_lowercase();
        let endpoint_chars = lower
            .chars()
            .all(|c| c.is_ascii_hexdigit() || "tcpud.:[]% ".contains(c));
        Needle {
            // Of the lowercase text, not of what was typed: the Kelvin sign `K` lowercases
            // to an ASCII `k`, and the needle must be the same as the one `describe()`'s
            // `k` parses to.
            ascii: lower.is_ascii(),
            lower,
            endpoint_chars,
        }
    }

    /// Case-insensitive substring.
    pub(super) fn in_text(&self, hay: &str) -> bool {
        if self.ascii {
            // ASCII bytes never occur inside a multi-byte UTF-8 sequence, so a byte search
            // is exact on any UTF-8 haystack.
            contains_ascii_ci(hay.as_bytes(), self.lower.as_bytes())
        } else {
            hay.to_lowercase().contains(&self.lower)
        }
    }

    /// Case-insensitive equality.
    pub(super) fn equals(&self, hay: &str) -> bool {
        if self.ascii {
            hay.eq_ignore_ascii_case(&self.lower)
        } else {
            hay.to_lowercase() == self.lower
        }
    }

    /// Case-insensitive prefix.
    pub(super) fn starts(&self, hay: &str) -> bool {
        if self.ascii {
            hay.as_bytes()
                .get(..self.lower.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(self.lower.as_bytes()))
        } else {
            hay.to_lowercase().starts_with(&self.lower)
        }
    }
}

/// `needle` is lowercase ASCII.
fn contains_ascii_ci(hay: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    if needle.len() > hay.len() {
        return false;
    }
    // Windows of a non-empty needle are non-empty: `w[0]` exists.
    hay.windows(needle.len())
        .any(|w| w[0].to_ascii_lowercase() == first && w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_search_ignores_case_and_sees_past_multibyte_text() {
        assert!(contains_ascii_ci(b"anything", b""));
        assert!(!contains_ascii_ci(b"ab", b"abc"));
        assert!(contains_ascii_ci(b"Systemd-RESOLVED", b"resolved"));
        assert!(contains_ascii_ci("übernginx".as_bytes(), b"nginx"));
        assert!(!contains_ascii_ci(b"ngin", b"nginx"));
    }

    #[test]
    fn a_needle_is_lowercase_and_knows_what_it_can_match() {
        let n = Needle::new("TCP [::1]:80");
        assert_eq!(n.lower, "tcp [::1]:80");
        assert!(n.endpoint_chars);
        assert!(!Needle::new("nginx").endpoint_chars);
        assert!(n.in_text("udp tcp [::1]:8080"));
        assert!(Needle::new("über").in_text("/srv/ÜBER/app"));
        assert!(Needle::new("www-data").equals("WWW-Data"));
        assert!(!Needle::new("www").equals("www-data"));
        assert!(Needle::new("FE80").starts("fe80::1"));
        assert!(!Needle::new("fe80::1:2").starts("fe80::1"));
    }
}
