//! The language in brief, as the dashboard's help screen shows it (under "Filter
//! language"); the command line's QUERY help lists the same keys. The whole language is in
//! the module docs of `query`.

use super::ast::valid_keys;

/// Examples of every key, one line each, without indentation. A test checks that every
/// key of the parser has one, so a new key cannot be left out of the help.
const EXAMPLES: [&str; 8] = [
    "port:80  port:8000-9000  port:80,443   proto:tcp|udp   family:4|6",
    "user:NAME|UID (socket user or any holder)   pid:N   unit:TEXT   netns:NAME|ID|current",
    "container:NAME|ID|docker:ID   image:nginx*   pod:NAMESPACE/NAME|NAME   netns:web*",
    "containers: a holder's, or any in the socket's namespace; * and ? are globs",
    "scope:wildcard|dual|loopback|link_local|specific   addr:PREFIX (addr:10. addr:fe80)",
    "state:listen|bound|established|time_wait|...   finding:KIND-PART|any",
    "mark:any|NOTE-TEXT (marked sockets)   host:NAME (files of several hosts)",
    "terms AND together; !term or -term negates; quote text with spaces: \"nginx -g\"",
];

/// What a query may say, one line each, without indentation: the keys (from the parser's
/// own list), examples of each, and what free text matches.
pub fn brief() -> Vec<String> {
    let mut out = vec![format!("keys: {}", valid_keys())];
    out.extend(EXAMPLES.iter().map(|l| (*l).to_string()));
    out.push(
        "free text matches addresses, processes, cmdlines, users, units, containers, namespaces"
            .to_string(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::{EXAMPLES, brief};
    use crate::query::{FilterErrorKind, Key, parse};

    /// Every `key:value` the examples show, by its key (a colon at the end of a word is
    /// prose: "quote text with spaces:").
    fn keys_shown() -> Vec<String> {
        EXAMPLES
            .iter()
            .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == '('))
            .filter_map(|w| w.split_once(':'))
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
            .map(|(k, _)| k.to_string())
            .collect()
    }

    #[test]
    fn the_help_names_only_keys_the_parser_knows() {
        let keys = keys_shown();
        assert!(keys.len() >= 11, "{keys:?}");
        for k in keys {
            assert!(Key::from_name(&k).is_some(), "the help shows '{k}:'");
        }
    }

    #[test]
    fn the_help_has_an_example_of_every_key() {
        let keys = keys_shown();
        for k in Key::ALL {
            assert!(
                keys.iter().any(|shown| shown == k.name()),
                "no example of '{k}:' in the help"
            );
        }
        assert!(brief()[0].contains("host, mark"), "{:?}", brief()[0]);
    }

    #[test]
    fn the_examples_in_the_help_parse() {
        for example in [
            "port:80",
            "port:8000-9000",
            "port:80,443",
            "proto:tcp",
            "proto:udp",
            "family:4",
            "family:6",
            "scope:wildcard",
            "scope:dual",
            "scope:loopback",
            "scope:link_local",
            "scope:specific",
            "addr:10.",
            "addr:fe80",
            "state:listen",
            "state:bound",
            "state:established",
            "state:time_wait",
            "finding:any",
            "netns:current",
            "netns:web*",
            "container:web",
            "container:02175b2a1941",
            "container:docker:02175b2a1941",
            "image:nginx*",
            "pod:default/web-abc",
            "pod:web-abc",
            "mark:any",
            "mark:todo",
            "host:web1",
            "!port:80",
            "-port:80",
            "\"nginx -g\"",
        ] {
            assert!(parse(example).is_ok(), "{example}");
        }
        // The placeholders are words, not values: `N` is no pid.
        assert!(matches!(
            parse("pid:N").map_err(|e| e.kind),
            Err(FilterErrorKind::BadNumber { key: Key::Pid, .. })
        ));
    }
}
