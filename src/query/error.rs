//! Why a filter did not parse, and where: the message names the key and quotes the user's
//! text cleaned for the terminal (`text::clean`), at a 1-based character column.

use super::ast::Key;
#[cfg(doc)]
use super::ast::valid_keys;
use crate::text::clean;

/// A parse error, at a 1-based character column of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {kind}")]
pub struct FilterError {
    pub column: usize,
    pub kind: FilterErrorKind,
}

/// What is wrong at the error's column. The user's text is kept as typed and cleaned only
/// when shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterErrorKind {
    /// `key` is what was typed, lowercased; `valid` lists the keys ([`valid_keys`]).
    #[error("unknown filter key '{key}': valid keys are {valid} (quote text that contains ':')")]
    UnknownKey { key: String, valid: String },
    #[error("'{}' is not a {what} for '{key}'", clean(text))]
    BadNumber {
        key: Key,
        text: String,
        what: &'static str,
    },
    #[error("'{}' is not valid for '{key}': expected {expected}", clean(value))]
    BadValue {
        key: Key,
        value: String,
        expected: String,
    },
    #[error("'{key}' needs a value")]
    EmptyValue { key: Key },
    #[error("quote is not closed")]
    UnclosedQuote,
    /// Only `!` or `-`, never user text.
    #[error("'{0}' needs a term after it")]
    DanglingNegation(char),
}

pub(super) fn err(column: usize, kind: FilterErrorKind) -> FilterError {
    FilterError { column, kind }
}
