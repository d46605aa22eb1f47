//! What a new diagnostic means for the migration: seeds for the rules, in
//! the original text's coordinates. `None` when the codemod has no answer
//! (a missing field in an initialiser, a type mismatch, a diagnostic on
//! text the codemod itself wrote): the run then fails and lists it.
//!
//! | diagnostic | seed |
//! |---|---|
//! | E0425 cannot find value, E0609 no field, E0560 no such field in a literal, E0599 no associated item | the expression there carries a removed value |
//! | E0599 no method | that link of the chain goes (or the call statement) |
//! | E0412/E0422/E0433/E0531/E0532 cannot find type, failed to resolve | the type is removed run-wide |
//! | E0432 unresolved import | imports of that name go, run-wide |
//! | E0061 wrong argument count | rustc's suggestion (remove the extra argument) |
//! | E0063 missing field in an initialiser | the field is removed run-wide (its only initialiser was a removed value) |
//! | `unused_imports`, `unused_mut` | rustc's machine-applicable suggestion; an unused trait import (no suggestion) goes like any import |
//! | `unused_variables` | a side-effect-free `let` goes; otherwise rustc's `_name` |
//! | `dead_code` | the item goes (a struct or enum as a removed type, with its impls); a field never read is removed run-wide |

use super::check::Diag;
use super::offsets::OffsetMap;
use crate::edit::{Edit, Piece};
use crate::rules::RuleId;
use crate::seeds::FileSeeds;
use crate::symbols::Facts;

/// Seeds derived from one diagnostic.
#[derive(Debug, Default)]
pub struct Derived {
    pub file: FileSeeds,
    pub facts: Facts,
}

/// The seeds for `diag`, reported in `edited` (the checked text) of a file
/// whose original is mapped by `map`.
pub fn derive(diag: &Diag, edited: &str, map: &OffsetMap) -> Option<Derived> {
    let cause = diag.cause();
    let text = |r: &std::ops::Range<usize>| edited.get(r.clone()).unwrap_or("").to_string();
    let at = |r: &std::ops::Range<usize>| map.to_original(r.start);
    let mut out = Derived::default();
    match diag.code.as_str() {
        "E0425" | "E0609" | "E0560" => {
            out.file.tainted.insert(at(&diag.range)?, cause);
        }
        "E0599" if diag.message.starts_with("no method named") => {
            out.file.links.insert(at(&diag.range)?, cause);
        }
        "E0599" => {
            out.file.tainted.insert(at(&diag.range)?, cause);
        }
        "E0412" | "E0422" | "E0433" | "E0531" | "E0532" => {
            let name = last_segment(&text(&diag.range))?;
            if !name.starts_with(|c: char| c.is_ascii_uppercase()) {
                return None;
            }
            out.facts.forced_types.push((name, cause));
        }
        "E0432" => {
            let name = last_segment(&text(&diag.range))?;
            if name.starts_with(|c: char| c.is_ascii_uppercase()) {
                out.facts.forced_types.push((name.clone(), cause.clone()));
            }
            out.facts.forced_imports.push((name, cause));
        }
        "E0063" => {
            // `missing field `x` in initializer of `S``: its only initialiser
            // was a removed value, so the field goes too.
            let (fields, owner) = diag.message.split_once(" in initializer of ")?;
            let owner = backticked(owner).pop()?;
            let owner = owner.rsplit("::").next()?.to_string();
            for field in backticked(fields) {
                out.facts.forced_fields.push((owner.clone(), field, cause.clone()));
            }
        }
        "E0061" => {
            let deletions: Vec<_> = diag.suggestions.iter().filter(|s| s.replacement.is_empty()).collect();
            if deletions.is_empty() {
                return None;
            }
            for s in deletions {
                let range = map.range_to_original(&s.range)?;
                out.file
                    .edits
                    .push(Edit::delete(range, RuleId::Compiler, cause.clone()));
            }
        }
        "unused_imports" if diag.suggestions.is_empty() => {
            for range in &diag.primaries {
                let original = map.range_to_original(range)?;
                out.file.unused_imports.push((original, cause.clone()));
            }
        }
        "unused_imports" | "unused_mut" | "unused_variables" => {
            let fixes: Vec<_> = diag.suggestions.iter().filter(|s| s.machine_applicable).collect();
            if fixes.is_empty() {
                return None;
            }
            for s in fixes {
                let range = map.range_to_original(&s.range)?;
                let pieces = if s.replacement.is_empty() {
                    Vec::new()
                } else {
                    vec![Piece::Text(s.replacement.clone())]
                };
                out.file
                    .edits
                    .push(Edit::replace(range, pieces, RuleId::Compiler, cause.clone()));
            }
            if diag.code == "unused_variables" {
                out.file.unused_bindings.insert(at(&diag.range)?, cause);
            }
        }
        "dead_code" => dead_code(diag, edited, map, &cause, &mut out)?,
        _ => return None,
    }
    Some(out)
}

fn dead_code(diag: &Diag, edited: &str, map: &OffsetMap, cause: &str, out: &mut Derived) -> Option<()> {
    let text = |r: &std::ops::Range<usize>| edited.get(r.clone()).unwrap_or("").to_string();
    let message = diag.message.as_str();
    if message.contains("never read") {
        // `field `x` is never read`: the struct is the secondary span.
        let owner = diag
            .secondary
            .iter()
            .find(|(_, label)| label.contains("in this struct"))
            .map(|(r, _)| text(r))?;
        for range in &diag.primaries {
            out.facts
                .forced_fields
                .push((owner.clone(), text(range), cause.to_string()));
        }
        return Some(());
    }
    if message.contains("variant") {
        return None;
    }
    for range in &diag.primaries {
        let name = text(range);
        if message.starts_with("struct") || message.starts_with("enum") {
            out.facts.forced_types.push((name, cause.to_string()));
        } else {
            out.file.dead.insert(map.to_original(range.start)?, cause.to_string());
        }
    }
    Some(())
}

/// The `quoted` words of a message.
fn backticked(text: &str) -> Vec<String> {
    text.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

/// `crate::notify::SharedNotifier` → `SharedNotifier`.
fn last_segment(path: &str) -> Option<String> {
    let last = path.rsplit("::").next()?.trim();
    let ok = !last.is_empty() && last.chars().all(|c| c.is_alphanumeric() || c == '_');
    ok.then(|| last.to_string())
}
