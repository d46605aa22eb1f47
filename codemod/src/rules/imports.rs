//! `use` items: a name that imports a removed type goes; a name that the
//! file referred to before the edits and no longer refers to afterwards
//! goes. Imports that were already unused are left alone, and `pub use`
//! re-exports only lose removed types.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use syn::visit::Visit;
use syn::UseTree;

use super::{span_range, FileCtx, RuleId};
use crate::edit::{Edit, Piece};
use crate::spec;
use crate::text::Context;

pub(super) fn run(ctx: &mut FileCtx<'_>) {
    let mut finder = UseFinder::default();
    finder.visit_file(&ctx.file.ast);
    if finder.uses.is_empty() {
        return;
    }
    let counts = Counts::new(ctx, &finder.uses);
    for item in finder.uses {
        let exported = !matches!(item.vis, syn::Visibility::Inherited);
        let mut plan = Plan {
            ctx,
            counts: &counts,
            exported,
        };
        if plan.tree(&item.tree) {
            ctx.remove(
                span_range(item),
                Context::Standalone,
                RuleId::UnusedImport,
                &leaf_cause(&item.tree),
            );
        }
    }
}

#[derive(Default)]
struct UseFinder<'ast> {
    uses: Vec<&'ast syn::ItemUse>,
}

impl<'ast> Visit<'ast> for UseFinder<'ast> {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.uses.push(item);
    }
}

/// References to each name outside `use` items, before and after the edits.
struct Counts {
    before: HashMap<String, usize>,
    after: HashMap<String, usize>,
    /// Method names called in removed code and in the code that stays.
    removed_calls: HashMap<String, usize>,
    kept_calls: HashMap<String, usize>,
}

impl Counts {
    fn new(ctx: &FileCtx<'_>, uses: &[&syn::ItemUse]) -> Self {
        let mut use_ranges: Vec<Range<usize>> = uses.iter().map(|u| span_range(*u)).collect();
        use_ranges.sort_by_key(|r| r.start);
        // `use` items neither nest nor overlap: their ends are sorted too.
        let in_use = |r: &Range<usize>| {
            let i = use_ranges.partition_point(|u| u.end <= r.start);
            use_ranges.get(i).is_some_and(|u| u.start <= r.start && r.end <= u.end)
        };
        // Only the names the `use` items mention are ever asked about.
        let mut imported: HashSet<&str> = HashSet::new();
        for r in &use_ranges {
            imported.extend(ctx.file.idents_in(r.clone()).map(|t| ctx.file.name_of(t)));
        }
        let methods: HashSet<&str> = spec::EXTENSION_TRAITS
            .iter()
            .flat_map(|(_, m)| m.iter().copied())
            .collect();
        let mut before = HashMap::new();
        let mut after = HashMap::new();
        for token in &ctx.file.idents {
            let name = ctx.file.name_of(token);
            if !imported.contains(name) || in_use(&token.range) {
                continue;
            }
            *before.entry(name.to_string()).or_insert(0) += 1;
            if !ctx.out.edits.removes(&token.range) {
                *after.entry(name.to_string()).or_insert(0) += 1;
            }
        }
        for edit in ctx.out.edits.all() {
            for piece in &edit.replacement {
                if let Piece::Text(text) = piece {
                    for word in leading_path_words(text) {
                        *after.entry(word.to_string()).or_insert(0) += 1;
                    }
                }
            }
        }
        let src = ctx.src();
        let mut removed_calls = HashMap::new();
        let mut kept_calls = HashMap::new();
        let calls = ctx.file.idents.iter().filter(|t| methods.contains(ctx.file.name_of(t)));
        for token in calls.filter(|t| is_method_call(src, &t.range)) {
            let calls = if ctx.out.edits.removes(&token.range) {
                &mut removed_calls
            } else {
                &mut kept_calls
            };
            *calls.entry(ctx.file.name_of(token).to_string()).or_insert(0) += 1;
        }
        Counts {
            before,
            after,
            removed_calls,
            kept_calls,
        }
    }

    /// An extension trait whose methods only the removed code called.
    fn trait_made_unused(&self, name: &str) -> bool {
        if self.before.contains_key(name) {
            return false;
        }
        let Some((_, methods)) = spec::EXTENSION_TRAITS.iter().find(|(t, _)| *t == name) else {
            return false;
        };
        methods.iter().any(|m| self.removed_calls.contains_key(*m))
            && !methods.iter().any(|m| self.kept_calls.contains_key(*m))
    }

    fn made_unused(&self, name: &str) -> bool {
        self.before.get(name).copied().unwrap_or(0) > 0 && self.after.get(name).copied().unwrap_or(0) == 0
    }
}

struct Plan<'p, 'c, 'a> {
    ctx: &'p mut FileCtx<'a>,
    counts: &'c Counts,
    exported: bool,
}

impl Plan<'_, '_, '_> {
    /// Records the edits for one use tree; returns whether the whole tree
    /// goes (for the caller to remove).
    fn tree(&mut self, tree: &UseTree) -> bool {
        match tree {
            UseTree::Path(p) => self.tree(&p.tree),
            UseTree::Name(n) => self.leaf_goes(&n.ident.to_string()) || self.reported_unused(&n.ident),
            UseTree::Rename(r) => self.rename_goes(r),
            UseTree::Glob(_) => false,
            UseTree::Group(g) => {
                let gone: Vec<bool> = g.items.iter().map(|t| self.tree_goes(t)).collect();
                if gone.iter().all(|g| *g) {
                    return !gone.is_empty();
                }
                let kept: Vec<&UseTree> = g
                    .items
                    .iter()
                    .zip(&gone)
                    .filter(|(_, g)| !**g)
                    .map(|(t, _)| t)
                    .collect();
                let elements: Vec<_> = g.items.iter().map(span_range).collect();
                let marks: Vec<_> = g
                    .items
                    .iter()
                    .zip(&gone)
                    .map(|(item, gone)| gone.then(|| (RuleId::UnusedImport, leaf_cause(item))))
                    .collect();
                self.ctx.remove_list(&elements, &marks);
                if gone.iter().any(|g| *g) {
                    for item in &kept {
                        self.tree(item);
                    }
                    if let [only] = kept.as_slice() {
                        if !matches!(only, UseTree::Glob(_) | UseTree::Group(_)) {
                            let edit = Edit::replace(
                                span_range(g),
                                vec![Piece::Original {
                                    range: span_range(*only),
                                    dedent: 0,
                                }],
                                RuleId::UnusedImport,
                                leaf_cause(only),
                            );
                            self.ctx.push(edit);
                        }
                    }
                } else {
                    for item in &kept {
                        self.tree(item);
                    }
                }
                false
            }
        }
    }

    /// Whether a subtree goes entirely, without recording edits.
    fn tree_goes(&self, tree: &UseTree) -> bool {
        match tree {
            UseTree::Path(p) => self.tree_goes(&p.tree),
            UseTree::Name(n) => self.leaf_goes(&n.ident.to_string()) || self.reported_unused(&n.ident),
            UseTree::Rename(r) => self.rename_goes(r),
            UseTree::Glob(_) => false,
            UseTree::Group(g) => !g.items.is_empty() && g.items.iter().all(|t| self.tree_goes(t)),
        }
    }

    /// rustc said this import is unused (a trait, which it gives no
    /// suggestion for).
    fn reported_unused(&self, ident: &syn::Ident) -> bool {
        let at = span_range(ident);
        self.ctx
            .seeds
            .unused_imports
            .iter()
            .any(|(r, _)| r.start <= at.start && at.end <= r.end)
    }

    fn rename_goes(&self, r: &syn::UseRename) -> bool {
        self.ctx.symbols.import_goes(&r.ident.to_string()) || self.leaf_goes(&r.rename.to_string())
    }

    fn leaf_goes(&self, name: &str) -> bool {
        if name == "self" {
            return false;
        }
        self.ctx.symbols.import_goes(name)
            || (!self.exported && (self.counts.made_unused(name) || self.counts.trait_made_unused(name)))
    }
}

/// Words of new text that could refer to an import: the first segment of
/// each path (`tokio::sync::mpsc` refers to `tokio` only), not fields or
/// methods after a `.`.
fn leading_path_words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        let is_word = c.is_alphanumeric() || c == '_';
        match (is_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let before = text[..s].trim_end();
                if !before.ends_with("::") && !before.ends_with('.') {
                    out.push(&text[s..i]);
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Is the identifier at `range` a method name in a call (`.name(` or
/// `.name::<`)?
fn is_method_call(src: &str, range: &Range<usize>) -> bool {
    let before = src[..range.start].trim_end();
    let after = src[range.end..].trim_start();
    before.ends_with('.') && (after.starts_with('(') || after.starts_with("::"))
}

/// The first leaf name of a tree, for the report's "cause" column.
fn leaf_cause(tree: &UseTree) -> String {
    match tree {
        UseTree::Path(p) => leaf_cause(&p.tree),
        UseTree::Name(n) => n.ident.to_string(),
        UseTree::Rename(r) => r.rename.to_string(),
        UseTree::Glob(_) => "*".to_string(),
        UseTree::Group(g) => g.items.first().map(leaf_cause).unwrap_or_default(),
    }
}
