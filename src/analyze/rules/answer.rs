//! A cell's answer, predicted or measured, and how the two compare.

use crate::analyze::whatif::{BindResult, Phase};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::grid::{OTHER, SPECIFIC};

/// The destinations traffic is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dest {
    /// [`SPECIFIC`].
    Specific,
    /// Any other local address ([`OTHER`] when measured).
    Other,
}

impl Dest {
    pub const ALL: [Dest; 2] = [Dest::Specific, Dest::Other];

    pub fn addr(self) -> Ipv4Addr {
        match self {
            Dest::Specific => SPECIFIC,
            Dest::Other => OTHER,
        }
    }
}

/// One of the two sockets of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Which {
    First,
    Second,
}

/// Who receives the traffic to one destination.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "of")]
pub enum Receivers {
    /// Refused (TCP) or dropped (UDP).
    Nobody,
    /// One socket takes all of it.
    One(Which),
    /// A SO_REUSEPORT group of both: each connection or datagram to one of them, by a hash.
    Split,
    /// One of these, and the routes cannot say which (`certain: false`).
    OneOf(Vec<Which>),
    /// The bind's result is uncertain: one of these, as it turns out.
    Depends(Vec<Receivers>),
}

/// A cell's answer: what the second socket's calls return, and who then receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellAnswer {
    pub result: BindResult,
    /// For `uncertain`: the results that remain possible (the what-if's `possible`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub possible: Vec<BindResult>,
    /// The call that returned `result` (for `ok`, the last one made).
    pub at: Phase,
    pub receivers: BTreeMap<Dest, Receivers>,
}

/// How a measurement compares with the prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    /// The same result, call and receivers.
    Agrees,
    /// The prediction was uncertain and the kernel did one of the things it named.
    WithinUncertain,
    Differs,
}

/// Compares a prediction with what the kernel did.
pub fn compare(predicted: &CellAnswer, measured: &CellAnswer) -> Agreement {
    let mut out = Agreement::Agrees;
    if predicted.result == BindResult::Uncertain {
        if !predicted.possible.contains(&measured.result) {
            return Agreement::Differs;
        }
        out = Agreement::WithinUncertain;
    } else if predicted.result != measured.result || predicted.at != measured.at {
        return Agreement::Differs;
    }
    for dest in Dest::ALL {
        let p = predicted.receivers.get(&dest);
        let m = measured.receivers.get(&dest);
        match (p, m) {
            (p, m) if p == m => {}
            (Some(p), Some(m)) if admits(p, m) => out = Agreement::WithinUncertain,
            _ => return Agreement::Differs,
        }
    }
    out
}

/// Whether the kernel's `measured` receivers are among those `predicted` leaves open.
fn admits(predicted: &Receivers, measured: &Receivers) -> bool {
    match (predicted, measured) {
        (Receivers::OneOf(cands), Receivers::One(w)) => cands.contains(w),
        (Receivers::Depends(cases), m) => cases.iter().any(|c| admits(c, m)),
        (p, m) => p == m,
    }
}
