//! The committer: each delivery's raw message (and its quarantine, notice and command-mail rows)
//! written before the 250, batched so concurrent sessions share one transaction and one fsync.

use super::{Job, MAX_BATCH};
use crate::app::App;
use crate::store::StoreError;
use crate::store::messages::{NewInbound, RawInsert};
use tokio::sync::mpsc;

/// Commits jobs in batches: whatever queued while the previous commit was running goes together.
pub(super) async fn committer(app: App, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match write(&app, &batch).await {
            Ok(results) => {
                for (job, result) in batch.into_iter().zip(results) {
                    let _ = job.done.send(Ok(result));
                }
            }
            // One bad message must not fail its neighbours: retry each alone.
            Err(_) if batch.len() > 1 => {
                for job in batch {
                    let result = write(&app, std::slice::from_ref(&job)).await.map(|mut r| r.remove(0));
                    let _ = job.done.send(result);
                }
            }
            Err(e) => {
                if let Some(job) = batch.pop() {
                    let _ = job.done.send(Err(e));
                }
            }
        }
    }
}

async fn write(app: &App, batch: &[Job]) -> Result<Vec<Vec<RawInsert>>, StoreError> {
    let mut tx = app.store.begin().await?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let mut inserts = Vec::with_capacity(job.rows.len());
        for row in &job.rows {
            let insert = tx
                .insert_inbound(&NewInbound {
                    space_id: row.space.id,
                    dedup_key: &job.dedup_key,
                    content_hash: &job.content_hash,
                    raw: &job.raw,
                    source: job.source.as_str(),
                    mail_from: job.mail_from.as_deref(),
                    rcpt_to: &serde_json::to_string(&row.rcpt_to).unwrap_or_else(|_| "[]".into()),
                    received_at: job.received_at,
                })
                .await?;
            if let (RawInsert::Inserted(id), Some(reason)) = (&insert, &row.quarantine) {
                tx.quarantine(*id, reason.code(), &reason.describe()).await?;
                if let Some(to) = &row.notify {
                    tx.insert_notice(row.space.id, to, reason.code(), &reason.describe(), *id, job.received_at).await?;
                }
            }
            inserts.push(insert);
        }
        if job.commands {
            tx.insert_command_mail(&job.dedup_key, &job.raw, job.mail_from.as_deref(), job.received_at).await?;
        }
        results.push(inserts);
    }
    tx.commit().await?;
    Ok(results)
}
