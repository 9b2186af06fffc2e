//! The nsfs mounts of `/proc/self/mountinfo`: namespaces kept alive by a bind mount.

use crate::collect::linux::procfs::ProcRoot;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

/// One nsfs mount from mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsfsMount {
    /// `net`, `mnt`, `uts`, … (the part before `:[` of the root field).
    pub ns_type: String,
    pub inode: u64,
    pub mount_point: PathBuf,
}

pub(super) fn read_mountinfo(root: &ProcRoot, warnings: &mut Vec<String>) -> Vec<NsfsMount> {
    let path = root.path().join("self/mountinfo");
    match std::fs::read(&path) {
        Ok(bytes) => parse_mountinfo_nsfs_any(&bytes),
        Err(e) => {
            warnings.push(format!(
                "{}: {e} (bind-mounted namespaces outside {} not found)",
                path.display(),
                "the ip netns directory"
            ));
            Vec::new()
        }
    }
}

/// The network namespaces bind-mounted somewhere, from the text of `/proc/PID/mountinfo`
/// (proc(5)): `(namespace inode, mount point)` for each line whose filesystem type is `nsfs`
/// and whose root is `net:[INODE]`, in file order.
///
/// A line reads `ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE
/// SUPER_OPTIONS`; the optional fields (`shared:3`, `master:1`, …) end at the `-` separator.
/// Paths escape space, tab, newline and backslash as octal (`\040`, `\011`, `\012`, `\134`),
/// decoded here; mount points need not be UTF-8. Malformed or truncated lines are skipped.
pub fn parse_mountinfo_nsfs(text: impl AsRef<[u8]>) -> Vec<(u64, PathBuf)> {
    parse_mountinfo_nsfs_any(text.as_ref())
        .into_iter()
        .filter(|m| m.ns_type == "net")
        .map(|m| (m.inode, m.mount_point))
        .collect()
}

/// The lines of a mountinfo text that are nsfs mounts, the only ones discovery reads (a
/// recording keeps these).
pub fn nsfs_lines(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        if parse_mountinfo_line(line).is_some() {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
    }
    out
}

/// Every nsfs mount, of any namespace type.
fn parse_mountinfo_nsfs_any(text: &[u8]) -> Vec<NsfsMount> {
    text.split(|&b| b == b'\n')
        .filter_map(parse_mountinfo_line)
        .collect()
}

fn parse_mountinfo_line(line: &[u8]) -> Option<NsfsMount> {
    let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    // Fields 1-6 are mandatory; the separator can only come after them.
    let sep = fields.iter().skip(6).position(|f| *f == b"-")? + 6;
    // FSTYPE SOURCE SUPER_OPTIONS must all be there, so that a line cut short (a read racing
    // with mount changes) is not taken for a complete one.
    let [fstype, _source, _super_options] = fields.get(sep + 1..)? else {
        return None;
    };
    if *fstype != b"nsfs" {
        return None;
    }
    let root = std::str::from_utf8(fields.get(3)?).ok()?;
    let (ns_type, rest) = root.split_once(":[")?;
    let inode = rest.strip_suffix(']')?;
    if ns_type.is_empty() || inode.is_empty() || !inode.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let inode = inode.parse().ok()?;
    let mount_point = fields.get(4).filter(|f| !f.is_empty())?;
    Some(NsfsMount {
        ns_type: ns_type.to_owned(),
        inode,
        mount_point: PathBuf::from(OsString::from_vec(unescape_octal(mount_point))),
    })
}

/// Decode the kernel's `\NNN` octal escapes (`seq_path`/`mangle_path` in `fs/seq_file.c`);
/// a backslash not followed by three octal digits of a byte value is kept as is.
fn unescape_octal(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\'
            && let Some(&[a, b, c]) = s.get(i + 1..i + 4)
            && [a, b, c].iter().all(|d| (b'0'..=b'7').contains(d))
        {
            let v = u32::from(a - b'0') * 64 + u32::from(b - b'0') * 8 + u32::from(c - b'0');
            if let Ok(byte) = u8::try_from(v) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_lines() {
        let text = "\
22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw
49 42 0:4 net:[4026532247] /run/netns/bsman rw shared:3 - nsfs nsfs rw
50 42 0:4 net:[4026532316] /run/docker/netns/1a2b3c rw - nsfs nsfs rw
51 42 0:4 mnt:[4026532500] /run/mntns/x rw shared:4 - nsfs nsfs rw
52 42 0:4 net:[4026532317] /var/run/my\\040ns\\011tab\\134back rw shared:5 master:2 propagate_from:1 - nsfs nsfs rw
";
        assert_eq!(
            parse_mountinfo_nsfs(text),
            vec![
                (4026532247, PathBuf::from("/run/netns/bsman")),
                (4026532316, PathBuf::from("/run/docker/netns/1a2b3c")),
                (4026532317, PathBuf::from("/var/run/my ns\ttab\\back")),
            ]
        );
        // bytes, not UTF-8
        assert_eq!(
            parse_mountinfo_nsfs(b"1 2 0:4 net:[7] /x\xff\\040y rw - nsfs nsfs rw\n"),
            vec![(7, PathBuf::from(OsString::from_vec(b"/x\xff y".to_vec())))]
        );
        // the mount of another type keeps its type internally
        let any = parse_mountinfo_nsfs_any(text.as_bytes());
        assert_eq!(any.len(), 4);
        assert_eq!(any[2].ns_type, "mnt");
    }

    #[test]
    fn mountinfo_malformed() {
        for bad in [
            "",
            "\n\n",
            "49 42 0:4 net:[4026532247] /run/netns/x rw shared:3 - nsfs",
            "49 42 0:4 net:[4026532247] /run/netns/x rw shared:3 - nsfs nsfs",
            "49 42 0:4 net:[4026532247] /run/netns/x rw - nsfs nsfs rw extra",
            "49 42 0:4 net:[4026532247] /run/netns/x rw shared:3 -",
            "49 42 0:4 net:[4026532247] /run/netns/x rw shared:3",
            "49 42 0:4 net:[4026532247] /run/netns/x",
            "49 42 0:4 net:[4026532247]",
            "- nsfs",
            "1 2 3 - nsfs nsfs rw",
            "49 42 0:4 net:[] /x rw - nsfs nsfs rw",
            "49 42 0:4 net:[12 /x rw - nsfs nsfs rw",
            "49 42 0:4 net:[+12] /x rw - nsfs nsfs rw",
            "49 42 0:4 net:[99999999999999999999999] /x rw - nsfs nsfs rw",
            "49 42 0:4 :[12] /x rw - nsfs nsfs rw",
            "49 42 0:4 / /x rw - tmpfs tmpfs rw",
            "49 42 0:4 net:[12] /x rw - tmpfs nsfs rw",
            "49 42 0:4 net:[12]  rw - nsfs nsfs rw",
            "\u{0}\\\\\\0 - - - nsfs",
        ] {
            assert_eq!(parse_mountinfo_nsfs(bad), vec![], "{bad:?}");
        }
        // truncated in the middle of a line: the complete lines still count
        let text = "49 42 0:4 net:[5] /a rw - nsfs nsfs rw\n50 42 0:4 net:[6] /b rw - ns";
        assert_eq!(parse_mountinfo_nsfs(text), vec![(5, PathBuf::from("/a"))]);
        // a mount point that happens to be "-": the separator is searched from field 7 on
        assert_eq!(
            parse_mountinfo_nsfs("1 2 0:4 net:[9] - rw - nsfs nsfs rw"),
            vec![(9, PathBuf::from("-"))]
        );
    }

    #[test]
    fn octal_unescape() {
        assert_eq!(unescape_octal(b"a\\040b"), b"a b");
        assert_eq!(unescape_octal(b"\\134\\012"), b"\\\n");
        assert_eq!(unescape_octal(b"\\777"), b"\\777"); // not a byte
        assert_eq!(unescape_octal(b"\\04"), b"\\04"); // truncated
        assert_eq!(unescape_octal(b"\\089"), b"\\089");
        assert_eq!(unescape_octal(b"end\\"), b"end\\");
        assert_eq!(unescape_octal(b""), b"");
    }

    #[test]
    fn only_nsfs_lines_are_kept() {
        let text = b"36 35 98:0 / /mnt rw - ext3 /dev/root rw\n\
                     400 25 0:4 net:[4026532283] /run/netns/blue rw shared:5 - nsfs nsfs rw\n\
                     401 25 0:4 mnt:[4026532290] /run/m rw - nsfs nsfs rw\n";
        let kept = nsfs_lines(text);
        assert_eq!(
            String::from_utf8_lossy(&kept),
            "400 25 0:4 net:[4026532283] /run/netns/blue rw shared:5 - nsfs nsfs rw\n\
             401 25 0:4 mnt:[4026532290] /run/m rw - nsfs nsfs rw\n"
        );
        assert_eq!(
            parse_mountinfo_nsfs_any(&kept),
            parse_mountinfo_nsfs_any(text)
        );
    }
}
