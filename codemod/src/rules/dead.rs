//! Items left without a use: a private function, constant or static whose
//! every use was in removed code goes too (`const NOTIFY_CAPACITY`, a
//! `drain` helper of removed tests), repeated until nothing changes, since
//! a removed item's body may hold the last use of another.
//!
//! Private items are visible to their module and its children; a file
//! declaring an out-of-line module (`mod child;`) could have uses elsewhere,
//! so such files are left to the compiler.

use syn::visit::Visit;

use super::{span_range, FileCtx, RuleId};
use crate::text::Context;

pub(super) fn run(ctx: &mut FileCtx<'_>) {
    let file = ctx.file;
    let mut finder = Finder::default();
    finder.visit_file(&file.ast);
    if finder.out_of_line_mod {
        return;
    }
    let whole = 0..file.source.len();
    loop {
        let mut changed = false;
        for (name, item) in &finder.items {
            let range = span_range(*item);
            if ctx.out.edits.removes(&range) {
                continue;
            }
            let mut uses = file
                .value_uses(name, whole.clone())
                .filter(|t| !(range.start <= t.range.start && t.range.end <= range.end))
                .peekable();
            if uses.peek().is_none() {
                continue;
            }
            let mut cause = None;
            let all_removed = uses.all(|t| {
                let removed = ctx.out.edits.removes(&t.range);
                if removed && cause.is_none() {
                    cause = ctx.out.edits.cause_of(&t.range).map(str::to_string);
                }
                removed
            });
            if all_removed {
                let cause = cause.unwrap_or_default();
                changed |= ctx.remove(range, Context::Standalone, RuleId::DeadCode, &cause);
            }
        }
        if !changed {
            return;
        }
    }
}

/// Private free functions, constants and statics, at any module level.
#[derive(Default)]
struct Finder<'ast> {
    items: Vec<(String, &'ast syn::Item)>,
    out_of_line_mod: bool,
}

impl<'ast> Visit<'ast> for Finder<'ast> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let private = |vis: &syn::Visibility| matches!(vis, syn::Visibility::Inherited);
        match item {
            syn::Item::Fn(f) if private(&f.vis) => self.items.push((f.sig.ident.to_string(), item)),
            syn::Item::Const(c) if private(&c.vis) => self.items.push((c.ident.to_string(), item)),
            syn::Item::Static(s) if private(&s.vis) => self.items.push((s.ident.to_string(), item)),
            syn::Item::Mod(m) if m.content.is_none() => self.out_of_line_mod = true,
            syn::Item::Mod(m) => syn::visit::visit_item_mod(self, m),
            _ => {}
        }
    }
}
