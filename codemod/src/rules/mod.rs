//! The rule registry. Each rule describes *what* goes for one shape of code
//! and returns [`Edit`]s; none of them touches text. [`analyse`] runs them all
//! in one pass over a parsed file, items first, then function bodies (where
//! removal propagates through lets, arguments and blocks), then imports.

mod bodies;
mod comments;
mod dead;
mod imports;
mod items;
mod macros;
pub(crate) mod purity;
mod rpc;
mod select;
mod taint;

use std::ops::Range;

use serde::Serialize;

use crate::edit::{Edit, EditSet};
use crate::parse::ParsedFile;
pub use crate::rule_id::RuleId;
use crate::seeds::FileSeeds;
use crate::symbols::Symbols;
use crate::text::{self, Context};

/// What the `subscribe_to_notifications` handler becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum RpcMode {
    /// Keep the RPC with a stub that never sends (the design's Option B).
    #[default]
    Stub,
    /// Delete the handler, its stream type, the client method and the proto items.
    Remove,
}

/// Something the codemod saw and did not change, for a human to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    pub line: usize,
    pub message: String,
}

/// What the rules found in one file.
#[derive(Debug, Default)]
pub struct Analysis {
    pub edits: EditSet,
    pub reviews: Vec<Review>,
    /// The edits would leave the file inconsistent (a removed value still
    /// read by kept code): the file keeps its text; the reviews say where.
    pub abandoned: bool,
}

/// Options that change what rules produce.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleOptions {
    pub rpc: RpcMode,
}

/// Shared state of one file's analysis.
pub(crate) struct FileCtx<'a> {
    pub file: &'a ParsedFile,
    pub symbols: &'a Symbols,
    pub options: RuleOptions,
    pub out: Analysis,
    /// Which of the file's own functions are side-effect free.
    pub purity: purity::Purity,
    /// What the compiler said about this file (empty without `--cargo`).
    pub seeds: std::sync::Arc<FileSeeds>,
    /// Uses of removed values in kept code, to settle at the end.
    pending_abandon: Vec<(usize, String)>,
}

impl<'a> FileCtx<'a> {
    pub fn src(&self) -> &'a str {
        &self.file.source
    }

    /// Records an edit; a conflict with another rule's edit is reported for
    /// review instead of aborting the file.
    pub fn push(&mut self, edit: Edit) -> bool {
        self.push_group(vec![edit])
    }

    pub fn push_group(&mut self, edits: Vec<Edit>) -> bool {
        let line = edits.first().map_or(1, |e| self.line(e.range.start));
        match self.out.edits.insert_group(edits) {
            Ok(()) => true,
            Err(conflict) => {
                self.review(line, format!("edits overlap, left unchanged: {conflict}"));
                false
            }
        }
    }

    /// Removes a node with what belongs to it (comments, separator, lines).
    pub fn remove(&mut self, node: Range<usize>, context: Context, rule: RuleId, cause: &str) -> bool {
        let range = text::removal_range(self.src(), node, context);
        self.push(Edit::delete(range, rule, cause))
    }

    /// Removes the marked elements of one comma-separated list; `marks`
    /// holds the rule and cause of each removed element. Returns the indices
    /// removed.
    pub fn remove_list(&mut self, elements: &[Range<usize>], marks: &[Option<(RuleId, String)>]) -> Vec<usize> {
        let removed: Vec<bool> = marks.iter().map(Option::is_some).collect();
        let mut done = Vec::new();
        for (range, which) in text::list_cuts(self.src(), elements, &removed) {
            let (rule, cause) = marks[which.start].clone().expect("cuts only cover marked elements");
            if self.push(Edit::delete(range, rule, cause)) {
                done.extend(which);
            }
        }
        done
    }

    /// Prefixes a binding that the removal left unused with `_`, as rustc
    /// suggests: the statement keeps its effects and its drop order.
    pub fn silence_binding(&mut self, ident: &syn::Ident, cause: &str) {
        let name = ident.to_string();
        if name.starts_with('_') {
            return;
        }
        let edit = Edit::replace(
            span_range(ident),
            vec![crate::edit::Piece::Text(format!("_{name}"))],
            RuleId::DeadCode,
            cause,
        );
        self.push(edit);
    }

    /// A context over the same file with no edits yet, for a walk whose
    /// findings are looked at and whose edits are thrown away.
    pub fn scratch(&self) -> FileCtx<'a> {
        FileCtx {
            file: self.file,
            symbols: self.symbols,
            options: self.options,
            out: Analysis::default(),
            purity: self.purity.clone(),
            seeds: self.seeds.clone(),
            pending_abandon: Vec::new(),
        }
    }

    /// Gives up on the whole file unless the text at `at` is removed by the
    /// end of the analysis (a test removed whole takes its uses with it):
    /// the file then keeps its text, and `message` says why.
    pub fn abandon_unless_removed(&mut self, at: usize, message: String) {
        self.pending_abandon.push((at, message));
    }

    fn settle_abandonment(&mut self) {
        for (at, message) in std::mem::take(&mut self.pending_abandon) {
            if !self.out.edits.removes(&(at..at + 1)) {
                self.out.abandoned = true;
                let line = self.line(at);
                self.review(line, message);
            }
        }
    }

    pub fn review(&mut self, line: usize, message: impl Into<String>) {
        let review = Review {
            line,
            message: message.into(),
        };
        if !self.out.reviews.contains(&review) {
            self.out.reviews.push(review);
        }
    }

    pub fn line(&self, offset: usize) -> usize {
        self.file.lines.line_of(offset)
    }
}

/// Byte range of a syntax node in its file.
pub(crate) fn span_range<T: crate::spans::Ranged + ?Sized>(node: &T) -> Range<usize> {
    crate::spans::of(node)
}

/// Runs every rule over one file.
pub fn analyse(file: &ParsedFile, symbols: &Symbols, options: RuleOptions, seeds: &FileSeeds) -> Analysis {
    let mut ctx = FileCtx {
        file,
        symbols,
        options,
        out: Analysis::default(),
        purity: purity::Purity::of_file(&file.ast, symbols),
        seeds: std::sync::Arc::new(seeds.clone()),
        pending_abandon: Vec::new(),
    };
    for edit in &seeds.edits {
        ctx.push(edit.clone());
    }
    items::run(&mut ctx);
    dead::run(&mut ctx);
    ctx.settle_abandonment();
    comments::run(&mut ctx);
    imports::run(&mut ctx);
    ctx.out.reviews.sort_by_key(|r| r.line);
    ctx.out
}
