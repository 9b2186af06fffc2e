//! The query language: which sockets to show. The dashboard's `/` prompt speaks it, and it
//! lives here, below `ui` and `cli`, so that the command line can speak it too. It reads the
//! snapshot (`model`) and the cleaned text of user input (`text`), nothing of the UI.
//!
//! A filter is terms separated by spaces, all of which must match (AND). `!term` or `-term`
//! negates a term. A term is `key:value` or free text:
//!
//! | key       | value                                   | matches                                   |
//! |-----------|-----------------------------------------|-------------------------------------------|
//! | `port`    | `N` or `N-M`                            | the local port                            |
//! | `user`    | name or uid                             | the socket's user or uid, or any holder's |
//! | `proto`   | `tcp`, `udp`                            |                                           |
//! | `scope`   | `wildcard`, `dual`, `loopback`, `link_local`, `specific` | `wildcard` includes `dual` (`[::]` without V6ONLY covers IPv4 too) |
//! | `state`   | `listen`, `bound`, `close`, `established`, `time_wait`, `syn_recv`, ... | `bound`: a bound-only TCP socket |
//! | `finding` | part of a finding kind, or `any`        | sockets named by such a finding           |
//! | `pid`     | N                                       | any holder's pid                          |
//! | `netns`   | name, inode, `current`, or a container's name, id, pod or image | the socket's network namespace, by any of its names (below) |
//! | `container` | name, id or id prefix, `docker:ID`, `pod:…`, `image:…` | a holder's container, or one living in the socket's namespace |
//! | `image`   | image, with or without tag and registry | the image of such a container (`image:nginx` finds `docker.io/library/nginx:1.25`) |
//! | `pod`     | `NAMESPACE/NAME` or `NAME`              | the pod of such a container (Kubernetes, Podman) |
//! | `family`  | `4`, `6`, `ipv4`, `ipv6`                |                                           |
//! | `addr`    | text                                    | the start of the local address (`addr:10.` `addr:fe80`) |
//! | `unit`    | text                                    | part of a holder's systemd unit           |
//! | `host`    | name                                    | the host (files of several hosts: `bindscope open`) |
//! | `mark`    | `any`, or text                          | marked sockets; with text, those whose note has it |
//!
//! The values of `netns`, `container`, `image` and `pod` are names matched whole, ignoring
//! case, where `*` and `?` are globs (`netns:web*`, `image:nginx*`, `pod:default/web-*`); an id
//! prefix needs 4 hex digits or more. `model::names` defines them, and `--netns` takes the
//! same words.
//!
//! A value may list alternatives, any of which may match: `port:80,443`. Free text matches,
//! ignoring case, part of the endpoint (`tcp 0.0.0.0:8080`, the remote end), the process
//! names, command lines, user names, units, the holders' container names, images and pods
//! (and the start of their ids), and the namespace name. Quote text with spaces
//! or a leading `-`/`!`: `"nginx -g"`, `user:"odd name"`; inside quotes `\"` and `\\`.
//! A word of letters followed by `:` is always a key, so text like `http:` must be quoted.
//!
//! Matching runs per keystroke over every socket (50,000 on a busy host), so the parsed
//! filter holds lowercase needles and matching does not allocate for ASCII needles.
//!
//! The parts, one file each: `lexer` (words, quotes, and where each character came from),
//! `parser` (text → [`Filter`], or a [`FilterError`] at a column), `ast` (the terms and the
//! [`Key`]s), `needle` (case-insensitive text search), `matcher` (a socket against a filter,
//! with the snapshot's [`FilterContext`]), `canonical` (a filter back to its canonical
//! text), `error`, `narrow` (a snapshot cut down to the sockets that match, still a
//! snapshot file), and [`help`] (the language in brief, for the help screen).

mod ast;
mod canonical;
mod error;
pub mod help;
mod lexer;
mod matcher;
mod narrow;
mod needle;
mod parser;

pub use ast::{Filter, Key, valid_keys};
pub use error::{FilterError, FilterErrorKind};
pub use matcher::FilterContext;
pub use narrow::narrow;
pub use parser::parse;

#[cfg(test)]
mod tests;
