//! A page over several partitions of one listing (a member's downline, a user's rewards):
//! each partition is read side by side (one round trip) and the rows merged by sort key.

use super::{item_key, SortKey};
use crate::store::{Item, Store, StoreError};

/// Where a read stopped in each partition: `None` not started, `Some("")` exhausted.
pub type ShardCursor = Vec<Option<String>>;

pub struct MergedPage {
    /// Rows in sort-key order, each with its sort key.
    pub rows: Vec<(String, Item)>,
    /// Where to resume, when there is more.
    pub next: Option<ShardCursor>,
}

impl Store {
    /// Up to `limit` rows of `partitions`, in sort-key order, from `cursor`.
    pub(crate) async fn merged_page(
        &self,
        partitions: &[String],
        sort: &SortKey,
        limit: usize,
        cursor: Option<ShardCursor>,
    ) -> Result<MergedPage, StoreError> {
        let n = partitions.len();
        let cursor = cursor.unwrap_or_else(|| vec![None; n]);
        let reads = partitions.iter().enumerate().map(|(s, pk)| {
            let at = cursor.get(s).cloned().flatten();
            async move {
                if at.as_deref() == Some("") {
                    return Ok::<_, StoreError>((Vec::new(), true));
                }
                let page = self
                    .query_page(pk, sort, at, Some(limit as i32 + 1))
                    .await?;
                let done = page.last_sk.is_none() && page.items.len() <= limit;
                let rows = page
                    .items
                    .into_iter()
                    .map(|i| Ok((item_key(&i)?.1, i)))
                    .collect::<Result<Vec<_>, StoreError>>()?;
                Ok((rows, done))
            }
        });
        let pages = futures::future::try_join_all(reads).await?;
        let counts: Vec<usize> = pages.iter().map(|(rows, _)| rows.len()).collect();
        let mut merged: Vec<(usize, (String, Item))> = pages
            .iter()
            .enumerate()
            .flat_map(|(s, (rows, _))| rows.iter().cloned().map(move |r| (s, r)))
            .collect();
        merged.sort_by(|a, b| a.1 .0.cmp(&b.1 .0));
        let more = merged.len() > limit || pages.iter().any(|(_, done)| !done);
        merged.truncate(limit);
        let mut next = cursor;
        next.resize(n, None);
        for (s, (_, done)) in pages.iter().enumerate() {
            let taken = merged.iter().rfind(|(x, _)| *x == s);
            let all_taken = merged.iter().filter(|(x, _)| *x == s).count() == counts[s];
            next[s] = match taken {
                _ if *done && all_taken => Some(String::new()),
                Some((_, (sk, _))) => Some(sk.clone()),
                None => next[s].clone(),
            };
        }
        Ok(MergedPage {
            rows: merged.into_iter().map(|(_, r)| r).collect(),
            next: more.then_some(next),
        })
    }
}
