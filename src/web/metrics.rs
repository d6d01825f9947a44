//! `/metrics` (no sign-in): the Prometheus text exposition of what the database counts at
//! scrape time (mail received, stored, quarantined by reason; outbound queued, sent, failed;
//! queue depths) and what this process counts (sessions, latencies; `crate::metrics`).

use crate::app::App;
use crate::metrics::{CONTENT_TYPE, Exposition, Labels};
use crate::store::gauges::Gauges;
use crate::store::states::{InboundState, OutboundState};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

pub async fn metrics(State(app): State<App>) -> impl IntoResponse {
    let gauges = app.store.gauges().await;
    if let Err(e) = &gauges {
        tracing::warn!(error = %e, "metrics: the database did not answer");
    }
    let mut e = Exposition::default();
    e.gauge(
        "docket_database_up",
        "1 when the database answered this scrape, else 0 (its counts are then left out).",
        &[(&[], i64::from(gauges.is_ok()))],
    );
    if let Ok(g) = &gauges {
        stored(&mut e, g);
    }
    e.process();
    ([(header::CONTENT_TYPE, CONTENT_TYPE), (header::CACHE_CONTROL, "no-store")], e.finish())
}

/// The families the database counts.
fn stored(e: &mut Exposition, g: &Gauges) {
    let labels: Vec<[(&str, &str); 1]> = g.inbound_by_source.iter().map(|(s, _)| [("source", s.as_str())]).collect();
    let sources: Vec<(Labels<'_>, u64)> = labels.iter().zip(&g.inbound_by_source).map(|(l, (_, n))| (&l[..], count(*n))).collect();
    e.counter("docket_mail_received_total", "Deliveries accepted and logged, by door (smtp, lmtp, pipe, import).", &sources);
    e.counter(
        "docket_mail_stored_total",
        "Deliveries parsed, threaded and stored as messages.",
        &[(&[], count(g.inbound(InboundState::Stored)))],
    );
    let labels: Vec<[(&str, &str); 1]> = g.quarantined_by_reason.iter().map(|(r, _)| [("reason", r.as_str())]).collect();
    let held: Vec<(Labels<'_>, i64)> = labels.iter().zip(&g.quarantined_by_reason).map(|(l, (_, n))| (&l[..], *n)).collect();
    e.gauge("docket_mail_quarantined", "Deliveries held in quarantine now, by reason (`docket quarantine list`).", &held);
    e.gauge(
        "docket_mail_failed",
        "Deliveries whose processing failed and wait for an operator.",
        &[(&[], g.inbound(InboundState::Failed))],
    );
    let backlog = g.inbound(InboundState::Received) + g.inbound(InboundState::Processing);
    e.gauge("docket_intake_backlog", "Deliveries logged and not yet processed (received or processing).", &[(&[], backlog)]);
    let all: i64 = g.outbound_by_state.iter().map(|(_, n)| n).sum();
    e.counter("docket_outbound_queued_total", "Outbound mails ever queued (any state now).", &[(&[], count(all))]);
    e.counter(
        "docket_outbound_sent_total",
        "Outbound mails handed to the relay or the outbox.",
        &[(&[], count(g.outbound(OutboundState::Sent)))],
    );
    e.counter(
        "docket_outbound_failed_total",
        "Outbound mails given up on after their retries.",
        &[(&[], count(g.outbound(OutboundState::Failed)))],
    );
    let waiting = g.outbound(OutboundState::Queued) + g.outbound(OutboundState::Sending);
    e.gauge("docket_outbound_waiting", "Outbound mails queued or being sent now.", &[(&[], waiting)]);
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}
