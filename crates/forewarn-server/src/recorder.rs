//! The commit point of every partner read: group commit of delivery records, and the check that the decision was
//! made on the current catalogue.
//!
//! A copy may be sent only once its record is durable; committing one transaction (and one `fsync`) per request
//! caps throughput at the disk's sync rate. The recorder collects the requests waiting at a given moment, commits
//! their records in one transaction, and then answers each — so every request still waits for its own record to be
//! durable, and a burst shares the cost.
//!
//! Requests decide on an in-memory snapshot of the catalogue (`delivery::Catalogue`) without a query of their own.
//! Each then passes through here with the snapshot's version: the batch's transaction writes the records only if
//! the catalogue's change counter, read inside it, is still at that version, and a request whose snapshot is older
//! is answered [`Confirm::Stale`] and its record is not written — the caller decides again on a fresh snapshot.
//! The counter is read after the request arrived, so a change committed by any process before a request arrived is
//! always seen by that request's answer (a suspension takes effect on the next request), and a copy's record
//! commits together with proof that the decision to serve it was made on the current state.
//!
//! State in memory here is only a queue of requests in flight; nothing is lost that was acknowledged, and several
//! servers on one database each run their own recorder.

use forewarn_core::{AdvisoryId, PartnerId, SectionKind};
use forewarn_store::deliveries::{self, Channel, NewDelivery};
use forewarn_store::Store;
use jiff::Timestamp;
use tokio::sync::{mpsc, oneshot};

/// A record to write.
#[derive(Debug)]
pub struct Record {
    pub at: Timestamp,
    pub partner: PartnerId,
    pub advisory: AdvisoryId,
    pub revision: u32,
    pub sections: Vec<SectionKind>,
    pub channel: Channel,
    pub digest: String,
    /// SHA-256 of the copy's fingerprint codeword, hex.
    pub codeword: Option<String>,
}

/// What the commit point says of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// Made on the current catalogue; its record, if any, is durable.
    Fresh,
    /// Made on an older catalogue; nothing was written. Decide again on a fresh snapshot.
    Stale,
}

struct Job {
    version: i64,
    record: Option<Record>,
    reply: oneshot::Sender<Result<Confirm, String>>,
}

/// The handle requests use; cheap to clone.
#[derive(Debug, Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Job>,
}

/// Most records committed in one transaction.
const BATCH: usize = 256;

impl Recorder {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Store, log: crate::log_api::Handle) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                // Let the requests that are ready to run go first, once: those about to reach their commit point join
                // this batch instead of the next. Under a release burst that makes batches of about 80 records
                // instead of 33 and cuts the commits (each an `fsync`, and the same pages written again) to 360 a
                // second from 900; the CPU saved serves more documents. More than one turn left the CPU idle.
                tokio::task::yield_now().await;
                let mut jobs = vec![first];
                while jobs.len() < BATCH {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                match write(&store, &jobs).await {
                    Ok(fresh) => {
                        if jobs.iter().zip(&fresh).any(|(j, f)| *f && j.record.is_some()) {
                            // Their log events are pending: have the sequencer integrate them soon.
                            log.wake.notify_one();
                        }
                        for (job, fresh) in jobs.into_iter().zip(fresh) {
                            let answer = if fresh { Confirm::Fresh } else { Confirm::Stale };
                            let _ = job.reply.send(Ok(answer));
                        }
                    }
                    Err(e) => {
                        for job in jobs {
                            let _ = job.reply.send(Err(e.clone()));
                        }
                    }
                }
            }
        });
        Self { tx }
    }

    /// Confirms a decision made on catalogue `version`, writing `record` durably when it is [`Confirm::Fresh`];
    /// returns once that is settled.
    pub async fn confirm(&self, version: i64, record: Option<Record>) -> Result<Confirm, String> {
        let (reply, done) = oneshot::channel();
        self.tx
            .send(Job { version, record, reply })
            .await
            .map_err(|_| "the delivery recorder has stopped".to_owned())?;
        done.await.map_err(|_| "the delivery recorder has stopped".to_owned())?
    }
}

/// Writes the records of the jobs made on the newest catalogue among them, if it is still the current one; returns
/// which jobs are answered [`Confirm::Fresh`]: those made on the current catalogue, and only when their records (if
/// any) were written. Catalogue versions only grow, so a job made on an older snapshot than another in the batch is
/// stale anyway; the commit is one conditional transaction (`deliveries::record_if_current`).
async fn write(store: &Store, jobs: &[Job]) -> Result<Vec<bool>, String> {
    let Some(newest) = jobs.iter().map(|j| j.version).max() else { return Ok(Vec::new()) };
    let records: Vec<NewDelivery<'_>> = jobs
        .iter()
        .filter(|j| j.version == newest)
        .filter_map(|j| j.record.as_ref())
        .map(|r| NewDelivery {
            at: r.at,
            partner: &r.partner,
            advisory: &r.advisory,
            revision: r.revision,
            sections: &r.sections,
            channel: r.channel,
            digest: &r.digest,
            codeword: r.codeword.as_deref(),
        })
        .collect();
    let current = deliveries::record_if_current(store, newest, &records).await.map_err(|e| e.to_string())?;
    Ok(jobs.iter().map(|j| current == newest && j.version == newest).collect())
}
