//! The identifier index of a parsed file: every identifier token (macro
//! bodies included) with its byte range and what its neighbours make it,
//! plus the variables format strings capture. Rules use it to tell whether
//! a name is still used.
//!
//! The index is read off the token stream syn parses. A large file is lexed
//! a second time on a thread of its own for it ([`lex_and_index`]), while
//! the calling thread parses: tokens cannot cross threads, and lexing is
//! cheaper than walking the tokens after the parse on the one thread.

use std::ops::Range;
use std::str::FromStr;

use proc_macro2::{Spacing, TokenStream, TokenTree};

/// Stack of the thread that lexes a large file for its index: the walk
/// recurses once per bracket level (at most `parse::MAX_NESTING`).
pub(crate) const LEXER_STACK: usize = 64 * 1024 * 1024;

/// An identifier token and where it is.
#[derive(Debug, Clone)]
pub struct IdentToken {
    /// The token's bytes in the source; its name is the text there
    /// ([`ParsedFile::name_of`]).
    pub range: Range<usize>,
    pub kind: IdentKind,
}

/// What an identifier token can be, told from its neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentKind {
    /// Anything else: a path, a variable, a type, a shorthand field.
    Plain,
    /// After a single `.`: a field or method name (`req.queue`, `.clone()`).
    Member,
    /// Before a single `:`: a struct literal's field label, or a binding
    /// with its type (`queue: req.queue`, `let x: T`).
    Label,
    /// A variable captured by a format string (`"{queue}"`, `"{queue:?}"`).
    Captured,
}

/// The index of `tokens`, lexed from `source` (or from its masked copy:
/// same offsets) on this thread.
pub(crate) fn index(source: &str, tokens: TokenStream) -> Vec<IdentToken> {
    // About one identifier per 8 bytes of Rust: sized once, the vector
    // is not copied while it grows (it is large for a large file).
    let mut idents = Vec::with_capacity(source.len() / 8);
    collect_idents(source, tokens, &mut idents);
    idents
}

/// Lexes `text` (`source` with its prelude masked) on this thread, which
/// must hold no other spans (a thread of its own), and indexes it. A text
/// that does not lex gives an empty index: the parse reports the error.
pub(crate) fn lex_and_index(text: &str, source: &str) -> Vec<IdentToken> {
    let Ok(tokens) = TokenStream::from_str(text) else {
        return Vec::new();
    };
    crate::spans::register(text);
    let idents = index(source, tokens);
    crate::spans::forget();
    proc_macro2::extra::invalidate_current_thread_spans();
    idents
}

/// Appends the identifiers of `tokens` (groups included, depth first), each
/// classified by the tokens just before and after it in its group.
fn collect_idents(source: &str, tokens: TokenStream, out: &mut Vec<IdentToken>) {
    let as_punct = |t: &TokenTree| match t {
        TokenTree::Punct(p) => Some((p.as_char(), p.spacing())),
        _ => None,
    };
    // The two tokens before the current one, when they are punctuation.
    let (mut before, mut before_that) = (None, None);
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match &token {
            TokenTree::Ident(ident) => {
                let after = tokens.peek().and_then(as_punct);
                let kind = if before.is_some_and(|(c, _)| c == '.') && before_that.is_none_or(|(c, _)| c != '.') {
                    IdentKind::Member
                } else if after == Some((':', Spacing::Alone)) && before.is_none_or(|(c, _)| c != ':') {
                    IdentKind::Label
                } else {
                    IdentKind::Plain
                };
                out.push(IdentToken {
                    range: crate::spans::byte_range(ident.span()),
                    kind,
                });
            }
            TokenTree::Group(group) => collect_idents(source, group.stream(), out),
            TokenTree::Literal(literal) => {
                let range = crate::spans::byte_range(literal.span());
                let text = literal.to_string();
                // A doc comment's literal is made up: its text is not there.
                if source.get(range.clone()) == Some(text.as_str()) {
                    captures(&text, range.start, out);
                }
            }
            TokenTree::Punct(_) => {}
        }
        before_that = before;
        before = as_punct(&token);
    }
}

/// The variables a string literal captures as `{name}` or `{name:spec}`
/// (format strings); `{{` is an escaped brace.
fn captures(literal: &str, start: usize, out: &mut Vec<IdentToken>) {
    if !(literal.starts_with('"') || literal.starts_with("r\"") || literal.starts_with("r#")) {
        return;
    }
    let bytes = literal.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' {
            if bytes.get(i + 1) == Some(&b'{') {
                i += 2;
                continue;
            }
            let name_start = i + 1;
            let mut end = name_start;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                end += 1;
            }
            let is_ident = end > name_start && !bytes[name_start].is_ascii_digit();
            if is_ident && matches!(bytes.get(end), Some(b'}' | b':')) {
                out.push(IdentToken {
                    range: start + name_start..start + end,
                    kind: IdentKind::Captured,
                });
            }
            i = end;
        } else {
            i += 1;
        }
    }
}
