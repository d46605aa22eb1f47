//! Orgs come from the configuration: start-up records each one (id, name,
//! slug), so that a renamed org keeps its id and its work.

use super::{Result, Services};
use crate::storage::Org;

impl Services {
    /// Records every configured org in one transaction.
    pub async fn register_orgs(&self, orgs: &[Org]) -> Result<()> {
        let mut tx = self.storage.begin().await?;
        for org in orgs {
            tx.upsert_org(org).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
