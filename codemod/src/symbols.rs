//! The removal set shared by all files of a run: which struct fields and
//! which function parameters go, derived from the seeds in [`crate::spec`].
//!
//! Built once from every candidate file before any file is edited, so that a
//! struct literal in `main.rs` knows about a field removed in `grpc/mod.rs`.

use std::collections::{BTreeMap, BTreeSet};

use syn::visit::Visit;

use crate::spec;

/// A function some of whose parameters are removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnSig {
    /// Number of parameters, not counting `self`.
    pub arity: usize,
    /// Whether the function takes `self` (called as a method).
    pub has_receiver: bool,
    /// Indices (not counting `self`) of the removed parameters.
    pub removed: Vec<usize>,
    /// What caused the removal, e.g. `WorkerNotifier`.
    pub cause: String,
}

/// The run-wide removal set.
#[derive(Debug, Default, Clone)]
pub struct Symbols {
    /// struct name → removed field name → cause.
    removed_fields: BTreeMap<String, BTreeMap<String, String>>,
    /// Names of fields kept in some struct (to detect ambiguous names).
    kept_fields: BTreeSet<String>,
    /// (owner type, function name) → signature with removed parameters.
    /// Free functions have an empty owner.
    functions: BTreeMap<(String, String), Vec<FnSig>>,
}

impl Symbols {
    /// Collects removals from one parsed file.
    pub fn collect(&mut self, file: &syn::File) {
        let mut collector = Collector {
            symbols: self,
            owner: None,
        };
        collector.visit_file(file);
    }

    /// Adds another file's collection (for parallel collection).
    pub fn merge(&mut self, other: Symbols) {
        for (name, fields) in other.removed_fields {
            self.removed_fields.entry(name).or_default().extend(fields);
        }
        self.kept_fields.extend(other.kept_fields);
        for (key, sigs) in other.functions {
            let entry = self.functions.entry(key).or_default();
            for sig in sigs {
                if !entry.contains(&sig) {
                    entry.push(sig);
                }
            }
        }
    }

    /// The cause if field `field` of struct `owner` is removed.
    pub fn removed_field(&self, owner: &str, field: &str) -> Option<&str> {
        self.removed_fields.get(owner)?.get(field).map(String::as_str)
    }

    /// Is `owner` a struct this run knows about?
    pub fn knows_struct(&self, owner: &str) -> bool {
        self.removed_fields.contains_key(owner)
    }

    /// The cause if a field named `field` is removed wherever it appears:
    /// a seed name, or a name removed in some struct and kept in none.
    pub fn removed_field_name(&self, field: &str) -> Option<&str> {
        if let Some(seed) = spec::REMOVED_FIELD_NAMES.iter().find(|s| **s == field) {
            return Some(seed);
        }
        if self.kept_fields.contains(field) {
            return None;
        }
        self.removed_fields
            .values()
            .find_map(|f| f.get(field))
            .map(String::as_str)
    }

    /// Is `field` removed in one struct and kept in another?
    pub fn is_ambiguous_field(&self, field: &str) -> bool {
        self.kept_fields.contains(field) && self.removed_fields.values().any(|f| f.contains_key(field))
    }

    /// The signature of `owner::name` (empty owner: a free function) taking
    /// `arity` arguments.
    pub fn function(&self, owner: &str, name: &str, arity: usize) -> Option<&FnSig> {
        self.functions
            .get(&(owner.to_string(), name.to_string()))?
            .iter()
            .find(|s| s.arity == arity)
    }

    /// The one method named `name` taking `arity` arguments, whatever its
    /// owner; `None` when there is none or more than one.
    pub fn unique_method(&self, name: &str, arity: usize) -> Option<&FnSig> {
        let mut found = self
            .functions
            .iter()
            .filter(|((_, n), _)| n == name)
            .flat_map(|(_, sigs)| sigs)
            .filter(|s| s.has_receiver && s.arity == arity);
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }

    /// Extra prefilter markers: names a file can mention to be affected
    /// without naming any seed.
    pub fn markers(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for fields in self.removed_fields.values() {
            out.extend(fields.keys().cloned());
        }
        for ((owner, name), sigs) in &self.functions {
            // `Owner::new(..)` names its owner; `x.method(..)` and `free(..)`
            // name the function.
            if owner.is_empty() || sigs.iter().any(|s| s.has_receiver) {
                out.insert(name.clone());
            }
            if !owner.is_empty() {
                out.insert(owner.clone());
            }
        }
        out
    }
}

/// The first removed type a type mentions (`Option<Arc<WorkerNotifier>>`).
pub fn mentions_removed_type(ty: &syn::Type) -> Option<&'static str> {
    let mut finder = TypeFinder { found: None };
    finder.visit_type(ty);
    finder.found
}

/// The first removed type an expression mentions (`WorkerNotifier::new(8)`).
pub fn expr_mentions_removed_type(expr: &syn::Expr) -> Option<&'static str> {
    let mut finder = TypeFinder { found: None };
    finder.visit_expr(expr);
    finder.found
}

/// Finds the first removed type named in a node.
struct TypeFinder {
    found: Option<&'static str>,
}

impl<'ast> Visit<'ast> for TypeFinder {
    fn visit_ident(&mut self, ident: &'ast proc_macro2::Ident) {
        if self.found.is_none() {
            self.found = spec::REMOVED_TYPES.iter().copied().find(|t| ident == t);
        }
    }
}

/// The last identifier of a type's path (`Arc<GrpcState>` → `Arc`).
pub fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        syn::Type::Reference(r) => type_name(&r.elem),
        _ => None,
    }
}

/// The identifier of a simple parameter pattern (`mut x: T` → `x`).
pub fn pat_ident(pat: &syn::Pat) -> Option<String> {
    match pat {
        syn::Pat::Ident(p) => Some(p.ident.to_string()),
        syn::Pat::Type(t) => pat_ident(&t.pat),
        _ => None,
    }
}

/// Why a parameter goes, if it does.
pub fn removed_param_cause(pat: &syn::Pat, ty: &syn::Type) -> Option<String> {
    if let Some(found) = mentions_removed_type(ty) {
        return Some(found.to_string());
    }
    let name = pat_ident(pat)?;
    spec::REMOVED_FIELD_NAMES
        .iter()
        .find(|seed| name == **seed)
        .map(|seed| seed.to_string())
}

struct Collector<'s> {
    symbols: &'s mut Symbols,
    /// The self type of the enclosing inherent `impl`, if any.
    owner: Option<String>,
}

impl Collector<'_> {
    fn record_fn(&mut self, name: &syn::Ident, sig: &syn::Signature) {
        let mut arity = 0;
        let mut has_receiver = false;
        let mut removed = Vec::new();
        let mut cause = String::new();
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(_) => has_receiver = true,
                syn::FnArg::Typed(pt) => {
                    if let Some(c) = removed_param_cause(&pt.pat, &pt.ty) {
                        removed.push(arity);
                        cause = c;
                    }
                    arity += 1;
                }
            }
        }
        if removed.is_empty() {
            return;
        }
        let key = (self.owner.clone().unwrap_or_default(), name.to_string());
        let sig = FnSig {
            arity,
            has_receiver,
            removed,
            cause,
        };
        let entry = self.symbols.functions.entry(key).or_default();
        if !entry.contains(&sig) {
            entry.push(sig);
        }
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        let name = item.ident.to_string();
        if spec::is_removed_type(&name) {
            return;
        }
        let removed = self.symbols.removed_fields.entry(name).or_default();
        for field in &item.fields {
            let Some(ident) = &field.ident else { continue };
            let field_name = ident.to_string();
            let cause = mentions_removed_type(&field.ty).map(str::to_string).or_else(|| {
                spec::REMOVED_FIELD_NAMES
                    .iter()
                    .find(|s| **s == field_name)
                    .map(|s| s.to_string())
            });
            match cause {
                Some(cause) => {
                    removed.insert(field_name, cause);
                }
                None => {
                    self.symbols.kept_fields.insert(field_name);
                }
            }
        }
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if item.trait_.is_some() {
            // A trait's signature is not ours to change.
            return;
        }
        let previous = self.owner.replace(type_name(&item.self_ty).unwrap_or_default());
        syn::visit::visit_item_impl(self, item);
        self.owner = previous;
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        let previous = self.owner.take();
        self.record_fn(&item.sig.ident, &item.sig);
        syn::visit::visit_item_fn(self, item);
        self.owner = previous;
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.record_fn(&item.sig.ident, &item.sig);
        syn::visit::visit_impl_item_fn(self, item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols(src: &str) -> Symbols {
        let mut s = Symbols::default();
        s.collect(&syn::parse_file(src).unwrap());
        s
    }

    #[test]
    fn field_typed_with_notifier_is_removed() {
        let s = symbols("struct GrpcState { db: Db, notifier: Arc<WorkerNotifier> }");
        assert_eq!(s.removed_field("GrpcState", "notifier"), Some("WorkerNotifier"));
        assert_eq!(s.removed_field("GrpcState", "db"), None);
        assert_eq!(s.removed_field_name("notifier"), Some("WorkerNotifier"));
    }

    #[test]
    fn field_name_kept_elsewhere_is_ambiguous() {
        let s = symbols("struct A { notifier: Arc<WorkerNotifier> } struct B { notifier: Email }");
        assert_eq!(s.removed_field_name("notifier"), None);
        assert!(s.is_ambiguous_field("notifier"));
    }

    #[test]
    fn constructor_param_is_recorded() {
        let s = symbols("impl Launcher { fn new(db: Db, notifier: Arc<WorkerNotifier>) -> Self { todo!() } }");
        let sig = s.function("Launcher", "new", 2).unwrap();
        assert_eq!(sig.removed, vec![1]);
        assert!(!sig.has_receiver);
        assert!(s.function("Launcher", "new", 1).is_none());
    }

    #[test]
    fn handle_param_is_recorded_by_name() {
        let s = symbols("impl W { async fn poll(&self, a: A, work_available_notify: Arc<Notify>) {} }");
        assert_eq!(s.unique_method("poll", 2).unwrap().removed, vec![1]);
    }
}
