//! Who mail is from and for, below both the intake (`ingest`) and the outbound side (`notify`):
//! reply tokens (`token`: sign, verify), API tokens and feed keys (`api_key`), recipient addresses (`address`), sender authentication
//! (`auth`: DKIM, SPF, DMARC through mail-auth) and the sender policy's decision (`policy`, pure).
//! What a decision means for an SMTP session stays in `ingest`.

pub mod address;
pub mod api_key;
pub mod auth;
pub mod policy;
pub mod token;
