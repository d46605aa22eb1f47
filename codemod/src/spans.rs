//! Byte offsets of spans, fast. proc-macro2 positions are character
//! indices; its own `Span::byte_range` converts each one through a map it
//! grows by one entry per lookup, which made span lookups the largest cost
//! on big files. Here the file whose spans are live on this thread keeps a
//! line table: on a line of ASCII text a character column is a byte column,
//! so a lookup is a binary search. Spans on other lines, or while more than
//! one parsed text is live on the thread (the table could not tell whose
//! span it was given), take proc-macro2's own conversion, unless the caller
//! pins the table of the one text it works on ([`pin`]: the rules on a
//! file kept parsed beside others, see `held`).

use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;

use proc_macro2::{LineColumn, Span};

/// A text's line starts (byte offsets) and which lines are ASCII.
pub(crate) struct LineTable {
    starts: Vec<usize>,
    ascii: Vec<bool>,
}

enum Live {
    None,
    One(Rc<LineTable>),
    /// Several texts were parsed since the spans were last forgotten.
    Several,
}

thread_local! {
    static LIVE: RefCell<Live> = const { RefCell::new(Live::None) };
    /// The table a caller declared in force (see [`pin`]).
    static PINNED: RefCell<Option<Rc<LineTable>>> = const { RefCell::new(None) };
}

/// Records `text`, just lexed on this thread, as the text spans belong to,
/// and returns its table for [`pin`].
pub(crate) fn register(text: &str) -> Rc<LineTable> {
    let mut starts = vec![0];
    let mut ascii = Vec::new();
    let mut line_is_ascii = true;
    for (i, &b) in text.as_bytes().iter().enumerate() {
        line_is_ascii &= b.is_ascii();
        if b == b'\n' {
            starts.push(i + 1);
            ascii.push(line_is_ascii);
            line_is_ascii = true;
        }
    }
    ascii.push(line_is_ascii);
    let table = Rc::new(LineTable { starts, ascii });
    LIVE.with(|live| {
        let mut live = live.borrow_mut();
        *live = match *live {
            Live::None => Live::One(Rc::clone(&table)),
            _ => Live::Several,
        };
    });
    table
}

/// Forgets the live texts (the spans were invalidated).
pub(crate) fn forget() {
    LIVE.with(|live| *live.borrow_mut() = Live::None);
}

/// While the returned guard lives, spans are taken as spans of `table`'s
/// text, even when several texts are live on this thread: the caller
/// promises to look up only spans of that text (one file's rules).
pub(crate) fn pin(table: &Rc<LineTable>) -> Pin {
    let previous = PINNED.with(|p| p.borrow_mut().replace(Rc::clone(table)));
    Pin { previous }
}

/// Restores the table pinned before (see [`pin`]).
pub(crate) struct Pin {
    previous: Option<Rc<LineTable>>,
}

impl Drop for Pin {
    fn drop(&mut self) {
        let previous = self.previous.take();
        PINNED.with(|p| *p.borrow_mut() = previous);
    }
}

/// Byte range of `span` in the text it was lexed from.
pub fn byte_range(span: Span) -> Range<usize> {
    let lookup = |table: &LineTable| Some((table.offset(span.start())?, table.offset(span.end())?));
    let pinned = PINNED.with(|p| p.borrow().as_deref().map(lookup));
    let fast = match pinned {
        Some(found) => found,
        None => LIVE.with(|live| match &*live.borrow() {
            Live::One(table) => lookup(table),
            _ => None,
        }),
    };
    match fast {
        Some((start, end)) => start..end,
        None => span.byte_range(),
    }
}

/// The byte range a syntax node covers. syn's `Spanned` prints the whole
/// node back into tokens to find its first and last token, which costs the
/// node's size; the containers a walk asks about at every level (items,
/// functions, blocks) answer from the tokens that open and close them.
pub trait Ranged {
    fn range(&self) -> Range<usize>;
}

/// Byte range of a syntax node in its file.
pub fn of<T: Ranged + ?Sized>(node: &T) -> Range<usize> {
    node.range()
}

/// Nodes measured by syn's `Spanned`: small ones, or shapes without a
/// closing token of their own.
macro_rules! printed_range {
    ($($ty:ty),* $(,)?) => {$(
        impl Ranged for $ty {
            fn range(&self) -> Range<usize> {
                byte_range(syn::spanned::Spanned::span(self))
            }
        }
    )*};
}

printed_range!(
    syn::Arm,
    syn::Attribute,
    syn::Expr,
    syn::ExprField,
    syn::ExprMethodCall,
    syn::ExprTuple,
    syn::Field,
    syn::FieldValue,
    syn::FnArg,
    syn::Ident,
    syn::ImplItemType,
    syn::ItemConst,
    syn::ItemEnum,
    syn::ItemStatic,
    syn::ItemStruct,
    syn::ItemType,
    syn::ItemUse,
    syn::Local,
    syn::Macro,
    syn::Pat,
    syn::PatTuple,
    syn::PatIdent,
    syn::PatType,
    syn::Signature,
    syn::TraitItem,
    syn::Type,
    syn::UseGroup,
    syn::UseTree,
    syn::Variant,
    syn::Visibility,
);

impl<T: Ranged + ?Sized> Ranged for &T {
    fn range(&self) -> Range<usize> {
        (**self).range()
    }
}

impl<T: Ranged + ?Sized> Ranged for Box<T> {
    fn range(&self) -> Range<usize> {
        (**self).range()
    }
}

/// From the first of the opening parts present (outer attributes first) to
/// the end of the closing token.
fn opened_closed(attrs: &[syn::Attribute], heads: &[Option<Range<usize>>], close: Span) -> Range<usize> {
    let first_attr = attrs
        .iter()
        .find(|a| matches!(a.style, syn::AttrStyle::Outer))
        .map(Ranged::range);
    let start = first_attr
        .into_iter()
        .chain(heads.iter().flatten().cloned())
        .map(|r| r.start)
        .min()
        .unwrap_or_default();
    start..byte_range(close).end
}

fn visibility(vis: &syn::Visibility) -> Option<Range<usize>> {
    (!matches!(vis, syn::Visibility::Inherited)).then(|| vis.range())
}

/// The first token of a signature (`const`, `async`, `unsafe`, `extern`
/// or `fn`): a container's start needs no more, and printing the whole
/// signature to find it cost the signature's size.
fn signature_start(sig: &syn::Signature) -> Range<usize> {
    let first = [
        token(sig.constness.as_ref()),
        token(sig.asyncness.as_ref()),
        token(sig.unsafety.as_ref()),
        token(sig.abi.as_ref().map(|abi| &abi.extern_token)),
    ];
    first
        .into_iter()
        .flatten()
        .next()
        .unwrap_or_else(|| byte_range(sig.fn_token.span))
}

fn token<T: syn::spanned::Spanned>(token: Option<&T>) -> Option<Range<usize>> {
    token.map(|t| byte_range(t.span()))
}

impl Ranged for syn::Block {
    fn range(&self) -> Range<usize> {
        byte_range(self.brace_token.span.open()).start..byte_range(self.brace_token.span.close()).end
    }
}

impl Ranged for syn::ItemFn {
    fn range(&self) -> Range<usize> {
        let heads = [visibility(&self.vis), Some(signature_start(&self.sig))];
        opened_closed(&self.attrs, &heads, self.block.brace_token.span.close())
    }
}

impl Ranged for syn::ImplItemFn {
    fn range(&self) -> Range<usize> {
        let heads = [
            visibility(&self.vis),
            token(self.defaultness.as_ref()),
            Some(signature_start(&self.sig)),
        ];
        opened_closed(&self.attrs, &heads, self.block.brace_token.span.close())
    }
}

impl Ranged for syn::ItemImpl {
    fn range(&self) -> Range<usize> {
        let heads = [
            token(self.defaultness.as_ref()),
            token(self.unsafety.as_ref()),
            token(Some(&self.impl_token)),
        ];
        opened_closed(&self.attrs, &heads, self.brace_token.span.close())
    }
}

impl Ranged for syn::ItemMod {
    fn range(&self) -> Range<usize> {
        match &self.content {
            Some((brace, _)) => {
                let heads = [
                    visibility(&self.vis),
                    token(self.unsafety.as_ref()),
                    token(Some(&self.mod_token)),
                ];
                opened_closed(&self.attrs, &heads, brace.span.close())
            }
            None => byte_range(syn::spanned::Spanned::span(self)),
        }
    }
}

impl Ranged for syn::ItemTrait {
    fn range(&self) -> Range<usize> {
        let heads = [
            visibility(&self.vis),
            token(self.unsafety.as_ref()),
            token(self.auto_token.as_ref()),
            token(Some(&self.trait_token)),
        ];
        opened_closed(&self.attrs, &heads, self.brace_token.span.close())
    }
}

impl Ranged for syn::Item {
    fn range(&self) -> Range<usize> {
        match self {
            syn::Item::Fn(f) => f.range(),
            syn::Item::Impl(i) => i.range(),
            syn::Item::Mod(m) => m.range(),
            syn::Item::Trait(t) => t.range(),
            other => byte_range(syn::spanned::Spanned::span(other)),
        }
    }
}

impl Ranged for syn::ImplItem {
    fn range(&self) -> Range<usize> {
        match self {
            syn::ImplItem::Fn(f) => f.range(),
            other => byte_range(syn::spanned::Spanned::span(other)),
        }
    }
}

impl Ranged for syn::Stmt {
    fn range(&self) -> Range<usize> {
        match self {
            syn::Stmt::Item(item) => item.range(),
            other => crate::stmt_bounds::of(other).unwrap_or_else(|| byte_range(syn::spanned::Spanned::span(other))),
        }
    }
}

impl LineTable {
    /// The byte offset of a position on an ASCII line.
    fn offset(&self, at: LineColumn) -> Option<usize> {
        let line = at.line.checked_sub(1)?;
        if !*self.ascii.get(line)? {
            return None;
        }
        Some(self.starts[line] + at.column)
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proc_macro2::{TokenStream, TokenTree};

    use super::*;

    fn idents(text: &str) -> Vec<(String, Range<usize>, Range<usize>)> {
        let tokens = TokenStream::from_str(text).unwrap();
        register(text);
        let out = tokens
            .into_iter()
            .filter_map(|t| match t {
                TokenTree::Ident(i) => Some((i.to_string(), byte_range(i.span()), i.span().byte_range())),
                _ => None,
            })
            .collect();
        forget();
        proc_macro2::extra::invalidate_current_thread_spans();
        out
    }

    #[test]
    fn agrees_with_proc_macro2_on_ascii_and_other_lines() {
        let text = "fn a() {}\n// é ü\nfn é_b() { c }\r\nstruct D;";
        for (name, fast, slow) in idents(text) {
            assert_eq!(fast, slow, "{name}");
            assert_eq!(&text[fast], name);
        }
    }

    /// Every container measured from its opening and closing tokens covers
    /// what syn's printing measure covers, on every Rust file of the
    /// workspace (the codemod's test trees, the servers, the SDKs).
    #[test]
    fn container_ranges_equal_the_printed_ranges() {
        use syn::spanned::Spanned;
        use syn::visit::Visit;

        struct Check(usize);
        impl Check {
            fn same<T: Ranged + Spanned>(&mut self, node: &T) {
                assert_eq!(of(node), byte_range(node.span()));
                self.0 += 1;
            }
        }
        impl<'ast> Visit<'ast> for Check {
            fn visit_item(&mut self, i: &'ast syn::Item) {
                self.same(i);
                syn::visit::visit_item(self, i);
            }
            fn visit_impl_item(&mut self, i: &'ast syn::ImplItem) {
                self.same(i);
                syn::visit::visit_impl_item(self, i);
            }
            fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
                self.same(s);
                syn::visit::visit_stmt(self, s);
            }
            fn visit_block(&mut self, b: &'ast syn::Block) {
                self.same(b);
                syn::visit::visit_block(self, b);
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut check = Check(0);
        let files = walkdir::WalkDir::new(root)
            .into_iter()
            .filter_entry(|e| e.file_name() != "target" && e.file_name() != ".git");
        for entry in files.filter_map(Result::ok) {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            if let Ok(parsed) = crate::parse::parse(text) {
                check.visit_file(&parsed.ast);
            }
            crate::parse::forget_spans();
        }
        assert!(check.0 > 20_000, "only {} nodes checked", check.0);
    }

    #[test]
    fn two_live_texts_fall_back_to_proc_macro2() {
        let first = TokenStream::from_str("é; x").unwrap();
        register("é; x");
        let second = TokenStream::from_str("yyyy; z").unwrap();
        register("yyyy; z");
        let last = |t: TokenStream| t.into_iter().last().unwrap().span();
        assert_eq!(byte_range(last(first)), 4..5);
        assert_eq!(byte_range(last(second)), 6..7);
        forget();
        proc_macro2::extra::invalidate_current_thread_spans();
    }
}
