//! `roster explain USER`: read the manifests and the tenant, then print
//! [`crate::explain`]'s explanation for one user.

use super::{Failure, Global, Result, load_valid, open_provider};

pub fn explain(g: &Global, key: &str) -> Result<u8> {
    let loaded = load_valid(g)?;
    let mut provider = open_provider(g, &loaded)?;
    let live = provider.fetch()?;
    let Some(index) = live.find_user_index(key) else {
        return Err(Failure::new(format!(
            "no user `{key}` in the tenant\nhint: give a user principal name or an object id"
        )));
    };
    let ctx = super::state::context(g)?;
    let engine = crate::desired::Engine::with_today(&loaded.manifest, &live, ctx.today.as_deref());
    let state = crate::desired::compute_with(&loaded.manifest, &live, &ctx);
    print!(
        "{}",
        crate::explain::explain_with(&engine, &state, &live, index).render()
    );
    Ok(0)
}
