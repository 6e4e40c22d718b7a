//! Remove Referrer: the user becomes the root of its own subtree, which moves along.

use super::link::{LinkOutcome, LinkRequest, LinkSnapshot};
use super::Member;
use crate::domain::graph::{edges_of, MemberView};
use crate::domain::link::Refusal;
use crate::domain::{NetworkId, ProgramId, UserId};
use crate::store::api_keys::{check_key, KeyProbe};
use crate::store::{Attempt, Store, StoreError};

impl Store {
    pub async fn remove_referrer(
        &self,
        net: &NetworkId,
        prog: &ProgramId,
        user: &UserId,
        probe: Option<&KeyProbe>,
    ) -> Result<LinkOutcome, StoreError> {
        self.retrying(|attempt| {
            let probe = probe.filter(|_| attempt == 0);
            async move {
                let req = LinkRequest::new(net, prog, user, user);
                let mut wanted = req.keys();
                wanted.extend(probe.map(|p| p.key.clone()));
                let mut got = self.batch_get(&wanted).await?;
                if let Some(p) = probe {
                    if let Err(f) = check_key(got.get(&p.key), net) {
                        return Ok(Attempt::Done(LinkOutcome::Auth(f)));
                    }
                }
                let mut snap = LinkSnapshot::take(&req, &mut got)?;
                snap.referrer = Member::read(user, None)?;
                snap.referrer_profile = None;
                if snap.program.is_none() {
                    return Ok(Attempt::Done(LinkOutcome::Refused(
                        Refusal::ProgramNotFound,
                    )));
                }
                let u = &snap.user;
                if u.view.referrer.is_none() {
                    return Ok(Attempt::Done(LinkOutcome::Refused(Refusal::NotConnected)));
                }
                if u.view.kids {
                    return self
                        .fenced_move(net, prog, user, None, user, &snap, None)
                        .await;
                }
                // A leaf leaves alone: its item and its edges.
                let next = MemberView {
                    referrer: None,
                    upline: Vec::new(),
                    root: user.clone(),
                    tree_epoch: 0,
                    moved_by: None,
                    ..u.view.clone()
                };
                let mut base = u.item.clone();
                base.via_code = None;
                let mut tx = vec![self.member_put(net, prog, &base, &next, u.seen)?];
                for e in edges_of(user, u.view.connected_ns, &u.view.upline, 1) {
                    tx.push(self.edge_delete(net, prog, &e)?);
                }
                tx.push(self.profile_unlink(net, user)?);
                match self.transact(tx).await {
                    Ok(()) => Ok(Attempt::Done(LinkOutcome::Removed)),
                    Err(e) => e.retry(),
                }
            }
        })
        .await
    }
}
