//! Parsing: a Rust source text becomes a syn tree whose spans map to byte
//! offsets of that text, plus an index of every identifier token (macro
//! bodies included), which rules use to tell whether a name is still used.

use std::ops::Range;
use std::str::FromStr;

use proc_macro2::TokenStream;

/// A parse failure with its position (1-based line, 1-based column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

pub use crate::ident_index::{IdentKind, IdentToken};

/// One parsed source file.
pub struct ParsedFile {
    pub source: String,
    pub ast: syn::File,
    /// Every identifier token of the file, in order.
    pub idents: Vec<IdentToken>,
    /// Line numbers of offsets.
    pub lines: crate::text::LineIndex,
    /// The span table of `source`, for [`ParsedFile::pin_spans`].
    spans: std::rc::Rc<crate::spans::LineTable>,
}

impl ParsedFile {
    /// Makes span lookups on this thread answer for this file's text until
    /// the guard drops, even with other parsed files live beside it.
    pub(crate) fn pin_spans(&self) -> crate::spans::Pin {
        crate::spans::pin(&self.spans)
    }

    /// Tokens named `name` inside `range` that can read a variable (neither a
    /// field or method name nor a label), format-string captures included.
    pub fn value_uses<'a>(&'a self, name: &'a str, range: Range<usize>) -> impl Iterator<Item = &'a IdentToken> + 'a {
        self.idents_named(name, range)
            .filter(|t| matches!(t.kind, IdentKind::Plain | IdentKind::Captured))
    }

    /// Identifier tokens named `name` inside `range`.
    pub fn idents_named<'a>(&'a self, name: &'a str, range: Range<usize>) -> impl Iterator<Item = &'a IdentToken> + 'a {
        self.idents_in(range).filter(move |t| self.name_of(t) == name)
    }

    /// The name of an identifier token of this file.
    pub fn name_of(&self, token: &IdentToken) -> &str {
        &self.source[token.range.clone()]
    }

    /// Identifier tokens inside `range`.
    pub fn idents_in(&self, range: Range<usize>) -> impl Iterator<Item = &IdentToken> + '_ {
        let start = self.idents.partition_point(|t| t.range.start < range.start);
        self.idents[start..]
            .iter()
            .take_while(move |t| t.range.end <= range.end)
    }
}

/// Deepest bracket nesting parsed. syn recurses once or more per level; the
/// run's worker threads have stacks for about twice this (see `lib.rs`).
pub const MAX_NESTING: usize = 10_000;

/// Files from this size on get their identifier index lexed on a thread of
/// its own while this one parses (see `ident_index`).
const PARALLEL_INDEX_BYTES: usize = 1 << 20;

/// Parses `source`. The span positions are only valid on the calling thread
/// until [`forget_spans`] is called.
pub fn parse(source: String) -> Result<ParsedFile, ParseError> {
    check_nesting(&source)?;
    let masked = mask_prelude(&source);
    let text = masked.as_deref().unwrap_or(&source);
    let beside = (source.len() >= PARALLEL_INDEX_BYTES)
        .then(|| parse_beside_index(text, &source))
        .flatten();
    let (ast, spans, idents) = match beside {
        Some(parsed) => parsed?,
        None => parse_here(text, &source)?,
    };
    let lines = crate::text::LineIndex::new(&source);
    Ok(ParsedFile {
        source,
        ast,
        idents,
        lines,
        spans,
    })
}

/// A syn tree, its span table and the identifier index.
type Parsed = (syn::File, std::rc::Rc<crate::spans::LineTable>, Vec<IdentToken>);

/// Lexes `text` once on this thread, parses it and indexes the same
/// tokens (a clone of a token stream shares its trees).
fn parse_here(text: &str, source: &str) -> Result<Parsed, ParseError> {
    let tokens = lex(text)?;
    let spans = crate::spans::register(text);
    let ast = syn::parse2::<syn::File>(tokens.clone()).map_err(located)?;
    Ok((ast, spans, crate::ident_index::index(source, tokens)))
}

/// Parses `text` on this thread while a thread of its own lexes it again
/// for the identifier index; `None` when no thread can be started.
fn parse_beside_index(text: &str, source: &str) -> Option<Result<Parsed, ParseError>> {
    std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("ident-index".into())
            .stack_size(crate::ident_index::LEXER_STACK)
            .spawn_scoped(scope, || crate::ident_index::lex_and_index(text, source))
            .ok()?;
        let parsed = lex(text).and_then(|tokens| {
            let spans = crate::spans::register(text);
            Ok((syn::parse2::<syn::File>(tokens).map_err(located)?, spans))
        });
        let idents = helper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Some(parsed.map(|(ast, spans)| (ast, spans, idents)))
    })
}

/// Refuses a text nested deeper than [`MAX_NESTING`] before any recursion.
fn check_nesting(source: &str) -> Result<(), ParseError> {
    let (depth, at) = max_nesting(source);
    if depth <= MAX_NESTING {
        return Ok(());
    }
    Err(ParseError {
        line: crate::text::line_of(source, at),
        column: at - crate::text::line_start(source, at) + 1,
        message: format!("brackets nested {depth} deep here; more than {MAX_NESTING} levels are not parsed"),
    })
}

fn lex(text: &str) -> Result<TokenStream, ParseError> {
    TokenStream::from_str(text).map_err(|err| located(syn::Error::from(err)))
}

/// A lexing or parsing error with its position.
fn located(err: syn::Error) -> ParseError {
    let start = err.span().start();
    let mut message = err.to_string();
    if message == "cannot parse string into token stream" {
        message = "unbalanced delimiter or invalid token".to_string();
    }
    ParseError {
        line: start.line,
        column: start.column + 1,
        message,
    }
}

/// The deepest nesting of `()`, `[]` and `{}` outside comments, strings
/// and character literals, and the offset where it is first reached.
pub fn max_nesting(src: &str) -> (usize, usize) {
    let b = src.as_bytes();
    let (mut depth, mut max, mut at) = (0usize, 0usize, 0usize);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => i = skip_block_comment(b, i),
            b'"' => i = skip_string(b, i + 1),
            b'r' if raw_string_start(b, i) => i = skip_raw_string(b, i + 1),
            b'\'' => i = skip_char(b, i),
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    (max, at) = (depth, i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    (max, at)
}

/// Returns the offset of the comment's last byte (nested comments count).
fn skip_block_comment(b: &[u8], start: usize) -> usize {
    let (mut i, mut level) = (start + 2, 1);
    while i + 1 < b.len() {
        match (b[i], b[i + 1]) {
            (b'/', b'*') => {
                level += 1;
                i += 1;
            }
            (b'*', b'/') => {
                level -= 1;
                i += 1;
                if level == 0 {
                    return i;
                }
            }
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// From just after the opening quote; returns the closing quote's offset.
fn skip_string(b: &[u8], mut i: usize) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'"' => return i,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// `r"`, `r#"`, `br"` (not an identifier ending in `r`).
fn raw_string_start(b: &[u8], i: usize) -> bool {
    let before = i.checked_sub(1).map(|p| b[p]);
    let after_ident = before.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') && before != Some(b'b');
    let mut j = i + 1;
    while b.get(j) == Some(&b'#') {
        j += 1;
    }
    !after_ident && b.get(j) == Some(&b'"')
}

/// From just after `r`; returns the offset of the closing delimiter's end.
fn skip_raw_string(b: &[u8], mut i: usize) -> usize {
    let mut hashes = 0;
    while b.get(i) == Some(&b'#') {
        hashes += 1;
        i += 1;
    }
    i += 1;
    while i < b.len() {
        if b[i] == b'"' && b[i + 1..].iter().take(hashes).filter(|c| **c == b'#').count() == hashes {
            return i + hashes;
        }
        i += 1;
    }
    b.len()
}

/// A character literal (`'x'`, `'\n'`, `'é'`), or a lifetime, which is
/// left as it is.
fn skip_char(b: &[u8], i: usize) -> usize {
    if b.get(i + 1) == Some(&b'\\') {
        return memchr::memchr(b'\'', &b[i + 3..]).map_or(b.len(), |n| i + 3 + n);
    }
    let width = match b.get(i + 1) {
        Some(c) if *c >= 0xF0 => 4,
        Some(c) if *c >= 0xE0 => 3,
        Some(c) if *c >= 0xC0 => 2,
        _ => 1,
    };
    if b.get(i + 1 + width) == Some(&b'\'') {
        i + 1 + width
    } else {
        i
    }
}

/// syn drops a leading BOM and `#!` line before lexing, which would shift
/// every span. Blanking them out with spaces (same byte length) keeps the
/// spans equal to offsets of the original text.
fn mask_prelude(source: &str) -> Option<String> {
    let bom = if source.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let rest = &source[bom..];
    let shebang = if rest.starts_with("#!") && !rest[2..].trim_start().starts_with('[') {
        rest.find('\n').unwrap_or(rest.len())
    } else {
        0
    };
    if bom + shebang == 0 {
        return None;
    }
    Some(format!("{}{}", " ".repeat(bom + shebang), &source[bom + shebang..]))
}

/// Releases the span bookkeeping of this thread. proc-macro2 keeps every
/// parsed text's positions in a thread-local map that only grows; a long run
/// calls this after each file.
pub fn forget_spans() {
    // Trees kept parsed on this thread (`held`) keep their spans.
    if crate::held::count() == 0 {
        crate::spans::forget();
        proc_macro2::extra::invalidate_current_thread_spans();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_byte_offsets() {
        let src = "// é\nfn f() { notifier.go(); }\n".to_string();
        let file = parse(src).unwrap();
        let go = file.idents.iter().find(|t| file.name_of(t) == "go").unwrap();
        assert_eq!(&file.source[go.range.clone()], "go");
    }

    #[test]
    fn bom_and_shebang_keep_offsets() {
        let src = "\u{feff}#!/usr/bin/env run\nfn f() { notifier.go(); }\n".to_string();
        let file = parse(src).unwrap();
        let go = file.idents.iter().find(|t| file.name_of(t) == "go").unwrap();
        assert_eq!(&file.source[go.range.clone()], "go");
        let item = crate::rules::span_range(&file.ast.items[0]);
        assert_eq!(&file.source[item], "fn f() { notifier.go(); }");
    }

    #[test]
    fn macro_bodies_are_indexed() {
        let file = parse("fn f() { debug!(\"{}\", queue); }".to_string()).unwrap();
        assert_eq!(file.idents_named("queue", 0..file.source.len()).count(), 1);
    }

    #[test]
    fn member_names_and_labels_are_not_value_uses() {
        let src = "fn f() { g(S { queue: req.queue }, queue, x.queue(), ..queue); }".to_string();
        let file = parse(src).unwrap();
        let kinds: Vec<IdentKind> = file
            .idents_named("queue", 0..file.source.len())
            .map(|t| t.kind)
            .collect();
        use IdentKind::*;
        assert_eq!(kinds, [Label, Member, Plain, Member, Plain]);
        assert_eq!(file.value_uses("queue", 0..file.source.len()).count(), 2);
    }

    #[test]
    fn format_captures_are_value_uses() {
        let src = r#"fn f() { debug!("{queue} {{org}} {n:?} {0}", 1); }"#.to_string();
        let file = parse(src).unwrap();
        let whole = 0..file.source.len();
        let queue = file.value_uses("queue", whole.clone()).next().expect("captured");
        assert_eq!(&file.source[queue.range.clone()], "queue");
        assert_eq!(file.value_uses("n", whole.clone()).count(), 1);
        assert_eq!(file.value_uses("org", whole).count(), 0, "an escaped brace");
    }

    /// A file large enough to be indexed on a thread of its own gets the
    /// index the calling thread gives a small one, copy by copy.
    #[test]
    fn a_large_file_is_indexed_as_a_small_one() {
        let unit = "/// doc {queue}\nfn f\u{e9}(x: u8) { g!(\"{queue} \u{fc}\"); a.b(r#\"{c}\"#, S { d: 1 }); }\n";
        let small = parse(unit.to_string()).unwrap();
        let expected: Vec<_> = small.idents.iter().map(|t| (t.range.clone(), t.kind)).collect();
        drop(small);
        forget_spans();
        let copies = PARALLEL_INDEX_BYTES / unit.len() + 1;
        let large = parse(unit.repeat(copies)).unwrap();
        assert_eq!(large.idents.len(), copies * expected.len());
        for (i, token) in large.idents.iter().enumerate() {
            let (range, kind) = &expected[i % expected.len()];
            let shift = (i / expected.len()) * unit.len();
            assert_eq!(
                (token.range.clone(), token.kind),
                (range.start + shift..range.end + shift, *kind)
            );
        }
        assert!(expected.iter().any(|(_, kind)| *kind == IdentKind::Captured));
        drop(large);
        forget_spans();
    }

    #[test]
    fn nesting_counts_brackets_outside_strings_and_comments() {
        let src = "fn f() { g(\"(((\", '(', r#\"[[\"#, x[0]); } // (((( \n/* { /* } */ */ 'a";
        assert_eq!(max_nesting(src).0, 3);
        let deep = format!(
            "fn f() {{ {}1{} }}",
            "(".repeat(MAX_NESTING + 5),
            ")".repeat(MAX_NESTING + 5)
        );
        let err = parse(deep).err().expect("too deep");
        assert!(err.message.contains("more than 10000 levels"), "{err}");
        assert_eq!(err.line, 1);
    }

    #[test]
    fn error_has_position() {
        let err = parse("fn f() {\n    let x = ;\n}\n".to_string()).err().unwrap();
        assert_eq!((err.line, err.column), (2, 13), "{err}");
    }

    #[test]
    fn lex_error_names_the_open_delimiter() {
        let err = parse("fn f() {\n    g(\n".to_string()).err().unwrap();
        assert_eq!(err.message, "unbalanced delimiter or invalid token");
        assert!(err.line <= 2, "{err}");
    }
}
