//! Move jobs: the durable record of a subtree move, its progress and its lease.
//!
//! Every move that rewrites other members' uplines has a job item, written in the same
//! transaction that raises its fence. The request that started it works under a lease; when
//! the move is too large for a request, or the request dies, the job worker (fed by the
//! table's stream on job items) takes the lease over and resumes from the stored cursor.

use serde::{Deserialize, Serialize};

use super::{items, keys, n, s, Expr, Item, Store, StoreError, TxError};
use crate::domain::{NetworkId, ProgramId, UserId};

/// How long a worker holds a job before another may take it over.
pub const LEASE_MS: u64 = 15_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }
}

/// Where a move stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "lowercase")]
pub enum Phase {
    /// The moving user itself.
    Top,
    /// Members within ten levels: by level, then edge shard, resuming after `after`.
    Near {
        level: u8,
        shard: u8,
        #[serde(default)]
        after: Option<String>,
    },
    /// Members deeper than ten levels, below the frontier members of `band`.
    Deep {
        band: u32,
        #[serde(default)]
        frontier_after: Option<String>,
        shard: u8,
        #[serde(default)]
        after: Option<String>,
    },
    /// Members who joined under a member not yet rewritten.
    Pending {
        shard: u8,
        #[serde(default)]
        after: Option<String>,
        /// Whether this pass over the shards fixed anyone.
        #[serde(default)]
        fixed: bool,
    },
    Lower,
    Finished,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobItem {
    pub id: String,
    pub network_id: String,
    pub program_id: String,
    /// "move" or "remove".
    pub kind: String,
    pub user: String,
    #[serde(default)]
    pub referrer: Option<String>,
    #[serde(default)]
    pub metadata: Option<String>,
    pub status: JobStatus,
    #[serde(default)]
    pub reason: Option<String>,
    pub moved: u64,
    pub total: u64,
    pub source_root: String,
    pub dest_root: String,
    /// The moving user's upline after the move, and the epoch of its new tree.
    pub new_top: Vec<String>,
    pub dest_epoch: u64,
    /// When the moving user's new connection was made.
    pub connected_ns: u64,
    pub state: Phase,
    /// Milliseconds since the epoch until which the current worker holds the job.
    pub lease_until: u64,
    pub version: u64,
    pub created_at: String,
    /// Whether the request that raised the fence answered: until then the job is the
    /// request's, and a worker that finds it unarmed with its lease run out cancels it.
    #[serde(default = "armed_by_default")]
    pub armed: bool,
    /// When the job last advanced, in ms since the epoch (0: not yet).
    #[serde(default)]
    pub progress_at_ms: u64,
    /// An operator asked to cancel it: it fails if it has not changed anything yet.
    #[serde(default)]
    pub cancel: bool,
}

impl JobItem {
    /// When the job was made, in ms since the epoch (0 if unreadable).
    pub fn created_ms(&self) -> u64 {
        humantime::parse_rfc3339(&self.created_at)
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// Jobs written before arming existed were armed when written.
fn armed_by_default() -> bool {
    true
}

/// What GET Job shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobView {
    pub id: String,
    pub kind: String,
    pub status: JobStatus,
    pub moved: u64,
    pub total: u64,
    pub reason: Option<String>,
}

impl JobItem {
    pub fn view(&self) -> JobView {
        JobView {
            id: self.id.clone(),
            kind: self.kind.clone(),
            status: self.status,
            moved: self.moved,
            total: self.total,
            reason: self.reason.clone(),
        }
    }

    pub fn net(&self) -> Result<NetworkId, StoreError> {
        NetworkId::try_from(self.network_id.as_str()).map_err(|_| items::corrupt("job network"))
    }

    pub fn prog(&self) -> Result<ProgramId, StoreError> {
        ProgramId::try_from(self.program_id.as_str()).map_err(|_| items::corrupt("job program"))
    }

    pub fn users(&self) -> Result<(UserId, UserId, UserId), StoreError> {
        Ok((
            items::user_id(&self.user)?,
            items::user_id(&self.source_root)?,
            items::user_id(&self.dest_root)?,
        ))
    }

    pub fn new_top(&self) -> Result<Vec<UserId>, StoreError> {
        self.new_top.iter().map(|u| items::user_id(u)).collect()
    }
}

pub use crate::clock::now_ms;

/// A fresh job id: 16 base58 characters.
pub fn new_job_id() -> Result<String, StoreError> {
    crate::random::base58::<12>().map_err(|e| StoreError::Other(Box::new(e)))
}

impl Store {
    /// A job's item; a running job is also in the index of running jobs (GSI1), which its
    /// last write takes it out of.
    pub(crate) fn job_item(&self, job: &JobItem) -> Result<Item, StoreError> {
        let net = job.net()?;
        let mut item = items::with_key(items::to_item(job)?, &keys::job(&net, &job.id));
        if job.status == JobStatus::Running {
            item.insert(keys::GSI1PK.into(), s(keys::RUNNING_JOBS));
            item.insert(
                keys::GSI1SK.into(),
                s(keys::running_job_sort(&job.created_at, &net, &job.id)),
            );
        }
        Ok(item)
    }

    /// Every running job, oldest first (or of one network).
    pub async fn running_jobs(&self, only: Option<&NetworkId>) -> Result<Vec<JobItem>, StoreError> {
        let found = self
            .query_partition(true, keys::RUNNING_JOBS, None)
            .await?
            .into_iter()
            .map(items::from_item::<JobItem>)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(found
            .into_iter()
            .filter(|j| only.is_none_or(|n| n.as_str() == j.network_id))
            .collect())
    }

    /// Wakes a running job that nobody holds: a write of the same job, one version on, which
    /// the stream delivers to the worker again (a stream batch given up after its retries
    /// leaves a job with nothing to wake it). False when a worker holds it, its request has
    /// not armed it (it is still the request's), or it moved on.
    pub async fn wake_job(&self, job: &JobItem, now_ms: u64) -> Result<bool, StoreError> {
        if job.status != JobStatus::Running || !job.armed || job.lease_until > now_ms {
            return Ok(false);
        }
        self.save_job(&mut job.clone()).await
    }

    /// Asks a running job to cancel. False when it is not running.
    pub async fn request_cancel(&self, net: &NetworkId, id: &str) -> Result<bool, StoreError> {
        loop {
            let Some(mut job) = self.get_job(net, id).await? else {
                return Ok(false);
            };
            if job.status != JobStatus::Running {
                return Ok(false);
            }
            job.cancel = true;
            if self.save_job(&mut job).await? {
                return Ok(true);
            }
        }
    }

    pub async fn get_job(&self, net: &NetworkId, id: &str) -> Result<Option<JobItem>, StoreError> {
        self.get(&keys::job(net, id))
            .await?
            .map(items::from_item)
            .transpose()
    }

    /// Records `job` unless one with its id exists; false when it does.
    pub async fn insert_job(&self, job: &JobItem) -> Result<bool, StoreError> {
        let mut e = Expr::new();
        let absent = format!("attribute_not_exists({})", e.n(keys::PK));
        let put = self.tx_put(self.job_item(job)?, Some(&absent), &e, false)?;
        match self.transact(vec![put]).await {
            Ok(()) => Ok(true),
            Err(TxError::Cancelled(_)) => Ok(false),
            Err(TxError::Store(e)) => Err(e),
        }
    }

    /// Writes `job` one version on, if nobody else moved it since `job.version`. False when
    /// somebody did: the caller reads it again.
    pub(crate) async fn save_job(&self, job: &mut JobItem) -> Result<bool, StoreError> {
        let seen = job.version;
        job.version += 1;
        let mut e = Expr::new();
        let cond = format!("{} = {}", e.n("version"), e.v(n(seen)));
        let put = self.tx_put(self.job_item(job)?, Some(&cond), &e, false)?;
        match self.transact(vec![put]).await {
            Ok(()) => Ok(true),
            Err(TxError::Cancelled(_)) => {
                job.version = seen;
                Ok(false)
            }
            Err(TxError::Store(e)) => Err(e),
        }
    }

    /// The job item, changed, as an item of a larger transaction (guarded by its version).
    pub(crate) fn job_update_item(
        &self,
        job: &mut JobItem,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let seen = job.version;
        job.version += 1;
        let mut e = Expr::new();
        let cond = format!("{} = {}", e.n("version"), e.v(n(seen)));
        self.tx_put(self.job_item(job)?, Some(&cond), &e, false)
    }

    /// Deletes a job that never began: unarmed, and as `job` last saw it. A job its request
    /// armed meanwhile stays.
    pub(crate) fn job_delete_item(
        &self,
        job: &JobItem,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let mut e = Expr::new();
        let cond = format!(
            "{} = {} AND {} = {}",
            e.n("version"),
            e.v(n(job.version)),
            e.n("armed"),
            e.v(aws_sdk_dynamodb::types::AttributeValue::Bool(false))
        );
        self.tx_delete(&keys::job(&job.net()?, &job.id), Some(&cond), &e)
    }
}
