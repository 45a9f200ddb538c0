//! `#[derive(Params)]` for strata-modules.
//!
//! The derive visits **every** field of a struct, so a parameter can never be left out of
//! `parameters()`, the optimizer or a checkpoint by forgetting to list it. A field whose type
//! is not a parameter, buffer or module is a compile error until it is marked
//! `#[module(skip)]`; a `bool` marked `#[module(training)]` receives the train/eval switch.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::{format_ident, quote};
use syn::{parse_macro_input, parse_quote, Data, DeriveInput, Fields, Index, Member};

/// How the derive treats one field.
enum Role {
    /// Visited as parameters/buffers/sub-modules.
    Walk,
    /// Left alone (configuration, caches).
    Skip,
    /// A `bool` set by `set_training`.
    TrainingFlag,
}

fn role(field: &syn::Field) -> syn::Result<Role> {
    let mut role = Role::Walk;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("module")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                role = Role::Skip;
                Ok(())
            } else if meta.path.is_ident("training") {
                role = Role::TrainingFlag;
                Ok(())
            } else {
                Err(meta.error("expected `skip` or `training`"))
            }
        })?;
    }
    Ok(role)
}

/// Derives `strata_modules::Params` for a struct.
///
/// ```ignore
/// #[derive(Params)]
/// struct Mlp {
///     hidden: Dense,
///     out: Dense,
///     #[module(skip)]
///     width: usize,
/// }
/// ```
#[proc_macro_derive(Params, attributes(module))]
pub fn derive_params(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn expand(mut input: DeriveInput) -> syn::Result<Tokens> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[derive(Params)] supports structs only",
        ));
    };
    let members: Vec<(Member, String, Role)> = match &data.fields {
        Fields::Named(fields) => fields
            .named
            .iter()
            .map(|f| {
                let ident = f.ident.clone().expect("named field");
                let name = ident.to_string();
                Ok((Member::Named(ident), name, role(f)?))
            })
            .collect::<syn::Result<_>>()?,
        Fields::Unnamed(fields) => fields
            .unnamed
            .iter()
            .enumerate()
            .map(|(i, f)| Ok((Member::Unnamed(Index::from(i)), i.to_string(), role(f)?)))
            .collect::<syn::Result<_>>()?,
        Fields::Unit => Vec::new(),
    };

    let type_params: Vec<_> = input
        .generics
        .type_params()
        .map(|p| p.ident.clone())
        .collect();
    let where_clause = input.generics.make_where_clause();
    for param in type_params {
        where_clause
            .predicates
            .push(parse_quote!(#param: ::strata_modules::Params));
    }
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let ident = &input.ident;

    let walked = members.iter().filter(|(_, _, r)| matches!(r, Role::Walk));
    let (visit, visit_mut, train): (Vec<Tokens>, Vec<Tokens>, Vec<Tokens>) = walked
        .map(|(member, name, _)| {
            (
                quote! { ::strata_modules::Params::visit(&self.#member, &::strata_modules::join_name(prefix, #name), visitor); },
                quote! { ::strata_modules::Params::visit_mut(&mut self.#member, &::strata_modules::join_name(prefix, #name), visitor); },
                quote! { ::strata_modules::Params::set_training(&mut self.#member, training); },
            )
        })
        .fold((vec![], vec![], vec![]), |mut acc, (a, b, c)| {
            acc.0.push(a);
            acc.1.push(b);
            acc.2.push(c);
            acc
        });
    let flags = members
        .iter()
        .filter(|(_, _, r)| matches!(r, Role::TrainingFlag))
        .map(|(member, _, _)| quote! { self.#member = training; });
    let unused = format_ident!("_unused");

    Ok(quote! {
        impl #impl_generics ::strata_modules::Params for #ident #type_generics #where_clause {
            fn visit(&self, prefix: &str, visitor: &mut dyn ::strata_modules::Visitor) {
                let #unused = (&prefix, &visitor);
                #(#visit)*
            }
            fn visit_mut(&mut self, prefix: &str, visitor: &mut dyn ::strata_modules::VisitorMut) {
                let #unused = (&prefix, &visitor);
                #(#visit_mut)*
            }
            fn set_training(&mut self, training: bool) {
                let #unused = training;
                #(#train)*
                #(#flags)*
            }
        }
    })
}
