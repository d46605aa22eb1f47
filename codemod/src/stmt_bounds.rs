//! A statement's byte range from its first and last tokens, read off the
//! tree. syn's `Spanned` prints the statement back into tokens to find
//! them, which costs the statement's size and allocates a copy of every
//! token; the walk asks for the range of every statement of every block.
//! Shapes not handled here answer `None`, and the caller prints.

use std::ops::Range;

use syn::spanned::Spanned;
use syn::{Attribute, Expr, MacroDelimiter, Path, QSelf, Stmt};

use crate::spans::byte_range;

/// The range of a statement that is not an item, when its shape is known.
pub(crate) fn of(stmt: &Stmt) -> Option<Range<usize>> {
    match stmt {
        Stmt::Local(local) => {
            let start = with_attrs(&local.attrs, at(local.let_token.span));
            Some(start..byte_range(local.semi_token.span).end)
        }
        Stmt::Macro(mac) => {
            let start = with_attrs(&mac.attrs, path_start(None, &mac.mac.path));
            let end = match &mac.semi_token {
                Some(semi) => byte_range(semi.span).end,
                None => delimiter_end(&mac.mac.delimiter),
            };
            Some(start..end)
        }
        Stmt::Expr(expr, semi) => {
            let start = start(expr)?;
            let end = match semi {
                Some(semi) => byte_range(semi.span).end,
                None => end(expr)?,
            };
            Some(start..end)
        }
        Stmt::Item(_) => None,
    }
}

fn at(span: proc_macro2::Span) -> usize {
    byte_range(span).start
}

fn after(span: proc_macro2::Span) -> usize {
    byte_range(span).end
}

/// Printing puts the outer attributes first.
fn with_attrs(attrs: &[Attribute], own: usize) -> usize {
    match attrs.iter().find(|a| matches!(a.style, syn::AttrStyle::Outer)) {
        Some(attr) => at(attr.pound_token.span).min(own),
        None => own,
    }
}

fn path_start(qself: Option<&QSelf>, path: &Path) -> usize {
    match (qself, &path.leading_colon, path.segments.first()) {
        (Some(q), _, _) => at(q.lt_token.span),
        (None, Some(colon), _) => at(colon.spans[0]),
        (None, None, Some(first)) => at(first.ident.span()),
        (None, None, None) => at(path.span()),
    }
}

fn path_end(path: &Path) -> Option<usize> {
    let last = path.segments.last()?;
    match &last.arguments {
        syn::PathArguments::None => Some(after(last.ident.span())),
        syn::PathArguments::AngleBracketed(args) => Some(after(args.gt_token.span)),
        syn::PathArguments::Parenthesized(_) => None,
    }
}

fn delimiter_end(delimiter: &MacroDelimiter) -> usize {
    match delimiter {
        MacroDelimiter::Paren(p) => after(p.span.close()),
        MacroDelimiter::Brace(b) => after(b.span.close()),
        MacroDelimiter::Bracket(b) => after(b.span.close()),
    }
}

fn label_or(label: &Option<syn::Label>, token: proc_macro2::Span) -> usize {
    label.as_ref().map_or_else(|| at(token), |l| at(l.name.apostrophe))
}

/// Where an expression's first token starts.
fn start(expr: &Expr) -> Option<usize> {
    let (attrs, own) = match expr {
        Expr::Array(e) => (&e.attrs, at(e.bracket_token.span.open())),
        Expr::Assign(e) => (&e.attrs, start(&e.left)?),
        Expr::Async(e) => (&e.attrs, at(e.async_token.span)),
        Expr::Await(e) => (&e.attrs, start(&e.base)?),
        Expr::Binary(e) => (&e.attrs, start(&e.left)?),
        Expr::Block(e) => (&e.attrs, label_or(&e.label, e.block.brace_token.span.open())),
        Expr::Break(e) => (&e.attrs, at(e.break_token.span)),
        Expr::Call(e) => (&e.attrs, start(&e.func)?),
        Expr::Cast(e) => (&e.attrs, start(&e.expr)?),
        Expr::Continue(e) => (&e.attrs, at(e.continue_token.span)),
        Expr::Field(e) => (&e.attrs, start(&e.base)?),
        Expr::ForLoop(e) => (&e.attrs, label_or(&e.label, e.for_token.span)),
        Expr::If(e) => (&e.attrs, at(e.if_token.span)),
        Expr::Index(e) => (&e.attrs, start(&e.expr)?),
        Expr::Let(e) => (&e.attrs, at(e.let_token.span)),
        Expr::Lit(e) => (&e.attrs, at(e.lit.span())),
        Expr::Loop(e) => (&e.attrs, label_or(&e.label, e.loop_token.span)),
        Expr::Macro(e) => (&e.attrs, path_start(None, &e.mac.path)),
        Expr::Match(e) => (&e.attrs, at(e.match_token.span)),
        Expr::MethodCall(e) => (&e.attrs, start(&e.receiver)?),
        Expr::Paren(e) => (&e.attrs, at(e.paren_token.span.open())),
        Expr::Path(e) => (&e.attrs, path_start(e.qself.as_ref(), &e.path)),
        Expr::Reference(e) => (&e.attrs, at(e.and_token.span)),
        Expr::Return(e) => (&e.attrs, at(e.return_token.span)),
        Expr::Struct(e) => (&e.attrs, path_start(e.qself.as_ref(), &e.path)),
        Expr::Try(e) => (&e.attrs, start(&e.expr)?),
        Expr::Tuple(e) => (&e.attrs, at(e.paren_token.span.open())),
        Expr::Unary(e) => (&e.attrs, at(e.op.span())),
        Expr::Unsafe(e) => (&e.attrs, at(e.unsafe_token.span)),
        Expr::While(e) => (&e.attrs, label_or(&e.label, e.while_token.span)),
        _ => return None,
    };
    Some(with_attrs(attrs, own))
}

/// Where an expression's last token ends.
fn end(expr: &Expr) -> Option<usize> {
    Some(match expr {
        Expr::Array(e) => after(e.bracket_token.span.close()),
        Expr::Assign(e) => end(&e.right)?,
        Expr::Async(e) => after(e.block.brace_token.span.close()),
        Expr::Await(e) => after(e.await_token.span),
        Expr::Binary(e) => end(&e.right)?,
        Expr::Block(e) => after(e.block.brace_token.span.close()),
        Expr::Call(e) => after(e.paren_token.span.close()),
        Expr::Field(e) => match &e.member {
            syn::Member::Named(ident) => after(ident.span()),
            syn::Member::Unnamed(index) => after(index.span),
        },
        Expr::ForLoop(e) => after(e.body.brace_token.span.close()),
        Expr::If(e) => match &e.else_branch {
            Some((_, otherwise)) => end(otherwise)?,
            None => after(e.then_branch.brace_token.span.close()),
        },
        Expr::Index(e) => after(e.bracket_token.span.close()),
        Expr::Lit(e) => after(e.lit.span()),
        Expr::Loop(e) => after(e.body.brace_token.span.close()),
        Expr::Macro(e) => delimiter_end(&e.mac.delimiter),
        Expr::Match(e) => after(e.brace_token.span.close()),
        Expr::MethodCall(e) => after(e.paren_token.span.close()),
        Expr::Paren(e) => after(e.paren_token.span.close()),
        Expr::Path(e) => path_end(&e.path)?,
        Expr::Reference(e) => end(&e.expr)?,
        Expr::Struct(e) => after(e.brace_token.span.close()),
        Expr::Try(e) => after(e.question_token.span),
        Expr::Tuple(e) => after(e.paren_token.span.close()),
        Expr::Unary(e) => end(&e.expr)?,
        Expr::Unsafe(e) => after(e.block.brace_token.span.close()),
        Expr::While(e) => after(e.body.brace_token.span.close()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use syn::visit::Visit;

    use super::*;

    /// Every statement of `text`: (its source, the fast range, the printed range).
    fn statements(text: &str) -> Vec<(String, Option<Range<usize>>, Range<usize>)> {
        struct Collect<'t>(&'t str, Vec<(String, Option<Range<usize>>, Range<usize>)>);
        impl<'ast> Visit<'ast> for Collect<'_> {
            fn visit_stmt(&mut self, s: &'ast Stmt) {
                let printed = byte_range(s.span());
                self.1.push((self.0[printed.clone()].to_string(), of(s), printed));
                syn::visit::visit_stmt(self, s);
            }
        }
        let parsed = crate::parse::parse(text.to_string()).unwrap();
        let mut collect = Collect(text, Vec::new());
        collect.visit_file(&parsed.ast);
        drop(parsed);
        crate::parse::forget_spans();
        collect.1
    }

    #[test]
    fn every_known_shape_is_measured_as_printing_measures_it() {
        let text = r#"fn f() {
    #[allow(unused)] let a = [1, 2];
    x = y;
    async { 1 }.await;
    a + b
    ;
    'l: { 1 }
    loop { break; }
    f(1)(2);
    a as u8;
    'c: for i in 0..1 { continue 'c; }
    if a { b } else if c { d } else { e }
    if a { b }
    a[0];
    a.b.0;
    mac!{ x }
    m![y];
    <T as Tr>::f();
    ::std::mem::drop(1);
    Vec::<u8>::new
    ;
    (1, 2);
    (a);
    &mut *a;
    -!a;
    S { x: 1 };
    g()?;
    unsafe { h() }
    while a { }
    match a { _ => {} }
    return;
    #[cfg(x)] a.b(1).c
    ;
    || 1;
    1
}"#;
        let found = statements(text);
        assert!(found.len() > 30, "{} statements", found.len());
        for (source, fast, printed) in &found {
            if let Some(fast) = fast {
                assert_eq!(fast, printed, "{source}");
            }
        }
        let slow: Vec<&str> = found
            .iter()
            .filter(|(_, fast, _)| fast.is_none())
            .map(|(s, ..)| s.as_str())
            .collect();
        // A closure's start is left to printing.
        assert_eq!(slow, ["|| 1;"]);
    }
}
