//! Group commit for delivery records. A copy may be sent only once its record is durable; committing one
//! transaction (and one `fsync`) per request caps throughput at the disk's sync rate. The recorder collects the
//! records waiting at a given moment, commits them in one transaction, and then answers each waiting request —
//! so every request still waits for its own record to be durable, and a burst shares the cost.
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
}

type Job = (Record, oneshot::Sender<Result<(), String>>);

/// The handle requests use; cheap to clone.
#[derive(Debug, Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Job>,
}

/// Most records committed in one transaction.
const BATCH: usize = 256;

impl Recorder {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Store) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                while jobs.len() < BATCH {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                let result = write(&store, &jobs).await;
                for (_, reply) in jobs {
                    let _ = reply.send(result.clone());
                }
            }
        });
        Self { tx }
    }

    /// Writes a record durably; returns once it is committed.
    pub async fn record(&self, r: Record) -> Result<(), String> {
        let (reply, done) = oneshot::channel();
        self.tx.send((r, reply)).await.map_err(|_| "the delivery recorder has stopped".to_owned())?;
        done.await.map_err(|_| "the delivery recorder has stopped".to_owned())?
    }
}

async fn write(store: &Store, jobs: &[Job]) -> Result<(), String> {
    let mut tx = store.begin().await.map_err(|e| e.to_string())?;
    for (r, _) in jobs {
        deliveries::record(
            &mut tx,
            NewDelivery {
                at: r.at,
                partner: &r.partner,
                advisory: &r.advisory,
                revision: r.revision,
                sections: &r.sections,
                channel: r.channel,
                digest: &r.digest,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())
}
