//! Function bodies: removal propagates through statements. A statement that
//! carries a removed value goes; a `let` bound to one goes and taints its
//! name; arguments for removed parameters go; an `if`, `if let` or `for`
//! left empty with a side-effect-free head goes; a `let` whose every use went
//! goes too, until nothing changes; the removed flag counts as `false`.

use std::ops::Range;

use syn::punctuated::Punctuated;
use syn::visit::Visit;
use syn::{Block, Expr, Stmt};

use super::taint::{self, Env, FieldLookup, Taint};
use super::{items, macros, span_range, FileCtx, RuleId};
use crate::edit::{Edit, Piece};
use crate::spec;
use crate::text::{self, Context};

/// What happened to a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    Kept,
    Removed,
    /// Removed, and it was a `notify_work_available` call (its log lines
    /// may follow it).
    RemovedNotify,
}

/// Walks one function body with the parameters already in `env`.
///
/// A local that is assigned a removed value somewhere in the body
/// (`let mut subscription = None; .. subscription = Some(handle);`) holds a
/// removed value from its declaration on: a first, discarded walk finds such
/// locals, and the real walk starts with them tainted.
pub(super) fn walk_fn(ctx: &mut FileCtx<'_>, mut env: Env, block: &Block) {
    if assigns_a_local(block) {
        let mut scratch = ctx.scratch();
        let mut dry = BodyWalker {
            ctx: &mut scratch,
            env: env.clone(),
            assigned: Vec::new(),
        };
        dry.block(block);
        for (name, cause) in dry.assigned {
            env.pretaint(name, Taint::Value(cause));
        }
    }
    let mut walker = BodyWalker {
        ctx,
        env,
        assigned: Vec::new(),
    };
    walker.block(block);
}

/// Does the body assign to a plain name anywhere (`x = ..;`)?
fn assigns_a_local(block: &Block) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            self.0 |= matches!(&*a.left, Expr::Path(p) if p.path.get_ident().is_some());
            syn::visit::visit_expr_assign(self, a);
        }
    }
    let mut finder = Finder(false);
    finder.visit_block(block);
    finder.0
}

pub(super) struct BodyWalker<'c, 'a> {
    pub ctx: &'c mut FileCtx<'a>,
    pub env: Env,
    /// Locals a removed statement assigned a removed value to.
    assigned: Vec<(String, String)>,
}

impl BodyWalker<'_, '_> {
    /// Walks a block in its own scope. Returns whether it had statements and
    /// all of them are now removed.
    pub fn block(&mut self, block: &Block) -> bool {
        let saved = self.env.clone();
        let mut fates = Vec::with_capacity(block.stmts.len());
        for stmt in &block.stmts {
            let fate = self.stmt(stmt);
            fates.push(fate);
        }
        self.remove_log_lines(block, &mut fates);
        self.remove_dead_lets(block, &mut fates);
        self.check_removed_lets(block, &fates);
        self.env = saved;
        !fates.is_empty() && fates.iter().all(|f| *f != Fate::Kept)
    }

    /// A removed `let` whose binding kept code still reads would leave the
    /// file broken (`let woke = notifier.notify_work_available(..)` feeding
    /// a metric): the file is left unchanged and the use is reported.
    fn check_removed_lets(&mut self, block: &Block, fates: &[Fate]) {
        let block_end = span_range(block).end;
        for (i, stmt) in block.stmts.iter().enumerate() {
            let Stmt::Local(local) = stmt else { continue };
            if fates[i] == Fate::Kept {
                continue;
            }
            for name in taint::pat_idents(&local.pat) {
                // Until the name is bound again (shadowing).
                let end = block.stmts[i + 1..]
                    .iter()
                    .find(|s| matches!(s, Stmt::Local(l) if taint::pat_idents(&l.pat).contains(&name)))
                    .map_or(block_end, |s| span_range(s).start);
                let after = span_range(stmt).end..end;
                let surviving = self
                    .ctx
                    .file
                    .value_uses(&name, after)
                    .find(|t| !self.ctx.out.edits.removes(&t.range))
                    .map(|t| t.range.start);
                if let Some(at) = surviving {
                    let from = self.ctx.line(span_range(stmt).start);
                    self.ctx.abandon_unless_removed(
                        at,
                        format!(
                            "`{name}` holds a removed value (line {from}) and is still used here; \
                             this file was left unchanged: decide by hand what replaces the value"
                        ),
                    );
                }
            }
        }
    }

    fn stmt(&mut self, stmt: &Stmt) -> Fate {
        let range = span_range(stmt);
        match stmt {
            Stmt::Local(local) => self.local(local, range),
            Stmt::Expr(expr, _) => self.expr_stmt(expr, range),
            Stmt::Macro(m) => macros::statement(self, &m.mac, range),
            Stmt::Item(item) => {
                items::walk_item(self.ctx, item);
                Fate::Kept
            }
        }
    }

    fn local(&mut self, local: &syn::Local, range: Range<usize>) -> Fate {
        if let syn::Pat::Type(pt) = &local.pat {
            self.env.bind_type(&pt.pat, &pt.ty, self.ctx.symbols);
        }
        let pretainted = taint::pat_idents(&local.pat)
            .iter()
            .find_map(|n| self.env.pretainted(n).cloned());
        if let Some(taint) = pretainted {
            // It is assigned a removed value later: it holds one from here.
            for name in taint::pat_idents(&local.pat) {
                self.env.taint(name, taint.clone());
            }
            self.ctx
                .remove(range, Context::Standalone, RuleId::DeadCode, taint.cause());
            return Fate::Removed;
        }
        let Some(init) = &local.init else { return Fate::Kept };
        if !matches!(local.pat, syn::Pat::Type(_)) {
            self.env.bind_inferred(&local.pat, &init.expr, self.ctx.symbols);
        }
        if self.tuple_local(&local.pat, &init.expr) {
            return Fate::Kept;
        }
        if let Some(taint) = self.env.taint_of(&init.expr, self.ctx.symbols) {
            for name in taint::pat_idents(&local.pat) {
                self.env.taint(name, taint.clone());
            }
            let rule = rule_for(&init.expr, &taint, self.ctx.symbols);
            self.ctx.remove(range, Context::Standalone, rule, taint.cause());
            return Fate::Removed;
        }
        self.visit_expr(&init.expr);
        if let Some((_, diverge)) = &init.diverge {
            self.visit_expr(diverge);
        }
        for name in taint::pat_idents(&local.pat) {
            self.env.untaint(&name);
        }
        Fate::Kept
    }

    /// `let (a, n) = (x.clone(), notifier.clone());`: each binding takes the
    /// taint of its element; the `let` goes later if every binding ends up
    /// unused. Returns whether it was such a `let` with a removed element.
    fn tuple_local(&mut self, pat: &syn::Pat, init: &Expr) -> bool {
        let (syn::Pat::Tuple(pats), Expr::Tuple(values)) = (pat, init) else {
            return false;
        };
        if pats.elems.len() != values.elems.len() {
            return false;
        }
        let taints: Vec<Option<Taint>> = values
            .elems
            .iter()
            .map(|v| self.env.taint_of(v, self.ctx.symbols))
            .collect();
        if taints.iter().all(Option::is_none) {
            return false;
        }
        self.cut_tuple_elements(pats, values, &taints);
        for ((p, v), taint) in pats.elems.iter().zip(&values.elems).zip(taints) {
            match taint {
                Some(taint) => {
                    for name in taint::pat_idents(p) {
                        self.env.taint(name, taint.clone());
                    }
                }
                None => {
                    self.visit_expr(v);
                    for name in taint::pat_idents(p) {
                        self.env.untaint(&name);
                    }
                }
            }
        }
        true
    }

    /// The removed elements leave the pattern and the tuple together:
    /// `let (s, n) = (a, b);` becomes `let s = a;` (one element left) or
    /// loses the pair (several left). Nested in a later removal of the
    /// whole `let` when nothing it binds is used.
    fn cut_tuple_elements(&mut self, pats: &syn::PatTuple, values: &syn::ExprTuple, taints: &[Option<Taint>]) {
        let kept: Vec<usize> = (0..taints.len()).filter(|&i| taints[i].is_none()).collect();
        let cause = taints
            .iter()
            .flatten()
            .next()
            .map(|t| t.cause().to_string())
            .unwrap_or_default();
        if let [only] = kept.as_slice() {
            // `(s, n)` → `s`: the tuple becomes its one kept element.
            let unwrap = |outer: Range<usize>, inner: Range<usize>| {
                let piece = Piece::Original {
                    range: inner,
                    dedent: 0,
                };
                Edit::replace(outer, vec![piece], RuleId::DeadCode, &cause)
            };
            let edits = vec![
                unwrap(span_range(pats), span_range(&pats.elems[*only])),
                unwrap(span_range(values), span_range(&values.elems[*only])),
            ];
            self.ctx.push_group(edits);
            return;
        }
        let marks: Vec<Option<(RuleId, String)>> = taints
            .iter()
            .map(|t| t.as_ref().map(|t| (RuleId::DeadCode, t.cause().to_string())))
            .collect();
        let pat_ranges: Vec<Range<usize>> = pats.elems.iter().map(span_range).collect();
        let value_ranges: Vec<Range<usize>> = values.elems.iter().map(span_range).collect();
        self.ctx.remove_list(&pat_ranges, &marks);
        self.ctx.remove_list(&value_ranges, &marks);
    }

    fn expr_stmt(&mut self, expr: &Expr, range: Range<usize>) -> Fate {
        if let Some(taint) = self.env.taint_of(expr, self.ctx.symbols) {
            return self.remove_tainted_stmt(expr, &taint, range);
        }
        match expr {
            Expr::If(e) => self.if_stmt(e, range),
            Expr::ForLoop(f) => {
                self.visit_expr(&f.expr);
                let emptied = self.block(&f.body);
                if !emptied {
                    return Fate::Kept;
                }
                // A loop whose every statement served the notifier goes; a
                // head that is not known to be side-effect free is flagged.
                if !self.ctx.purity.expr(&f.expr) {
                    let line = self.ctx.line(range.start);
                    self.ctx.review(
                        line,
                        "removed a loop whose body only served the notifier; check that its head had no needed side effect",
                    );
                }
                let cause = self.cause_inside(&f.body);
                self.ctx.remove(range, Context::Standalone, RuleId::DeadCode, &cause);
                Fate::Removed
            }
            Expr::Macro(m) => macros::statement(self, &m.mac, range),
            Expr::While(w) => self.while_stmt(w, range),
            _ => {
                self.visit_expr(expr);
                if let Some(body) = spawned_block(expr) {
                    if self.only_waits_left(body) {
                        let cause = self.cause_inside(body);
                        self.ctx.remove(range, Context::Standalone, RuleId::DeadCode, &cause);
                        return Fate::Removed;
                    }
                }
                Fate::Kept
            }
        }
    }

    /// `while let P = <removed value>` never runs; a `while` whose body
    /// emptied with a side-effect-free condition has nothing left to do.
    fn while_stmt(&mut self, w: &syn::ExprWhile, range: Range<usize>) -> Fate {
        if let Expr::Let(l) = &*w.cond {
            if let Some(Taint::Value(cause)) = self.env.taint_of(&l.expr, self.ctx.symbols) {
                self.ctx.remove(range, Context::Standalone, RuleId::DeadCode, &cause);
                return Fate::Removed;
            }
        }
        self.visit_expr(&w.cond);
        let emptied = self.block(&w.body);
        if emptied && self.ctx.purity.expr(&w.cond) {
            let cause = self.cause_inside(&w.body);
            self.ctx.remove(range, Context::Standalone, RuleId::DeadCode, &cause);
            return Fate::Removed;
        }
        Fate::Kept
    }

    /// A spawned task that lost statements and now only waits
    /// (`tokio::spawn(async move { sleep(d).await; })`) does nothing.
    fn only_waits_left(&self, body: &Block) -> bool {
        let removed = |s: &Stmt| self.ctx.out.edits.removes(&span_range(s));
        body.stmts.iter().any(removed) && body.stmts.iter().all(|s| removed(s) || self.is_wait(s))
    }

    fn is_wait(&self, stmt: &Stmt) -> bool {
        let expr = match stmt {
            Stmt::Expr(e, _) => e,
            Stmt::Local(l) => return l.init.as_ref().is_some_and(|i| self.ctx.purity.expr(&i.expr)),
            _ => return false,
        };
        let Expr::Await(a) = expr else { return false };
        let Expr::Call(c) = &*a.base else { return false };
        let Expr::Path(p) = &*c.func else { return false };
        let waits = p
            .path
            .segments
            .last()
            .is_some_and(|s| matches!(s.ident.to_string().as_str(), "sleep" | "sleep_until" | "yield_now"));
        // The duration is rarely worth keeping for its own sake.
        waits
    }

    fn remove_tainted_stmt(&mut self, expr: &Expr, taint: &Taint, range: Range<usize>) -> Fate {
        if let (Expr::Assign(a), Taint::Value(cause)) = (expr, taint) {
            if let Expr::Path(p) = &*a.left {
                if let Some(ident) = p.path.get_ident() {
                    self.assigned.push((ident.to_string(), cause.clone()));
                }
            }
        }
        let rule = rule_for(expr, taint, self.ctx.symbols);
        if rule == RuleId::NotifyCall {
            if let Some(args) = notify_call(expr) {
                if !args.into_iter().all(|a| self.ctx.purity.expr(a)) {
                    let line = self.ctx.line(range.start);
                    self.ctx.review(
                        line,
                        format!(
                            "`{}` call has arguments with side effects; left in place",
                            spec::NOTIFY_METHOD
                        ),
                    );
                    return Fate::Kept;
                }
            }
        }
        self.ctx.remove(range, Context::Standalone, rule, taint.cause());
        if rule == RuleId::NotifyCall {
            Fate::RemovedNotify
        } else {
            Fate::Removed
        }
    }

    /// `if`: a removed flag or a removed `if let` scrutinee decides the
    /// branch statically; otherwise an emptied body with a pure head goes.
    fn if_stmt(&mut self, e: &syn::ExprIf, range: Range<usize>) -> Fate {
        if let Some((value, rule, cause)) = self.static_condition(&e.cond) {
            return self.decide_if(e, value, range, rule, &cause);
        }
        self.visit_expr(&e.cond);
        if let Some(Taint::Value(cause)) = self.surviving_taint(&e.cond) {
            // `if woke == 0 { debug!(..) }` after `let woke = notify(..)`.
            if only_logs_if(e) {
                self.ctx.remove(range, Context::Standalone, RuleId::DeadCode, &cause);
                return Fate::Removed;
            }
            let line = self.ctx.line(range.start);
            self.ctx.review(
                line,
                format!("this `if` tests a removed `{cause}` value and does more than log; remove it by hand"),
            );
            return Fate::Kept;
        }
        let emptied = self.block(&e.then_branch);
        if let Some((_, else_expr)) = &e.else_branch {
            self.visit_expr(else_expr);
        }
        if emptied {
            if e.else_branch.is_none() && self.ctx.purity.expr(&e.cond) {
                let cause = self.cause_inside(&e.then_branch);
                self.ctx.remove(range, Context::Standalone, RuleId::DeadCode, &cause);
                return Fate::Removed;
            }
            let line = self.ctx.line(range.start);
            self.ctx.review(
                line,
                "the body of this `if` is now empty; its condition may have side effects",
            );
        }
        Fate::Kept
    }

    /// `Some((value, rule, cause))` when the condition is known after the
    /// removal: the flag reads `false`, a removed value is never `Some`.
    fn static_condition(&self, cond: &Expr) -> Option<(bool, RuleId, String)> {
        match cond {
            Expr::Paren(p) => self.static_condition(&p.expr),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
                self.static_condition(&u.expr).map(|(v, r, c)| (!v, r, c))
            }
            Expr::Let(l) => match self.env.taint_of(&l.expr, self.ctx.symbols)? {
                Taint::Value(cause) => Some((false, RuleId::DeadCode, cause)),
                Taint::Flag => None,
            },
            _ => match self.env.taint_of(cond, self.ctx.symbols)? {
                Taint::Flag => Some((false, RuleId::ConfigFlag, spec::CONFIG_FLAG.to_string())),
                Taint::Value(_) => None,
            },
        }
    }

    /// Replaces an `if` whose condition is known by the branch that runs.
    fn decide_if(&mut self, e: &syn::ExprIf, value: bool, range: Range<usize>, rule: RuleId, cause: &str) -> Fate {
        let kept: Option<&Expr> = if value {
            None
        } else {
            e.else_branch.as_ref().map(|(_, b)| &**b)
        };
        if value {
            self.block(&e.then_branch);
            return self.unwrap_block(&e.then_branch, range, rule, cause);
        }
        // The branch that goes may hand a removed value to an outer local.
        self.note_removed_assignments(&e.then_branch);
        match kept {
            None => {
                self.ctx.remove(range, Context::Standalone, rule, cause);
                Fate::Removed
            }
            Some(Expr::Block(b)) => {
                self.block(&b.block);
                self.unwrap_block(&b.block, range, rule, cause)
            }
            Some(else_if) => {
                // `if flag {..} else if c {..}` → `if c {..}`
                let cut = range.start..span_range(else_if).start;
                self.ctx.push(Edit::delete(cut, rule, cause));
                self.visit_expr(else_if);
                Fate::Kept
            }
        }
    }

    /// Records the outer locals a dropped block assigns a removed value to
    /// (`let handle = tokio::spawn(.. subscription loop ..); subscription =
    /// Some(handle);`), following the block's own `let`s.
    fn note_removed_assignments(&mut self, block: &Block) {
        let mut env = self.env.clone();
        for stmt in &block.stmts {
            match stmt {
                Stmt::Local(local) => {
                    let taint = local
                        .init
                        .as_ref()
                        .and_then(|i| env.taint_of(&i.expr, self.ctx.symbols));
                    for name in taint::pat_idents(&local.pat) {
                        match &taint {
                            Some(t) => env.taint(name, t.clone()),
                            None => env.untaint(&name),
                        }
                    }
                }
                Stmt::Expr(Expr::Assign(a), _) => {
                    let Expr::Path(p) = &*a.left else { continue };
                    let Some(ident) = p.path.get_ident() else { continue };
                    if let Some(Taint::Value(cause)) = env.taint_of(&a.right, self.ctx.symbols) {
                        self.assigned.push((ident.to_string(), cause));
                    }
                }
                _ => {}
            }
        }
    }

    /// Replaces the statement at `range` by the inner lines of `block`,
    /// one indentation level out.
    fn unwrap_block(&mut self, block: &Block, range: Range<usize>, rule: RuleId, cause: &str) -> Fate {
        let src = self.ctx.src();
        let open = crate::spans::byte_range(block.brace_token.span.open()).start;
        let close = crate::spans::byte_range(block.brace_token.span.close()).start;
        if self.ctx.line(open) == self.ctx.line(close) {
            let line = self.ctx.line(range.start);
            self.ctx
                .review(line, format!("`{cause}` guard on one line; left in place"));
            return Fate::Kept;
        }
        let inner = text::line_end(src, open)..text::line_start(src, close);
        let outer = text::removal_range(src, range.clone(), Context::Standalone);
        let dedent = text::indent_at(src, inner.start)
            .len()
            .saturating_sub(text::indent_at(src, range.start).len());
        let edit = Edit::replace(outer, vec![Piece::Original { range: inner, dedent }], rule, cause);
        self.ctx.push(edit);
        Fate::Kept
    }

    /// The taint of any sub-expression (for macros that only read).
    pub fn find_taint(&self, expr: &Expr) -> Option<Taint> {
        self.taint_inside(expr, None)
    }

    /// The taint of a sub-expression that no edit removes (an argument
    /// for a removed parameter does not count once it is cut).
    fn surviving_taint(&self, expr: &Expr) -> Option<Taint> {
        self.taint_inside(expr, Some(&self.ctx.out.edits))
    }

    fn taint_inside(&self, expr: &Expr, edits: Option<&crate::edit::EditSet>) -> Option<Taint> {
        struct Finder<'e> {
            env: &'e Env,
            symbols: &'e crate::symbols::Symbols,
            edits: Option<&'e crate::edit::EditSet>,
            found: Option<Taint>,
        }
        impl<'ast> Visit<'ast> for Finder<'_> {
            fn visit_expr(&mut self, e: &'ast Expr) {
                if self.found.is_some() || self.edits.is_some_and(|edits| edits.removes(&span_range(e))) {
                    return;
                }
                self.found = self.env.taint_of(e, self.symbols);
                if self.found.is_none() {
                    syn::visit::visit_expr(self, e);
                }
            }

            /// `matches!(lagged, ..)`: arguments of a nested macro that
            /// parse as expressions.
            fn visit_macro(&mut self, mac: &'ast syn::Macro) {
                let parser = Punctuated::<Expr, syn::Token![,]>::parse_terminated;
                if let Ok(args) = mac.parse_body_with(parser) {
                    for arg in &args {
                        self.visit_expr(arg);
                    }
                } else if let Ok(first) = mac.parse_body_with(|input: syn::parse::ParseStream| {
                    let first: Expr = input.parse()?;
                    input.parse::<proc_macro2::TokenStream>()?;
                    Ok(first)
                }) {
                    self.visit_expr(&first);
                }
            }
        }
        let mut finder = Finder {
            env: &self.env,
            symbols: self.ctx.symbols,
            edits,
            found: None,
        };
        finder.visit_expr(expr);
        finder.found
    }

    /// A log line right before or after a removed notify call that only
    /// reports the notification goes with it.
    fn remove_log_lines(&mut self, block: &Block, fates: &mut [Fate]) {
        for i in 0..block.stmts.len() {
            if fates[i] != Fate::RemovedNotify {
                continue;
            }
            for j in [i.wrapping_sub(1), i + 1] {
                let Some(stmt) = block.stmts.get(j) else { continue };
                if fates[j] == Fate::Kept && is_notification_log(stmt) {
                    self.ctx.remove(
                        span_range(stmt),
                        Context::Standalone,
                        RuleId::NotifyCall,
                        spec::NOTIFY_METHOD,
                    );
                    fates[j] = Fate::Removed;
                }
            }
        }
    }

    /// A `let x = <pure>;` whose every use was removed goes; repeated until
    /// nothing changes. A binding made unused in a pattern that cannot go is
    /// reported.
    fn remove_dead_lets(&mut self, block: &Block, fates: &mut [Fate]) {
        let block_end = span_range(block).end;
        loop {
            let mut changed = false;
            for (i, stmt) in block.stmts.iter().enumerate() {
                let Stmt::Local(local) = stmt else { continue };
                if fates[i] != Fate::Kept {
                    continue;
                }
                let range = span_range(stmt);
                let names = taint::pat_idents(&local.pat);
                let reported: Vec<String> = taint::pat_bindings(&local.pat)
                    .into_iter()
                    .filter(|i| self.env.unused_binding(i).is_some())
                    .map(|i| i.to_string())
                    .collect();
                let dead: Vec<&String> = names
                    .iter()
                    .filter(|n| reported.contains(n) || self.all_uses_removed(n, range.end..block_end))
                    .collect();
                if dead.is_empty() {
                    continue;
                }
                let simple = is_plain_binding(&local.pat) && dead.len() == names.len();
                let pure = local
                    .init
                    .as_ref()
                    .is_some_and(|i| i.diverge.is_none() && self.ctx.purity.expr(&i.expr));
                if simple && pure {
                    let cause = match taint::pat_bindings(&local.pat)
                        .first()
                        .and_then(|i| self.env.unused_binding(i))
                    {
                        Some(cause) => cause.to_string(),
                        None => self.cause_of_uses(dead[0], range.end..block_end),
                    };
                    self.ctx.remove(range, Context::Standalone, RuleId::DeadCode, &cause);
                    fates[i] = Fate::Removed;
                    changed = true;
                } else {
                    for ident in taint::pat_bindings(&local.pat) {
                        if dead.iter().any(|d| ident == d.as_str()) {
                            let cause = self.cause_of_uses(&ident.to_string(), range.end..block_end);
                            self.ctx.silence_binding(ident, &cause);
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// The seed behind the removal of a block's first statement: a cascade
    /// edit names the removal that caused it.
    fn cause_inside(&self, block: &Block) -> String {
        block
            .stmts
            .first()
            .and_then(|s| self.ctx.out.edits.cause_of(&span_range(s)))
            .unwrap_or_default()
            .to_string()
    }

    /// The seed behind the removal of the first use of `name` in `range`.
    fn cause_of_uses(&self, name: &str, range: Range<usize>) -> String {
        self.ctx
            .file
            .value_uses(name, range)
            .find_map(|t| self.ctx.out.edits.cause_of(&t.range))
            .unwrap_or_default()
            .to_string()
    }

    /// Was `name` used in `range`, and is every such use now removed?
    fn all_uses_removed(&self, name: &str, range: Range<usize>) -> bool {
        let mut uses = self.ctx.file.value_uses(name, range).peekable();
        uses.peek().is_some() && uses.all(|t| self.ctx.out.edits.removes(&t.range))
    }

    /// Removes the arguments passed for removed parameters.
    fn remove_args(&mut self, args: &Punctuated<Expr, syn::Token![,]>, removed: &[usize], cause: &str) -> Vec<usize> {
        let elements: Vec<Range<usize>> = args.iter().map(span_range).collect();
        let marks: Vec<Option<(RuleId, String)>> = (0..elements.len())
            .map(|i| removed.contains(&i).then(|| (RuleId::RemovedParam, cause.to_string())))
            .collect();
        self.ctx.remove_list(&elements, &marks)
    }

    /// Reports removed values passed where no removed parameter is known.
    fn review_args(&mut self, args: &Punctuated<Expr, syn::Token![,]>, callee: &str) {
        for arg in args {
            if let Some(Taint::Value(cause)) = self.env.taint_of(arg, self.ctx.symbols) {
                let line = self.ctx.line(span_range(arg).start);
                self.ctx.review(
                    line,
                    format!("`{callee}` receives a `{cause}` value but its parameter is unknown; remove both by hand"),
                );
            }
        }
    }

    /// `.field("enable_notifications", ..)` in a `Debug` chain, a builder
    /// link `.enable_notifications(x)`, or a link to a setter that only
    /// stores removed values (`.with_notifier(n)`).
    fn removed_link(&self, m: &syn::ExprMethodCall) -> Option<(RuleId, String)> {
        let method = m.method.to_string();
        if method == spec::CONFIG_FLAG {
            return Some((RuleId::ConfigFlag, method));
        }
        if let Some(cause) = self.env.forced_link(&m.method) {
            return Some((RuleId::Compiler, cause.to_string()));
        }
        let chained = self
            .ctx
            .symbols
            .setter(&method, m.args.len())
            .filter(|s| s.shape == crate::symbols::SetterShape::Chain);
        if let Some(setter) = chained {
            return Some((RuleId::RemovedFn, setter.cause.clone()));
        }
        if method != "field" {
            return None;
        }
        let Some(Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(name),
            ..
        })) = m.args.first()
        else {
            return None;
        };
        let name = name.value();
        let removed = match self.env.owner.as_deref() {
            Some(owner) if self.ctx.symbols.knows_struct(owner) => self.ctx.symbols.removed_field(owner, &name),
            _ => self.ctx.symbols.removed_field_name(&name),
        };
        removed?;
        Some((RuleId::of_field(&name), name))
    }

    /// Links inside a call chain that only hand a removed value over
    /// (`.layer(Extension(notifier))`) go; returns the receiver left to walk.
    fn strip_tainted_links<'e>(&mut self, receiver: &'e Expr) -> &'e Expr {
        let Expr::MethodCall(link) = receiver else {
            return receiver;
        };
        let known = self.removed_link(link).is_some()
            || self
                .ctx
                .symbols
                .unique_method(&link.method.to_string(), link.args.len())
                .is_some();
        let taints: Option<Vec<Taint>> = link
            .args
            .iter()
            .map(|a| self.env.taint_of(a, self.ctx.symbols))
            .collect();
        match taints {
            Some(taints)
                if !known && !taints.is_empty() && self.env.taint_of(&link.receiver, self.ctx.symbols).is_none() =>
            {
                let cause = taints[0].cause().to_string();
                self.remove_link(link, RuleId::DeadCode, &cause);
                self.strip_tainted_links(&link.receiver)
            }
            _ => receiver,
        }
    }

    fn remove_link(&mut self, m: &syn::ExprMethodCall, rule: RuleId, cause: &str) {
        let src = self.ctx.src();
        let dot = crate::spans::byte_range(m.dot_token.span).start;
        let end = span_range(m).end;
        let own_line = src[text::line_start(src, dot)..dot].trim().is_empty();
        let range = if own_line {
            text::removal_range(src, dot..end, Context::Standalone)
        } else {
            span_range(&m.receiver).end..end
        };
        self.ctx.push(Edit::delete(range, rule, cause));
    }

    /// Replaces an emptied match arm block by `{}` when nothing else (no
    /// comment) is left in it.
    fn tidy_emptied_arm(&mut self, block: &Block, cause: &str) {
        let src = self.ctx.src();
        let range = span_range(block);
        let inner = range.start + 1..range.end - 1;
        let mut rest = String::new();
        let mut at = inner.start;
        for edit in self.ctx.out.edits.top_level() {
            if edit.range.start >= at && edit.range.end <= inner.end {
                rest.push_str(&src[at..edit.range.start]);
                at = edit.range.end;
            }
        }
        rest.push_str(&src[at..inner.end]);
        if rest.trim().is_empty() {
            let edit = Edit::replace(range, vec![Piece::Text("{}".into())], RuleId::DeadCode, cause);
            self.ctx.push(edit);
        }
    }
}

impl<'ast> Visit<'ast> for BodyWalker<'_, '_> {
    fn visit_block(&mut self, block: &'ast Block) {
        self.block(block);
    }

    fn visit_item(&mut self, item: &'ast syn::Item) {
        items::walk_item(self.ctx, item);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        let arity = call.args.len();
        let mut skipped = Vec::new();
        if let Expr::Path(p) = &*call.func {
            let segments: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            let name = segments.last().cloned().unwrap_or_default();
            let owner = self.env.call_owner(&p.path);
            // `module::function(..)` is a free function of another module.
            let sig = self
                .ctx
                .symbols
                .function(&owner, &name, arity)
                .or_else(|| self.ctx.symbols.function("", &name, arity))
                .cloned();
            match sig {
                Some(sig) => skipped = self.remove_args(&call.args, &sig.removed, &sig.cause),
                None => self.review_args(&call.args, &segments.join("::")),
            }
        }
        self.visit_expr(&call.func);
        for (i, arg) in call.args.iter().enumerate() {
            if !skipped.contains(&i) {
                self.visit_expr(arg);
            }
        }
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let receiver = self.strip_tainted_links(&m.receiver);
        if let Some((rule, cause)) = self.removed_link(m) {
            self.remove_link(m, rule, &cause);
            self.visit_expr(receiver);
            return;
        }
        let name = m.method.to_string();
        if name == spec::NOTIFY_METHOD && m.args.len() == 2 {
            let line = self.ctx.line(crate::spans::byte_range(m.method.span()).start);
            self.ctx.review(
                line,
                format!(
                    "`{}` on a receiver not known to be the notifier; left in place",
                    spec::NOTIFY_METHOD
                ),
            );
        }
        let mut skipped = Vec::new();
        match self.ctx.symbols.unique_method(&name, m.args.len()).cloned() {
            Some(sig) => {
                let confident = sig.removed.iter().all(|&i| {
                    m.args
                        .iter()
                        .nth(i)
                        .is_some_and(|a| self.env.taint_of(a, self.ctx.symbols).is_some())
                });
                if confident {
                    skipped = self.remove_args(&m.args, &sig.removed, &sig.cause);
                } else {
                    self.review_args(&m.args, &name);
                }
            }
            None => self.review_args(&m.args, &name),
        }
        self.visit_expr(receiver);
        for (i, arg) in m.args.iter().enumerate() {
            if !skipped.contains(&i) {
                self.visit_expr(arg);
            }
        }
    }

    fn visit_expr_struct(&mut self, s: &'ast syn::ExprStruct) {
        let path_owner = s
            .path
            .segments
            .last()
            .map(|seg| seg.ident.to_string())
            .unwrap_or_default();
        let owner = if path_owner == "Self" {
            self.env.owner.clone().unwrap_or_default()
        } else {
            path_owner
        };
        let mut marks = Vec::new();
        for field in &s.fields {
            let syn::Member::Named(name) = &field.member else {
                marks.push(None);
                continue;
            };
            let forced = self.env.forced(name).map(str::to_string);
            let name = name.to_string();
            let cause = if forced.is_some() {
                forced
            } else if self.ctx.symbols.knows_struct(&owner) {
                // A kept field initialised with a removed value (a local that
                // held the subscription handle): the initialiser goes, and the
                // compiler step removes the field (E0063).
                self.ctx
                    .symbols
                    .removed_field(&owner, &name)
                    .map(str::to_string)
                    .or_else(|| match self.env.taint_of(&field.expr, self.ctx.symbols) {
                        Some(Taint::Value(cause)) => Some(cause),
                        _ => None,
                    })
            } else {
                spec::REMOVED_FIELD_NAMES
                    .iter()
                    .find(|n| **n == name)
                    .map(|n| n.to_string())
                    .or_else(|| {
                        self.env
                            .taint_of(&field.expr, self.ctx.symbols)
                            .map(|t| t.cause().to_string())
                    })
            };
            let rule = RuleId::of_field(&name);
            marks.push(cause.map(|c| (rule, c)));
        }
        let elements: Vec<Range<usize>> = s.fields.iter().map(span_range).collect();
        let removed = self.ctx.remove_list(&elements, &marks);
        for (i, field) in s.fields.iter().enumerate() {
            if !removed.contains(&i) {
                self.visit_expr(&field.expr);
            }
        }
        if let Some(rest) = &s.rest {
            self.visit_expr(rest);
        }
    }

    fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
        self.visit_expr(&m.expr);
        for arm in &m.arms {
            if let Some((_, guard)) = &arm.guard {
                self.visit_expr(guard);
            }
            match &*arm.body {
                Expr::Block(b) if b.label.is_none() => {
                    if self.block(&b.block) {
                        let cause = self.cause_inside(&b.block);
                        self.tidy_emptied_arm(&b.block, &cause);
                    }
                }
                body => match self.env.taint_of(body, self.ctx.symbols) {
                    Some(taint) => {
                        let rule = rule_for(body, &taint, self.ctx.symbols);
                        let edit = Edit::replace(span_range(body), vec![Piece::Text("{}".into())], rule, taint.cause());
                        self.ctx.push(edit);
                    }
                    None => self.visit_expr(body),
                },
            }
        }
    }

    fn visit_expr_field(&mut self, f: &'ast syn::ExprField) {
        if let syn::Member::Named(name) = &f.member {
            if let FieldLookup::Ambiguous = self.env.field(&f.base, &name.to_string(), self.ctx.symbols) {
                let line = self.ctx.line(span_range(f).start);
                self.ctx.review(
                    line,
                    format!("`{name}` names a removed field in one struct and a kept one in another; left in place"),
                );
            }
        }
        syn::visit::visit_expr_field(self, f);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        macros::expression(self, mac);
    }
}

/// The rule an edit belongs to, from what is removed and why.
fn rule_for(expr: &Expr, taint: &Taint, symbols: &crate::symbols::Symbols) -> RuleId {
    if notify_call(expr).is_some() {
        return RuleId::NotifyCall;
    }
    match taint {
        Taint::Flag => RuleId::ConfigFlag,
        Taint::Value(cause) if cause == spec::SUBSCRIPTION_LOOP => RuleId::SubscriptionLoop,
        Taint::Value(cause) if spec::is_removed_type(cause) && symbols.removed_type_in_expr(expr).is_some() => {
            RuleId::NotifierType
        }
        Taint::Value(_) => RuleId::DeadCode,
    }
}

/// The `notify_work_available(..)` call an expression statement consists of.
/// Its arguments (the receiver of a UFCS call counts as one).
fn notify_call(expr: &Expr) -> Option<Vec<&Expr>> {
    match expr {
        Expr::MethodCall(m) if m.method == spec::NOTIFY_METHOD => Some(m.args.iter().collect()),
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == spec::NOTIFY_METHOD) => {
                Some(c.args.iter().skip(1).collect())
            }
            _ => None,
        },
        Expr::Await(a) => notify_call(&a.base),
        Expr::Try(t) => notify_call(&t.expr),
        _ => None,
    }
}

/// The body of `tokio::spawn(async move { .. })` (any `spawn` path).
fn spawned_block(expr: &Expr) -> Option<&Block> {
    let Expr::Call(c) = expr else { return None };
    let Expr::Path(p) = &*c.func else { return None };
    if p.path.segments.last().is_none_or(|s| s.ident != "spawn") || c.args.len() != 1 {
        return None;
    }
    match &c.args[0] {
        Expr::Async(a) => Some(&a.block),
        _ => None,
    }
}

/// `x`, `x: T`, `(a, b)`, `(a, _)`: a pattern that only binds names.
fn is_plain_binding(pat: &syn::Pat) -> bool {
    match pat {
        syn::Pat::Ident(p) => p.subpat.is_none(),
        syn::Pat::Type(t) => is_plain_binding(&t.pat),
        syn::Pat::Tuple(t) => t
            .elems
            .iter()
            .all(|p| matches!(p, syn::Pat::Wild(_)) || is_plain_binding(p)),
        _ => false,
    }
}

/// An `if` (with its `else if`/`else` chain) whose branches only log or
/// assert: with its condition gone it has nothing left to do.
fn only_logs_if(e: &syn::ExprIf) -> bool {
    let block_logs = |b: &Block| b.stmts.iter().all(is_log_or_assert);
    block_logs(&e.then_branch)
        && match e.else_branch.as_ref().map(|(_, b)| &**b) {
            None => true,
            Some(Expr::If(inner)) => only_logs_if(inner),
            Some(Expr::Block(b)) => block_logs(&b.block),
            Some(_) => false,
        }
}

fn is_log_or_assert(stmt: &Stmt) -> bool {
    let mac = match stmt {
        Stmt::Macro(m) => &m.mac,
        Stmt::Expr(Expr::Macro(m), _) => &m.mac,
        _ => return false,
    };
    mac.path.segments.last().is_some_and(|s| {
        let name = s.ident.to_string();
        spec::LOG_MACROS.contains(&name.as_str()) || spec::ASSERT_MACROS.contains(&name.as_str())
    })
}

/// Is this statement a log macro whose message is about the notification?
fn is_notification_log(stmt: &Stmt) -> bool {
    let mac = match stmt {
        Stmt::Macro(m) => &m.mac,
        Stmt::Expr(Expr::Macro(m), _) => &m.mac,
        _ => return false,
    };
    let is_log = mac
        .path
        .segments
        .last()
        .is_some_and(|s| spec::LOG_MACROS.contains(&s.ident.to_string().as_str()));
    is_log
        && mac.tokens.clone().into_iter().any(|t| match t {
            proc_macro2::TokenTree::Literal(lit) => spec::is_notification_message(&lit.to_string()),
            _ => false,
        })
}
