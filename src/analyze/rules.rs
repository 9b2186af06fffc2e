//! `bindscope rules`: the Linux counterpart of the Windows "first caller × second caller"
//! tables (seed 004, "Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE", tables 2 and 3).
//!
//! A row is a first socket (no option, SO_REUSEADDR or SO_REUSEPORT; bound to the wildcard
//! or to a specific address; for TCP listening or only bound), a column a second socket
//! (the same choices, always listening for TCP, as the same user or another one). A cell is
//! what the second socket's bind() and listen() return, and then who receives traffic to
//! the specific address and to any other local address.
//!
//! Nothing here decides a rule of its own: the result is the can-bind what-if
//! ([`whatif::can_bind`]) over a snapshot holding only the first socket, and the receivers
//! are the routes of [`ports::port_groups`] over the one or two sockets bound. The table
//! only lays out their answers, so it says what the rest of bindscope says.
//!
//! - `grid`: rows, columns, addresses, uids and ports
//! - `answer`: a cell's answer and the comparison with the kernel's
//! - `predict`: the what-if and the routes for one cell

mod answer;
mod grid;
mod predict;

pub use answer::{Agreement, CellAnswer, Dest, Receivers, Which, compare};
pub use grid::{
    FIRST_PORT, FIRST_UID, First, Held, OTHER, OTHER_UID, Place, SPECIFIC, Second, Sharing, Who,
    cells, columns, rows,
};
pub use predict::{predict, socket_name};

use crate::model::{NetnsId, Proto, Snapshot};
use serde::Serialize;

/// One cell of a table: the prediction and, with `--verify`, what the kernel did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub first: First,
    pub second: Second,
    pub port: u16,
    pub predicted: CellAnswer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured: Option<CellAnswer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Agreement>,
}

/// A protocol's table: every cell, rows then columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub proto: Proto,
    pub cells: Vec<Cell>,
}

impl Table {
    /// The predicted table of `proto` for the namespace `netns` of `template`.
    pub fn predict(template: &Snapshot, netns: NetnsId, proto: Proto) -> Table {
        let cells = cells(proto)
            .into_iter()
            .map(|(first, second, port)| Cell {
                first,
                second,
                port,
                predicted: predict(template, netns, proto, port, first, second),
                measured: None,
                agreement: None,
            })
            .collect();
        Table { proto, cells }
    }

    /// Records what the kernel did in a cell (looked up by port).
    pub fn record(&mut self, port: u16, measured: CellAnswer) {
        if let Some(c) = self.cells.iter_mut().find(|c| c.port == port) {
            c.agreement = Some(compare(&c.predicted, &measured));
            c.measured = Some(measured);
        }
    }

    /// How many measured cells differ from the prediction.
    pub fn differing(&self) -> usize {
        self.count(Agreement::Differs)
    }

    pub fn count(&self, a: Agreement) -> usize {
        self.cells.iter().filter(|c| c.agreement == Some(a)).count()
    }
}

#[cfg(test)]
mod tests;
