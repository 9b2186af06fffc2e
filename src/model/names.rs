//! The names people ask by, and one way of matching them: `--netns` (collect) and the
//! filter's `netns:`, `container:`, `image:` and `pod:` keys (query) both use this module,
//! so a word picks the same namespaces and containers on the command line and in the
//! dashboard.
//!
//! A pattern ([`NamePattern`]) is one of:
//!
//! | written              | matches a container                                          |
//! |----------------------|--------------------------------------------------------------|
//! | `web`, `web*`, `w?b` | whose name or whole id matches (a glob)                      |
//! | `02175b2a`           | whose id starts with it: 4 or more hex digits ([`MIN_ID_PREFIX`]) |
//! | `docker:02175b2a`    | of that runtime, by name or id as above (the old labels)     |
//! | `pod:default/web-*`  | in a pod whose `NAMESPACE/NAME` matches; `pod:NAME` any namespace |
//! | `image:nginx*`       | whose image matches ([`image_matches`]: with or without tag and registry) |
//!
//! A namespace ([`NetnsNames`]) matches a pattern when its name or one of its aliases (the
//! file names of its bind mounts, such as Podman's `netns-<uuid>`) matches the whole
//! pattern, when the pattern is `current` and bindscope runs in it, when the pattern is its
//! inode (`4026532245` or `net:[4026532245]`), or when any container living in it matches.
//!
//! All matching ignores case (Docker names are case-sensitive, but two containers whose
//! names differ only in case are rare, and a dashboard filter is typed fast). A glob's `*`
//! is any run of characters and `?` any one character; there is no escape: no runtime
//! allows `*` or `?` in a name, and such a character still matches itself.

use super::{Container, Netns, Pod, Runtime};

/// The shortest hex word also tried as an id prefix. Docker's CLI takes any unique prefix,
/// but here a word is a name as well, and the match is not required to be unique: `db`
/// would pick every container whose id starts with `db` (one in 256). With four digits it
/// is one in 65,536, and people quote ids by 12 anyway.
pub const MIN_ID_PREFIX: usize = 4;

/// Text matched whole, ignoring case, where `*` is any run of characters and `?` any one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Glob {
    lower: String,
    wild: bool,
}

impl Glob {
    pub fn new(text: &str) -> Glob {
        let lower = text.to_lowercase();
        Glob {
            wild: lower.contains(['*', '?']),
            lower,
        }
    }

    /// The pattern as it is matched: lowercase.
    pub fn text(&self) -> &str {
        &self.lower
    }

    /// Whether `hay` matches the whole pattern, ignoring case. Allocates only when either
    /// side is not ASCII: the filter runs this per socket per keystroke.
    pub fn matches(&self, hay: &str) -> bool {
        if self.lower.is_ascii() && hay.is_ascii() {
            if !self.wild {
                return hay.eq_ignore_ascii_case(&self.lower);
            }
            return glob(self.lower.as_bytes(), hay.as_bytes(), b'*', b'?', |p, h| {
                p == h.to_ascii_lowercase()
            });
        }
        let pattern: Vec<char> = self.lower.chars().collect();
        let hay: Vec<char> = hay.to_lowercase().chars().collect();
        glob(&pattern, &hay, '*', '?', |p, h| p == h)
    }

    /// Whether the pattern is also an id prefix: no wildcard, hex, [`MIN_ID_PREFIX`] long.
    fn is_id_prefix(&self) -> bool {
        !self.wild
            && self.lower.len() >= MIN_ID_PREFIX
            && self.lower.bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// Whether the container is called this: its name or whole id matches, or its id starts
    /// with this id prefix.
    fn names_container(&self, c: &Container) -> bool {
        c.name.as_deref().is_some_and(|n| self.matches(n))
            || self.matches(&c.id)
            || (self.is_id_prefix()
                && c.id
                    .as_bytes()
                    .get(..self.lower.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(self.lower.as_bytes())))
    }
}

/// Glob matching by backtracking to the last `*` only: linear in practice, and at worst
/// pattern length × text length, never exponential.
fn glob<T: Copy + PartialEq>(
    pattern: &[T],
    hay: &[T],
    star: T,
    one: T,
    eq: impl Fn(T, T) -> bool,
) -> bool {
    let (mut p, mut h) = (0, 0);
    // Where the last `*` was, and where in `hay` it is now assumed to end.
    let mut resume: Option<(usize, usize)> = None;
    while let Some(&c) = hay.get(h) {
        match pattern.get(p) {
            Some(&s) if s == star => {
                resume = Some((p, h));
                p += 1;
            }
            Some(&x) if x == one || eq(x, c) => {
                p += 1;
                h += 1;
            }
            _ => match resume {
                Some((sp, sh)) => {
                    resume = Some((sp, sh + 1));
                    p = sp + 1;
                    h = sh + 1;
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&x| x == star))
}

/// Whether an image reference matches: the whole reference (`docker.io/library/nginx:1.25`),
/// or it without digest, without tag, or without registry and path (`nginx:1.25`, `nginx`),
/// so `image:nginx` finds nginx from any registry and of any tag.
pub fn image_matches(g: &Glob, image: &str) -> bool {
    let no_digest = image.split_once('@').map_or(image, |(r, _)| r);
    // A `:` after the last `/` starts the tag; one before it is a registry's port.
    let untagged = match no_digest.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => no_digest,
    };
    let last = |s: &'_ str| -> usize { s.rfind('/').map_or(0, |i| i + 1) };
    let forms = [
        image,
        no_digest,
        untagged,
        no_digest.get(last(no_digest)..).unwrap_or(no_digest),
        untagged.get(last(untagged)..).unwrap_or(untagged),
    ];
    forms.iter().any(|f| g.matches(f))
}

/// `pod:NAMESPACE/NAME` (Kubernetes) or `pod:NAME` (a pod of any namespace, or Podman's),
/// each part a glob. A `*` does not reach across the `/`: neither part of a pod's label can
/// hold one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PodPattern {
    text: String,
    namespace: Option<Glob>,
    name: Glob,
}

impl PodPattern {
    /// `None` when the text cannot name a pod: empty, or a part of `NS/NAME` empty, or more
    /// than one `/`.
    pub fn parse(text: &str) -> Option<PodPattern> {
        let lower = text.to_lowercase();
        let (namespace, name) = match lower.split_once('/') {
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
                (Some(Glob::new(ns)), Glob::new(name))
            }
            Some(_) => return None,
            None if lower.is_empty() => return None,
            None => (None, Glob::new(&lower)),
        };
        Some(PodPattern {
            text: lower,
            namespace,
            name,
        })
    }

    /// The pattern as it is matched: lowercase.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn matches(&self, pod: &Pod) -> bool {
        self.name.matches(&pod.name)
            && match (&self.namespace, &pod.namespace) {
                (None, _) => true,
                (Some(g), Some(ns)) => g.matches(ns),
                // A Podman pod has no namespace for `NS/` to match.
                (Some(_), None) => false,
            }
    }
}

/// A name, id, pod or image pattern: the module docs list the forms.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NamePattern {
    /// All of it, for namespace names and aliases (`docker:02175b2a1941` names namespaces in
    /// old files; a bind mount may be called anything).
    whole: Glob,
    kind: Kind,
    /// `N` or `net:[N]`.
    inode: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Kind {
    /// A name, a whole id or an id prefix.
    Word,
    Runtime(Runtime, Glob),
    Pod(PodPattern),
    Image(Glob),
}

/// The runtime a `runtime:` prefix names: each runtime's name, and `k8s-pod`, which files
/// before 0.13 wrote for containerd's Kubernetes namespaces.
fn runtime_named(prefix: &str) -> Option<Runtime> {
    Some(match prefix {
        "docker" => Runtime::Docker,
        "podman" => Runtime::Podman,
        "containerd" | "k8s-pod" => Runtime::Containerd,
        "cri-o" => Runtime::Crio,
        "lxc" => Runtime::Lxc,
        "nspawn" => Runtime::Nspawn,
        "other" => Runtime::Other,
        _ => return None,
    })
}

/// Digits only (no sign, as a filter's numbers): what `str::parse` alone would not refuse.
fn inode_of(text: &str) -> Option<u64> {
    let digits = text
        .strip_prefix("net:[")
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl NamePattern {
    /// Every text is a pattern: one that looks like none of the prefixed forms (`pod:a/b/c`,
    /// `foo:bar`) is a plain word, matched against names as a whole.
    pub fn parse(text: &str) -> NamePattern {
        let whole = Glob::new(text);
        let kind = match whole.text().split_once(':') {
            Some(("pod", rest)) => PodPattern::parse(rest).map_or(Kind::Word, Kind::Pod),
            Some(("image", rest)) if !rest.is_empty() => Kind::Image(Glob::new(rest)),
            Some((prefix, rest)) if !rest.is_empty() => match runtime_named(prefix) {
                Some(r) => Kind::Runtime(r, Glob::new(rest)),
                None => Kind::Word,
            },
            _ => Kind::Word,
        };
        NamePattern {
            inode: inode_of(whole.text()),
            whole,
            kind,
        }
    }

    /// The pattern as it is matched: the text, lowercase. Parses back to the same pattern.
    pub fn text(&self) -> &str {
        self.whole.text()
    }

    /// The inode it names (`N`, `net:[N]`), if it is one.
    pub fn inode(&self) -> Option<u64> {
        self.inode
    }

    /// Whether it is `current`: the namespace bindscope runs in.
    fn is_current(&self) -> bool {
        self.whole.text() == "current"
    }

    pub fn matches_container(&self, c: &Container) -> bool {
        match &self.kind {
            Kind::Word => self.whole.names_container(c),
            Kind::Runtime(r, g) => c.runtime == *r && g.names_container(c),
            Kind::Pod(p) => c.pod.as_ref().is_some_and(|pod| p.matches(pod)),
            Kind::Image(g) => c.image.as_deref().is_some_and(|i| image_matches(g, i)),
        }
    }

    pub fn matches_netns(&self, n: &NetnsNames) -> bool {
        n.name
            .as_deref()
            .is_some_and(|name| self.whole.matches(name))
            || n.aliases.iter().any(|a| self.whole.matches(a))
            || (n.current && self.is_current())
            || self.inode == Some(n.id)
            || n.containers.iter().any(|c| self.matches_container(c))
    }
}

/// Everything a network namespace can be asked by. Built once per snapshot (the filter) or
/// per collection (`--netns`), from [`Netns`] or the collector's view of one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetnsNames {
    /// The inode.
    pub id: u64,
    pub name: Option<String>,
    /// bindscope runs in it.
    pub current: bool,
    /// The file names of its bind mounts (`netns-1f0c…` of Podman, `ip netns` names).
    pub aliases: Vec<String>,
    /// The owner first, then every other container living in it, each once.
    pub containers: Vec<Container>,
    /// A container made it (the first in `containers`). Not so for the host's namespace,
    /// where host-network containers live among every other process: there a container
    /// does not speak for the namespace's sockets.
    pub owned: bool,
}

impl NetnsNames {
    /// `paths` are bind mounts (`/run/netns/x`); their file names become aliases.
    pub fn new<'a>(
        id: u64,
        name: Option<&str>,
        current: bool,
        paths: impl IntoIterator<Item = &'a str>,
        owner: Option<&Container>,
        containers: &[Container],
    ) -> NetnsNames {
        let mut aliases: Vec<String> = Vec::new();
        for p in paths {
            let file = p.rsplit('/').next().unwrap_or(p);
            if !file.is_empty() && !aliases.iter().any(|a| a == file) {
                aliases.push(file.to_string());
            }
        }
        // Files before 0.13 have an owner and no list of containers.
        let mut all: Vec<Container> = owner.cloned().into_iter().collect();
        for c in containers {
            if !all.contains(c) {
                all.push(c.clone());
            }
        }
        NetnsNames {
            id,
            name: name.map(String::from),
            current,
            aliases,
            containers: all,
            owned: owner.is_some(),
        }
    }

    pub fn of(n: &Netns) -> NetnsNames {
        NetnsNames::new(
            n.id.0,
            n.name.as_deref(),
            n.current,
            n.paths.iter().map(String::as_str),
            n.container.as_ref(),
            &n.containers,
        )
    }

    /// The containers that share its sockets: all of them when a container made it, none
    /// when containers only live in it (the host's, with `--network host`).
    pub fn sharing(&self) -> &[Container] {
        if self.owned { &self.containers } else { &[] }
    }

    /// How to ask for it, for a message that lists what is known: its name (or inode),
    /// then the labels of its containers the name is not, then its pods as `pod:LABEL`.
    pub fn spellings(&self) -> Vec<String> {
        let mut out = vec![self.name.clone().unwrap_or_else(|| self.id.to_string())];
        let mut add = |s: String| {
            if !out.contains(&s) {
                out.push(s);
            }
        };
        for c in &self.containers {
            add(c.label());
        }
        for c in &self.containers {
            if let Some(p) = &c.pod {
                add(format!("pod:{}", p.label()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const WEB_ID: &str = "02175b2a1941f7f7b1a4301c29df7bd0cbfb075bd2aa98a733d75725acb36a5f";
    const SIDE_ID: &str = "9c1d4e0a77b2a9f0c3e5d6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a697";
    const HOSTC_ID: &str = "c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc";

    fn container(runtime: Runtime, id: &str, name: Option<&str>, image: Option<&str>) -> Container {
        Container {
            runtime,
            id: id.into(),
            name: name.map(String::from),
            image: image.map(String::from),
            pod: None,
        }
    }

    fn in_pod(mut c: Container, namespace: Option<&str>, name: &str) -> Container {
        c.pod = Some(Pod {
            namespace: namespace.map(String::from),
            name: name.into(),
        });
        c
    }

    fn p(text: &str) -> NamePattern {
        NamePattern::parse(text)
    }

    #[test]
    fn globs_match_whole_text_ignoring_case() {
        let m = |g: &str, h: &str| Glob::new(g).matches(h);
        assert!(m("web", "WEB"));
        assert!(!m("web", "web1"), "whole, not part");
        assert!(m("web*", "web"));
        assert!(m("web*", "web-frontend"));
        assert!(m("*end", "web-frontend"));
        assert!(m("w?b", "wab"));
        assert!(!m("w?b", "wb"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(!m("*a*b*", "xxbxxaxx"));
        assert!(m("*", ""));
        assert!(!m("", "x"));
        assert!(m("a*b*c", "abcbc"));
        // Not ASCII on either side: characters, not bytes.
        assert!(m("k?t", "kät"));
        assert!(m("ÜBER*", "über-app"));
        assert!(m("\u{212a}", "k"), "the Kelvin sign lowercases to k");
        assert!(m("k", "\u{212a}"));
        // A literal `*` or `?` in a name still matches itself.
        assert!(m("a*b", "a*b") && m("a?b", "a?b"));
        // Many stars over a long text: no exponential backtracking.
        let hay = "a".repeat(2000);
        assert!(!m(&format!("{}b", "*a".repeat(50)), &hay));
    }

    #[test]
    fn docker_by_name_12_hex_prefix_and_full_id() {
        let web = container(Runtime::Docker, WEB_ID, Some("web"), Some("bs:1"));
        for yes in [
            "web",
            "WEB",
            "w*",
            "02175b2a1941",
            "02175B2A",
            "0217",
            WEB_ID,
            "docker:02175b2a1941",
            "docker:web",
            "docker:*",
            "0217*",
        ] {
            assert!(p(yes).matches_container(&web), "{yes}");
        }
        for no in [
            "we",
            "web1",
            "021",  // too short for a prefix
            "175b", // not a prefix
            "podman:02175b2a1941",
            "podman:web",
            "02175b2a1941x",
            "pod:web",
            "image:web",
        ] {
            assert!(!p(no).matches_container(&web), "{no}");
        }
        // A container whose name is unreadable (bindscope not root) is found by its id.
        let anon = container(Runtime::Docker, WEB_ID, None, None);
        assert!(p("02175b2a1941").matches_container(&anon));
        assert!(p(&anon.label()).matches_container(&anon));
        assert!(!p("web").matches_container(&anon));
        // An old file's container: its id is the 12-digit label.
        let old = Container::from_old_label("docker:02175b2a1941");
        assert!(p("docker:02175b2a1941").matches_container(&old));
        assert!(p("02175b2a").matches_container(&old));
        assert!(!p(WEB_ID).matches_container(&old), "longer than the id");
    }

    #[test]
    fn images_with_and_without_tag_registry_and_digest() {
        let nginx = |image: &str| container(Runtime::Docker, WEB_ID, None, Some(image));
        let cases: &[(&str, &str, bool)] = &[
            ("image:nginx", "nginx:1.25", true),
            ("image:nginx", "docker.io/library/nginx:1.25", true),
            ("image:nginx:1.25", "docker.io/library/nginx:1.25", true),
            ("image:nginx:1.26", "docker.io/library/nginx:1.25", false),
            (
                "image:docker.io/library/nginx",
                "docker.io/library/nginx:1.25",
                true,
            ),
            ("image:nginx*", "nginx-proxy", true),
            ("image:nginx", "nginx-proxy", false),
            ("image:nginx", "registry:5000/nginx", true),
            ("image:registry:5000/nginx", "registry:5000/nginx", true),
            ("image:nginx", "nginx@sha256:0123abcd", true),
            ("image:nginx:1.25", "nginx:1.25@sha256:0123abcd", true),
            ("image:bs:1", "localhost/bs:1", true),
            ("image:*", "anything", true),
        ];
        for (pattern, image, want) in cases {
            assert_eq!(
                p(pattern).matches_container(&nginx(image)),
                *want,
                "{pattern} {image}"
            );
        }
        assert!(!p("image:*").matches_container(&container(Runtime::Lxc, "lx", None, None)));
    }

    #[test]
    fn kubernetes_and_podman_pods() {
        let k8s = in_pod(
            container(
                Runtime::Containerd,
                SIDE_ID,
                Some("web"),
                Some("nginx:1.25"),
            ),
            Some("default"),
            "web-abc",
        );
        let podman = in_pod(
            container(Runtime::Podman, WEB_ID, Some("api"), None),
            None,
            "shop",
        );
        for (pattern, k, pm) in [
            ("pod:default/web-abc", true, false),
            ("pod:DEFAULT/web-*", true, false),
            ("pod:*/web-abc", true, false),
            ("pod:web-abc", true, false),
            ("pod:kube-system/web-abc", false, false),
            ("pod:shop", false, true),
            ("pod:*", true, true),
            ("pod:*/*", true, false),
            ("pod:default", false, false),
            ("pod:default/web-abc/x", false, false),
        ] {
            assert_eq!(p(pattern).matches_container(&k8s), k, "{pattern}");
            assert_eq!(p(pattern).matches_container(&podman), pm, "{pattern}");
        }
        assert!(p("web").matches_container(&k8s), "the container's own name");
        assert!(p("containerd:web").matches_container(&k8s));
        assert!(p("k8s-pod:web").matches_container(&k8s), "the old prefix");
        assert!(p("podman:api").matches_container(&podman));
        assert!(PodPattern::parse("a/b/c").is_none());
        assert!(PodPattern::parse("/b").is_none());
        assert!(PodPattern::parse("").is_none());
    }

    #[test]
    fn lxc_ids_are_names() {
        let lx = container(Runtime::Lxc, "lx1", Some("lx1"), None);
        assert!(p("lx1").matches_container(&lx));
        assert!(p("lxc:lx1").matches_container(&lx));
        assert!(p("lx*").matches_container(&lx));
        assert!(!p("lx").matches_container(&lx));
        // A hex-looking lxc name is also a prefix of itself.
        let hexy = container(Runtime::Lxc, "cafe01", Some("cafe01"), None);
        assert!(p("cafe").matches_container(&hexy));
    }

    /// A Docker namespace shared by `web` (the owner) and `side`, a Podman pod's namespace
    /// with its bind mount, and the host.
    fn namespaces() -> Vec<NetnsNames> {
        let web = container(Runtime::Docker, WEB_ID, Some("web"), Some("nginx:1.25"));
        let side = container(Runtime::Docker, SIDE_ID, Some("side"), Some("bs:1"));
        let infra = in_pod(
            container(Runtime::Podman, SIDE_ID, Some("shop-infra"), None),
            None,
            "shop",
        );
        let api = in_pod(
            container(
                Runtime::Podman,
                WEB_ID,
                Some("api"),
                Some("localhost/api:2"),
            ),
            None,
            "shop",
        );
        let hostc = container(Runtime::Docker, HOSTC_ID, Some("hostc"), Some("bs:1"));
        vec![
            NetnsNames::new(4026531833, Some("host"), true, [], None, &[hostc]),
            NetnsNames::new(
                4026532300,
                Some("web"),
                false,
                [],
                Some(&web),
                &[web.clone(), side],
            ),
            NetnsNames::new(
                4026532400,
                Some("shop"),
                false,
                ["/run/netns/netns-1f0c2a3b-0000-4000-8000-000000000001"],
                Some(&infra),
                &[api],
            ),
            NetnsNames::new(4026532500, None, false, [], None, &[]),
        ]
    }

    fn picked(pattern: &str) -> Vec<u64> {
        let pat = p(pattern);
        namespaces()
            .iter()
            .filter(|n| pat.matches_netns(n))
            .map(|n| n.id)
            .collect()
    }

    #[test]
    fn namespaces_by_every_name() {
        let cases: &[(&str, &[u64])] = &[
            ("host", &[4026531833]),
            ("current", &[4026531833]),
            ("4026532500", &[4026532500]),
            ("net:[4026532500]", &[4026532500]),
            ("net:[4026532500", &[]),
            ("+4026532500", &[]),
            // The owner and a sidecar that joined both find the shared namespace.
            ("web", &[4026532300]),
            ("side", &[4026532300]),
            ("docker:9c1d4e0a77b2", &[4026532300]),
            // Both namespaces hold a container whose id starts so (Docker's and Podman's).
            ("02175b2a1941", &[4026532300, 4026532400]),
            ("docker:02175b2a1941", &[4026532300]),
            ("image:nginx", &[4026532300]),
            ("image:api", &[4026532400]),
            // A Podman pod by its name, its members, and the runtime's bind mount.
            ("pod:shop", &[4026532400]),
            ("shop", &[4026532400]),
            ("api", &[4026532400]),
            ("shop-infra", &[4026532400]),
            ("netns-1f0c2a3b-0000-4000-8000-000000000001", &[4026532400]),
            ("netns-*", &[4026532400]),
            ("*", &[4026531833, 4026532300, 4026532400]),
            ("s*", &[4026532300, 4026532400]),
            // A host-network container lives in the host's namespace.
            ("hostc", &[4026531833]),
            ("image:bs", &[4026531833, 4026532300]),
            ("nothing", &[]),
        ];
        for (pattern, want) in cases {
            assert_eq!(picked(pattern), want.to_vec(), "{pattern}");
        }
    }

    #[test]
    fn namespaces_of_old_files_by_their_labels() {
        // Before 0.13 a namespace's name was its container's label and there was no list.
        let old = Container::from_old_label("k8s-pod:0b0e7e1c-2f4b-4c49-9d3c-aaaaaaaaaaaa");
        let n = NetnsNames::new(
            7,
            Some("k8s-pod:0b0e7e1c-2f4b-4c49-9d3c-aaaaaaaaaaaa"),
            false,
            [],
            Some(&old),
            &[],
        );
        assert_eq!(n.containers.len(), 1);
        assert!(p("k8s-pod:0b0e7e1c-2f4b-4c49-9d3c-aaaaaaaaaaaa").matches_netns(&n));
        assert!(p("containerd:0b0e7e1c-2f4b-4c49-9d3c-aaaaaaaaaaaa").matches_netns(&n));
        assert!(p("k8s-pod:*").matches_netns(&n));
        // An unknown prefix is a plain word, matched against names whole.
        let odd = NetnsNames::new(8, Some("foo:bar"), false, [], None, &[]);
        assert!(p("foo:bar").matches_netns(&odd) && p("FOO:*").matches_netns(&odd));
    }

    #[test]
    fn a_pattern_is_its_lowercase_text() {
        for text in [
            "Web*",
            "DOCKER:0217",
            "Pod:Default/Web",
            "IMAGE:Nginx",
            "pod:a/b/c",
            "net:[12]",
            "\u{212a}",
        ] {
            let pat = p(text);
            assert_eq!(pat.text(), text.to_lowercase());
            assert_eq!(p(pat.text()), pat, "{text}");
        }
        assert_eq!(p("net:[12]").inode(), Some(12));
        assert_eq!(p("18446744073709551616").inode(), None);
    }

    fn any_container() -> impl Strategy<Value = Container> {
        let text = || prop_oneof!["\\PC{0,10}", "[0-9a-f]{12}|[0-9a-f]{64}", any::<String>()];
        (
            prop::sample::select(vec![
                Runtime::Docker,
                Runtime::Podman,
                Runtime::Containerd,
                Runtime::Lxc,
                Runtime::Other,
            ]),
            text(),
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of((prop::option::of(text()), text())),
        )
            .prop_map(|(runtime, id, name, image, pod)| Container {
                runtime,
                id,
                name,
                image,
                pod: pod.map(|(namespace, name)| Pod { namespace, name }),
            })
    }

    fn any_pattern() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "\\PC{0,12}",
            "[a-f0-9*?]{0,14}",
            "(pod|image|docker|k8s-pod|lxc|net|other):[a-z0-9*?/:\\[\\]@.]{0,12}",
        ]
    }

    proptest! {
        #![proptest_config(crate::testing::props(512))]

        /// Never a panic; a pattern's text parses back to the same pattern; a container is
        /// found by its name, whole id and pod, a namespace by its name and inode, whatever
        /// text they hold.
        #[test]
        fn any_pattern_against_any_names(
            pattern in any_pattern(),
            c in any_container(),
            name in prop::option::of(any::<String>()),
            id in any::<u64>(),
        ) {
            let pat = NamePattern::parse(&pattern);
            prop_assert_eq!(NamePattern::parse(pat.text()), pat.clone());
            let n = NetnsNames::new(id, name.as_deref(), false, [pattern.as_str()], Some(&c), &[]);
            let _ = pat.matches_container(&c);
            let _ = pat.matches_netns(&n);
            let _ = n.spellings();
            prop_assert!(NamePattern::parse(&id.to_string()).matches_netns(&n));
            let net = format!("net:[{id}]");
            prop_assert!(NamePattern::parse(&net).matches_netns(&n));
            if let Some(name) = &name {
                prop_assert!(NamePattern::parse(name).matches_netns(&n), "{name:?}");
            }
            // A plain word (no prefix this module reads) finds the container it names.
            for word in c.name.iter().chain([&c.id]) {
                if !word.contains(':') {
                    prop_assert!(NamePattern::parse(word).matches_container(&c), "{word:?}");
                    prop_assert!(Glob::new(word).matches(word));
                }
            }
            if let Some(p) = c.pod.as_ref().filter(|p| !p.name.is_empty() && !p.name.contains('/')
                && p.namespace.as_ref().is_none_or(|ns| !ns.is_empty() && !ns.contains('/')))
            {
                let text = format!("pod:{}", p.label());
                prop_assert!(NamePattern::parse(&text).matches_container(&c), "{text:?}");
            }
        }
    }

    #[test]
    fn spellings_list_names_containers_and_pods_once() {
        let all = namespaces();
        assert_eq!(all[0].spellings(), ["host", "hostc"]);
        assert!(!all[0].owned && all[0].sharing().is_empty());
        assert!(all[1].owned && all[1].sharing().len() == 2);
        assert_eq!(all[1].spellings(), ["web", "side"]);
        assert_eq!(
            all[2].spellings(),
            ["shop", "shop-infra", "api", "pod:shop"]
        );
        assert_eq!(all[3].spellings(), ["4026532500"]);
    }
}
