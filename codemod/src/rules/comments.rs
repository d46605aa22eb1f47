//! Comments on code the removal changed. syn keeps no `//` comments, so
//! this works on the text: the comment lines directly above an item or
//! statement that stays but lost something (a field, a statement, a link),
//! and the doc comments at its start.
//!
//! - A `//` block that describes the removed push behaviour goes.
//! - In a doc comment, the sentences that name something removed
//!   (`` [`with_notifier`](Self::with_notifier) ``) or describe the removed
//!   behaviour go, and the rest is wrapped again at the block's width; a doc
//!   comment all of whose sentences would go stays (a kept item keeps its
//!   docs) and is listed as stale.
//! - A list item of a module's docs naming something removed goes.
//!
//! Other comments that describe the removed behaviour are listed by
//! [`crate::mentions`] as "comment may be stale".

use std::ops::Range;

use syn::visit::Visit;

use super::{span_range, FileCtx, RuleId};
use crate::edit::{Edit, Piece};
use crate::spec;
use crate::text;

pub(super) fn run(ctx: &mut FileCtx<'_>) {
    let mut anchors = Anchors::default();
    anchors.visit_file(&ctx.file.ast);
    let names = removed_names(ctx);
    for anchor in anchors.0 {
        if changed_inside(ctx, &anchor) {
            comment_block(ctx, &anchor, &names);
        }
    }
    if !ctx.out.edits.is_empty() {
        module_doc_items(ctx, &names);
    }
}

/// Names a comment can mention that the removal took away.
fn removed_names(ctx: &FileCtx<'_>) -> Vec<String> {
    let mut names = ctx.symbols.removed_item_names();
    names.extend(
        [
            spec::NOTIFY_METHOD,
            spec::SUBSCRIPTION_LOOP,
            spec::CONFIG_FLAG,
            spec::NOTIFY_HANDLE,
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    names
}

/// Did an edit change the node (inside it, or rewriting it whole)?
fn changed_inside(ctx: &FileCtx<'_>, node: &Range<usize>) -> bool {
    ctx.out.edits.within(node).next().is_some()
}

/// Items, impl items and statements, by range.
#[derive(Default)]
struct Anchors(Vec<Range<usize>>);

impl<'ast> Visit<'ast> for Anchors {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        self.0.push(span_range(item));
        syn::visit::visit_item(self, item);
    }
    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        self.0.push(span_range(item));
        syn::visit::visit_impl_item(self, item);
    }
    fn visit_stmt(&mut self, stmt: &'ast syn::Stmt) {
        self.0.push(span_range(stmt));
        syn::visit::visit_stmt(self, stmt);
    }
}

/// One comment line: its range (with the line break) and kind.
struct Line {
    range: Range<usize>,
    doc: bool,
    /// The text after `//`, `///` or `//!`, trimmed.
    body: String,
}

/// The comment lines directly above a node and at its start (its docs).
fn comment_lines(src: &str, node: &Range<usize>) -> Vec<Line> {
    let first_line = text::line_start(src, node.start);
    if !src[first_line..node.start].trim().is_empty() {
        return Vec::new();
    }
    let mut at = text::leading_comments_start(src, first_line);
    let mut out = Vec::new();
    while at < node.end {
        let end = text::line_end(src, at);
        let line = src[at..end].trim();
        let doc = line.starts_with("///") && !line.starts_with("////");
        if !line.starts_with("//") || line.starts_with("//!") {
            break;
        }
        let body = line.trim_start_matches('/').trim().to_string();
        out.push(Line {
            range: at..end,
            doc,
            body,
        });
        at = end;
    }
    out
}

fn comment_block(ctx: &mut FileCtx<'_>, node: &Range<usize>, names: &[String]) {
    let lines = comment_lines(ctx.src(), node);
    // Comments a removal already took with it.
    if lines.first().is_some_and(|l| ctx.out.edits.removes(&l.range)) {
        return;
    }
    // A `select!` that lost its notification branch: any talk of waking or
    // notifying above it is about that branch.
    let lost_branch = ctx.out.edits.within(node).any(|e| e.rule == RuleId::SelectBranch);
    let mut i = 0;
    while i < lines.len() {
        let doc = lines[i].doc;
        let run_end = (i..lines.len()).find(|&j| lines[j].doc != doc).unwrap_or(lines.len());
        let run = &lines[i..run_end];
        if doc {
            doc_run(ctx, run, names);
        } else {
            let text: Vec<&str> = run.iter().map(|l| l.body.as_str()).collect();
            let text = text.join(" ");
            let about_removed = if lost_branch {
                spec::mentions_wake_or_notify(&text)
            } else {
                spec::describes_removed_behaviour(&text)
            };
            if about_removed || mentions_any(&text, names) {
                let range = run[0].range.start..run[run.len() - 1].range.end;
                ctx.push(Edit::delete(range, RuleId::DeadCode, "comment on removed behaviour"));
            }
        }
        i = run_end;
    }
}

/// Drops the sentences of a doc comment that talk about removed things.
fn doc_run(ctx: &mut FileCtx<'_>, run: &[Line], names: &[String]) {
    // Only the first paragraph: later ones may hold code blocks and lists.
    let paragraph_end = run.iter().position(|l| l.body.is_empty()).unwrap_or(run.len());
    let paragraph = &run[..paragraph_end];
    if paragraph.is_empty() {
        return;
    }
    let text: Vec<&str> = paragraph.iter().map(|l| l.body.as_str()).collect();
    let text = text.join(" ");
    let sentences = split_sentences(&text);
    let kept: Vec<&str> = sentences
        .iter()
        .copied()
        .filter(|s| !(mentions_any(s, names) || spec::describes_removed_behaviour(s)))
        .collect();
    if kept.len() == sentences.len() || kept.is_empty() {
        return;
    }
    let src = ctx.src();
    let first = &paragraph[0];
    let indent = text::indent_at(src, first.range.start).to_string();
    let width = paragraph
        .iter()
        .map(|l| src[l.range.clone()].trim_end().len())
        .max()
        .unwrap_or(80);
    let wrapped = wrap(&kept.join(" "), &format!("{indent}/// "), width);
    let range = first.range.start..paragraph[paragraph.len() - 1].range.end;
    ctx.push(Edit::replace(
        range,
        vec![Piece::Text(wrapped)],
        RuleId::DeadCode,
        "comment on removed behaviour",
    ));
}

/// A module's docs (`//!` at the top of the file): a list item naming a
/// removed item goes, with its continuation lines.
fn module_doc_items(ctx: &mut FileCtx<'_>, names: &[String]) {
    let src = ctx.src();
    let mut at = 0;
    let mut cuts = Vec::new();
    while at < src.len() {
        let end = text::line_end(src, at);
        let line = src[at..end].trim();
        if !line.starts_with("//!") {
            break;
        }
        let body = line.trim_start_matches("//!").trim_start();
        if (body.starts_with("- ") || body.starts_with("* ")) && mentions_any(body, names) {
            let mut item_end = end;
            // Continuation lines are indented under the item.
            while item_end < src.len() {
                let next_end = text::line_end(src, item_end);
                let next = src[item_end..next_end].trim().trim_start_matches("//!");
                if next.starts_with("  ") && !next.trim().is_empty() {
                    item_end = next_end;
                } else {
                    break;
                }
            }
            cuts.push(at..item_end);
            at = item_end;
            continue;
        }
        at = end;
    }
    for cut in cuts {
        ctx.push(Edit::delete(cut, RuleId::DeadCode, "documentation of a removed item"));
    }
}

/// Does `text` name any of `names` as a whole word?
fn mentions_any(text: &str, names: &[String]) -> bool {
    names.iter().any(|name| text::word_matches(text, name).next().is_some())
}

/// Sentences of a paragraph: split after `.`, `!` or `?` followed by a space
/// (not inside backticks, brackets or parentheses).
fn split_sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut code = false;
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'`' => code = !code,
            b'[' | b'(' if !code => depth += 1,
            b']' | b')' if !code => depth -= 1,
            b'.' | b'!' | b'?' if !code && depth <= 0 && bytes.get(i + 1) == Some(&b' ') => {
                out.push(text[start..=i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Greedy wrap of `text` into lines starting with `prefix`, at most `width`
/// wide (a longer word gets a line of its own).
fn wrap(text: &str, prefix: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && prefix.len() + line.len() + 1 + word.len() > width {
            out.push_str(&format!("{prefix}{line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!("{prefix}{line}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_outside_links_and_code() {
        let text = "Builds a [`Service`]. Without [`with_notifier`](Self::with_notifier), workers poll. See `a. b`.";
        assert_eq!(
            split_sentences(text),
            [
                "Builds a [`Service`].",
                "Without [`with_notifier`](Self::with_notifier), workers poll.",
                "See `a. b`."
            ]
        );
    }

    #[test]
    fn wraps_at_the_width() {
        assert_eq!(wrap("aa bb cc", "/// ", 10), "/// aa bb\n/// cc\n");
    }
}
