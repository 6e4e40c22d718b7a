//! The table definition. template.yaml declares the same table; a test keeps them equal.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TableDescription,
    TimeToLiveSpecification,
};

use super::table::built;
use super::{keys, Store, StoreError};

/// The stream the aggregator and the move worker read.
pub const STREAM_VIEW: &str = "NEW_AND_OLD_IMAGES";

/// (attribute, key type) of the table and of each GSI.
pub const TABLE_KEYS: [(&str, &str); 2] = [(keys::PK, "HASH"), (keys::SK, "RANGE")];
pub const GSIS: [(&str, [(&str, &str); 2]); 2] = [
    (
        keys::GSI1,
        [(keys::GSI1PK, "HASH"), (keys::GSI1SK, "RANGE")],
    ),
    (
        keys::GSI2,
        [(keys::GSI2PK, "HASH"), (keys::GSI2SK, "RANGE")],
    ),
];

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
        if let Ok(d) = exists {
            // A table from before an index was added (a `make dev` data folder) gets it.
            let have: Vec<String> = d
                .table()
                .map(|t| {
                    t.global_secondary_indexes()
                        .iter()
                        .filter_map(|g| g.index_name().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            for (name, ks) in GSIS {
                if !have.iter().any(|h| h == name) {
                    self.add_index(name, &ks).await?;
                }
            }
            return Ok(false);
        }
        let attrs = definitions(
            TABLE_KEYS
                .iter()
                .chain(GSIS.iter().flat_map(|(_, k)| k.iter())),
        )?;
        let mut req = self
            .client()
            .create_table()
            .table_name(self.table())
            .billing_mode(BillingMode::PayPerRequest)
            .stream_specification(built(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::from(STREAM_VIEW))
                    .build(),
            )?)
            .set_attribute_definitions(Some(attrs))
            .set_key_schema(Some(schema(&TABLE_KEYS)?));
        for (name, ks) in GSIS {
            req = req.global_secondary_indexes(index(name, &ks)?);
        }
        // A concurrent creator may win: fine.
        in_use_is_fine(req.send().await)?;
        self.wait_for("the table", |t| {
            t.table_status().map(|s| s.as_str()) == Some("ACTIVE")
        })
        .await?;
        let ttl = self
            .client()
            .update_time_to_live()
            .table_name(self.table())
            .time_to_live_specification(built(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(keys::EXPIRES_AT)
                    .build(),
            )?)
            .send()
            .await;
        match ttl {
            Ok(_) => Ok(true),
            // A concurrent creator enabled it first.
            Err(e) if ttl_already_on(&e) => Ok(true),
            Err(e) => Err(super::classify(e)),
        }
    }

    /// Waits, up to 10 s, until the table's description satisfies `ready`.
    async fn wait_for(
        &self,
        what: &str,
        ready: impl Fn(&TableDescription) -> bool,
    ) -> Result<(), StoreError> {
        for _ in 0..100 {
            let d = self
                .client()
                .describe_table()
                .table_name(self.table())
                .send()
                .await
                .map_err(super::classify)?;
            if d.table().is_some_and(&ready) {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Err(StoreError::Unavailable(
            format!("{what} did not become active").into(),
        ))
    }
}

impl Store {
    async fn add_index(&self, name: &str, ks: &[(&str, &str); 2]) -> Result<(), StoreError> {
        let g = index(name, ks)?;
        let create = built(
            CreateGlobalSecondaryIndexAction::builder()
                .index_name(name)
                .set_key_schema(Some(g.key_schema().to_vec()))
                .set_projection(g.projection().cloned())
                .build(),
        )?;
        let sent = self
            .client()
            .update_table()
            .table_name(self.table())
            .set_attribute_definitions(Some(definitions(ks.iter())?))
            .global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder().create(create).build(),
            )
            .send()
            .await;
        // Another process may have added it first.
        in_use_is_fine(sent)?;
        self.wait_for(name, |t| {
            t.global_secondary_indexes().iter().any(|g| {
                g.index_name() == Some(name)
                    && g.index_status().map(|s| s.as_str()) == Some("ACTIVE")
            })
        })
        .await
    }
}

fn definitions<'a>(
    keys: impl Iterator<Item = &'a (&'a str, &'a str)>,
) -> Result<Vec<AttributeDefinition>, StoreError> {
    keys.map(|(a, _)| {
        built(
            AttributeDefinition::builder()
                .attribute_name(*a)
                .attribute_type(ScalarAttributeType::S)
                .build(),
        )
    })
    .collect()
}

fn index(name: &str, ks: &[(&str, &str); 2]) -> Result<GlobalSecondaryIndex, StoreError> {
    built(
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .set_key_schema(Some(schema(ks)?))
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build(),
    )
}

/// A create that lost to a concurrent one is as good as done.
fn in_use_is_fine<T, E, R>(
    sent: Result<T, aws_sdk_dynamodb::error::SdkError<E, R>>,
) -> Result<(), StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match sent {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("ResourceInUseException") => {
            Ok(())
        }
        Err(e) => Err(super::classify(e)),
    }
}

fn ttl_already_on<E: ProvideErrorMetadata, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool {
    e.as_service_error().is_some_and(|s| {
        s.code() == Some("ValidationException")
            && s.message().is_some_and(|m| m.contains("already enabled"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_yaml::Value;

    fn pairs(v: &Value) -> Vec<(String, String)> {
        v.as_sequence()
            .map(|s| {
                s.iter()
                    .map(|e| {
                        (
                            e["AttributeName"].as_str().unwrap_or("").to_owned(),
                            e["KeyType"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn owned(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// template.yaml and the table the local stack creates are one definition.
    #[test]
    fn template_declares_this_table() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml"))
                .expect("template.yaml");
        let doc: Value = serde_yaml::from_str(&text).expect("yaml");
        let props = &doc["Resources"]["Table"]["Properties"];
        assert_eq!(props["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
        assert_eq!(pairs(&props["KeySchema"]), owned(&TABLE_KEYS));
        let gsis = props["GlobalSecondaryIndexes"].as_sequence().expect("GSIs");
        assert_eq!(gsis.len(), GSIS.len());
        for (g, (name, ks)) in gsis.iter().zip(GSIS.iter()) {
            assert_eq!(g["IndexName"].as_str(), Some(*name));
            assert_eq!(pairs(&g["KeySchema"]), owned(ks));
            assert_eq!(g["Projection"]["ProjectionType"].as_str(), Some("ALL"));
        }
        let attrs: Vec<&str> = props["AttributeDefinitions"]
            .as_sequence()
            .expect("attributes")
            .iter()
            .filter_map(|a| a["AttributeName"].as_str())
            .collect();
        assert_eq!(attrs, ["PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"]);
        assert_eq!(
            props["StreamSpecification"]["StreamViewType"].as_str(),
            Some(STREAM_VIEW)
        );
        assert_eq!(
            props["TimeToLiveSpecification"]["AttributeName"].as_str(),
            Some(keys::EXPIRES_AT)
        );
        assert_eq!(
            props["TimeToLiveSpecification"]["Enabled"].as_bool(),
            Some(true)
        );
    }
}
