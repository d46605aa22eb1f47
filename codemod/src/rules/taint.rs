//! Which expressions carry a removed value: the notifier (or something
//! reached through it), the work-available `Notify` handle, the removed config
//! flag, or the subscription loop. Removal propagates along these values:
//! a `let` bound to one goes and its name becomes tainted in turn.

use std::collections::HashMap;

use syn::{Expr, Pat};

use crate::seeds::FileSeeds;
use crate::spec;
use crate::symbols::Symbols;

/// What a tainted value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taint {
    /// A notifier-like value (notifier, notify handle, subscription task).
    /// The string is the seed it comes from.
    Value(String),
    /// A read of the removed boolean config flag, which now counts as false.
    Flag,
}

impl Taint {
    pub fn cause(&self) -> &str {
        match self {
            Taint::Value(cause) => cause,
            Taint::Flag => spec::CONFIG_FLAG,
        }
    }
}

/// The names in scope that carry a removed value, and the struct types of
/// the other names where known (to resolve `state.notifier`).
#[derive(Debug, Clone, Default)]
pub struct Env {
    tainted: HashMap<String, Taint>,
    types: HashMap<String, String>,
    /// The self type of the enclosing `impl`.
    pub owner: Option<String>,
    /// What the compiler said about this file.
    seeds: std::sync::Arc<FileSeeds>,
    /// Locals assigned a removed value somewhere in the function.
    pretainted: HashMap<String, Taint>,
}

/// The result of asking whether `base.field` is a removed field.
pub enum FieldLookup {
    Removed(Taint),
    Kept,
    /// The name is removed in one struct and kept in another, and the base's
    /// type is unknown.
    Ambiguous,
}

impl Env {
    pub fn new(owner: Option<String>, seeds: std::sync::Arc<FileSeeds>) -> Self {
        Env {
            owner,
            seeds,
            ..Env::default()
        }
    }

    /// The compiler's cause when it reported the name at `ident` as gone.
    pub fn forced(&self, ident: &proc_macro2::Ident) -> Option<&str> {
        let at = crate::spans::byte_range(ident.span()).start;
        self.seeds.tainted.get(&at).map(String::as_str)
    }

    /// The compiler's cause when it reported the method at `ident` as gone.
    pub fn forced_link(&self, ident: &proc_macro2::Ident) -> Option<&str> {
        let at = crate::spans::byte_range(ident.span()).start;
        self.seeds.links.get(&at).map(String::as_str)
    }

    /// Was the binding at `ident` reported unused by the compiler?
    pub fn unused_binding(&self, ident: &proc_macro2::Ident) -> Option<&str> {
        let at = crate::spans::byte_range(ident.span()).start;
        self.seeds.unused_bindings.get(&at).map(String::as_str)
    }

    /// The taint the compiler forces on an expression, if any.
    fn forced_taint(&self, expr: &Expr) -> Option<Taint> {
        let ident = match expr {
            Expr::Path(p) => p.path.segments.last().map(|s| &s.ident),
            Expr::Field(f) => match &f.member {
                syn::Member::Named(name) => Some(name),
                syn::Member::Unnamed(_) => None,
            },
            Expr::MethodCall(m) => Some(&m.method),
            Expr::Call(c) => match &*c.func {
                Expr::Path(p) => p.path.segments.last().map(|s| &s.ident),
                _ => None,
            },
            _ => None,
        }?;
        if let Some(cause) = self.forced(ident) {
            return Some(Taint::Value(cause.to_string()));
        }
        // A method that is gone, called as a statement on a plain receiver.
        match expr {
            Expr::MethodCall(m) if is_pure(&m.receiver) => {
                self.forced_link(&m.method).map(|c| Taint::Value(c.to_string()))
            }
            _ => None,
        }
    }

    pub fn taint(&mut self, name: String, taint: Taint) {
        self.tainted.insert(name, taint);
    }

    /// Marks a local as holding a removed value from its declaration on.
    pub fn pretaint(&mut self, name: String, taint: Taint) {
        self.pretainted.insert(name, taint);
    }

    pub fn pretainted(&self, name: &str) -> Option<&Taint> {
        self.pretainted.get(name)
    }

    pub fn untaint(&mut self, name: &str) {
        self.tainted.remove(name);
    }

    pub fn get(&self, name: &str) -> Option<&Taint> {
        self.tainted.get(name)
    }

    /// Records the struct type behind a binding, from its declared type
    /// (`state: &AppState`, `State(state): State<AppState>`).
    pub fn bind_type(&mut self, pat: &Pat, ty: &syn::Type, symbols: &Symbols) {
        let Some(owner) = struct_in_type(ty, symbols) else {
            return;
        };
        for name in pat_idents(pat) {
            self.types.insert(name, owner.clone());
        }
    }

    /// Records the struct type of a binding from its initialiser, where it
    /// shows (`let state = test_state();`, `let s = AppState { .. }`,
    /// `let st = state.clone();`).
    pub fn bind_inferred(&mut self, pat: &Pat, init: &Expr, symbols: &Symbols) {
        let Pat::Ident(p) = pat else { return };
        match self.type_of(init, symbols) {
            Some(owner) => self.types.insert(p.ident.to_string(), owner),
            // A shadowing binding of an unknown type.
            None => self.types.remove(&p.ident.to_string()),
        };
    }

    /// The struct an expression's value is, where the run knows it.
    fn type_of(&self, expr: &Expr, symbols: &Symbols) -> Option<String> {
        let found = match expr {
            Expr::Path(p) if p.path.is_ident("self") => self.owner.clone(),
            Expr::Path(p) => p.path.get_ident().and_then(|i| self.types.get(&i.to_string()).cloned()),
            Expr::Struct(s) => {
                let name = s.path.segments.last()?.ident.to_string();
                if name == "Self" {
                    self.owner.clone()
                } else {
                    Some(name)
                }
            }
            Expr::Call(c) => {
                let Expr::Path(callee) = &*c.func else { return None };
                let name = callee.path.segments.last()?.ident.to_string();
                let owner = self.call_owner(&callee.path);
                symbols.return_struct(&owner, &name).map(str::to_string)
            }
            Expr::MethodCall(m)
                if spec::PURE_METHODS.contains(&m.method.to_string().as_str())
                    || m.method == "unwrap"
                    || m.method == "expect" =>
            {
                self.type_of(&m.receiver, symbols)
            }
            Expr::Reference(r) => self.type_of(&r.expr, symbols),
            Expr::Paren(p) => self.type_of(&p.expr, symbols),
            Expr::Await(a) => self.type_of(&a.base, symbols),
            Expr::Try(t) => self.type_of(&t.expr, symbols),
            _ => None,
        };
        found.filter(|o| symbols.knows_struct(o))
    }

    /// Is `base.field` a removed field?
    pub fn field(&self, base: &Expr, field: &str, symbols: &Symbols) -> FieldLookup {
        let owner = match strip(base) {
            Expr::Path(p) if p.path.is_ident("self") => self.owner.clone(),
            Expr::Path(p) => p.path.get_ident().and_then(|i| self.types.get(&i.to_string()).cloned()),
            _ => None,
        };
        if let Some(owner) = owner.filter(|o| symbols.knows_struct(o)) {
            return match symbols.removed_field(&owner, field) {
                Some(cause) => FieldLookup::Removed(field_taint(field, cause)),
                None => FieldLookup::Kept,
            };
        }
        if let Some(cause) = symbols.removed_field_name(field) {
            return FieldLookup::Removed(field_taint(field, cause));
        }
        if symbols.is_ambiguous_field(field) {
            return FieldLookup::Ambiguous;
        }
        FieldLookup::Kept
    }

    /// The taint of an expression, if it carries a removed value.
    pub fn taint_of(&self, expr: &Expr, symbols: &Symbols) -> Option<Taint> {
        if let Some(taint) = self.forced_taint(expr) {
            return Some(taint);
        }
        match expr {
            Expr::Path(p) => {
                if let Some(ident) = p.path.get_ident() {
                    return self.get(&ident.to_string()).cloned();
                }
                symbols.removed_type_in_expr(expr).map(|t| Taint::Value(t.to_string()))
            }
            Expr::Field(f) => match &f.member {
                syn::Member::Named(name) => match self.field(&f.base, &name.to_string(), symbols) {
                    FieldLookup::Removed(taint) => Some(taint),
                    _ => self.taint_of(&f.base, symbols),
                },
                syn::Member::Unnamed(_) => self.taint_of(&f.base, symbols),
            },
            Expr::MethodCall(m) => self.method_taint(m, symbols),
            Expr::Call(c) => self.call_taint(c, symbols),
            Expr::Reference(r) => self.taint_of(&r.expr, symbols),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.taint_of(&u.expr, symbols),
            Expr::Paren(p) => self.taint_of(&p.expr, symbols),
            Expr::Group(g) => self.taint_of(&g.expr, symbols),
            Expr::Await(a) => self.taint_of(&a.base, symbols),
            Expr::Try(t) if symbols.has_rpc_handler() && awaits_subscription(&t.expr) => {
                Some(Taint::Value(spec::RPC_METHOD.to_string()))
            }
            Expr::Try(t) => self.taint_of(&t.expr, symbols),
            Expr::Cast(c) => self.taint_of(&c.expr, symbols),
            Expr::Assign(a) => self.taint_of(&a.left, symbols),
            Expr::Async(a) => self.block_taint(&a.block, symbols),
            Expr::Block(b) => self.block_taint(&b.block, symbols),
            Expr::Closure(c) => self.taint_of(&c.body, symbols),
            // A `match` on a removed value only deals with that value.
            Expr::Match(m) => self.taint_of(&m.expr, symbols),
            // `vec![first.queue]`: a list made only of removed values.
            Expr::Macro(m) => self.list_macro_taint(&m.mac, symbols),
            _ => None,
        }
    }

    fn method_taint(&self, m: &syn::ExprMethodCall, symbols: &Symbols) -> Option<Taint> {
        let name = m.method.to_string();
        if name == spec::SUBSCRIPTION_LOOP {
            return Some(Taint::Value(name));
        }
        // `client.subscribe_to_notifications(req).await.unwrap()` where the
        // run stubs the handler: the subscription succeeded, and its events
        // will never come.
        if matches!(name.as_str(), "unwrap" | "expect") && symbols.has_rpc_handler() && awaits_subscription(&m.receiver)
        {
            return Some(Taint::Value(spec::RPC_METHOD.to_string()));
        }
        if let Some(taint) = self.taint_of(&m.receiver, symbols) {
            return Some(taint);
        }
        let unit_setter = symbols
            .setter(&name, m.args.len())
            .filter(|s| s.shape == crate::symbols::SetterShape::Unit);
        if let Some(cause) = unit_setter
            .map(|s| s.cause.as_str())
            .or_else(|| symbols.producer_method(&name))
        {
            return Some(Taint::Value(cause.to_string()));
        }
        // `queues.iter().for_each(|q| notifier.notify_work_available(o, q))`
        let consumes = matches!(name.as_str(), "for_each" | "try_for_each");
        if consumes && is_pure(&m.receiver) {
            let mut found = None;
            for arg in &m.args {
                match arg {
                    Expr::Closure(c) => found = Some(self.taint_of(&c.body, symbols)?),
                    _ => return None,
                }
            }
            return found;
        }
        None
    }

    fn list_macro_taint(&self, mac: &syn::Macro, symbols: &Symbols) -> Option<Taint> {
        let name = mac.path.segments.last()?.ident.to_string();
        if !spec::LIST_MACROS.contains(&name.as_str()) {
            return None;
        }
        let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
        let args = mac.parse_body_with(parser).ok()?;
        let mut found = None;
        for arg in &args {
            found = Some(self.taint_of(arg, symbols)?);
        }
        found
    }

    /// The owner a call path names: `Type::f` → `Type`, `Self::f` → the
    /// enclosing impl's type, `f` → "" (a free function).
    pub fn call_owner(&self, path: &syn::Path) -> String {
        let n = path.segments.len();
        match n {
            0 | 1 => String::new(),
            _ if path.segments[n - 2].ident == "Self" => self.owner.clone().unwrap_or_default(),
            _ => path.segments[n - 2].ident.to_string(),
        }
    }

    fn call_taint(&self, call: &syn::ExprCall, symbols: &Symbols) -> Option<Taint> {
        let Expr::Path(callee) = &*call.func else { return None };
        // Calling a closure bound to a removed value.
        if let Some(taint) = callee.path.get_ident().and_then(|i| self.get(&i.to_string())) {
            return Some(taint.clone());
        }
        if let Some(found) = symbols.removed_type_in_expr(&call.func) {
            return Some(Taint::Value(found.to_string()));
        }
        let last = callee.path.segments.last()?.ident.to_string();
        if last == spec::SUBSCRIPTION_LOOP {
            return Some(Taint::Value(last));
        }
        let owner = self.call_owner(&callee.path);
        if let Some(cause) = symbols.producer(&owner, &last).or_else(|| symbols.producer("", &last)) {
            return Some(Taint::Value(cause.to_string()));
        }
        // `Arc::new(x)`, `Some(x)`, `tokio::spawn(x)`, `Arc::clone(&x)`:
        // wrapping a removed value gives a removed value.
        // `timeout(d, fut)`: the future's value, if it ever comes.
        if last == "timeout" && call.args.len() == 2 {
            return self.taint_of(&call.args[1], symbols);
        }
        // `Extension(x)`, `State(x)`: a tuple struct wrapping one value.
        let constructor = last.starts_with(|c: char| c.is_ascii_uppercase());
        let wraps = spec::WRAPPER_CALLS.contains(&last.as_str()) || last == "spawn" || constructor;
        if wraps && call.args.len() == 1 {
            return self.taint_of(&call.args[0], symbols);
        }
        None
    }

    /// A block whose every statement carries a removed value.
    fn block_taint(&self, block: &syn::Block, symbols: &Symbols) -> Option<Taint> {
        let mut found = None;
        for stmt in &block.stmts {
            let taint = match stmt {
                syn::Stmt::Expr(e, _) => self.taint_of(e, symbols),
                _ => None,
            };
            found = Some(taint?);
        }
        found
    }
}

/// `x.subscribe_to_notifications(..).await`.
fn awaits_subscription(expr: &Expr) -> bool {
    let Expr::Await(a) = expr else { return false };
    matches!(&*a.base, Expr::MethodCall(m) if m.method == spec::RPC_METHOD)
}

fn field_taint(field: &str, cause: &str) -> Taint {
    if field == spec::CONFIG_FLAG {
        Taint::Flag
    } else {
        Taint::Value(cause.to_string())
    }
}

/// Strips references, parentheses and `.clone()`-like calls.
fn strip(expr: &Expr) -> &Expr {
    match expr {
        Expr::Reference(r) => strip(&r.expr),
        Expr::Paren(p) => strip(&p.expr),
        _ => expr,
    }
}

/// The first identifier in a type that names a struct the run knows.
fn struct_in_type(ty: &syn::Type, symbols: &Symbols) -> Option<String> {
    struct Finder<'s> {
        symbols: &'s Symbols,
        found: Option<String>,
    }
    impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
        fn visit_ident(&mut self, ident: &'ast proc_macro2::Ident) {
            let name = ident.to_string();
            if self.found.is_none() && self.symbols.knows_struct(&name) {
                self.found = Some(name);
            }
        }
    }
    let mut finder = Finder { symbols, found: None };
    syn::visit::Visit::visit_type(&mut finder, ty);
    finder.found
}

/// Every identifier a pattern binds.
pub fn pat_idents(pat: &Pat) -> Vec<String> {
    pat_bindings(pat).into_iter().map(|i| i.to_string()).collect()
}

/// Every identifier a pattern binds, as syntax (for its span).
pub fn pat_bindings(pat: &Pat) -> Vec<&syn::Ident> {
    struct Binder<'ast>(Vec<&'ast syn::Ident>);
    impl<'ast> syn::visit::Visit<'ast> for Binder<'ast> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.push(&p.ident);
            syn::visit::visit_pat_ident(self, p);
        }
    }
    let mut binder = Binder(Vec::new());
    syn::visit::Visit::visit_pat(&mut binder, pat);
    binder.0
}

/// Has the expression no side effect worth keeping? (See
/// [`super::purity`]; calls to the file's own functions are not known here.)
pub fn is_pure(expr: &Expr) -> bool {
    super::purity::Purity::default().expr(expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(s: &str) -> Expr {
        syn::parse_str(s).unwrap()
    }

    fn symbols() -> Symbols {
        Symbols::of_source("struct GrpcState { db: Db, notifier: Arc<WorkerNotifier> }")
    }

    #[test]
    fn field_of_removed_type_is_tainted() {
        let env = Env::default();
        let t = env.taint_of(&expr("state.notifier.clone()"), &symbols());
        assert_eq!(t, Some(Taint::Value("WorkerNotifier".into())));
        assert_eq!(env.taint_of(&expr("state.db.clone()"), &symbols()), None);
    }

    #[test]
    fn constructor_is_tainted() {
        let t = Env::default().taint_of(&expr("Arc::new(WorkerNotifier::new(1000))"), &symbols());
        assert_eq!(t, Some(Taint::Value("WorkerNotifier".into())));
    }

    #[test]
    fn flag_read_is_flag() {
        let t = Env::default().taint_of(&expr("self.config.enable_notifications"), &symbols());
        assert_eq!(t, Some(Taint::Flag));
    }

    #[test]
    fn purity() {
        assert!(is_pure(&expr("workflow.queue.clone()")));
        assert!(is_pure(&expr("is_new && !x.is_empty()")));
        assert!(is_pure(&expr(
            r#"if q.is_empty() { "default".to_string() } else { q.clone() }"#
        )));
        assert!(!is_pure(&expr("if q.is_empty() { send(q) } else { q.clone() }")));
        assert!(!is_pure(&expr("launch(x).await")));
        assert!(!is_pure(&expr("db.insert(x)")));
        assert!(is_pure(&expr("jobs.iter().map(|j| j.queue.as_str()).collect()")));
        assert!(!is_pure(&expr("jobs.iter().map(|j| send(j)).collect()")));
    }
}
