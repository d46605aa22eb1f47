//! Which expressions carry a removed value: the notifier (or something
//! reached through it), the work-available `Notify` handle, the removed config
//! flag, or the subscription loop. Removal propagates along these values:
//! a `let` bound to one goes and its name becomes tainted in turn.

use std::collections::HashMap;

use syn::{Expr, Pat};

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
    pub fn with_owner(owner: Option<String>) -> Self {
        Env {
            owner,
            ..Env::default()
        }
    }

    pub fn taint(&mut self, name: String, taint: Taint) {
        self.tainted.insert(name, taint);
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
            Expr::Try(t) => self.taint_of(&t.expr, symbols),
            Expr::Cast(c) => self.taint_of(&c.expr, symbols),
            Expr::Assign(a) => self.taint_of(&a.left, symbols),
            Expr::Async(a) => self.block_taint(&a.block, symbols),
            Expr::Block(b) => self.block_taint(&b.block, symbols),
            Expr::Closure(c) => self.taint_of(&c.body, symbols),
            // A `match` on a removed value only deals with that value.
            Expr::Match(m) => self.taint_of(&m.expr, symbols),
            _ => None,
        }
    }

    fn method_taint(&self, m: &syn::ExprMethodCall, symbols: &Symbols) -> Option<Taint> {
        let name = m.method.to_string();
        if name == spec::SUBSCRIPTION_LOOP {
            return Some(Taint::Value(name));
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
        Symbols::of_file(&syn::parse_file("struct GrpcState { db: Db, notifier: Arc<WorkerNotifier> }").unwrap())
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
