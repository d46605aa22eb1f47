//! Side effects: an expression made of reads, copies, comparisons, the
//! methods in [`spec::PURE_METHODS`] (with pure closures), `format!`, and
//! calls to functions and methods whose bodies are pure themselves (the
//! file's own, to a fixpoint, and those of the run whose every definition
//! of that name is), has none worth keeping; code that only computes such
//! a value for removed code can go with it.

use std::cell::RefCell;
use std::collections::BTreeSet;

use syn::{Expr, Stmt};

use crate::spec;

/// Purity, knowing which of the file's functions are pure.
#[derive(Debug, Default, Clone)]
pub struct Purity {
    fns: BTreeSet<String>,
    methods: BTreeSet<String>,
    /// When set, calls to unknown functions and methods count as pure and
    /// are recorded here (what a body's purity depends on).
    assumed: Option<RefCell<Calls>>,
}

/// The names of the functions and methods an expression calls.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Calls {
    pub fns: BTreeSet<String>,
    pub methods: BTreeSet<String>,
}

/// Whether a function body is pure given the calls it makes: `None` when it
/// has an effect of its own, otherwise the calls it depends on.
pub fn body_requirements(block: &syn::Block) -> Option<Calls> {
    let purity = Purity {
        assumed: Some(RefCell::new(Calls::default())),
        ..Purity::default()
    };
    let pure = purity.body(block);
    pure.then(|| purity.assumed.expect("set above").into_inner())
}

impl Purity {
    /// The free functions of `file` whose bodies are pure, to a fixpoint
    /// (a function calling a pure function is pure).
    pub fn of_file(file: &syn::File, symbols: &crate::symbols::Symbols) -> Self {
        let mut fns = Vec::new();
        collect_fns(&file.items, &mut fns);
        let mut purity = Purity::default();
        for f in &fns {
            if symbols.is_pure_fn(&f.sig.ident.to_string()) {
                purity.fns.insert(f.sig.ident.to_string());
            }
        }
        purity.methods = symbols.pure_method_names();
        loop {
            let found: Vec<String> = fns
                .iter()
                .filter(|f| !purity.fns.contains(&f.sig.ident.to_string()))
                .filter(|f| f.sig.asyncness.is_none() && purity.body(&f.block))
                .map(|f| f.sig.ident.to_string())
                .collect();
            if found.is_empty() {
                return purity;
            }
            purity.fns.extend(found);
        }
    }

    pub fn expr(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Lit(_) | Expr::Path(_) => true,
            Expr::Field(f) => self.expr(&f.base),
            Expr::Reference(r) => self.expr(&r.expr),
            Expr::Paren(p) => self.expr(&p.expr),
            Expr::Group(g) => self.expr(&g.expr),
            Expr::Unary(u) => self.expr(&u.expr),
            Expr::Binary(b) => self.expr(&b.left) && self.expr(&b.right),
            Expr::Cast(c) => self.expr(&c.expr),
            Expr::Index(i) => self.expr(&i.expr) && self.expr(&i.index),
            Expr::Tuple(t) => t.elems.iter().all(|e| self.expr(e)),
            Expr::Array(a) => a.elems.iter().all(|e| self.expr(e)),
            Expr::Let(l) => self.expr(&l.expr),
            Expr::MethodCall(m) => {
                let name = m.method.to_string();
                let known = spec::PURE_METHODS.contains(&name.as_str()) || self.methods.contains(&name);
                (known || self.assume(|c| c.methods.insert(name.clone())))
                    && self.expr(&m.receiver)
                    && m.args.iter().all(|a| self.expr(a))
            }
            Expr::Call(c) => {
                let Expr::Path(p) = &*c.func else { return false };
                // `Arc::new(x)`, `Notify::new()`, `Vec::with_capacity(n)`:
                // building a value has no effect worth keeping once the value
                // is not needed.
                let constructor = p.path.segments.len() >= 2
                    && p.path.segments.last().is_some_and(|s| {
                        matches!(
                            s.ident.to_string().as_str(),
                            "new" | "default" | "from" | "with_capacity" | "clone"
                        )
                    });
                if constructor {
                    return c.args.iter().all(|a| self.expr(a));
                }
                let Some(name) = p.path.get_ident().map(ToString::to_string) else {
                    return false;
                };
                let known = self.fns.contains(&name) || self.assume(|calls| calls.fns.insert(name.clone()));
                known && c.args.iter().all(|a| self.expr(a))
            }
            Expr::Macro(m) => m.mac.path.is_ident("format"),
            Expr::If(e) => {
                self.expr(&e.cond)
                    && self.value_block(&e.then_branch)
                    && e.else_branch.as_ref().is_none_or(|(_, b)| self.expr(b))
            }
            Expr::Block(b) => b.label.is_none() && self.value_block(&b.block),
            Expr::Closure(c) => self.expr(&c.body),
            _ => false,
        }
    }

    /// Records an unknown call when assuming; false otherwise.
    fn assume(&self, record: impl FnOnce(&mut Calls) -> bool) -> bool {
        match &self.assumed {
            Some(calls) => {
                record(&mut calls.borrow_mut());
                true
            }
            None => false,
        }
    }

    /// A block that only computes a value: `{ pure_expr }`.
    fn value_block(&self, block: &syn::Block) -> bool {
        match block.stmts.as_slice() {
            [Stmt::Expr(e, None)] => self.expr(e),
            _ => false,
        }
    }

    /// A function body of pure `let`s and a pure tail expression.
    pub fn body(&self, block: &syn::Block) -> bool {
        let Some((Stmt::Expr(tail, None), lets)) = block.stmts.split_last() else {
            return false;
        };
        let lets_pure = lets.iter().all(|s| {
            matches!(s, Stmt::Local(l)
                if l.init.as_ref().is_some_and(|i| i.diverge.is_none() && self.expr(&i.expr)))
        });
        lets_pure && self.expr(tail)
    }
}

fn collect_fns<'a>(items: &'a [syn::Item], out: &mut Vec<&'a syn::ItemFn>) {
    for item in items {
        match item {
            syn::Item::Fn(f) => out.push(f),
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    collect_fns(items, out);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_to_pure_functions_of_the_file_are_pure() {
        let file: syn::File = syn::parse_str(
            "fn label(j: &Job) -> String { format!(\"{}/{}\", j.org, j.queue) }
             fn pair(j: &Job) -> (String, String) { let l = label(j); (j.org.to_string(), l) }
             fn send(j: &Job) -> usize { j.tx.send(1) }",
        )
        .unwrap();
        let purity = Purity::of_file(&file, &crate::symbols::Symbols::default());
        let expr = |s: &str| syn::parse_str::<Expr>(s).unwrap();
        assert!(purity.expr(&expr("pair(job)")));
        assert!(!purity.expr(&expr("send(job)")));
        assert!(!Purity::default().expr(&expr("pair(job)")), "unknown without the file");
    }
}
