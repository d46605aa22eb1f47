//! What one file says about types and signatures, before anything is
//! decided: type aliases and `use … as` renames, struct fields with the
//! names their types mention, function parameters likewise. Collected per
//! file (in parallel), merged, then resolved by [`super::Symbols::resolve`]
//! once every file's facts are in, so that an alias defined in one crate
//! removes the fields typed with it in another.

use std::collections::BTreeSet;

use syn::visit::Visit;

/// The identifiers a type (or pattern) names: `Option<Arc<WorkerNotifier>>`
/// gives `{Option, Arc, WorkerNotifier}`.
pub type Names = BTreeSet<String>;

/// `type Name = …;`, `use a::B as Name;` or a wrapper struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasFact {
    pub name: String,
    pub names: Names,
}

/// A struct and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructFact {
    pub name: String,
    /// `(field name, names of its type)`; tuple fields have no name.
    pub fields: Vec<(Option<String>, Names)>,
}

/// A function or method and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnFact {
    /// The self type of the enclosing inherent impl; empty for free functions.
    pub owner: String,
    pub name: String,
    pub has_receiver: bool,
    /// Inside a trait impl: its signature is the trait's, not ours.
    pub in_trait_impl: bool,
    /// `(simple binding name, names of its type)`, `self` not counted.
    pub params: Vec<(Option<String>, Names)>,
    /// Names of the return type; empty when it holds a tuple (a function
    /// returning `(Store, SharedNotifier)` produces more than a removed value).
    pub returns: Names,
    /// The body only stores parameters (`self.x = Some(x); self`): a setter.
    pub setter: Option<SetterShape>,
    /// The body only hands out a field of `self` (`self.x.clone()`,
    /// `&self.x`): an accessor of that field.
    pub getter: Option<String>,
    /// The body only computes a value, given that the functions and methods
    /// it calls do (see [`crate::rules::purity`]); `None`: it has effects.
    pub pure_if: Option<crate::rules::purity::Calls>,
}

/// What a setter hands back, which decides what its call sites become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetterShape {
    /// Returns `self` (a builder link): `b.with_x(x)` becomes `b`.
    Chain,
    /// Returns nothing: the call statement goes.
    Unit,
}

/// Every fact of one or more files.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    pub aliases: Vec<AliasFact>,
    pub structs: Vec<StructFact>,
    pub fns: Vec<FnFact>,
    /// Types the compiler says are gone (`cannot find type`), with the cause.
    pub forced_types: Vec<(String, String)>,
    /// `(struct, field, cause)`: fields the compiler says are never read.
    pub forced_fields: Vec<(String, String, String)>,
    /// Names whose imports the compiler says no longer resolve.
    pub forced_imports: Vec<(String, String)>,
    /// Some impl defines `type SubscribeToNotificationsStream`: the run has
    /// a tonic handler of the RPC, which becomes the stub.
    pub rpc_handler: bool,
    /// `(alias, its type's source text)`, to see through
    /// `type SubscribeToNotificationsStream = EventStream;`.
    pub alias_texts: Vec<(String, String)>,
}

impl Facts {
    /// Collects the facts of `file`, parsed from `source` (whose offsets
    /// its spans are).
    pub fn collect(&mut self, file: &syn::File, source: &str) {
        let mut collector = Collector {
            facts: self,
            source,
            owner: None,
            in_trait_impl: false,
        };
        collector.visit_file(file);
    }

    pub fn merge(&mut self, other: Facts) {
        self.aliases.extend(other.aliases);
        self.structs.extend(other.structs);
        self.fns.extend(other.fns);
        self.forced_types.extend(other.forced_types);
        self.forced_fields.extend(other.forced_fields);
        self.forced_imports.extend(other.forced_imports);
        self.alias_texts.extend(other.alias_texts);
        self.rpc_handler |= other.rpc_handler;
    }
}

/// The names a type mentions.
pub fn type_names(ty: &syn::Type) -> Names {
    struct Finder(Names);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_ident(&mut self, ident: &'ast proc_macro2::Ident) {
            self.0.insert(ident.to_string());
        }
        fn visit_lifetime(&mut self, _: &'ast syn::Lifetime) {}
    }
    let mut finder = Finder(Names::new());
    finder.visit_type(ty);
    finder.0
}

fn has_tuple(ty: &syn::Type) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_tuple(&mut self, t: &'ast syn::TypeTuple) {
            self.0 |= !t.elems.is_empty();
        }
    }
    let mut finder = Finder(false);
    finder.visit_type(ty);
    finder.0
}

/// The identifier of a simple parameter pattern (`mut x: T` → `x`).
pub fn pat_ident(pat: &syn::Pat) -> Option<String> {
    match pat {
        syn::Pat::Ident(p) => Some(p.ident.to_string()),
        syn::Pat::Type(t) => pat_ident(&t.pat),
        _ => None,
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

struct Collector<'f> {
    facts: &'f mut Facts,
    source: &'f str,
    owner: Option<String>,
    in_trait_impl: bool,
}

impl Collector<'_> {
    fn record_fn(&mut self, sig: &syn::Signature, block: &syn::Block) {
        let mut params = Vec::new();
        let mut has_receiver = false;
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(_) => has_receiver = true,
                syn::FnArg::Typed(pt) => params.push((pat_ident(&pt.pat), type_names(&pt.ty))),
            }
        }
        let returns = match &sig.output {
            syn::ReturnType::Default => Names::new(),
            syn::ReturnType::Type(_, ty) if !has_tuple(ty) => type_names(ty),
            syn::ReturnType::Type(..) => Names::new(),
        };
        let setter = if has_receiver {
            setter_shape(sig, block, &params)
        } else {
            None
        };
        let getter = if has_receiver { accessed_field(block) } else { None };
        let pure_if = if sig.asyncness.is_none() {
            crate::rules::purity::body_requirements(block)
        } else {
            None
        };
        self.facts.fns.push(FnFact {
            owner: self.owner.clone().unwrap_or_default(),
            name: sig.ident.to_string(),
            has_receiver,
            in_trait_impl: self.in_trait_impl,
            params,
            returns,
            setter,
            getter,
            pure_if,
        });
    }
}

/// The field of `self` that a body consisting of one expression hands
/// out: `self.x`, `&self.x`, `&mut self.x`, `self.x.clone()`,
/// `self.x.as_ref()`, `Arc::clone(&self.x)`.
fn accessed_field(block: &syn::Block) -> Option<String> {
    let [syn::Stmt::Expr(expr, None)] = block.stmts.as_slice() else {
        return None;
    };
    self_field(expr)
}

fn self_field(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Field(f) => match (&*f.base, &f.member) {
            (syn::Expr::Path(p), syn::Member::Named(name)) if p.path.is_ident("self") => Some(name.to_string()),
            _ => None,
        },
        syn::Expr::Reference(r) => self_field(&r.expr),
        syn::Expr::Paren(p) => self_field(&p.expr),
        syn::Expr::MethodCall(m)
            if m.args.is_empty() && ["clone", "as_ref", "as_deref"].contains(&&*m.method.to_string()) =>
        {
            self_field(&m.receiver)
        }
        syn::Expr::Call(c) if c.args.len() == 1 && is_clone_path(&c.func) => self_field(&c.args[0]),
        _ => None,
    }
}

/// `Arc::clone`, `Rc::clone`, `Clone::clone`.
fn is_clone_path(func: &syn::Expr) -> bool {
    let syn::Expr::Path(p) = func else { return false };
    p.path.segments.last().is_some_and(|s| s.ident == "clone")
}

/// A method whose statements each only store one of its parameters into a
/// field of `self` (`self.x = x;`, `self.x = Some(x);`,
/// `self.x.replace(x);`) and that then returns `self` or nothing.
fn setter_shape(sig: &syn::Signature, block: &syn::Block, params: &[(Option<String>, Names)]) -> Option<SetterShape> {
    let names: Vec<&str> = params.iter().filter_map(|(n, _)| n.as_deref()).collect();
    if names.is_empty() || names.len() != params.len() {
        return None;
    }
    let (stores, tail) = match block.stmts.split_last() {
        Some((syn::Stmt::Expr(syn::Expr::Path(p), None), rest)) if p.path.is_ident("self") => {
            (rest, SetterShape::Chain)
        }
        _ => (&block.stmts[..], SetterShape::Unit),
    };
    if stores.is_empty() {
        return None;
    }
    if tail == SetterShape::Unit && !matches!(sig.output, syn::ReturnType::Default) {
        return None;
    }
    stores.iter().all(|s| is_store(s, &names)).then_some(tail)
}

fn is_store(stmt: &syn::Stmt, params: &[&str]) -> bool {
    let syn::Stmt::Expr(expr, Some(_)) = stmt else {
        return false;
    };
    let (target, value) = match expr {
        syn::Expr::Assign(a) => (&*a.left, &*a.right),
        syn::Expr::MethodCall(m) if m.method == "replace" && m.args.len() == 1 => (&*m.receiver, &m.args[0]),
        _ => return false,
    };
    let stores_into_self = matches!(target, syn::Expr::Field(f)
        if matches!(&*f.base, syn::Expr::Path(p) if p.path.is_ident("self")));
    stores_into_self && reads_only_param(value, params)
}

/// `x`, `Some(x)`, `x.into()`, `Arc::new(x)`: a value made of one parameter.
fn reads_only_param(expr: &syn::Expr, params: &[&str]) -> bool {
    match expr {
        syn::Expr::Path(p) => p.path.get_ident().is_some_and(|i| params.iter().any(|n| i == n)),
        syn::Expr::Call(c) if c.args.len() == 1 => reads_only_param(&c.args[0], params),
        syn::Expr::MethodCall(m) if m.args.is_empty() => reads_only_param(&m.receiver, params),
        _ => false,
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        let fields = item
            .fields
            .iter()
            .map(|f| (f.ident.as_ref().map(ToString::to_string), type_names(&f.ty)))
            .collect();
        self.facts.structs.push(StructFact {
            name: item.ident.to_string(),
            fields,
        });
    }

    fn visit_item_type(&mut self, item: &'ast syn::ItemType) {
        let range = crate::spans::byte_range(syn::spanned::Spanned::span(&*item.ty));
        if let Some(text) = self.source.get(range) {
            self.facts.alias_texts.push((item.ident.to_string(), text.to_string()));
        }
        self.facts.aliases.push(AliasFact {
            name: item.ident.to_string(),
            names: type_names(&item.ty),
        });
    }

    fn visit_use_rename(&mut self, rename: &'ast syn::UseRename) {
        if rename.rename != "_" {
            self.facts.aliases.push(AliasFact {
                name: rename.rename.to_string(),
                names: std::iter::once(rename.ident.to_string()).collect(),
            });
        }
    }

    fn visit_impl_item_type(&mut self, item: &'ast syn::ImplItemType) {
        self.facts.rpc_handler |= item.ident == crate::spec::RPC_STREAM_TYPE;
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let previous = self.owner.replace(type_name(&item.self_ty).unwrap_or_default());
        let was_trait = std::mem::replace(&mut self.in_trait_impl, item.trait_.is_some());
        syn::visit::visit_item_impl(self, item);
        self.owner = previous;
        self.in_trait_impl = was_trait;
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        let previous = self.owner.take();
        let was_trait = std::mem::replace(&mut self.in_trait_impl, false);
        self.record_fn(&item.sig, &item.block);
        syn::visit::visit_item_fn(self, item);
        self.owner = previous;
        self.in_trait_impl = was_trait;
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.record_fn(&item.sig, &item.block);
        syn::visit::visit_impl_item_fn(self, item);
    }
}
