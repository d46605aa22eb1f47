//! The `subscribe_to_notifications` gRPC handler. With `--rpc stub` (the
//! design's Option B) its body becomes a stub that keeps old SDKs connected
//! but never sends; with `--rpc remove` the handler goes.
//!
//! The stub is written in terms of the impl's own associated stream type,
//! so it compiles whatever the handler streamed before.

use syn::visit::Visit;

use super::{span_range, FileCtx, RpcMode, RuleId};
use crate::edit::{Edit, Piece};
use crate::spec;
use crate::text::{self, Context};

/// How the stream type is built from an mpsc receiver `rx`.
struct StreamShape {
    /// The item type's source text, e.g. `Result<WorkAvailableEvent, Status>`.
    item: String,
    /// The expression wrapping `rx`.
    stream: String,
}

/// Does the impl define the RPC's associated stream type (a tonic server)?
pub(super) fn is_handler_impl(imp: &syn::ItemImpl) -> bool {
    imp.items
        .iter()
        .any(|item| matches!(item, syn::ImplItem::Type(t) if t.ident == spec::RPC_STREAM_TYPE))
}

pub(super) fn rewrite_handler(ctx: &mut FileCtx<'_>, imp: &syn::ItemImpl, f: &syn::ImplItemFn) {
    let name = spec::RPC_METHOD;
    if ctx.options.rpc == RpcMode::Remove {
        ctx.remove(span_range(f), Context::Standalone, RuleId::RpcRemove, name);
        return;
    }
    let line = ctx.line(span_range(f).start);
    let Some(shape) = stream_shape(ctx, imp) else {
        ctx.review(
            line,
            format!(
                "`{name}`: the stream type `{}` is not a ReceiverStream or a boxed Stream; stub it by hand",
                spec::RPC_STREAM_TYPE
            ),
        );
        return;
    };
    let src = ctx.src();
    let body = span_range(&f.block);
    let indent = text::indent_at(src, span_range(f).start).to_string();
    let inner = format!("{indent}    ");
    let kept: Vec<&syn::Stmt> = f.block.stmts.iter().take_while(|s| is_auth(s)).collect();

    let mut pieces = vec![Piece::Text("{\n".into())];
    if let (Some(first), Some(last)) = (kept.first(), kept.last()) {
        let start = text::leading_comments_start(src, text::line_start(src, span_range(*first).start));
        let end = text::line_end(src, span_range(*last).end);
        pieces.push(Piece::Original {
            range: start..end,
            dedent: 0,
        });
    }
    pieces.push(Piece::Text(stub_lines(&inner, &shape)));
    pieces.push(Piece::Text(format!("{indent}}}")));
    let mut edits = vec![Edit::replace(body.clone(), pieces.clone(), RuleId::RpcStub, name)];

    // Already the stub: nothing to do (idempotence).
    if rendered_text(src, &pieces) == src[body.clone()] {
        return;
    }
    if let Some(edit) = rename_unused_request(ctx, f, &kept) {
        edits.push(edit);
    }
    if ctx.push_group(edits) {
        // The stub reads none of the kept statements' bindings; a later
        // kept statement may.
        let kept_end = kept.last().map_or(0, |s| span_range(*s).end);
        for stmt in &kept {
            if let syn::Stmt::Local(local) = stmt {
                let after = span_range(*stmt).end..kept_end;
                for ident in super::taint::pat_bindings(&local.pat) {
                    if ctx
                        .file
                        .idents_named(&ident.to_string(), after.clone())
                        .next()
                        .is_none()
                    {
                        ctx.silence_binding(ident, name);
                    }
                }
            }
        }
    }
}

fn rendered_text(src: &str, pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.clone(),
            Piece::Original { range, .. } => src[range.clone()].to_string(),
        })
        .collect()
}

/// The stub's statements, each line prefixed with `indent`.
fn stub_lines(indent: &str, shape: &StreamShape) -> String {
    let lines = [
        "// WorkerNotifier was removed: workers discover work by polling. This stub keeps".to_string(),
        "// SDKs from before the removal connected: it accepts the call, never sends an".to_string(),
        "// event and ends the stream after 30 seconds (or when the client goes away).".to_string(),
        format!("let (tx, rx) = tokio::sync::mpsc::channel::<{}>(1);", shape.item),
        "tokio::spawn(async move {".to_string(),
        "    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), tx.closed()).await;".to_string(),
        "});".to_string(),
        format!("Ok(Response::new({}))", shape.stream),
    ];
    lines.iter().map(|l| format!("{indent}{l}\n")).collect()
}

/// Statements that authenticate the caller stay in front of the stub.
fn is_auth(stmt: &syn::Stmt) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            self.0 |= m.method.to_string().to_ascii_lowercase().contains("auth");
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
            if let syn::Expr::Path(p) = &*c.func {
                let last = p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                self.0 |= last.to_ascii_lowercase().contains("auth");
            }
            syn::visit::visit_expr_call(self, c);
        }
    }
    let mut finder = Finder(false);
    finder.visit_stmt(stmt);
    finder.0
}

/// The associated stream type decides how `rx` becomes the response; an
/// alias (`type SubscribeToNotificationsStream = EventStream;`, with
/// `EventStream` defined anywhere in the run) is looked through.
fn stream_shape(ctx: &FileCtx<'_>, imp: &syn::ItemImpl) -> Option<StreamShape> {
    let ty = imp.items.iter().find_map(|item| match item {
        syn::ImplItem::Type(t) if t.ident == spec::RPC_STREAM_TYPE => Some(&t.ty),
        _ => None,
    })?;
    if let Some(shape) = shape_of(ctx.src(), ty) {
        return Some(shape);
    }
    let mut name = crate::symbols::type_name(ty)?;
    for _ in 0..4 {
        let text = ctx.symbols.alias_text(&name)?.to_string();
        let aliased: syn::Type = syn::parse_str(&text).ok()?;
        if let Some(shape) = shape_of(&text, &aliased) {
            return Some(shape);
        }
        name = crate::symbols::type_name(&aliased)?;
    }
    None
}

/// The shape of a stream type written in `src`.
fn shape_of(src: &str, ty: &syn::Type) -> Option<StreamShape> {
    let mut finder = ShapeFinder::default();
    finder.visit_type(ty);
    if let Some((path, item)) = finder.receiver_stream {
        let item = src.get(span_range(item))?.to_string();
        return Some(StreamShape {
            item,
            stream: format!("{path}::new(rx)"),
        });
    }
    let item = finder.item_binding?;
    Some(StreamShape {
        item: src.get(span_range(item))?.to_string(),
        stream: "Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))".to_string(),
    })
}

#[derive(Default)]
struct ShapeFinder<'ast> {
    /// The path text of `ReceiverStream` and its item type.
    receiver_stream: Option<(String, &'ast syn::Type)>,
    /// `Item = T` in `dyn Stream<Item = T>`.
    item_binding: Option<&'ast syn::Type>,
}

impl<'ast> Visit<'ast> for ShapeFinder<'ast> {
    fn visit_type_path(&mut self, tp: &'ast syn::TypePath) {
        if let Some(last) = tp.path.segments.last() {
            if last.ident == "ReceiverStream" {
                if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
                    if let Some(syn::GenericArgument::Type(item)) = args.args.first() {
                        let path: Vec<String> = tp.path.segments.iter().map(|s| s.ident.to_string()).collect();
                        self.receiver_stream = Some((path.join("::"), item));
                        return;
                    }
                }
            }
        }
        syn::visit::visit_type_path(self, tp);
    }

    fn visit_assoc_type(&mut self, at: &'ast syn::AssocType) {
        if at.ident == "Item" && self.item_binding.is_none() {
            self.item_binding = Some(&at.ty);
        }
        syn::visit::visit_assoc_type(self, at);
    }
}

/// The request parameter is renamed `_request` when the stub no longer
/// reads it.
fn rename_unused_request(ctx: &FileCtx<'_>, f: &syn::ImplItemFn, kept: &[&syn::Stmt]) -> Option<Edit> {
    let pat = f.sig.inputs.iter().find_map(|input| match input {
        syn::FnArg::Typed(pt) => match &*pt.pat {
            syn::Pat::Ident(p) => Some(p),
            _ => None,
        },
        _ => None,
    })?;
    let name = pat.ident.to_string();
    if name.starts_with('_') {
        return None;
    }
    let used = kept
        .iter()
        .any(|s| ctx.file.idents_named(&name, span_range(*s)).next().is_some());
    if used {
        return None;
    }
    Some(Edit::replace(
        span_range(&pat.ident),
        vec![Piece::Text(format!("_{name}"))],
        RuleId::RpcStub,
        spec::RPC_METHOD,
    ))
}
