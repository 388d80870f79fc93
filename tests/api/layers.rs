//! The layers of `src/` (docs/architecture.md) hold: each top-level module
//! imports only the modules its layer may, so no import circle can form.
//! Read from the source's `crate::` paths, comments left out.

use std::collections::BTreeSet;
use std::path::Path;

/// Each module and what it may import from the crate.
const ALLOWED: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("clock", &[]),
    ("error", &[]),
    ("config", &["domain"]),
    ("db", &["config", "domain", "error"]),
    ("store", &["db", "domain"]),
    ("metrics", &["store"]),
    ("auth", &["config", "domain", "error"]),
    (
        "workflows",
        &["auth", "config", "db", "domain", "error", "store"],
    ),
    (
        "jobs",
        &[
            "clock",
            "config",
            "db",
            "domain",
            "error",
            "metrics",
            "store",
            "workflows",
        ],
    ),
    (
        "api",
        &[
            "auth",
            "clock",
            "config",
            "db",
            "domain",
            "error",
            "jobs",
            "metrics",
            "store",
            "web_client",
            "workflows",
        ],
    ),
];

/// The crate modules named by `crate::…` paths in the code of `path` (a
/// file, or a folder read whole), comments left out.
fn imports(path: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let files: Vec<_> = if path.is_dir() {
        walk(path)
    } else {
        vec![path.to_owned()]
    };
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source is readable");
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or_default();
            for (at, _) in code.match_indices("crate::") {
                let name: String = code[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                found.insert(name);
            }
        }
    }
    found
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("folder is readable") {
        let path = entry.expect("entry is readable").path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn each_layer_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut breaches = Vec::new();
    for (module, allowed) in ALLOWED {
        let dir = src.join(module);
        let path = if dir.is_dir() {
            dir
        } else {
            src.join(format!("{module}.rs"))
        };
        for import in imports(&path) {
            if import != *module && !allowed.contains(&import.as_str()) {
                breaches.push(format!("{module} imports {import}"));
            }
        }
    }
    assert!(
        breaches.is_empty(),
        "imports against the layers: {breaches:?}"
    );
}

#[test]
fn the_layer_check_sees_an_import_from_above() {
    // The check must be able to fail: `startup` imports `api`, which no
    // layer below it may.
    let startup = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/startup.rs");
    assert!(imports(&startup).contains("api"));
}
