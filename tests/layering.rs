//! The layering the README's Architecture section draws, kept true: no module under
//! `src/` refers to a module in a layer above its own (`crate::x` paths and `use` lines).

use std::path::{Path, PathBuf};

/// Lower numbers sit lower. Keep in step with the README.
const LAYERS: &[(&str, u8)] = &[
    // foundations: no knowledge of requests, stores or AWS
    ("error", 0),
    ("time", 0),
    ("ids", 0),
    ("digest", 0),
    ("text", 0),
    ("output", 0),
    ("input", 0),
    // the domain, pure: records and rules, the policy engine, settings, flags
    ("config", 1),
    ("grant", 1),
    ("policy", 1),
    ("request", 1),
    ("access", 1),
    ("cli", 1),
    // adapters: persistence, AWS, webhooks, text for people
    ("store", 2),
    ("aws", 2),
    ("notify", 2),
    ("render", 2),
    // one file per subcommand
    ("commands", 3),
    // one run of the binary
    ("app", 4),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
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

/// The top-level module names a file refers to through `crate::`.
fn referenced(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
        // `use crate::{a, b}` forms.
        if let Some(i) = code.find("crate::{") {
            let group = &code[i + "crate::{".len()..];
            for part in group.split([',', '}']) {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        }
    }
    out
}

#[test]
fn no_module_reaches_up() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default()
            .trim_end_matches(".rs")
            .to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let own = layer(&top).unwrap_or_else(|| {
            panic!("src/{top} is in no layer: add it to LAYERS here and to the README")
        });
        let text = std::fs::read_to_string(&file).expect("read");
        for name in referenced(&text) {
            if let Some(l) = layer(&name) {
                if l > own {
                    wrong.push(format!(
                        "{} (layer {own}) refers to crate::{name} (layer {l})",
                        rel.display()
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn the_readme_draws_the_same_layers() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    for (module, _) in LAYERS {
        assert!(
            readme.contains(&format!("src/{module}")),
            "the README's Architecture section does not place src/{module}"
        );
    }
}
