//! `.proto` files under `--rpc remove`: the `SubscribeToNotifications` rpc
//! and the `SubscriptionRequest` / `WorkAvailableEvent` messages go, with
//! their comments. A small scanner finds them (skipping comments and string
//! literals); the cuts go through the same edit engine as Rust files.

use crate::edit::{Edit, EditSet};
use crate::rules::RuleId;
use crate::spec;
use crate::text::{self, Context};
use crate::transform::EditRecord;

/// The rewritten text and its edits; `None` when nothing matched.
pub fn remove_rpc(source: &str) -> Option<(String, Vec<EditRecord>)> {
    let code = code_mask(source);
    let mut edits = EditSet::new();
    for (keyword, name) in
        std::iter::once(("rpc", spec::PROTO_RPC)).chain(spec::PROTO_MESSAGES.iter().map(|m| ("message", *m)))
    {
        for start in find_declarations(source, &code, keyword, name) {
            let Some(end) = declaration_end(source, &code, start) else {
                continue;
            };
            let range = text::removal_range(source, start..end, Context::Standalone);
            let _ = edits.insert(Edit::delete(range, RuleId::Proto, name));
        }
    }
    if edits.is_empty() {
        return None;
    }
    let records = edits
        .top_level()
        .iter()
        .map(|e| EditRecord {
            start_line: text::line_of(source, e.range.start),
            end_line: text::line_of(source, e.range.end.saturating_sub(1)),
            rule: e.rule,
            cause: e.cause.clone(),
        })
        .collect();
    Some((edits.render(source), records))
}

/// `true` for each byte that is code (not in a comment or string).
fn code_mask(source: &str) -> Vec<bool> {
    let bytes = source.as_bytes();
    let mut mask = vec![true; bytes.len()];
    let mut i = 0;
    while i < bytes.len() {
        let skip_to = if bytes[i..].starts_with(b"//") {
            source[i..].find('\n').map_or(bytes.len(), |n| i + n)
        } else if bytes[i..].starts_with(b"/*") {
            source[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 2)
        } else if bytes[i] == b'"' || bytes[i] == b'\'' {
            let quote = bytes[i];
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != quote {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            (j + 1).min(bytes.len())
        } else {
            i + 1
        };
        if skip_to > i + 1 || !mask[i] {
            for m in &mut mask[i..skip_to] {
                *m = false;
            }
        }
        i = skip_to;
    }
    mask
}

/// Offsets of `keyword name` declarations in code.
fn find_declarations(source: &str, code: &[bool], keyword: &str, name: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for (at, _) in source.match_indices(keyword) {
        if !code[at] || (at > 0 && is_word(source.as_bytes()[at - 1])) {
            continue;
        }
        let rest = &source[at + keyword.len()..];
        let trimmed = rest.trim_start();
        if rest.len() == trimmed.len() || !trimmed.starts_with(name) {
            continue;
        }
        let after = trimmed.as_bytes().get(name.len()).copied().unwrap_or(b' ');
        if !is_word(after) {
            out.push(at);
        }
    }
    out
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The end of a declaration: its `;`, or its matching `}` (a following `;`
/// included).
fn declaration_end(source: &str, code: &[bool], start: usize) -> Option<usize> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    for i in start..bytes.len() {
        if !code[i] {
            continue;
        }
        match bytes[i] {
            b';' if depth == 0 => return Some(i + 1),
            b'{' => depth += 1,
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    let after = skip_blanks(source, i + 1);
                    return Some(if bytes.get(after) == Some(&b';') {
                        after + 1
                    } else {
                        i + 1
                    });
                }
            }
            _ => {}
        }
    }
    None
}

fn skip_blanks(source: &str, at: usize) -> usize {
    at + source[at..].len() - source[at..].trim_start_matches([' ', '\t']).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROTO: &str = "service S {\n  rpc Poll(A) returns (B);\n  // Push notifications.\n  rpc SubscribeToNotifications(SubscriptionRequest) returns (stream WorkAvailableEvent);\n}\n\n// Subscribe.\nmessage SubscriptionRequest {\n  string org_id = 1; // {\n}\n\nmessage WorkAvailableEvent {\n  string queue = 1;\n}\n\nmessage A {}\n";

    #[test]
    fn removes_rpc_and_messages_with_comments() {
        let (out, edits) = remove_rpc(PROTO).unwrap();
        assert_eq!(out, "service S {\n  rpc Poll(A) returns (B);\n}\n\nmessage A {}\n");
        assert_eq!(edits.len(), 3);
    }

    #[test]
    fn comments_are_masked() {
        assert!(code_mask("a // rpc SubscribeToNotifications\n")[2..10]
            .iter()
            .all(|c| !c));
    }

    #[test]
    fn nothing_to_do() {
        assert!(remove_rpc("message A {}\n").is_none());
    }
}
