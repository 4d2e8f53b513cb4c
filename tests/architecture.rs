//! The layers of `src/`, checked: every `crate::` path in a file names a layer at or below the
//! file's own, so imports only go down, and the top-level modules form no cycle. The binary's
//! own modules (`main.rs`, `cli/`) sit on top and may use everything.
//!
//! A new top-level module must be placed in `LAYERS` (the test fails on an unknown one).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom to top. A module may use its own layer and the ones before it.
const LAYERS: &[&str] = &[
    "base", "os", "patterns", "workload", "datafile", "backend", "observe", "result", "engine", "app", "report",
    "article",
];

/// The binary's modules and the crate root: on top, unchecked.
const TOP: &[&str] = &["main", "lib", "cli"];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == module)
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// A line without its `//` comment (doc comments name paths as prose) and its string literals.
fn code_of(line: &str) -> String {
    let mut out = String::new();
    let mut in_str = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_str => {
                chars.next();
            }
            '"' => in_str = !in_str,
            '/' if !in_str && chars.peek() == Some(&'/') => break,
            c if !in_str => out.push(c),
            _ => {}
        }
    }
    out
}

/// The layers a line names through `crate::`: `crate::x::Item` gives (`x`, `Item`), and a
/// grouped `crate::{x::A, y}` gives each head.
fn crate_paths(code: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `mycrate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let mut segs = part.trim().split("::");
                if let Some(head) = segs.next().filter(|h| !h.is_empty()) {
                    found.push((head.to_string(), segs.next().unwrap_or("").trim().to_string()));
                }
            }
            continue;
        }
        let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
        let head = ident(rest);
        let after = &rest[head.len()..];
        let item = after.strip_prefix("::").map(ident).unwrap_or_default();
        found.push((head, item));
    }
    found
}

#[test]
fn imports_only_go_down_and_top_level_modules_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut upward = Vec::new();
    let mut unknown = BTreeSet::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        let module = first.strip_suffix(".rs").unwrap_or(&first).to_string();
        if TOP.contains(&module.as_str()) {
            continue;
        }
        let Some(own) = rank(&module) else {
            unknown.insert(module.clone());
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for (layer, item) in crate_paths(&code_of(line)) {
                match rank(&layer) {
                    Some(r) if r > own => upward.push(format!(
                        "src/{}:{}: `{module}` imports `crate::{layer}::{item}` from a higher layer",
                        rel.display(),
                        n + 1
                    )),
                    Some(_) => {}
                    // `crate::Error` and other root re-exports are the base layer's.
                    None if layer == "Error" || layer == "Result" => {}
                    None => upward.push(format!(
                        "src/{}:{}: `crate::{layer}` is no layer (place it in LAYERS)",
                        rel.display(),
                        n + 1
                    )),
                }
                if layer != module && rank(&layer).is_some() {
                    edges.entry(module.clone()).or_default().insert(layer);
                }
            }
        }
    }
    assert!(unknown.is_empty(), "top-level modules not placed in a layer: {unknown:?}");
    assert!(upward.is_empty(), "{} upward imports:\n{}", upward.len(), upward.join("\n"));
    // No upward edge means no cycle; checked on its own so the message names one if the order above
    // is ever loosened.
    if let Some(cycle) = find_cycle(&edges) {
        panic!("module cycle: {}", cycle.join(" -> "));
    }
}

/// A cycle in `edges`, as the modules along it, if there is one.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut cycle = path[i..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges.keys().find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

#[test]
fn the_checker_sees_paths_in_every_form() {
    assert_eq!(crate_paths("use crate::engine::Prepared;"), [("engine".to_string(), "Prepared".to_string())]);
    assert_eq!(
        crate_paths("use crate::{report::table, base::error::Error};"),
        [("report".to_string(), "table".to_string()), ("base".to_string(), "error".to_string())]
    );
    assert!(crate_paths("let x = mycrate::report::y;").is_empty());
    assert_eq!(code_of("let s = \"crate::report\"; // crate::app"), "let s = ; ");
    let mut e = BTreeMap::new();
    e.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    e.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(find_cycle(&e).unwrap(), ["a", "b", "a"]);
}
