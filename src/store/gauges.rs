//! What `/metrics` reads from the database at scrape time: deliveries by source and by state,
//! quarantined mail by reason, outbound mail by state. Grouped counts only, each one indexed scan.

use super::states::{InboundState, OutboundState};
use super::{Store, StoreError};

/// Row counts for the metrics page (labels are stored spellings).
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// Deliveries ever logged, by door (`smtp`, `lmtp`, `pipe`, `import`).
    pub inbound_by_source: Vec<(String, i64)>,
    /// Deliveries by state.
    pub inbound_by_state: Vec<(InboundState, i64)>,
    /// Deliveries held in quarantine now, by reason code.
    pub quarantined_by_reason: Vec<(String, i64)>,
    /// Outbound mail by state.
    pub outbound_by_state: Vec<(OutboundState, i64)>,
}

impl Gauges {
    pub fn inbound(&self, state: InboundState) -> i64 {
        self.inbound_by_state.iter().filter(|(s, _)| *s == state).map(|(_, n)| n).sum()
    }

    pub fn outbound(&self, state: OutboundState) -> i64 {
        self.outbound_by_state.iter().filter(|(s, _)| *s == state).map(|(_, n)| n).sum()
    }
}

impl Store {
    pub async fn gauges(&self) -> Result<Gauges, StoreError> {
        let inbound_by_source: Vec<(String, i64)> =
            sqlx::query_as("SELECT source, COUNT(*) FROM inbound GROUP BY source ORDER BY source").fetch_all(&self.pool).await?;
        let states: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM inbound GROUP BY state ORDER BY state").fetch_all(&self.pool).await?;
        let inbound_by_state = states.into_iter().filter_map(|(s, n)| Some((s.parse().ok()?, n))).collect();
        let quarantined_by_reason: Vec<(String, i64)> = sqlx::query_as(
            "SELECT COALESCE(reason, 'unknown'), COUNT(*) FROM inbound WHERE state = 'quarantined' GROUP BY COALESCE(reason, 'unknown') ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await?;
        let states: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM outbound GROUP BY state ORDER BY state").fetch_all(&self.pool).await?;
        let outbound_by_state = states.into_iter().filter_map(|(s, n)| Some((s.parse().ok()?, n))).collect();
        Ok(Gauges { inbound_by_source, inbound_by_state, quarantined_by_reason, outbound_by_state })
    }
}
