//! A real Prometheus and `bindscope serve` inside a test's network namespace, and HTTP
//! from inside it (its own loopback): shared by tests/serve_e2e.rs and tests/fleet_assets.rs.

use super::{BINDSCOPE, Netns, wait_for, which};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

/// Where the exporter and Prometheus listen, on the namespace's loopback.
pub const EXPORTER: &str = "127.0.0.1:9874";
pub const PROMETHEUS: &str = "127.0.0.1:9090";

/// A child process killed (and reaped) when the test ends, also on failure.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// GET `url` from inside `ns`: status and body; status 0 when nothing answers (not
/// listening yet, reset, timeout).
pub fn get(ns: &Netns, url: &str, accept: Option<&str>) -> (u16, String) {
    let code = format!(
        r#"
import sys, urllib.request, urllib.error
req = urllib.request.Request({url:?})
accept = {accept:?}
if accept != "None":
    req.add_header("Accept", accept)
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        sys.stdout.write(str(r.status) + "\n" + r.read().decode())
except urllib.error.HTTPError as e:
    sys.stdout.write(str(e.code) + "\n" + e.read().decode())
except OSError as e:
    sys.stdout.write("0\n" + str(e))
"#,
        accept = accept.unwrap_or("None"),
    );
    let out = ns.python(&code).expect_ok("GET").stdout;
    let (status, body) = out.split_once('\n').unwrap_or(("0", ""));
    (status.parse().unwrap_or(0), body.to_string())
}

/// Percent-encoding of a query parameter.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A Prometheus API call: the `data` of a successful answer; panics with Prometheus's
/// error otherwise.
pub fn api(ns: &Netns, path_and_query: &str, what: &str) -> Value {
    let (status, body) = get(ns, &format!("http://{PROMETHEUS}{path_and_query}"), None);
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what}: {e}: {body}"));
    assert_eq!(status, 200, "{what}: {body}");
    assert_eq!(v["status"], "success", "{what}: {body}");
    v["data"].clone()
}

/// An instant query: the result vector.
pub fn query(ns: &Netns, expr: &str) -> Vec<Value> {
    api(ns, &format!("/api/v1/query?query={}", encode(expr)), expr)["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// `bindscope serve` in `ns` on [`EXPORTER`], sampling every second, once it answers.
pub fn start_exporter(ns: &Netns, extra: &[&str]) -> Guard {
    let mut argv = vec![BINDSCOPE, "serve", "--listen", EXPORTER, "--interval", "1s"];
    argv.extend_from_slice(extra);
    let child = ns
        .cmd(&argv)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start bindscope serve");
    let g = Guard(child);
    assert!(
        wait_for(Duration::from_secs(30), || get(
            ns,
            &format!("http://{EXPORTER}/metrics"),
            None
        )
        .0 == 200),
        "the exporter never answered"
    );
    g
}

/// Prometheus in `ns` on [`PROMETHEUS`] with `config` (prometheus.yml's text), its data in
/// `dir`, once it is ready (it answers 503 until its storage is open). A missing
/// `prometheus` is a failure naming the Debian package.
pub fn start_prometheus(ns: &Netns, config: &str, dir: &Path) -> Guard {
    let prometheus = which("prometheus").unwrap_or_else(|| {
        panic!("no 'prometheus' on PATH: install the Debian package 'prometheus'")
    });
    let file = dir.join("prometheus.yml");
    std::fs::write(&file, config).expect("write prometheus.yml");
    let child = ns
        .cmd(&[
            prometheus.to_str().expect("utf-8 path"),
            &format!("--config.file={}", file.display()),
            &format!("--storage.tsdb.path={}", dir.join("data").display()),
            &format!("--web.listen-address={PROMETHEUS}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    let g = Guard(child);
    assert!(
        wait_for(Duration::from_secs(60), || get(
            ns,
            &format!("http://{PROMETHEUS}/-/ready"),
            None
        )
        .0 == 200),
        "Prometheus never became ready"
    );
    g
}
