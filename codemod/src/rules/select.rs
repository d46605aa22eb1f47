//! `tokio::select!`: syn leaves macro bodies as tokens, so this module parses
//! the branches itself (`pattern = future [, if guard] => handler`), keeping
//! the tokens' original spans. A branch waiting on a removed value (the
//! work-available `notified()`) goes; when the one branch left is `_ = fut`
//! without guard, the whole macro becomes `fut.await;` and the branch body.

use std::ops::Range;

use syn::parse::{ParseStream, Parser};
use syn::visit::Visit;
use syn::{Expr, Pat, Token};

use super::bodies::{BodyWalker, Fate};
use super::{span_range, taint, RuleId};
use crate::edit::{Edit, Piece};
use crate::text::{self, Context};

struct Branch {
    pat: Pat,
    future: Expr,
    guard: Option<Expr>,
    handler: Expr,
    /// From the pattern to the end of the handler.
    range: Range<usize>,
}

struct SelectBody {
    branches: Vec<Branch>,
    has_else: bool,
}

fn parse_body(input: ParseStream) -> syn::Result<SelectBody> {
    if input.peek(syn::Ident) && input.peek2(Token![;]) {
        let ident: syn::Ident = input.parse()?;
        if ident != "biased" {
            return Err(syn::Error::new(ident.span(), "expected `biased`"));
        }
        input.parse::<Token![;]>()?;
    }
    let mut branches = Vec::new();
    let mut has_else = false;
    while !input.is_empty() {
        if input.peek(Token![else]) {
            input.parse::<Token![else]>()?;
            input.parse::<Token![=>]>()?;
            input.parse::<Expr>()?;
            has_else = true;
            if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
            }
            continue;
        }
        let pat = Pat::parse_single(input)?;
        input.parse::<Token![=]>()?;
        let future: Expr = input.parse()?;
        let mut guard = None;
        if input.peek(Token![,]) && input.peek2(Token![if]) {
            input.parse::<Token![,]>()?;
            input.parse::<Token![if]>()?;
            guard = Some(input.parse::<Expr>()?);
        }
        input.parse::<Token![=>]>()?;
        let handler: Expr = if input.peek(syn::token::Brace) {
            Expr::Block(input.parse()?)
        } else {
            input.parse()?
        };
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        } else if !input.is_empty() && !matches!(handler, Expr::Block(_)) {
            return Err(input.error("expected `,` after a select! branch"));
        }
        let range = span_range(&pat).start..span_range(&handler).end;
        branches.push(Branch {
            pat,
            future,
            guard,
            handler,
            range,
        });
    }
    Ok(SelectBody { branches, has_else })
}

/// Rewrites one `select!`. `stmt` is the statement range when the macro is
/// a statement (only then can it collapse into plain code).
pub(super) fn rewrite(walker: &mut BodyWalker<'_, '_>, mac: &syn::Macro, stmt: Option<Range<usize>>) -> Fate {
    let Ok(body) = parse_body.parse2(mac.tokens.clone()) else {
        return Fate::Kept;
    };
    let mut dropped = Vec::new();
    let mut kept = Vec::new();
    for branch in &body.branches {
        match walker.env.taint_of(&branch.future, walker.ctx.symbols) {
            Some(taint) => dropped.push((branch, taint.cause().to_string())),
            None => kept.push(branch),
        }
    }
    for branch in &kept {
        walk_branch(walker, branch);
    }
    let Some((_, cause)) = dropped.first().cloned() else {
        return Fate::Kept;
    };
    if kept.is_empty() {
        if let Some(range) = stmt {
            walker
                .ctx
                .remove(range, Context::Standalone, RuleId::SelectBranch, &cause);
            return Fate::Removed;
        }
        return Fate::Kept;
    }
    if let (Some(range), [only]) = (stmt.clone(), kept.as_slice()) {
        if !body.has_else && only.guard.is_none() && matches!(only.pat, Pat::Wild(_)) {
            if let Some(pieces) = collapse(walker.ctx.src(), range.clone(), only) {
                walker
                    .ctx
                    .push(Edit::replace(range, pieces, RuleId::SelectBranch, &cause));
                return Fate::Kept;
            }
        }
    }
    for (branch, cause) in dropped {
        walker
            .ctx
            .remove(branch.range.clone(), Context::ListElement, RuleId::SelectBranch, &cause);
    }
    Fate::Kept
}

fn walk_branch(walker: &mut BodyWalker<'_, '_>, branch: &Branch) {
    walker.visit_expr(&branch.future);
    if let Some(guard) = &branch.guard {
        walker.visit_expr(guard);
    }
    let saved = walker.env.clone();
    // The pattern shadows names of the enclosing scope.
    for name in taint::pat_idents(&branch.pat) {
        walker.env.untaint(&name);
    }
    walker.visit_expr(&branch.handler);
    walker.env = saved;
}

/// `fut.await;` followed by the handler's statements, re-indented to the
/// statement's level. `None` when the handler cannot be expressed so.
fn collapse(src: &str, stmt: Range<usize>, branch: &Branch) -> Option<Vec<Piece>> {
    let base = text::indent_at(src, stmt.start).len();
    let future = span_range(&branch.future);
    let future_dedent = text::indent_at(src, future.start).len().saturating_sub(base);
    let mut pieces = vec![
        Piece::Original {
            range: future,
            dedent: future_dedent,
        },
        Piece::Text(".await;".into()),
    ];
    match &branch.handler {
        Expr::Block(b) => {
            if let (Some(first), Some(last)) = (b.block.stmts.first(), b.block.stmts.last()) {
                let first = span_range(first).start;
                let start = text::leading_comments_start(src, text::line_start(src, first));
                let end = span_range(last).end;
                let dedent = text::indent_at(src, first).len().saturating_sub(base);
                pieces.push(Piece::Text("\n".into()));
                pieces.push(Piece::Original {
                    range: start..end,
                    dedent,
                });
            }
        }
        Expr::Tuple(t) if t.elems.is_empty() => {}
        other => {
            let range = span_range(other);
            if src[range.clone()].contains('\n') {
                return None;
            }
            pieces.push(Piece::Text(format!("\n{}", " ".repeat(base))));
            pieces.push(Piece::Original { range, dedent: 0 });
            pieces.push(Piece::Text(";".into()));
        }
    }
    Some(pieces)
}
