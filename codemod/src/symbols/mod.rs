//! The removal set shared by all files of a run: which types, struct
//! fields, function parameters, producers and setters go, derived from the
//! seeds in [`crate::spec`].
//!
//! Built from every candidate file's [`Facts`] before any file is edited,
//! so that a struct literal in `main.rs` knows about a field removed in
//! `grpc/mod.rs`, and a type alias defined in one crate removes the fields
//! typed with it in another. Removed types are closed over aliases
//! (`type SharedNotifier = Arc<WorkerNotifier>`), renaming imports and
//! re-exports (`pub use notify::WorkerNotifier as Notifier`) and
//! single-field tuple wrappers (`struct Shared(Arc<WorkerNotifier>)`).

pub mod facts;

use std::collections::{BTreeMap, BTreeSet};

use syn::visit::Visit;

pub use facts::{pat_ident, type_name, Facts, Names, SetterShape};

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

/// A method that only stores removed values: it goes, and so do its calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setter {
    pub shape: SetterShape,
    pub arity: usize,
    pub cause: String,
}

/// The run-wide removal set.
#[derive(Debug, Default, Clone)]
pub struct Symbols {
    /// Removed type name → the seed it comes from.
    removed_types: BTreeMap<String, String>,
    /// struct name → removed field name → cause.
    removed_fields: BTreeMap<String, BTreeMap<String, String>>,
    /// Names of fields kept in some struct (to detect ambiguous names).
    kept_fields: BTreeSet<String>,
    /// (owner type, function name) → signature with removed parameters.
    /// Free functions have an empty owner.
    functions: BTreeMap<(String, String), Vec<FnSig>>,
    /// (owner type, function name) → cause, for functions whose result is
    /// a removed value (`fn notifier(&self) -> &WorkerNotifier`).
    producers: BTreeMap<(String, String), (bool, String)>,
    /// Method name → setter that only stores removed values.
    setters: BTreeMap<String, Setter>,
    /// Names whose imports go (the compiler says they no longer resolve).
    removed_imports: BTreeMap<String, String>,
    /// Free function and method names every definition of which only
    /// computes a value.
    pure_fns: BTreeSet<String>,
    pure_methods: BTreeSet<String>,
    /// (owner, function) → the struct its result is, when the run knows it
    /// (`fn test_state() -> AppState`, `fn new() -> Self`).
    returns: BTreeMap<(String, String), String>,
    /// Alias name → its type's source text, when all its definitions agree.
    alias_texts: BTreeMap<String, Option<String>>,
    /// The run has a tonic handler of the RPC (it becomes the stub).
    rpc_handler: bool,
}

impl Symbols {
    /// The removal set of one parsed file alone (tests, fixtures).
    pub fn of_source(source: &str) -> Self {
        let mut facts = Facts::default();
        if let Ok(file) = syn::parse_file(source) {
            facts.collect(&file, source);
        }
        Self::resolve(&facts)
    }

    /// Decides the removal set from every file's facts.
    pub fn resolve(facts: &Facts) -> Self {
        let mut symbols = Symbols::default();
        for seed in spec::REMOVED_TYPES {
            symbols.removed_types.insert(seed.to_string(), seed.to_string());
        }
        for (name, cause) in &facts.forced_types {
            symbols
                .removed_types
                .entry(name.clone())
                .or_insert_with(|| cause.clone());
        }
        symbols.removed_imports.extend(facts.forced_imports.iter().cloned());
        symbols.close_types(facts);
        symbols.decide_fields(facts);
        symbols.decide_forced_fields(facts);
        symbols.decide_functions(facts);
        symbols.decide_purity(facts);
        symbols.rpc_handler = facts.rpc_handler;
        for (name, text) in &facts.alias_texts {
            let entry = symbols
                .alias_texts
                .entry(name.clone())
                .or_insert_with(|| Some(text.clone()));
            if entry.as_ref() != Some(text) {
                *entry = None;
            }
        }
        symbols
    }

    /// Adds aliases and wrappers of removed types until nothing changes.
    fn close_types(&mut self, facts: &Facts) {
        loop {
            let mut added = Vec::new();
            for alias in &facts.aliases {
                if !self.removed_types.contains_key(&alias.name) {
                    if let Some(cause) = self.removed_in(&alias.names) {
                        added.push((alias.name.clone(), cause.to_string()));
                    }
                }
            }
            for s in &facts.structs {
                let wrapper = matches!(s.fields.as_slice(), [(None, names)] if self.removed_in(names).is_some());
                if wrapper && !self.removed_types.contains_key(&s.name) {
                    let cause = self.removed_in(&s.fields[0].1).unwrap_or_default().to_string();
                    added.push((s.name.clone(), cause));
                }
            }
            if added.is_empty() {
                return;
            }
            self.removed_types.extend(added);
        }
    }

    fn decide_fields(&mut self, facts: &Facts) {
        for s in &facts.structs {
            if self.removed_types.contains_key(&s.name) {
                continue;
            }
            let removed = self.removed_fields.entry(s.name.clone()).or_default();
            for (name, names) in &s.fields {
                let Some(name) = name else { continue };
                let cause = self
                    .removed_types
                    .iter()
                    .find(|(t, _)| names.contains(*t))
                    .map(|(_, c)| c.clone())
                    .or_else(|| seed_field(name));
                match cause {
                    Some(cause) => {
                        removed.insert(name.clone(), cause);
                    }
                    None => {
                        self.kept_fields.insert(name.clone());
                    }
                }
            }
        }
    }

    fn decide_forced_fields(&mut self, facts: &Facts) {
        for (owner, field, cause) in &facts.forced_fields {
            self.removed_fields
                .entry(owner.clone())
                .or_default()
                .entry(field.clone())
                .or_insert_with(|| cause.clone());
            // A field the compiler names is removed there, whatever else.
            let kept_elsewhere = facts
                .structs
                .iter()
                .any(|s| &s.name != owner && s.fields.iter().any(|(n, _)| n.as_ref() == Some(field)));
            if !kept_elsewhere {
                self.kept_fields.remove(field);
            }
        }
    }

    /// A name is pure when every definition of it is, to a fixpoint over
    /// the calls each body makes.
    fn decide_purity(&mut self, facts: &Facts) {
        // (is a method, name) → what each definition's purity needs; `None`
        // for a definition with effects of its own.
        let mut defs: BTreeMap<(bool, &str), Vec<Option<&crate::rules::purity::Calls>>> = BTreeMap::new();
        for f in &facts.fns {
            defs.entry((f.has_receiver, f.name.as_str()))
                .or_default()
                .push(f.pure_if.as_ref());
        }
        let (mut fns, mut methods) = (BTreeSet::new(), BTreeSet::new());
        loop {
            let mut added = Vec::new();
            for ((is_method, name), needs) in &defs {
                let known = if *is_method { &methods } else { &fns };
                if known.contains(*name) {
                    continue;
                }
                let ok = needs.iter().all(|need| {
                    need.is_some_and(|calls| {
                        calls.fns.iter().all(|n| fns.contains(n))
                            && calls
                                .methods
                                .iter()
                                .all(|n| methods.contains(n) || spec::PURE_METHODS.contains(&n.as_str()))
                    })
                });
                if ok {
                    added.push((*is_method, name.to_string()));
                }
            }
            if added.is_empty() {
                break;
            }
            for (is_method, name) in added {
                if is_method {
                    methods.insert(name);
                } else {
                    fns.insert(name);
                }
            }
        }
        self.pure_fns = fns;
        self.pure_methods = methods;
    }

    /// Does every free function named `name` the run knows only compute a value?
    pub fn is_pure_fn(&self, name: &str) -> bool {
        self.pure_fns.contains(name)
    }

    /// Names of removed items a comment may mention: removed types,
    /// setters and functions producing removed values.
    pub fn removed_item_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.removed_types.keys().cloned().collect();
        names.extend(self.setters.keys().cloned());
        names.extend(self.producers.keys().map(|(_, n)| n.clone()));
        names
    }

    /// The struct `owner::name(..)` returns, when the run knows it.
    pub fn return_struct(&self, owner: &str, name: &str) -> Option<&str> {
        self.returns
            .get(&(owner.to_string(), name.to_string()))
            .map(String::as_str)
    }

    /// Does the run hold a tonic handler of the notification RPC?
    pub fn has_rpc_handler(&self) -> bool {
        self.rpc_handler
    }

    /// The source text of the type alias `name`, when the run knows one.
    pub fn alias_text(&self, name: &str) -> Option<&str> {
        self.alias_texts.get(name)?.as_deref()
    }

    /// The method names every definition of which only computes a value.
    pub fn pure_method_names(&self) -> BTreeSet<String> {
        self.pure_methods.clone()
    }

    fn decide_functions(&mut self, facts: &Facts) {
        for f in facts.fns.iter().filter(|f| !f.in_trait_impl) {
            if self.removed_types.contains_key(&f.owner) {
                continue;
            }
            let key = (f.owner.clone(), f.name.clone());
            let mut removed = Vec::new();
            let mut cause = String::new();
            for (i, (name, names)) in f.params.iter().enumerate() {
                let found = self
                    .removed_in(names)
                    .map(str::to_string)
                    .or_else(|| name.as_deref().and_then(seed_field));
                if let Some(found) = found {
                    removed.push(i);
                    cause = found;
                }
            }
            let returned = f
                .returns
                .iter()
                .map(|n| if n == "Self" { &f.owner } else { n })
                .find(|n| self.removed_fields.contains_key(*n));
            if let Some(owner) = returned {
                self.returns.insert(key.clone(), owner.clone());
            }
            let accessed = f
                .getter
                .as_deref()
                .and_then(|field| self.removed_field(&f.owner, field));
            if let Some(produced) = self.produced(&f.returns).or_else(|| accessed.map(str::to_string)) {
                self.producers.insert(key.clone(), (f.has_receiver, produced));
            }
            if removed.is_empty() {
                continue;
            }
            if let (Some(shape), true) = (f.setter, removed.len() == f.params.len()) {
                let setter = Setter {
                    shape,
                    arity: f.params.len(),
                    cause: cause.clone(),
                };
                self.setters.insert(f.name.clone(), setter);
            }
            let sig = FnSig {
                arity: f.params.len(),
                has_receiver: f.has_receiver,
                removed,
                cause,
            };
            let entry = self.functions.entry(key).or_default();
            if !entry.contains(&sig) {
                entry.push(sig);
            }
        }
    }

    /// The cause when a return type mentions a removed type
    /// (`Option<&SharedNotifier>`, `Receiver<WorkNotification>`).
    fn produced(&self, names: &Names) -> Option<String> {
        self.removed_in(names).map(str::to_string)
    }

    /// The seed behind the first removed type among `names`.
    fn removed_in(&self, names: &Names) -> Option<&str> {
        names.iter().find_map(|n| self.removed_types.get(n)).map(String::as_str)
    }

    /// The seed a removed type comes from.
    pub fn removed_type(&self, name: &str) -> Option<&str> {
        self.removed_types.get(name).map(String::as_str)
    }

    pub fn is_removed_type(&self, name: &str) -> bool {
        self.removed_types.contains_key(name)
    }

    /// Does an import of `name` go (a removed type, or a name the compiler
    /// says no longer resolves)?
    pub fn import_goes(&self, name: &str) -> bool {
        self.is_removed_type(name) || self.removed_imports.contains_key(name)
    }

    /// The seed behind the first removed type a type mentions
    /// (`Option<Arc<WorkerNotifier>>`, `SharedNotifier`).
    pub fn removed_type_in(&self, ty: &syn::Type) -> Option<&str> {
        let mut finder = TypeFinder {
            symbols: self,
            found: None,
        };
        finder.visit_type(ty);
        finder.found
    }

    /// The seed behind the first removed type an expression names
    /// (`WorkerNotifier::new(8)`).
    pub fn removed_type_in_expr(&self, expr: &syn::Expr) -> Option<&str> {
        let mut finder = TypeFinder {
            symbols: self,
            found: None,
        };
        finder.visit_expr(expr);
        finder.found
    }

    /// Why a parameter goes, if it does.
    pub fn removed_param_cause(&self, pat: &syn::Pat, ty: &syn::Type) -> Option<String> {
        if let Some(found) = self.removed_type_in(ty) {
            return Some(found.to_string());
        }
        pat_ident(pat).and_then(|name| seed_field(&name))
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

    /// The cause when `owner::name(..)` (empty owner: a free function)
    /// returns a removed value.
    pub fn producer(&self, owner: &str, name: &str) -> Option<&str> {
        self.producers
            .get(&(owner.to_string(), name.to_string()))
            .map(|(_, c)| c.as_str())
    }

    /// The cause when every method named `name` returns a removed value.
    pub fn producer_method(&self, name: &str) -> Option<&str> {
        self.producers
            .iter()
            .find(|((_, n), (receiver, _))| n == name && *receiver)
            .map(|(_, (_, c))| c.as_str())
    }

    /// The setter named `name` taking `arity` arguments, if it only stores
    /// removed values.
    pub fn setter(&self, name: &str, arity: usize) -> Option<&Setter> {
        self.setters.get(name).filter(|s| s.arity == arity)
    }

    /// Extra prefilter markers: names a file can mention to be affected
    /// without naming any seed.
    pub fn markers(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        out.extend(self.removed_types.keys().cloned());
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
        for (owner, name) in self.producers.keys() {
            out.insert(name.clone());
            if !owner.is_empty() {
                out.insert(owner.clone());
            }
        }
        out.extend(self.setters.keys().cloned());
        out
    }
}

/// A seed field name (`enable_notifications`, `work_available_notify`).
fn seed_field(name: &str) -> Option<String> {
    spec::REMOVED_FIELD_NAMES
        .iter()
        .find(|seed| name == **seed)
        .map(|seed| seed.to_string())
}

/// Finds the first removed type named in a node.
struct TypeFinder<'s> {
    symbols: &'s Symbols,
    found: Option<&'s str>,
}

impl<'ast, 's> Visit<'ast> for TypeFinder<'s> {
    fn visit_ident(&mut self, ident: &'ast proc_macro2::Ident) {
        if self.found.is_none() {
            self.found = self.symbols.removed_type(&ident.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols(src: &str) -> Symbols {
        Symbols::of_source(src)
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

    #[test]
    fn aliases_renames_and_wrappers_are_removed_types() {
        let s = symbols(
            "pub type SharedNotifier = Arc<WorkerNotifier>;
             type Again = Option<SharedNotifier>;
             pub use notify::WorkerNotifier as Notifier;
             struct Shared(Arc<WorkerNotifier>);
             struct Pair(Db, Arc<WorkerNotifier>);
             struct AppState { db: Db, n: Again, m: Notifier }",
        );
        for name in ["SharedNotifier", "Again", "Notifier", "Shared"] {
            assert_eq!(s.removed_type(name), Some("WorkerNotifier"), "{name}");
        }
        assert!(
            !s.is_removed_type("Pair"),
            "a tuple struct holding more than the notifier stays"
        );
        assert_eq!(s.removed_field("AppState", "n"), Some("WorkerNotifier"));
        assert_eq!(s.removed_field("AppState", "m"), Some("WorkerNotifier"));
        assert_eq!(s.removed_field("AppState", "db"), None);
    }

    #[test]
    fn aliases_resolve_across_files() {
        let mut facts = Facts::default();
        for src in [
            "struct AppState { notifier: SharedNotifier }",
            "pub type SharedNotifier = Arc<WorkerNotifier>;",
        ] {
            facts.collect(&syn::parse_file(src).unwrap(), src);
        }
        let s = Symbols::resolve(&facts);
        assert_eq!(s.removed_field("AppState", "notifier"), Some("WorkerNotifier"));
        assert!(s.markers().contains("SharedNotifier"));
    }

    #[test]
    fn setters_and_producers() {
        let s = symbols(
            "impl Builder {
                 fn with_notifier(mut self, n: Arc<WorkerNotifier>) -> Self { self.notifier = Some(n); self }
                 fn set_notifier(&mut self, n: Arc<WorkerNotifier>) { self.notifier = n; }
                 fn with_both(mut self, n: Arc<WorkerNotifier>, q: Queue) -> Self { self.n = Some(n); self.q = q; self }
                 fn notifier(&self) -> &WorkerNotifier { &self.notifier }
                 fn parts(&self) -> (Db, Arc<WorkerNotifier>) { todo!() }
             }
             fn make() -> Result<Arc<WorkerNotifier>, Error> { todo!() }",
        );
        assert_eq!(s.setter("with_notifier", 1).map(|s| s.shape), Some(SetterShape::Chain));
        assert_eq!(s.setter("set_notifier", 1).map(|s| s.shape), Some(SetterShape::Unit));
        assert!(s.setter("with_both", 2).is_none(), "it stores a kept value too");
        assert_eq!(s.producer("Builder", "notifier"), Some("WorkerNotifier"));
        assert_eq!(s.producer("", "make"), Some("WorkerNotifier"));
        assert!(
            s.producer("Builder", "parts").is_none(),
            "a tuple holds more than the notifier"
        );
    }
}
