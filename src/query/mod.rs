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
//! | `netns`   | name or inode                           | the socket's network namespace            |
//! | `family`  | `4`, `6`, `ipv4`, `ipv6`                |                                           |
//! | `addr`    | text                                    | the start of the local address (`addr:10.` `addr:fe80`) |
//! | `unit`    | text                                    | part of a holder's systemd unit or container |
//! | `host`    | name                                    | the host (files of several hosts: `bindscope open`) |
//! | `mark`    | `any`, or text                          | marked sockets; with text, those whose note has it |
//!
//! A value may list alternatives, any of which may match: `port:80,443`. Free text matches,
//! ignoring case, part of the endpoint (`tcp 0.0.0.0:8080`, the remote end), the process
//! names, command lines, user names, units and the namespace name. Quote text with spaces
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
//! text), `error`, and [`help`] (the language in brief, for the help screen).

mod ast;
mod canonical;
mod error;
pub mod help;
mod lexer;
mod matcher;
mod needle;
mod parser;

pub use ast::{Filter, Key, valid_keys};
pub use error::{FilterError, FilterErrorKind};
pub use matcher::FilterContext;
pub use parser::parse;

#[cfg(test)]
mod tests;
