//! `docket ingest`: one message from an MTA pipe on stdin, answered with a sysexits(3) code
//! (0 stored or duplicate, 65 bad data, 67 unknown recipient, 75 try again later).

use super::auth::Client;
use super::{Envelope, InboundMessage, IngestError, Outcome, Source, accept_from, recover};
use crate::app::App;
use std::io::Read;

/// Reads at most `max + 1` bytes, so an over-size message is refused without holding all of it.
pub fn read_limited(mut input: impl Read, max: u64) -> std::io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    input.by_ref().take(max + 1).read_to_end(&mut raw)?;
    if raw.len() as u64 > max {
        // Drain the rest so the writing MTA does not see a broken pipe before our exit code.
        std::io::copy(&mut input, &mut std::io::sink())?;
    }
    Ok(raw)
}

pub async fn ingest(app: &App, raw: Vec<u8>, space: Option<&str>, envelope: Envelope) -> Result<Outcome, IngestError> {
    let client = Client { ip: None, helo: None, mail_from: envelope.mail_from.clone() };
    ingest_from(app, raw, space, envelope, client).await
}

/// `ingest` with what the MTA knows of the sending host (Postfix `${client_address}` and
/// `${client_helo}`), so SPF counts for DMARC as at the SMTP door.
pub async fn ingest_from(app: &App, raw: Vec<u8>, space: Option<&str>, envelope: Envelope, client: Client) -> Result<Outcome, IngestError> {
    if let Err(e) = recover(app).await {
        tracing::warn!(error = %e, "could not finish earlier deliveries; continuing with this one");
    }
    accept_from(app, InboundMessage { raw, envelope, source: Source::Pipe }, space, &client).await
}
