//! Items: the removed types and their `impl` blocks, fields of a removed
//! type or name, the subscription loop method, the config flag's builder
//! setter, parameters of a removed type; then each function body goes to
//! [`super::bodies`].

use syn::{ImplItem, Item};

use super::taint::{Env, Taint};
use super::{bodies, rpc, span_range, FileCtx, RpcMode, RuleId};
use crate::spec;
use crate::symbols::type_name;
use crate::text::Context;

pub(super) fn run(ctx: &mut FileCtx<'_>) {
    let file = ctx.file;
    for item in &file.ast.items {
        walk_item(ctx, item);
    }
}

/// The compiler's cause when it reported the item named `ident` unused.
fn reported_dead(ctx: &FileCtx<'_>, ident: &syn::Ident) -> Option<String> {
    ctx.seeds.dead.get(&span_range(ident).start).cloned()
}

/// Handles one item and everything inside it.
pub(super) fn walk_item(ctx: &mut FileCtx<'_>, item: &Item) {
    let name = match item {
        Item::Fn(f) => Some(&f.sig.ident),
        Item::Const(c) => Some(&c.ident),
        Item::Static(s) => Some(&s.ident),
        Item::Struct(s) => Some(&s.ident),
        Item::Enum(e) => Some(&e.ident),
        Item::Type(t) => Some(&t.ident),
        _ => None,
    };
    if let Some(cause) = name.and_then(|n| reported_dead(ctx, n)) {
        ctx.remove(span_range(item), Context::Standalone, RuleId::Compiler, &cause);
        return;
    }
    match item {
        Item::Struct(s) => {
            let name = s.ident.to_string();
            if ctx.symbols.is_removed_type(&name) {
                ctx.remove(span_range(s), Context::Standalone, RuleId::NotifierType, &name);
                return;
            }
            let marks: Vec<Option<(RuleId, String)>> = s
                .fields
                .iter()
                .map(|field| {
                    let ident = field.ident.as_ref()?;
                    let cause = ctx.symbols.removed_field(&name, &ident.to_string())?;
                    Some((RuleId::of_field(cause), cause.to_string()))
                })
                .collect();
            let elements: Vec<_> = s.fields.iter().map(span_range).collect();
            ctx.remove_list(&elements, &marks);
        }
        Item::Enum(e) if ctx.symbols.is_removed_type(&e.ident.to_string()) => {
            ctx.remove(
                span_range(e),
                Context::Standalone,
                RuleId::NotifierType,
                &e.ident.to_string(),
            );
        }
        Item::Type(t) => {
            if let Some(found) = ctx.symbols.removed_type_in(&t.ty) {
                ctx.remove(span_range(t), Context::Standalone, RuleId::NotifierType, found);
            }
        }
        Item::Impl(i) => walk_impl(ctx, i),
        Item::Fn(f) => {
            if let Some(cause) = ctx.symbols.producer("", &f.sig.ident.to_string()) {
                let cause = cause.to_string();
                ctx.remove(span_range(f), Context::Standalone, RuleId::RemovedFn, &cause);
                return;
            }
            walk_fn(ctx, None, false, &f.sig, &f.block);
            if is_test(&f.attrs) && (lost_its_checks(ctx, &f.block) || turns_flag_on(&f.block)) {
                let cause = ctx
                    .out
                    .edits
                    .cause_of(&inner_edit(ctx, &f.block))
                    .unwrap_or_default()
                    .to_string();
                ctx.remove(span_range(f), Context::Standalone, RuleId::DeadCode, &cause);
            }
        }
        Item::Mod(m) => {
            if let Some((_, items)) = &m.content {
                for item in items {
                    walk_item(ctx, item);
                }
            }
        }
        _ => {}
    }
}

/// `#[test]`, `#[tokio::test]`, `#[sqlx::test]`, …
fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| a.path().segments.last().is_some_and(|s| s.ident == "test"))
}

/// A test whose every assertion was removed (or, without assertions,
/// whose every statement was) tested the notifier only.
fn lost_its_checks(ctx: &FileCtx<'_>, body: &syn::Block) -> bool {
    struct Checks(Vec<std::ops::Range<usize>>);
    impl<'ast> syn::visit::Visit<'ast> for Checks {
        fn visit_macro(&mut self, mac: &'ast syn::Macro) {
            if mac.path.segments.last().is_some_and(|s| {
                let name = s.ident.to_string();
                name.starts_with("assert") || name.starts_with("debug_assert")
            }) {
                self.0.push(span_range(mac));
            }
        }
    }
    let mut checks = Checks(Vec::new());
    syn::visit::Visit::visit_block(&mut checks, body);
    let removed = |r: &std::ops::Range<usize>| ctx.out.edits.removes(r);
    if !checks.0.is_empty() {
        return checks.0.iter().all(removed);
    }
    !body.stmts.is_empty() && body.stmts.iter().all(|s| removed(&span_range(s)))
}

/// A test that turns the removed flag on (`.enable_notifications(true)`,
/// `enable_notifications: true`) tests the removed behaviour.
fn turns_flag_on(body: &syn::Block) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            self.0 |= m.method == spec::CONFIG_FLAG && m.args.iter().any(is_true);
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_field_value(&mut self, f: &'ast syn::FieldValue) {
            let named = matches!(&f.member, syn::Member::Named(n) if n == spec::CONFIG_FLAG);
            self.0 |= named && is_true(&f.expr);
            syn::visit::visit_field_value(self, f);
        }
    }
    fn is_true(e: &syn::Expr) -> bool {
        matches!(e, syn::Expr::Lit(l) if matches!(&l.lit, syn::Lit::Bool(b) if b.value))
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_block(&mut finder, body);
    finder.0
}

/// The range of the first removed statement of a block (for its cause).
fn inner_edit(ctx: &FileCtx<'_>, body: &syn::Block) -> std::ops::Range<usize> {
    body.stmts
        .iter()
        .map(span_range)
        .find(|r| ctx.out.edits.removes(r))
        .unwrap_or(0..0)
}

fn walk_impl(ctx: &mut FileCtx<'_>, imp: &syn::ItemImpl) {
    let self_name = type_name(&imp.self_ty).unwrap_or_default();
    if ctx.symbols.is_removed_type(&self_name) {
        ctx.remove(span_range(imp), Context::Standalone, RuleId::NotifierType, &self_name);
        return;
    }
    let is_trait_impl = imp.trait_.is_some();
    let owner = Some(self_name);
    for item in &imp.items {
        let name = match item {
            ImplItem::Fn(f) => Some(&f.sig.ident),
            ImplItem::Const(c) => Some(&c.ident),
            _ => None,
        };
        if let Some(cause) = name.and_then(|n| reported_dead(ctx, n)).filter(|_| !is_trait_impl) {
            ctx.remove(span_range(item), Context::Standalone, RuleId::Compiler, &cause);
            continue;
        }
        match item {
            ImplItem::Fn(f) => walk_impl_fn(ctx, imp, owner.clone(), is_trait_impl, f),
            ImplItem::Type(t) if t.ident == spec::RPC_STREAM_TYPE && ctx.options.rpc == RpcMode::Remove => {
                ctx.remove(span_range(t), Context::Standalone, RuleId::RpcRemove, spec::RPC_METHOD);
            }
            _ => {}
        }
    }
    remove_if_emptied(ctx, imp);
}

/// An inherent `impl` whose every item went (its only method was the
/// subscription loop, say) goes too: `impl Worker {}` says nothing. A trait
/// impl stays, empty or not: it still implements the trait.
fn remove_if_emptied(ctx: &mut FileCtx<'_>, imp: &syn::ItemImpl) {
    if imp.trait_.is_some() || imp.items.is_empty() {
        return;
    }
    let ranges: Vec<_> = imp.items.iter().map(span_range).collect();
    if !ranges.iter().all(|r| ctx.out.edits.removes(r)) {
        return;
    }
    let cause = ctx.out.edits.cause_of(&ranges[0]).unwrap_or_default().to_string();
    ctx.remove(span_range(imp), Context::Standalone, RuleId::DeadCode, &cause);
}

fn walk_impl_fn(
    ctx: &mut FileCtx<'_>,
    imp: &syn::ItemImpl,
    owner: Option<String>,
    is_trait_impl: bool,
    f: &syn::ImplItemFn,
) {
    let name = f.sig.ident.to_string();
    let range = span_range(f);
    if name == spec::SUBSCRIPTION_LOOP {
        ctx.remove(range, Context::Standalone, RuleId::SubscriptionLoop, &name);
        return;
    }
    if name == spec::CONFIG_FLAG && !is_trait_impl {
        ctx.remove(range, Context::Standalone, RuleId::ConfigFlag, &name);
        return;
    }
    if name == spec::RPC_METHOD {
        // A tonic handler names its stream type; another impl of the method
        // (a test double of the server, a client) is ordinary code.
        if is_trait_impl && rpc::is_handler_impl(imp) {
            rpc::rewrite_handler(ctx, imp, f);
            return;
        }
        if ctx.options.rpc == RpcMode::Remove {
            ctx.remove(range, Context::Standalone, RuleId::RpcRemove, &name);
            return;
        }
    }
    if !is_trait_impl {
        if let Some(cause) = removed_method(ctx, owner.as_deref().unwrap_or(""), &f.sig) {
            ctx.remove(range, Context::Standalone, RuleId::RemovedFn, &cause);
            return;
        }
    }
    walk_fn(ctx, owner, is_trait_impl, &f.sig, &f.block);
}

/// A method that only produces or only stores a removed value goes whole.
fn removed_method(ctx: &FileCtx<'_>, owner: &str, sig: &syn::Signature) -> Option<String> {
    let name = sig.ident.to_string();
    if let Some(cause) = ctx.symbols.producer(owner, &name) {
        return Some(cause.to_string());
    }
    let arity = sig.inputs.iter().filter(|i| matches!(i, syn::FnArg::Typed(_))).count();
    let takes_self = sig.inputs.iter().any(|i| matches!(i, syn::FnArg::Receiver(_)));
    let setter = ctx.symbols.setter(&name, arity).filter(|_| takes_self)?;
    ctx.symbols.function(owner, &name, arity)?;
    Some(setter.cause.clone())
}

/// Removes the parameters of a removed type and walks the body with them
/// tainted.
fn walk_fn(
    ctx: &mut FileCtx<'_>,
    owner: Option<String>,
    is_trait_impl: bool,
    sig: &syn::Signature,
    block: &syn::Block,
) {
    let mut env = Env::new(owner, ctx.seeds.clone());
    let mut marks = Vec::new();
    for input in &sig.inputs {
        let syn::FnArg::Typed(pt) = input else {
            marks.push(None);
            continue;
        };
        env.bind_type(&pt.pat, &pt.ty, ctx.symbols);
        let cause = ctx.symbols.removed_param_cause(&pt.pat, &pt.ty);
        if let (Some(cause), true) = (&cause, is_trait_impl) {
            let line = ctx.line(span_range(pt).start);
            ctx.review(
                line,
                format!("parameter of a trait method has a `{cause}` type; change the trait by hand"),
            );
            marks.push(None);
            continue;
        }
        if let Some(cause) = &cause {
            for name in super::taint::pat_idents(&pt.pat) {
                env.taint(name, Taint::Value(cause.clone()));
            }
        }
        marks.push(cause.map(|c| (RuleId::RemovedParam, c)));
    }
    if marks.iter().any(Option::is_some) {
        let elements: Vec<_> = sig.inputs.iter().map(span_range).collect();
        ctx.remove_list(&elements, &marks);
    }
    bodies::walk_fn(ctx, env, block);
}
