//! Tags on restored resources, through ARM's tags resource (`Microsoft.Resources/tags/default`).
//!
//! Azure's restore requests take no tags, so the tags a request and the policy ask for are put on what the
//! restore created once its job has ended. `Merge` keeps whatever tags the resource already has (Azure Backup
//! copies some from the source) and is idempotent, so repeating it after a crash is harmless.

use azure_core::http::{Context, Method};
use restore_models::arm_id::ResourceId;
use std::collections::BTreeMap;

use crate::client::{ArmClient, CallError, encode};
use crate::pipeline::Retry;

/// The api-version of `Microsoft.Resources/tags`.
pub const TAGS_API_VERSION: &str = "2021-04-01";

impl ArmClient {
    /// Merges `tags` into `resource`'s tags (`PATCH {resource}/providers/Microsoft.Resources/tags/default`).
    pub async fn merge_tags(
        &self,
        ctx: &Context<'_>,
        resource: &ResourceId,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CallError> {
        let path = format!("{}/providers/Microsoft.Resources/tags/default", resource.as_str());
        let url = self.pipeline().url(&path, TAGS_API_VERSION, &[]);
        let body = serde_json::json!({ "operation": "Merge", "properties": { "tags": tags } });
        self.call(ctx, Method::Patch, url, Some(encode("merge tags", &body)?), Retry::Safe).await?;
        Ok(())
    }
}
