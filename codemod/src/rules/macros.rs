//! Macro statements and arguments. syn leaves macro bodies as tokens; this
//! module splits them at top-level commas (keeping the tokens' original
//! spans) and decides per element:
//! - log macros (`tracing::info!`, `debug!`, …): a field whose value carries a
//!   removed value goes on its own (`woke = n.notify_work_available(..),`)
//!   when other fields stay; the whole statement goes when nothing but the
//!   message would be left, or when a format argument or the flag is read;
//! - assertion and print macros: the whole statement goes when any argument
//!   reads a removed value;
//! - list macros (`tokio::join!`, `vec!`): removed elements go one by one.

use std::ops::Range;

use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::parse::Parser;
use syn::Expr;

use super::bodies::{BodyWalker, Fate};
use super::taint::Taint;
use super::{span_range, RuleId};
use crate::spec;
use crate::text::Context;

/// One comma-separated element of a macro body.
struct Element {
    range: Range<usize>,
    kind: ElementKind,
    /// The value expression, when it parses.
    value: Option<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ElementKind {
    /// `name = value`, `name = %value`, `%name`, `?name`: a tracing field.
    Field,
    /// A string literal: the message or format string.
    Message,
    /// Anything else: a format argument, `target: ..`, a level.
    Other,
}

/// A macro used as a statement.
pub(super) fn statement(walker: &mut BodyWalker<'_, '_>, mac: &syn::Macro, range: Range<usize>) -> Fate {
    let Some(name) = mac.path.segments.last().map(|s| s.ident.to_string()) else {
        return Fate::Kept;
    };
    if name == "select" {
        return super::select::rewrite(walker, mac, Some(range));
    }
    if spec::LIST_MACROS.contains(&name.as_str()) {
        return list(walker, mac, Some(range));
    }
    if spec::LOG_MACROS.contains(&name.as_str()) {
        return log(walker, mac, range);
    }
    if spec::ASSERT_MACROS.contains(&name.as_str()) {
        let elements = split(mac.tokens.clone());
        if let Some(taint) = elements
            .iter()
            .find_map(|e| e.value.as_ref().and_then(|v| walker.find_taint(v)))
        {
            walker
                .ctx
                .remove(range, Context::Standalone, rule_of(&taint), taint.cause());
            return Fate::Removed;
        }
        // `assert!(text.contains("enable_notifications: true"))`: an
        // assertion on the printed form of a removed field.
        if let Some(field) = literal_naming_removed_field(mac.tokens.clone()) {
            walker
                .ctx
                .remove(range, Context::Standalone, RuleId::ConfigFlag, &field);
            return Fate::Removed;
        }
    }
    Fate::Kept
}

/// A macro inside an expression (`let hooks = vec![..];`).
pub(super) fn expression(walker: &mut BodyWalker<'_, '_>, mac: &syn::Macro) {
    let Some(name) = mac.path.segments.last().map(|s| s.ident.to_string()) else {
        return;
    };
    if name == "select" {
        super::select::rewrite(walker, mac, None);
    } else if spec::LIST_MACROS.contains(&name.as_str()) {
        list(walker, mac, None);
    }
}

fn rule_of(taint: &Taint) -> RuleId {
    if *taint == Taint::Flag {
        RuleId::ConfigFlag
    } else {
        RuleId::DeadCode
    }
}

fn log(walker: &mut BodyWalker<'_, '_>, mac: &syn::Macro, range: Range<usize>) -> Fate {
    let elements = split(mac.tokens.clone());
    let taints: Vec<Option<Taint>> = elements
        .iter()
        .map(|e| e.value.as_ref().and_then(|v| walker.find_taint(v)))
        .collect();
    let Some(first) = taints.iter().flatten().next().cloned() else {
        return Fate::Kept;
    };
    let only_fields = elements
        .iter()
        .zip(&taints)
        .all(|(e, t)| t.is_none() || e.kind == ElementKind::Field);
    let flag = taints.iter().flatten().any(|t| *t == Taint::Flag);
    let fields_left = elements
        .iter()
        .zip(&taints)
        .any(|(e, t)| t.is_none() && e.kind == ElementKind::Field);
    if flag || !only_fields || !fields_left {
        walker
            .ctx
            .remove(range, Context::Standalone, rule_of(&first), first.cause());
        return Fate::Removed;
    }
    let ranges: Vec<Range<usize>> = elements.iter().map(|e| e.range.clone()).collect();
    let marks: Vec<Option<(RuleId, String)>> = taints
        .iter()
        .map(|t| t.as_ref().map(|t| (RuleId::DeadCode, t.cause().to_string())))
        .collect();
    walker.ctx.remove_list(&ranges, &marks);
    Fate::Kept
}

fn list(walker: &mut BodyWalker<'_, '_>, mac: &syn::Macro, stmt: Option<Range<usize>>) -> Fate {
    let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
    let Ok(args) = parser.parse2(mac.tokens.clone()) else {
        return Fate::Kept;
    };
    let marks: Vec<Option<(RuleId, String)>> = args
        .iter()
        .map(|a| {
            walker
                .env
                .taint_of(a, walker.ctx.symbols)
                .map(|t| (rule_of(&t), t.cause().to_string()))
        })
        .collect();
    if marks.iter().all(Option::is_none) {
        for arg in &args {
            syn::visit::Visit::visit_expr(walker, arg);
        }
        return Fate::Kept;
    }
    if let (Some(range), true) = (stmt, marks.iter().all(Option::is_some)) {
        let (rule, cause) = marks[0].clone().expect("all marked");
        walker.ctx.remove(range, Context::Standalone, rule, &cause);
        return Fate::Removed;
    }
    let ranges: Vec<Range<usize>> = args.iter().map(span_range).collect();
    walker.ctx.remove_list(&ranges, &marks);
    for (arg, mark) in args.iter().zip(&marks) {
        if mark.is_none() {
            syn::visit::Visit::visit_expr(walker, arg);
        }
    }
    Fate::Kept
}

/// A string literal anywhere in the tokens naming a removed field as a whole
/// word (`"enable_notifications: true"`).
fn literal_naming_removed_field(tokens: TokenStream) -> Option<String> {
    for token in tokens {
        match token {
            TokenTree::Group(g) => {
                if let Some(found) = literal_naming_removed_field(g.stream()) {
                    return Some(found);
                }
            }
            TokenTree::Literal(lit) => {
                let text = lit.to_string();
                let found = spec::REMOVED_FIELD_NAMES
                    .iter()
                    .find(|name| crate::text::word_matches(&text, name).next().is_some());
                if let Some(name) = found {
                    return Some(name.to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits a macro body at its top-level commas.
fn split(tokens: TokenStream) -> Vec<Element> {
    let mut out = Vec::new();
    let mut current: Vec<TokenTree> = Vec::new();
    for token in tokens {
        if matches!(&token, TokenTree::Punct(p) if p.as_char() == ',') {
            out.extend(element(std::mem::take(&mut current)));
        } else {
            current.push(token);
        }
    }
    out.extend(element(current));
    out
}

fn element(tokens: Vec<TokenTree>) -> Option<Element> {
    let first = tokens.first()?;
    let last = tokens.last()?;
    let range = crate::spans::byte_range(first.span()).start..crate::spans::byte_range(last.span()).end;
    let sigil = |t: Option<&TokenTree>| matches!(t, Some(TokenTree::Punct(p)) if matches!(p.as_char(), '%' | '?'));
    let is_eq = |t: Option<&TokenTree>| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == '=' && p.spacing() == Spacing::Alone);
    // `name = value` / `a.b = value` (a `==` is a comparison, not a field).
    let eq = tokens.iter().position(|t| is_eq(Some(t)));
    let named = eq.is_some_and(|at| {
        at > 0
            && tokens[..at]
                .iter()
                .all(|t| matches!(t, TokenTree::Ident(_)) || matches!(t, TokenTree::Punct(p) if p.as_char() == '.'))
    });
    let (kind, value_tokens): (ElementKind, Vec<TokenTree>) = if named {
        let mut rest: Vec<TokenTree> = tokens[eq.unwrap_or(0) + 1..].to_vec();
        if sigil(rest.first()) {
            rest.remove(0);
        }
        (ElementKind::Field, rest)
    } else if sigil(Some(first)) {
        (ElementKind::Field, tokens[1..].to_vec())
    } else if tokens.len() == 1 && matches!(first, TokenTree::Literal(l) if l.to_string().starts_with('"')) {
        (ElementKind::Message, tokens.clone())
    } else {
        (ElementKind::Other, tokens.clone())
    };
    let value = syn::parse2::<Expr>(value_tokens.into_iter().collect()).ok();
    Some(Element { range, kind, value })
}
