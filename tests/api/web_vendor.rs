//! The web client's third-party files are what `web/vendor/vendor.toml` says they are.
//!
//! `scripts/vendor-web` writes the vendored modules, their licences, `web/app.css` and the list;
//! these tests check that the list still tells the truth (a file edited by hand no longer matches
//! its checksum), that nothing unlisted sits in `web/vendor/`, and that none of GOV.UK's branding
//! (its typeface, crown, crest, logo, icons) is in `web/`. No server is needed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct List {
    file: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    /// Relative to `web/`.
    path: String,
    package: String,
    version: String,
    license: String,
    source: String,
    upstream_sha256: Option<String>,
    changes: String,
    sha256: String,
    compiler: Option<String>,
}

/// The licences we accept for files shipped in the binary, as SPDX ids.
const LICENCES: &[&str] = &["MIT", "Apache-2.0", "ISC", "BSD-2-Clause", "BSD-3-Clause"];

/// GOV.UK Frontend 6.6.0's `dist/govuk/assets/`: the GDS Transport font, the crest, the crown
/// favicon and icons, none of which this service may ship, under any name.
const GOVUK_ASSETS: &[(&str, &str)] = &[
    (
        "fonts/bold-affa96571d-v2.woff",
        "5a2a925237869837d1afdd0a70ffded0717296d2d25885865d19c0da7f3ece5d",
    ),
    (
        "fonts/bold-b542beb274-v2.woff2",
        "06eba01b1af0f4014b484c711771fef1db30becbf0edf481498da1e4958d3d47",
    ),
    (
        "fonts/light-94a07e06a1-v2.woff2",
        "eedfb3c2f7945caebd0b15522b59d6c7f01be17fecd6102fd76452ad4042f7b0",
    ),
    (
        "fonts/light-f591b13f7d-v2.woff",
        "091aa3008e57dfeea899e33243c1d4ea95bab658f1cc2191679193bcbfac0b7b",
    ),
    (
        "images/favicon.ico",
        "dcd99aa1df9a5d4f631e65921c911ca6def7775a1c49caad7d01511adb62557f",
    ),
    (
        "images/favicon.svg",
        "2ed10a5597b0c04baaec02a251b5b91bbe53999b9a07a6c63ece15e1cf56c529",
    ),
    (
        "images/govuk-crest.svg",
        "7d2c3ed8618f9e43cfe993c3e1a2986000f28f43489b537b75900fefd10437a2",
    ),
    (
        "images/govuk-icon-180.png",
        "8fe4e0991c067785d04f38e9b1dc1d7cf4e0b29725300bf9cc9ba62c0b399054",
    ),
    (
        "images/govuk-icon-192.png",
        "63a6c99cae48ef4e846c820f2005707ec019ad37851aa03724c9364be3a71136",
    ),
    (
        "images/govuk-icon-512.png",
        "058107019d7cba9ea6da801a2ad8ca6abc2e40778f6ecc0383c19c3a42a8ea3a",
    ),
    (
        "images/govuk-icon-mask.svg",
        "3746775d944f1f2ec68414a66f327414cc4287343a0ac0672f72f08db1fdc474",
    ),
    (
        "images/govuk-opengraph-image.png",
        "ec769b07c1e4564230a4e1f7400d8b7cb2c8694b113f988d51d989cfbf855caa",
    ),
    (
        "manifest.json",
        "856f5697a33517c1dab7031a94b35da47f4e61abb258f53cead3291fafa3fbb9",
    ),
];

/// Text that only GOV.UK's branding contains (compared in lower case): its typeface's name, its
/// crest image, and a piece of the Tudor crown drawn by its logo macro.
const BRANDING_TEXT: &[&str] = &[
    "gds transport",
    "govuk-crest",
    "govuk-icon",
    "_tudorcrown",
    r#"cx="20" cy="17.6" r="3.7""#,
];

fn web() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web")
}

fn list() -> List {
    let path = web().join("vendor/vendor.toml");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every file under `dir`, recursively, as paths relative to `web/`.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(web()).unwrap();
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// What `web/vendor-src/package.json` pins each package to.
fn pins() -> BTreeMap<String, String> {
    let path = web().join("vendor-src/package.json");
    let package: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    package["dependencies"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, version)| (name.clone(), version.as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn every_listed_file_has_the_recorded_checksum() {
    let list = list();
    assert!(!list.file.is_empty());
    for entry in &list.file {
        let path = web().join(&entry.path);
        let bytes = fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "web/vendor/vendor.toml lists {} but it cannot be read: {e}",
                entry.path
            )
        });
        assert_eq!(
            sha256_hex(&bytes),
            entry.sha256,
            "web/{} is not the file web/vendor/vendor.toml records: never edit vendored files \
             by hand; run scripts/vendor-web",
            entry.path
        );
    }
}

#[test]
fn every_file_in_the_vendor_folder_is_listed_once() {
    let list = list();
    let mut listed = BTreeSet::new();
    for entry in &list.file {
        assert!(
            listed.insert(entry.path.as_str()),
            "{} is listed twice",
            entry.path
        );
    }
    for file in files_under(&web().join("vendor")) {
        if file == "vendor/vendor.toml" {
            continue;
        }
        assert!(
            listed.contains(file.as_str()),
            "web/{file} is not in web/vendor/vendor.toml: vendor files only through \
             scripts/vendor-web"
        );
    }
    assert!(listed.contains("app.css"), "web/app.css is not listed");
}

#[test]
fn every_entry_names_its_version_licence_and_source() {
    let list = list();
    let pins = pins();
    let mut licensed = BTreeSet::new();
    for entry in &list.file {
        assert!(!entry.source.is_empty(), "{}: no source", entry.path);
        assert!(!entry.changes.is_empty(), "{}: no changes", entry.path);
        assert!(
            LICENCES.contains(&entry.license.as_str()),
            "{}: licence {:?} is not one of the SPDX ids we accept ({LICENCES:?})",
            entry.path,
            entry.license
        );
        assert_eq!(
            pins.get(&entry.package),
            Some(&entry.version),
            "{}: {} {} is not the version web/vendor-src/package.json pins",
            entry.path,
            entry.package,
            entry.version
        );
        for checksum in [Some(&entry.sha256), entry.upstream_sha256.as_ref()]
            .into_iter()
            .flatten()
        {
            assert!(
                checksum.len() == 64
                    && checksum
                        .chars()
                        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
                "{}: {checksum:?} is not a SHA-256 in hex",
                entry.path
            );
        }
        if entry.path.ends_with(".LICENSE") {
            licensed.insert(entry.package.as_str());
        }
    }
    for entry in &list.file {
        assert!(
            licensed.contains(entry.package.as_str()),
            "{} has no licence file in web/vendor/",
            entry.package
        );
    }
    let css = list.file.iter().find(|e| e.path == "app.css").unwrap();
    assert_eq!(css.package, "govuk-frontend");
    let sass = css
        .compiler
        .as_deref()
        .expect("app.css: the compiler is recorded");
    assert_eq!(
        Some(sass),
        pins.get("sass").map(|v| format!("sass {v}")).as_deref(),
        "app.css: compiled with another sass than the one pinned"
    );
}

#[test]
fn the_modules_import_only_vendored_files() {
    for file in files_under(&web().join("vendor")) {
        if !file.ends_with(".mjs") {
            continue;
        }
        let text = fs::read_to_string(web().join(&file)).unwrap();
        for keyword in ["from", "import"] {
            for (at, _) in text.match_indices(keyword) {
                let rest = text[at + keyword.len()..].trim_start();
                let Some(specifier) = rest.strip_prefix('"').or_else(|| rest.strip_prefix('\''))
                else {
                    continue;
                };
                let specifier = &specifier[..specifier.find(['"', '\'']).unwrap()];
                assert!(
                    specifier.starts_with("./"),
                    "web/{file} imports {specifier:?}: a browser resolves no bare specifier \
                     without an import map, and we load nothing from elsewhere"
                );
                let target = web().join(&file).parent().unwrap().join(specifier);
                assert!(
                    target.is_file(),
                    "web/{file} imports {specifier}, which is not there"
                );
            }
        }
        assert!(
            !text.contains("sourceMappingURL"),
            "web/{file} points at a source map we do not ship"
        );
    }
}

#[test]
fn the_stylesheet_loads_no_font_and_no_file_we_do_not_ship() {
    let css = fs::read_to_string(web().join("app.css")).unwrap();
    assert!(
        !css.contains("@font-face"),
        "web/app.css declares a font: compile GOV.UK Frontend with a system font stack"
    );
    let version = list()
        .file
        .into_iter()
        .find(|e| e.path == "app.css")
        .unwrap()
        .version;
    assert!(
        css.contains(&format!("--govuk-frontend-version: \"{version}\"")),
        "web/app.css was not compiled from govuk-frontend {version}"
    );
    let mut rest = css.as_str();
    while let Some(at) = rest.find("url(") {
        rest = &rest[at + 4..];
        let end = rest.find(')').expect("url( is closed");
        let target = rest[..end].trim().trim_matches(['"', '\'']);
        rest = &rest[end..];
        if target.starts_with("data:") {
            continue;
        }
        let relative = target.trim_start_matches('/');
        assert!(
            !target.contains("//") && web().join(relative).is_file(),
            "web/app.css loads {target}, which web/ does not have"
        );
    }
}

#[test]
fn nothing_in_web_carries_govuk_branding() {
    for file in files_under(&web()) {
        let name = file.rsplit('/').next().unwrap().to_lowercase();
        for word in [
            "crest",
            "crown",
            "gds-transport",
            "govuk-logo",
            "govuk-icon",
        ] {
            assert!(
                !name.contains(word),
                "web/{file}: GOV.UK's branding is for GOV.UK services only"
            );
        }
        for extension in [".woff", ".woff2", ".ttf", ".otf", ".eot"] {
            assert!(
                !name.ends_with(extension),
                "web/{file}: the web client uses system fonts, and GOV.UK's typeface is not ours \
                 to ship"
            );
        }
        let bytes = fs::read(web().join(&file)).unwrap();
        let checksum = sha256_hex(&bytes);
        if let Some((asset, _)) = GOVUK_ASSETS.iter().find(|(_, sum)| *sum == checksum) {
            panic!("web/{file} is GOV.UK Frontend's {asset}, which is for GOV.UK services only");
        }
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        for needle in BRANDING_TEXT {
            assert!(
                !text.contains(needle),
                "web/{file} contains {needle:?}: GOV.UK's typeface, crown and crest are for \
                 GOV.UK services only"
            );
        }
    }
}
