// A busy host made from a small snapshot, shared by the dashboard's tests
// (`src/ui/tests.rs`, as `synthetic`) and the timing bench (`bench/dashboard_timing.rs`)
// through `include!`: the file that includes it brings `Snapshot`, `SocketId` and `State`
// into scope (from `crate::model` or `bindscope::model`), so the tests and the bench measure
// the same host without the library carrying test builders.

/// A busy host of `n` sockets held by 300 processes, made from the sockets of `snap`: one
/// in 25 a bind (listeners and UDP, ports spread so that some share a port group), the
/// rest established connections to those ports.
pub fn busy_host(mut snap: Snapshot, n: usize) -> Snapshot {
    let templates = std::mem::take(&mut snap.sockets);
    // Every value below is in range (ports from 1024 to 60767, pids from 1000 to 1299):
    // the fallbacks are never taken, and a bench may not panic.
    let port = |x: usize| u16::try_from(x).unwrap_or(u16::MAX);
    snap.sockets = templates
        .iter()
        .cycle()
        .take(n)
        .enumerate()
        .map(|(i, template)| {
            let mut s = template.clone();
            s.id = SocketId(format!("{}-s{i:x}", s.netns));
            s.cookie = i as u64;
            s.inode = 1_000_000 + i as u64;
            s.local_port = port(1024 + (i / 25) % 1500);
            if i % 25 != 0 {
                s.state = State::Established;
                s.remote_addr = Some(std::net::IpAddr::from([10, 0, (i >> 8) as u8, i as u8]));
                s.remote_port = Some(port(32768 + i % 28000));
                s.accept_queue = None;
                s.syn_recv = None;
                s.recv_q = Some(0);
                s.send_q = Some(0);
            }
            for h in &mut s.holders {
                h.pid = 1000 + u32::try_from(i % 300).unwrap_or(0);
            }
            s
        })
        .collect();
    snap
}
