//! Mail owed to senders outside the item flow: sender notices and mail to the commands address
//! (what is pending, and marking it answered or ignored).

use crate::store::messages::Tx;
use crate::store::spaces::Member;
use crate::store::states::CommandState;
use crate::store::{Store, StoreError};

impl Tx {
    /// Marks sender notices as handed to the queue.
    pub async fn mark_notice_sent(&mut self, id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE notices SET sent_at = $1 WHERE id = $2").bind(now).bind(id).execute(self.conn()).await?;
        Ok(())
    }

    /// Marks mail to the commands address as answered (or ignored, with why).
    pub async fn mark_command(&mut self, id: i64, state: CommandState, error: Option<&str>) -> Result<(), StoreError> {
        sqlx::query("UPDATE command_mail SET state = $1, error = $2 WHERE id = $3")
            .bind(state.as_str())
            .bind(error)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

impl Store {
    /// Every membership of an address: (member, space slug).
    pub async fn memberships(&self, email: &str) -> Result<Vec<(Member, String)>, StoreError> {
        let sql = format!("SELECT {} FROM members WHERE email = $1 ORDER BY space_id", crate::store::spaces::MEMBER_COLUMNS);
        let members: Vec<Member> = sqlx::query_as(&sql).bind(email).fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(members.len());
        for m in members {
            let space = self.space_by_id(m.space_id).await?;
            out.push((m, space.slug));
        }
        Ok(out)
    }
}
