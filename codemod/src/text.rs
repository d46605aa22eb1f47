//! Source-text geometry: widens a syntax node's byte range to what a removal
//! must take with it (its whole lines, the comments directly above it, a
//! trailing comment, its separator). syn keeps no comments or whitespace, so
//! every cut is decided here, from the original text.

use std::ops::Range;

/// Where a removed node sits, which decides what separator goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// An item, statement or anything not in a comma list.
    Standalone,
    /// An element of a comma-separated list (fields, arguments, use names).
    ListElement,
}

pub fn line_start(src: &str, offset: usize) -> usize {
    src[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// The offset just past the line break ending the line of `offset`.
pub fn line_end(src: &str, offset: usize) -> usize {
    src[offset..].find('\n').map_or(src.len(), |i| offset + i + 1)
}

/// The leading whitespace of the line holding `offset`.
pub fn indent_at(src: &str, offset: usize) -> &str {
    let start = line_start(src, offset);
    let rest = &src[start..];
    let len = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    &rest[..len]
}

/// 1-based line number of `offset`. Linear in `offset`: for many lookups
/// in one text, build a [`LineIndex`].
pub fn line_of(src: &str, offset: usize) -> usize {
    memchr::memchr_iter(b'\n', &src.as_bytes()[..offset]).count() + 1
}

/// The offsets where `name` stands in `text` as a whole word, not inside a
/// longer identifier (`notify_work_available` is no mention of
/// `WorkNotification`).
pub fn word_matches<'a>(text: &'a str, name: &'a str) -> impl Iterator<Item = usize> + 'a {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    text.match_indices(name)
        .map(|(at, _)| at)
        .filter(move |&at| !word(text[..at].chars().next_back()) && !word(text[at + name.len()..].chars().next()))
}

/// The line starts of a text, for line numbers in O(log n).
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(src: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', src.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    /// 1-based line number of `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }
}

fn only_space_before(src: &str, offset: usize) -> bool {
    src[line_start(src, offset)..offset].trim().is_empty()
}

/// Skips spaces and tabs forwards.
fn skip_blanks(src: &str, mut at: usize) -> usize {
    let bytes = src.as_bytes();
    while at < bytes.len() && (bytes[at] == b' ' || bytes[at] == b'\t') {
        at += 1;
    }
    at
}

/// If only a separator, blanks and a `//` comment follow `end` on its line,
/// returns the offset past that line's break.
fn rest_of_line_is_trivia(src: &str, end: usize, separator: Option<u8>) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut at = skip_blanks(src, end);
    if let Some(sep) = separator {
        if bytes.get(at) == Some(&sep) {
            at = skip_blanks(src, at + 1);
        }
    }
    if src[at..].starts_with("//") {
        return Some(line_end(src, at));
    }
    match bytes.get(at) {
        None => Some(at),
        Some(b'\n') => Some(at + 1),
        Some(b'\r') if bytes.get(at + 1) == Some(&b'\n') => Some(at + 2),
        _ => None,
    }
}

/// Start of the run of comment lines directly above the line at `start`
/// (no blank line between), or `start` itself.
pub fn leading_comments_start(src: &str, start: usize) -> usize {
    let mut at = start;
    while at > 0 {
        let prev = line_start(src, at - 1);
        let line = src[prev..at].trim();
        let is_comment = line.starts_with("//") || (line.starts_with("/*") && line.ends_with("*/"));
        // `//!` and `/*!` document the enclosing module, not the next item.
        let is_inner_doc = line.starts_with("//!") || line.starts_with("/*!");
        if !is_comment || is_inner_doc {
            break;
        }
        at = prev;
    }
    at
}

/// The range to delete for a node spanning `node` in `context`.
pub fn removal_range(src: &str, node: Range<usize>, context: Context) -> Range<usize> {
    let separator = match context {
        Context::Standalone => Some(b';'),
        Context::ListElement => Some(b','),
    };
    if only_space_before(src, node.start) {
        if let Some(end) = rest_of_line_is_trivia(src, node.end, separator) {
            let start = leading_comments_start(src, line_start(src, node.start));
            return start..end;
        }
    }
    match context {
        Context::Standalone => node.start..skip_blanks(src, node.end),
        Context::ListElement => inline_list_element(src, node),
    }
}

/// An element sharing its line with others: take the following comma and
/// blanks, or, for the last element, the preceding comma and blanks.
fn inline_list_element(src: &str, node: Range<usize>) -> Range<usize> {
    let bytes = src.as_bytes();
    let after = skip_ws(src, node.end);
    if bytes.get(after) == Some(&b',') {
        let next = skip_ws(src, after + 1);
        // `f(a, x,)`: the comma is a trailing one; keep the list closed.
        if matches!(bytes.get(next), Some(b')' | b'}' | b']')) {
            return preceding_comma(src, node.start).unwrap_or(node.start)..after + 1;
        }
        return node.start..skip_blanks(src, after + 1);
    }
    match preceding_comma(src, node.start) {
        Some(comma) => comma..node.end,
        None => node.start..node.end,
    }
}

fn skip_ws(src: &str, mut at: usize) -> usize {
    let bytes = src.as_bytes();
    while at < bytes.len() && bytes[at].is_ascii_whitespace() {
        at += 1;
    }
    at
}

/// The offset of a comma before `start`, separated only by whitespace.
fn preceding_comma(src: &str, start: usize) -> Option<usize> {
    let before = src[..start].trim_end();
    before.ends_with(',').then(|| before.len() - 1)
}

/// The cuts removing the elements of a comma-separated list marked in
/// `removed`. Elements alone on their lines go with their lines; a run of
/// inline elements goes with the commas between it and its neighbours, so
/// that `f(a, x, y)`, `f(x, y, a)` and `f(x, a, y)` all stay well formed.
/// Each cut comes with the indices of the elements it removes.
pub fn list_cuts(src: &str, elements: &[Range<usize>], removed: &[bool]) -> Vec<(Range<usize>, Range<usize>)> {
    let mut cuts = Vec::new();
    let mut i = 0;
    while i < elements.len() {
        if !removed[i] {
            i += 1;
            continue;
        }
        let first = i;
        while i < elements.len() && removed[i] {
            i += 1;
        }
        let last = i - 1;
        let own_lines: Vec<Range<usize>> = (first..=last)
            .map(|k| removal_range(src, elements[k].clone(), Context::ListElement))
            .collect();
        let all_own_lines = own_lines.iter().all(|r| {
            (r.start == 0 || src.as_bytes()[r.start - 1] == b'\n')
                && (r.end == src.len() || src.as_bytes()[r.end - 1] == b'\n')
        });
        if all_own_lines {
            cuts.extend(own_lines.into_iter().zip((first..=last).map(|k| k..k + 1)));
        } else if let Some(next) = elements.get(last + 1) {
            cuts.push((elements[first].start..next.start, first..last + 1));
        } else if first > 0 {
            cuts.push((elements[first - 1].end..elements[last].end, first..last + 1));
        } else {
            cuts.push((
                inline_list_element(src, elements[first].start..elements[last].end),
                first..last + 1,
            ));
        }
    }
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(src: &str, needle: &str, ctx: Context) -> String {
        let start = src.find(needle).unwrap();
        let r = removal_range(src, start..start + needle.len(), ctx);
        format!("{}{}", &src[..r.start], &src[r.end..])
    }

    #[test]
    fn own_line_takes_comments_and_break() {
        let src = "fn f() {\n    a();\n    // tell them\n    n.go(); // now\n    b();\n}\n";
        assert_eq!(
            cut(src, "n.go();", Context::Standalone),
            "fn f() {\n    a();\n    b();\n}\n"
        );
    }

    #[test]
    fn module_docs_are_not_the_first_items_comments() {
        let src = "//! The module.\n//! More.\nuse a::N;\nuse b::B;\n";
        assert_eq!(
            cut(src, "use a::N;", Context::Standalone),
            "//! The module.\n//! More.\nuse b::B;\n"
        );
    }

    #[test]
    fn comment_after_blank_line_stays() {
        let src = "struct S {\n    // about a\n\n    n: N,\n    a: A,\n}\n";
        assert_eq!(
            cut(src, "n: N", Context::ListElement),
            "struct S {\n    // about a\n\n    a: A,\n}\n"
        );
    }

    #[test]
    fn inline_middle_argument() {
        assert_eq!(cut("f(a, n.clone(), b)", "n.clone()", Context::ListElement), "f(a, b)");
    }

    #[test]
    fn inline_last_argument() {
        assert_eq!(cut("f(a, n)", "n", Context::ListElement), "f(a)");
    }

    #[test]
    fn inline_only_argument() {
        assert_eq!(cut("f(n)", "n", Context::ListElement), "f()");
    }

    #[test]
    fn crlf_line_is_taken_whole() {
        let src = "{\r\n    n.go();\r\n    b();\r\n}\r\n";
        assert_eq!(cut(src, "n.go();", Context::Standalone), "{\r\n    b();\r\n}\r\n");
    }

    fn cut_list(src: &str, names: &[&str], removed: &[bool]) -> String {
        let elements: Vec<Range<usize>> = names
            .iter()
            .map(|n| {
                let at = src.find(n).unwrap();
                at..at + n.len()
            })
            .collect();
        let mut out = src.to_string();
        for (r, _) in list_cuts(src, &elements, removed).into_iter().rev() {
            out.replace_range(r, "");
        }
        out
    }

    #[test]
    fn list_runs_keep_commas_valid() {
        assert_eq!(cut_list("{a, x, y}", &["a", "x", "y"], &[false, true, true]), "{a}");
        assert_eq!(cut_list("{x, y, a}", &["x", "y", "a"], &[true, true, false]), "{a}");
        assert_eq!(cut_list("{x, a, y}", &["x", "a", "y"], &[true, false, true]), "{a}");
        assert_eq!(cut_list("(x, y)", &["x", "y"], &[true, true]), "()");
        assert_eq!(
            cut_list("(\n    a,\n    x,\n)", &["a", "x"], &[false, true]),
            "(\n    a,\n)"
        );
    }

    #[test]
    fn line_numbers() {
        assert_eq!(line_of("a\nb\nc", 4), 3);
        let index = LineIndex::new("a\nb\nc");
        for offset in 0..5 {
            assert_eq!(index.line_of(offset), line_of("a\nb\nc", offset), "{offset}");
        }
    }
}
