//! Reading the SVG files the plots write, for the tests that check what they draw:
//! `crates/cli/tests/plot.rs`, and xtask's `tests/sweep.rs` and `src/sweep/plot.rs` tests, which
//! include this file by path (as `tests/e2e/pty.rs` is shared).

// Each includer uses some of these.
#![allow(dead_code)]

use std::collections::HashMap;

/// Every `<tag …>` element of `svg`, as its attributes.
pub fn elements(svg: &str, tag: &str) -> Vec<HashMap<String, String>> {
    let open = format!("<{tag} ");
    svg.match_indices(&open)
        .map(|(at, _)| {
            let rest = &svg[at + open.len()..];
            let body = &rest[..rest.find('>').expect("the tag closes")];
            let mut attrs = HashMap::new();
            for part in body.split("\" ") {
                if let Some((k, v)) = part.split_once("=\"") {
                    attrs.insert(k.trim().to_string(), v.trim_end_matches(['"', '/']).to_string());
                }
            }
            attrs
        })
        .collect()
}

/// The contents of an SVG's `<text>` elements, trimmed.
pub fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| t.split_once('>').and_then(|(_, rest)| rest.split_once("</text>")))
        .map(|(content, _)| content.trim().to_string())
        .collect()
}
