//! docket: email as a team's async channel.
//!
//! The inbound pipeline, one stage per module, each taking the previous stage's type:
//!
//! ```text
//!  SMTP / LMTP / pipe / archive
//!        │  InboundMessage { raw, envelope, source }          ingest/
//!        ▼
//!  raw log committed (store::messages::insert_inbound)        ── durable before any reply
//!        │
//!        ▼  parse::mime::parse → ParsedMail                   parse/ (pure)
//!           parse::reply::visible_text → Visible
//!        │
//!        ▼  thread::assign(Candidates) → Assignment           thread/ (pure; store looks up)
//!        │
//!        ▼  store::messages::insert_message → StoredMessage   store/ (the only sqlx user)
//!        │
//!        ▼  record::record(Extraction) → items, links, history  record.rs (tags → rows)
//!        │
//!        ▼  index::Index::catch_up → tantivy (derived, rebuildable)  index/ (the only tantivy user)
//!        │
//!        ▼  read side: store::read, store::items, index::search  CLI (src/main.rs, src/cli/)
//!
//!  scheduler: tick::tick(now) applies notify::* planners (pure: what is due at `now`)
//!        │  fan-out, receipts, reminders, proposals, digests, loops, commands → render (askama)
//!        ▼  notify::outbound queue (store::outbound, dedup key) → notify::mailer (lettre: relay or outbox)
//! ```
//!
//! Mail to the commands address is an intake stage too (`ingest::commands`: the command runs at
//! intake, the reply owed is recorded; the scheduler only renders and queues it). `identity`
//! (reply tokens, addresses, sender authentication, the sender policy) sits below both `ingest`
//! and `notify`.
//!
//! Every text that leaves for a terminal, a header or a template goes through `display` (control
//! characters made visible).
//!
//! `app::App` carries the validated `config::Config`, the `store::Store`, the `index::Index`, the
//! `clock::Clock` and the `notify::mailer::Mailer`.

// `docket::…` paths (askama.toml's escapers) resolve inside the library too.
extern crate self as docket;

pub mod app;
pub mod clock;
pub mod config;
pub mod demo;
pub mod display;
pub mod hours;
pub mod identity;
pub mod index;
pub mod ingest;
pub mod metrics;
pub mod notify;
pub mod parse;
pub mod record;
pub mod serve;
pub mod space;
pub mod store;
pub mod thread;
pub mod tick;
pub mod web;
