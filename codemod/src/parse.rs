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
    let ast = syn::parse_file(&source).map_err(|err| {
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
    // syn strips a leading shebang and BOM the same way; the lexer below
    // sees the same text, so the offsets agree.
    let mut idents = Vec::new();
    if let Ok(tokens) = TokenStream::from_str(&source) {
        collect_idents(tokens, &mut idents);
    }
    Ok(ParsedFile { source, ast, idents })
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
