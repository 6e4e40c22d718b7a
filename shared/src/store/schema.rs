//! The table definition. template.yaml declares the same table; a test keeps them equal.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};

use super::{keys, Store, StoreError};

/// (attribute, key type) of the table and of each GSI.
pub const TABLE_KEYS: [(&str, &str); 2] = [(keys::PK, "HASH"), (keys::SK, "RANGE")];
pub const GSIS: [(&str, [(&str, &str); 2]); 1] =
    [(keys::GSI1, [(keys::GSI1PK, "HASH"), (keys::GSI1SK, "RANGE")])];

fn built<T, E: std::error::Error + Send + Sync + 'static>(r: Result<T, E>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Other(Box::new(e)))
}

fn schema(pairs: &[(&str, &str)]) -> Result<Vec<KeySchemaElement>, StoreError> {
    pairs
        .iter()
        .map(|(a, t)| {
            built(
                KeySchemaElement::builder()
                    .attribute_name(*a)
                    .key_type(KeyType::from(*t))
                    .build(),
            )
        })
        .collect()
}

impl Store {
    /// Creates the table unless it exists; waits until it is active.
    pub async fn ensure_table(&self) -> Result<bool, StoreError> {
        let exists = self
            .client()
            .describe_table()
            .table_name(self.table())
            .send()
            .await;
        if exists.is_ok() {
            return Ok(false);
        }
        let mut attrs = Vec::new();
        for (a, _) in TABLE_KEYS.iter().chain(GSIS.iter().flat_map(|(_, k)| k.iter())) {
            attrs.push(built(
                AttributeDefinition::builder()
                    .attribute_name(*a)
                    .attribute_type(ScalarAttributeType::S)
                    .build(),
            )?);
        }
        let mut req = self
            .client()
            .create_table()
            .table_name(self.table())
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(attrs))
            .set_key_schema(Some(schema(&TABLE_KEYS)?));
        for (name, ks) in GSIS {
            req = req.global_secondary_indexes(built(
                GlobalSecondaryIndex::builder()
                    .index_name(name)
                    .set_key_schema(Some(schema(&ks)?))
                    .projection(Projection::builder().projection_type(ProjectionType::All).build())
                    .build(),
            )?);
        }
        match req.send().await {
            Ok(_) => {}
            // A concurrent creator won: fine.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => {}
            Err(e) => return Err(super::classify(e)),
        }
        for _ in 0..100 {
            let d = self
                .client()
                .describe_table()
                .table_name(self.table())
                .send()
                .await
                .map_err(super::classify)?;
            if d.table().and_then(|t| t.table_status()).map(|s| s.as_str()) == Some("ACTIVE") {
                return Ok(true);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Err(StoreError::Unavailable("table did not become active".into()))
    }
}
