//! The table's cells against what the kernel did: each row below was measured on 6.18.44
//! by `bindscope rules --verify` (real sockets of uids 1001 and 1002, real traffic, in a
//! throwaway namespace), and the same pairs are in linux-bind-semantics.md §1 and
//! docs/lookup §2.1. The template namespace is the what-if's test namespace (lo up).

use super::*;
use crate::analyze::whatif::fixtures::{NS, snap};
use crate::analyze::whatif::{BindResult, Phase};
use Receivers::*;
use std::collections::BTreeMap;

fn first(sharing: Sharing, place: Place, held: Option<Held>) -> First {
    First {
        sharing,
        place,
        held,
    }
}

fn second(sharing: Sharing, place: Place, who: Who) -> Second {
    Second {
        sharing,
        place,
        who,
    }
}

fn answer(result: BindResult, at: Phase, s: Receivers, o: Receivers) -> CellAnswer {
    CellAnswer {
        result,
        possible: Vec::new(),
        at,
        receivers: BTreeMap::from([(Dest::Specific, s), (Dest::Other, o)]),
    }
}

#[test]
fn measured_cells() {
    use BindResult::{Eaddrinuse as Inuse, Ok as Fine};
    use Held::*;
    use Place::*;
    use Sharing::*;
    use Who::*;
    let l = Some(Listening);
    let b = Some(Bound);
    let template = snap(Vec::new());
    #[rustfmt::skip]
    let table = [
        // TCP: a listener shares only with SO_REUSEPORT on both, same uid (§1).
        (Proto::Tcp, first(Default, Wildcard, l), second(Default, Wildcard, SameUser), answer(Inuse, Phase::Bind, One(Which::First), One(Which::First))),
        (Proto::Tcp, first(Reuseaddr, Wildcard, l), second(Reuseaddr, Wildcard, SameUser), answer(Inuse, Phase::Bind, One(Which::First), One(Which::First))),
        (Proto::Tcp, first(Reuseport, Wildcard, l), second(Reuseport, Wildcard, SameUser), answer(Fine, Phase::Listen, Split, Split)),
        (Proto::Tcp, first(Reuseport, Wildcard, l), second(Reuseport, Wildcard, OtherUser), answer(Inuse, Phase::Bind, One(Which::First), One(Which::First))),
        // An exact address is looked up before the wildcard (pass 1).
        (Proto::Tcp, first(Reuseport, Wildcard, l), second(Reuseport, Specific, SameUser), answer(Fine, Phase::Listen, One(Which::Second), One(Which::First))),
        (Proto::Tcp, first(Reuseport, Specific, l), second(Reuseport, Specific, SameUser), answer(Fine, Phase::Listen, Split, Nobody)),
        // Two bound-only sockets with SO_REUSEADDR share; only the listener receives.
        (Proto::Tcp, first(Reuseaddr, Wildcard, b), second(Reuseaddr, Wildcard, OtherUser), answer(Fine, Phase::Listen, One(Which::Second), One(Which::Second))),
        (Proto::Tcp, first(Default, Specific, b), second(Reuseport, Wildcard, SameUser), answer(Inuse, Phase::Bind, Nobody, Nobody)),
        // UDP: SO_REUSEADDR on both shares across users; SO_REUSEPORT only within one.
        (Proto::Udp, first(Reuseaddr, Wildcard, None), second(Reuseaddr, Specific, OtherUser), answer(Fine, Phase::Bind, One(Which::Second), One(Which::First))),
        (Proto::Udp, first(Reuseaddr, Specific, None), second(Reuseaddr, Wildcard, SameUser), answer(Fine, Phase::Bind, One(Which::First), One(Which::Second))),
        (Proto::Udp, first(Reuseport, Wildcard, None), second(Reuseport, Wildcard, SameUser), answer(Fine, Phase::Bind, Split, Split)),
        (Proto::Udp, first(Reuseport, Wildcard, None), second(Reuseport, Wildcard, OtherUser), answer(Inuse, Phase::Bind, One(Which::First), One(Which::First))),
        (Proto::Udp, first(Default, Specific, None), second(Reuseaddr, Specific, SameUser), answer(Inuse, Phase::Bind, One(Which::First), Nobody)),
        (Proto::Udp, first(Reuseaddr, Wildcard, None), second(Reuseport, Wildcard, SameUser), answer(Inuse, Phase::Bind, One(Which::First), One(Which::First))),
    ];
    for (proto, f, s, kernel) in table {
        let got = predict(&template, NS, proto, FIRST_PORT, f, s);
        assert_eq!(
            compare(&got, &kernel),
            Agreement::Agrees,
            "{proto:?} {f:?} × {s:?}: predicted {got:?}, the kernel did {kernel:?}"
        );
    }
}

/// Identical UDP binds with SO_REUSEADDR: the kernel gives all to the newer one (U1); the
/// routes of today name both, so the cell is uncertain with the kernel's answer among them.
#[test]
fn identical_udp_binds_are_never_wrong() {
    let template = snap(Vec::new());
    let f = first(Sharing::Reuseaddr, Place::Wildcard, None);
    let s = second(Sharing::Reuseaddr, Place::Wildcard, Who::OtherUser);
    let got = predict(&template, NS, Proto::Udp, FIRST_PORT, f, s);
    let kernel = answer(
        BindResult::Ok,
        Phase::Bind,
        One(Which::Second),
        One(Which::Second),
    );
    assert_ne!(compare(&got, &kernel), Agreement::Differs, "{got:?}");
    let wrong = answer(BindResult::Ok, Phase::Bind, Nobody, One(Which::Second));
    assert_eq!(compare(&got, &wrong), Agreement::Differs);
}

#[test]
fn comparing() {
    let base = answer(BindResult::Ok, Phase::Bind, One(Which::First), Split);
    assert_eq!(compare(&base, &base), Agreement::Agrees);
    let mut other_call = base.clone();
    other_call.at = Phase::Listen;
    assert_eq!(compare(&base, &other_call), Agreement::Differs);
    let other_receiver = answer(BindResult::Ok, Phase::Bind, One(Which::Second), Split);
    assert_eq!(compare(&base, &other_receiver), Agreement::Differs);
    let mut unsure = answer(
        BindResult::Uncertain,
        Phase::Bind,
        Depends(vec![One(Which::Second), Nobody]),
        Nobody,
    );
    unsure.possible = vec![BindResult::Eaddrinuse, BindResult::Ok];
    let refused = answer(BindResult::Eaddrinuse, Phase::Bind, Nobody, Nobody);
    assert_eq!(compare(&unsure, &refused), Agreement::WithinUncertain);
    let denied = answer(BindResult::Eacces, Phase::Bind, Nobody, Nobody);
    assert_eq!(compare(&unsure, &denied), Agreement::Differs);
    let split = answer(BindResult::Ok, Phase::Bind, Split, Nobody);
    assert_eq!(compare(&unsure, &split), Agreement::Differs);
}

#[test]
fn the_grid() {
    assert_eq!(rows(Proto::Tcp).len(), 12);
    assert_eq!(rows(Proto::Udp).len(), 6);
    assert_eq!(columns().len(), 12);
    for proto in [Proto::Tcp, Proto::Udp] {
        let cells = cells(proto);
        let mut ports: Vec<u16> = cells.iter().map(|c| c.2).collect();
        ports.dedup();
        assert_eq!(ports.len(), cells.len(), "one port per cell");
        assert!(ports.iter().all(|p| *p >= FIRST_PORT && *p < 32768));
    }
}
