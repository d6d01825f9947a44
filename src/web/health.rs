//! `/healthz`: 200 when the database answers a query, 503 when it does not (for load balancers and
//! systemd watchdogs).

use crate::app::App;
use axum::extract::State;
use axum::http::StatusCode;

pub async fn healthz(State(app): State<App>) -> (StatusCode, &'static str) {
    match app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::warn!(error = %e, "health check: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}
