//! The layers only point down (house-style.md): a module may use the ones below it, never
//! one above it or beside it. This test reads every source file and fails on an import that
//! breaks the rule, naming the file and the two layers.
//!
//! Leaves: `text` (sanitizing), then `user_files`, `signals` and `units`, which use only
//! `text`. Then `model` (plain data); `collect` and `analyze`, each on `model` alone; `output`,
//! and beside it `query` (the filter language: it reads the model and may read analysis
//! results, and sits below `ui` and `cli` so that both can use it) and `session` (collect →
//! history → judge); `export`; `ui`; `cli`; `commands`. `lib.rs`, `main.rs`, `testing.rs`
//! (test builders) and test modules are not layers.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

/// Each layer and its height: a module may use only layers strictly lower.
const LAYERS: [(&str, i32); 14] = [
    ("text", -2),
    ("user_files", -1),
    ("signals", -1),
    ("units", -1),
    ("model", 0),
    ("collect", 1),
    ("analyze", 1),
    ("query", 2),
    ("output", 2),
    ("session", 2),
    ("export", 3),
    ("ui", 4),
    ("cli", 5),
    ("commands", 6),
];

fn height(layer: &str) -> Option<i32> {
    LAYERS.iter().find(|(n, _)| *n == layer).map(|&(_, h)| h)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its test module (tests may reach anywhere).
fn program_part(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// The top-level modules a piece of code names through `crate::`.
fn crate_refs(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a::x, b::{y, z}}`: the first name of each top-level item.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(first_name(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.push(first_name(&item));
        } else {
            out.push(first_name(rest));
        }
    }
    out.retain(|n| !n.is_empty());
    out
}

fn first_name(s: &str) -> String {
    s.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

#[test]
fn layers_only_point_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 50, "found the sources");
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs").to_string())
            .expect("a name");
        let is_test_file = rel.file_name().is_some_and(|n| n == "tests.rs")
            || rel.components().any(|c| c.as_os_str() == "tests");
        if is_test_file || ["lib", "main", "testing"].contains(&top.as_str()) {
            continue;
        }
        let own = height(&top).unwrap_or_else(|| panic!("{}: not in LAYERS", rel.display()));
        let text = std::fs::read_to_string(file).expect("read");
        for used in crate_refs(program_part(&text)) {
            if used == top || used == "testing" {
                continue;
            }
            match height(&used) {
                Some(h) if h < own => {}
                Some(_) => wrong.push(format!("{} ({top}) uses {used}", rel.display())),
                None => wrong.push(format!("{}: crate::{used} is in no layer", rel.display())),
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "imports that do not point down:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn the_scan_sees_grouped_and_plain_imports() {
    assert_eq!(
        crate_refs(
            "use crate::model::{A, B};\nuse crate::{output::x, ui::{y, z}};\ncrate::text::clean(s)"
        ),
        vec!["model", "output", "ui", "text"]
    );
    assert_eq!(
        program_part("use crate::a;\n#[cfg(test)]\nmod tests {\n use crate::b;\n}"),
        "use crate::a;\n"
    );
}

/// Views do not import each other: what two views share lives in `cells`, `lines`, `data`
/// or `detail` (or in `widgets/`).
#[test]
fn views_do_not_import_each_other() {
    const VIEWS: [&str; 8] = [
        "sockets",
        "ports",
        "processes",
        "users",
        "findings",
        "host",
        "changes",
        "whatif",
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui/views");
    let mut wrong = Vec::new();
    for view in VIEWS {
        let text = std::fs::read_to_string(dir.join(format!("{view}.rs"))).expect("a view file");
        for other in VIEWS.iter().filter(|o| **o != view) {
            for path in [format!("super::{other}::"), format!("views::{other}::")] {
                if program_part(&text).contains(&path) {
                    wrong.push(format!("{view}.rs uses {path}"));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "views importing views:\n  {}",
        wrong.join("\n  ")
    );
}
