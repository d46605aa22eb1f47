//! What is deliberately left alone: the removed names where they remain
//! after the edits, in comments, string literals, docs or code the rules did
//! not attribute to the notifier.

use std::ops::Range;

use serde::Serialize;

use crate::spec;
use crate::text;

/// Where a remaining mention sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MentionKind {
    Comment,
    String,
    Code,
    Doc,
    /// A comment in an edited file that describes the removed behaviour
    /// without naming a removed item ("wakes idle workers").
    StaleComment,
}

/// One remaining mention of a removed name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mention {
    pub line: usize,
    pub name: String,
    pub kind: MentionKind,
}

/// Mentions in a Rust source outside the `touched` ranges.
pub fn scan_rust(source: &str, touched: &[Range<usize>]) -> Vec<Mention> {
    let touched = Touched::new(touched);
    scan(source, |at| {
        if touched.contains(at) {
            return None;
        }
        Some(classify(source, at))
    })
}

/// Edited ranges, sorted and merged, for lookups in O(log n).
struct Touched(Vec<Range<usize>>);

impl Touched {
    fn new(ranges: &[Range<usize>]) -> Self {
        let mut sorted: Vec<Range<usize>> = ranges.to_vec();
        sorted.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(sorted.len());
        for r in sorted {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        Touched(merged)
    }

    fn contains(&self, at: usize) -> bool {
        let i = self.0.partition_point(|r| r.end <= at);
        self.0.get(i).is_some_and(|r| r.start <= at)
    }
}

/// Comment blocks (runs of comment lines) of an edited file that describe
/// the removed behaviour (see [`spec::may_describe_removed_behaviour`]),
/// outside the `touched` ranges: they may be stale now. Reported at the
/// block's first line.
pub fn stale_comments(source: &str, touched: &[Range<usize>]) -> Vec<Mention> {
    let touched = Touched::new(touched);
    let mut out = Vec::new();
    let mut block: Option<(usize, String)> = None;
    let mut at = 0;
    let mut line_number = 1;
    let flush = |block: &mut Option<(usize, String)>, out: &mut Vec<Mention>| {
        if let Some((line, text)) = block.take() {
            if spec::may_describe_removed_behaviour(&text) {
                out.push(Mention {
                    line,
                    name: text.chars().take(70).collect(),
                    kind: MentionKind::StaleComment,
                });
            }
        }
    };
    while at < source.len() {
        let end = text::line_end(source, at);
        let line = &source[at..end];
        let comment = line.find("//").filter(|&pos| {
            let offset = at + pos;
            !touched.contains(offset) && classify(source, offset + 2) == MentionKind::Comment
        });
        match comment {
            Some(pos) => {
                let body = line[pos..].trim_start_matches('/').trim_start_matches('!').trim();
                match &mut block {
                    Some((_, text)) => {
                        text.push(' ');
                        text.push_str(body);
                    }
                    None => block = Some((line_number, body.to_string())),
                }
                // A trailing comment after code is a block of its own.
                if !line[..pos].trim().is_empty() {
                    flush(&mut block, &mut out);
                }
            }
            None => flush(&mut block, &mut out),
        }
        at = end;
        line_number += 1;
    }
    flush(&mut block, &mut out);
    out
}

/// Mentions in a documentation file.
pub fn scan_doc(source: &str) -> Vec<Mention> {
    scan(source, |_| Some(MentionKind::Doc))
}

fn scan(source: &str, kind_at: impl Fn(usize) -> Option<MentionKind>) -> Vec<Mention> {
    let mut out = Vec::new();
    let lines = text::LineIndex::new(source);
    for name in spec::TRIGGERS {
        for at in text::word_matches(source, name) {
            if let Some(kind) = kind_at(at) {
                out.push(Mention {
                    line: lines.line_of(at),
                    name: name.to_string(),
                    kind,
                });
            }
        }
    }
    out.sort_by_key(|m| m.line);
    out.dedup();
    out
}

/// Comment, string or code, judged from the text of the line before `at`.
fn classify(source: &str, at: usize) -> MentionKind {
    let line = &source[text::line_start(source, at)..at];
    let trimmed = line.trim_start();
    if trimmed.starts_with("//") || trimmed.starts_with("/*") || trimmed.starts_with('*') {
        return MentionKind::Comment;
    }
    let mut in_string = false;
    let mut escaped = false;
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'\\' if in_string => escaped = !escaped,
            b'"' if !escaped => in_string = !in_string,
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return MentionKind::Comment,
            _ => escaped = false,
        }
    }
    if in_string {
        MentionKind::String
    } else {
        MentionKind::Code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_comment_string_code() {
        let src = "// WorkerNotifier\nlet s = \"WorkerNotifier\";\nbeacon.notify_work_available();\n";
        let kinds: Vec<_> = scan_rust(src, &[]).into_iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            vec![MentionKind::Comment, MentionKind::String, MentionKind::Code]
        );
    }

    #[test]
    fn touched_ranges_are_not_mentions() {
        let src = "notifier.notify_work_available(a, b);";
        let everything = 0..src.len();
        assert!(scan_rust(src, std::slice::from_ref(&everything)).is_empty());
    }
}
