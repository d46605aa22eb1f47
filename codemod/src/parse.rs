//! Parsing: a Rust source text becomes a syn tree whose spans map to byte
//! offsets of that text, plus an index of every identifier token (macro
//! bodies included), which rules use to tell whether a name is still used.

use std::ops::Range;
use std::str::FromStr;

use proc_macro2::{TokenStream, TokenTree};

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

/// An identifier token and where it is.
#[derive(Debug, Clone)]
pub struct IdentToken {
    pub name: String,
    pub range: Range<usize>,
}

/// One parsed source file.
pub struct ParsedFile {
    pub source: String,
    pub ast: syn::File,
    /// Every identifier token of the file, in order.
    pub idents: Vec<IdentToken>,
}

impl ParsedFile {
    /// Identifier tokens named `name` inside `range`.
    pub fn idents_named<'a>(&'a self, name: &'a str, range: Range<usize>) -> impl Iterator<Item = &'a IdentToken> + 'a {
        let start = self.idents.partition_point(|t| t.range.start < range.start);
        self.idents[start..]
            .iter()
            .take_while(move |t| t.range.end <= range.end)
            .filter(move |t| t.name == name)
    }
}

/// Parses `source`. The span positions are only valid on the calling thread
/// until [`forget_spans`] is called.
pub fn parse(source: String) -> Result<ParsedFile, ParseError> {
    let masked = mask_prelude(&source);
    let text = masked.as_deref().unwrap_or(&source);
    let ast = syn::parse_file(text).map_err(|err| {
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
    })?;
    let mut idents = Vec::new();
    if let Ok(tokens) = TokenStream::from_str(text) {
        collect_idents(tokens, &mut idents);
    }
    Ok(ParsedFile { source, ast, idents })
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

fn collect_idents(tokens: TokenStream, out: &mut Vec<IdentToken>) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => out.push(IdentToken {
                name: ident.to_string(),
                range: ident.span().byte_range(),
            }),
            TokenTree::Group(group) => collect_idents(group.stream(), out),
            _ => {}
        }
    }
}

/// Releases the span bookkeeping of this thread. proc-macro2 keeps every
/// parsed text's positions in a thread-local map that only grows; a long run
/// calls this after each file.
pub fn forget_spans() {
    proc_macro2::extra::invalidate_current_thread_spans();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_byte_offsets() {
        let src = "// é\nfn f() { notifier.go(); }\n".to_string();
        let file = parse(src).unwrap();
        let go = file.idents.iter().find(|t| t.name == "go").unwrap();
        assert_eq!(&file.source[go.range.clone()], "go");
    }

    #[test]
    fn bom_and_shebang_keep_offsets() {
        let src = "\u{feff}#!/usr/bin/env run\nfn f() { notifier.go(); }\n".to_string();
        let file = parse(src).unwrap();
        let go = file.idents.iter().find(|t| t.name == "go").unwrap();
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
