//! Full-text search, and the only module that touches tantivy. The index under `DATA_DIR/index`
//! is derived data: `catch_up` reads what the store gained since the watermark kept in the index's
//! last commit (new messages, decisions, tasks, and items changed in `item_history`) and commits
//! once per call, so mail arriving one by one never pays a commit each. A missing, corrupt or
//! outdated index is rebuilt from the store; `DATA_DIR/index.lock` admits one writer per
//! directory, and other processes search read-only.
//!
//! ```text
//!  store (messages, decisions, tasks, item_history)
//!        │ ids above the watermark → rows                      store::search
//!        ▼
//!  catch_up: replace documents by key, commit with the watermark    Writing
//!        ▼
//!  search: query::parse → search::build → top docs → snippets → current thread from the store
//! ```

pub mod feed;
pub mod hit;
pub mod query;
pub mod schema;
pub mod search;

use crate::store::search::{Feed, SearchRow};
use crate::store::{Store, StoreError};
use feed::{Progress, Watermark};
pub use hit::{Hit, HitId, SearchOptions, Sort, render_text};
pub use query::QueryError;
use schema::{Fields, SCHEMA_VERSION};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tantivy::{IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Writer memory budget (one indexing thread; see notes on a 2-core machine).
const WRITER_BUDGET: usize = 50_000_000;
/// Ids read per query of a feed.
const FETCH: i64 = 10_000;
/// Rows read per query by id.
const ROWS: usize = 500;
/// Documents between intermediate commits of a long catch-up (so a crash keeps most of the work).
const COMMIT_EVERY: u64 = 20_000;

const FEEDS: [Feed; 4] = [Feed::Messages, Feed::Decisions, Feed::Tasks, Feed::History];

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(
        "the search index {0} is being written by another docket process (`docket serve` or `docket reindex`): stop it first; searching works meanwhile"
    )]
    Locked(PathBuf),
    #[error("cannot use the search index at {path}: {source} (check that it is writable and the disk has space)")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("no search index yet at {0}: run `docket reindex` (or start `docket serve`)")]
    Missing(PathBuf),
    #[error("search index error: {0} (`docket reindex` rebuilds the index from the database)")]
    Engine(#[from] tantivy::TantivyError),
    #[error("bad search: {0}")]
    Query(QueryError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("search index worker failed: {0}")]
    Worker(String),
}

impl From<QueryError> for IndexError {
    fn from(e: QueryError) -> Self {
        IndexError::Query(e)
    }
}

impl IndexError {
    /// Whether the query itself is at fault (a usage error, not a failure of docket).
    pub fn is_query(&self) -> bool {
        matches!(self, IndexError::Query(_))
    }
}

/// A document's key and its stored (field, JSON value) pairs.
pub type StoredDocument = (String, Vec<(String, String)>);

/// What a catch-up or rebuild did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Caught {
    /// Documents written (added or replaced).
    pub documents: u64,
    /// Whether the index had to be created or rebuilt from scratch.
    pub rebuilt: bool,
}

/// The search index of one data directory. Cheap to clone; opened lazily: the writer on the first
/// `catch_up`, a read-only reader on the first search of a process that is not the writer.
#[derive(Clone)]
pub struct Index {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    writing: tokio::sync::Mutex<Option<Writing>>,
    reading: Mutex<Option<Reading>>,
}

#[derive(Clone)]
struct Reading {
    reader: IndexReader,
    fields: Fields,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("dir", &self.inner.dir).finish_non_exhaustive()
    }
}

impl Index {
    /// The index stored in `dir` (`DATA_DIR/index`); nothing is opened yet.
    pub fn new(dir: PathBuf) -> Index {
        Index { inner: Arc::new(Inner { dir, writing: tokio::sync::Mutex::new(None), reading: Mutex::new(None) }) }
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Indexes what the store gained since the last call (or since the watermark of the index on
    /// disk), and commits. Takes the writer lock on first use and keeps it.
    pub async fn catch_up(&self, store: &Store, now: i64) -> Result<Caught, IndexError> {
        self.run(store, now, false, &|_| {}).await
    }

    /// Drops every document and indexes the whole store again; `progress` gets document counts.
    pub async fn reindex(&self, store: &Store, now: i64, progress: &(dyn Fn(u64) + Sync)) -> Result<Caught, IndexError> {
        self.run(store, now, true, progress).await
    }

    async fn run(&self, store: &Store, now: i64, rebuild: bool, progress: &(dyn Fn(u64) + Sync)) -> Result<Caught, IndexError> {
        let mut guard = self.inner.writing.lock().await;
        let mut fresh = false;
        if guard.is_none() {
            let (writing, created) = Writing::open(&self.inner.dir, store).await?;
            self.publish(Reading { reader: writing.reader.clone(), fields: writing.fields });
            *guard = Some(writing);
            fresh = created;
        }
        let Some(writing) = guard.as_mut() else { return Err(IndexError::Worker("writer missing".into())) };
        if rebuild {
            writing.clear()?;
        }
        match writing.catch_up(store, now, progress).await {
            Ok(documents) => Ok(Caught { documents, rebuilt: fresh || rebuild }),
            Err(e) => {
                // Start over from the disk next time: reopening repairs or rebuilds the index.
                if !matches!(e, IndexError::Store(_)) {
                    *guard = None;
                }
                Err(e)
            }
        }
    }

    /// Lets the writer go (and the lock with it), e.g. when `serve` stops.
    pub async fn release(&self) {
        let mut guard = self.inner.writing.lock().await;
        // Later searches open the index read-only (and follow the next writer's commits).
        if let Ok(mut r) = self.inner.reading.lock() {
            *r = None;
        }
        if let Some(w) = guard.take()
            && let Ok(writer) = Arc::try_unwrap(w.writer)
            && let Ok(writer) = writer.into_inner()
        {
            let _ = tokio::task::spawn_blocking(move || writer.wait_merging_threads()).await;
        }
    }

    /// Documents in the index as last committed.
    pub fn document_count(&self) -> Result<u64, IndexError> {
        let reading = self.reading()?;
        reading.reader.reload()?;
        Ok(reading.reader.searcher().num_docs())
    }

    fn publish(&self, reading: Reading) {
        if let Ok(mut r) = self.inner.reading.lock() {
            *r = Some(reading);
        }
    }

    fn reading(&self) -> Result<Reading, IndexError> {
        if let Ok(r) = self.inner.reading.lock()
            && let Some(reading) = r.as_ref()
        {
            return Ok(reading.clone());
        }
        let dir = &self.inner.dir;
        if !dir.join("meta.json").exists() {
            return Err(IndexError::Missing(dir.clone()));
        }
        let index = tantivy::Index::open_in_dir(dir)?;
        schema::register(index.tokenizers());
        let fields = resolve_fields(&index)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::OnCommitWithDelay).try_into()?;
        let reading = Reading { reader, fields };
        self.publish(reading.clone());
        Ok(reading)
    }

    /// Runs a query (docs/cli.md JSON language). Hits carry their current thread from the store.
    pub async fn search(&self, store: &Store, query: &str, opts: &SearchOptions) -> Result<Vec<Hit>, IndexError> {
        let _timer = crate::metrics::search_timer();
        let found = self.find(query::parse(query)?, opts).await?;
        place(store, found).await
    }

    /// The best hits of `spaces` only (never another space's, whatever the query says), for
    /// searches on a member's behalf (the web page, mail to the commands address). The index first
    /// catches up, unless another process (`serve`) holds it and keeps it current. Each space is
    /// searched with the query plus `space:SLUG`; BM25 scores of one index are comparable across
    /// those searches, so the merged list keeps the order relevance gives.
    pub async fn search_spaces(
        &self,
        store: &Store,
        query: &str,
        spaces: &[&str],
        opts: &SearchOptions,
        now: i64,
    ) -> Result<Vec<Hit>, IndexError> {
        match self.catch_up(store, now).await {
            Ok(_) | Err(IndexError::Locked(_)) => {}
            Err(e) => tracing::warn!(error = %e, "search index not caught up before a search"),
        }
        let mut hits = Vec::new();
        for slug in spaces {
            let found = self.search(store, &format!("{query} space:{slug}"), opts).await?;
            hits.extend(found.into_iter().filter(|h| h.space == *slug));
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.date.cmp(&a.date)));
        hits.truncate(opts.limit);
        Ok(hits)
    }

    /// Opens the reader and runs the query on a blocking thread: segment reads and scoring are
    /// synchronous and would otherwise hold up every SMTP session sharing the runtime thread.
    async fn find(&self, parsed: query::Parsed, opts: &SearchOptions) -> Result<Vec<search::Found>, IndexError> {
        let index = self.clone();
        let sort = if parsed.has_text() { opts.sort } else { Sort::Date };
        let limit = opts.limit.clamp(1, hit::MAX_LIMIT);
        tokio::task::spawn_blocking(move || {
            let reading = index.reading()?;
            let Some(q) = search::build(&parsed, &reading.fields) else { return Ok(Vec::new()) };
            let searcher = reading.reader.searcher();
            Ok(search::run(&searcher, &reading.fields, q.as_ref(), sort, limit)?)
        })
        .await
        .map_err(|e| IndexError::Worker(e.to_string()))?
    }

    /// Every stored document as (key, field → value) pairs, sorted; for comparing two indexes.
    pub fn stored_documents(&self) -> Result<Vec<StoredDocument>, IndexError> {
        let reading = self.reading()?;
        reading.reader.reload()?;
        let searcher = reading.reader.searcher();
        let schema = searcher.schema().clone();
        let mut out = Vec::new();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            for doc_id in segment.doc_ids_alive() {
                let doc: TantivyDocument = searcher.doc(tantivy::DocAddress::new(ord as u32, doc_id))?;
                let json: serde_json::Value =
                    serde_json::from_str(&tantivy::schema::document::Document::to_json(&doc, &schema)).unwrap_or_default();
                let mut fields: Vec<(String, String)> =
                    json.as_object().into_iter().flatten().map(|(k, v)| (k.clone(), v.to_string())).collect();
                fields.sort();
                let key = fields.iter().find(|(k, _)| k == "key").map(|(_, v)| v.clone()).unwrap_or_default();
                out.push((key, fields));
            }
        }
        out.sort();
        Ok(out)
    }
}

/// Fills in each hit's current thread (threads merge after indexing) and drops documents whose
/// row is gone.
async fn place(store: &Store, found: Vec<search::Found>) -> Result<Vec<Hit>, IndexError> {
    let mut hits = Vec::with_capacity(found.len());
    let ids = |kind: &str| -> Vec<i64> { found.iter().filter(|f| f.hit.kind == kind).map(|f| f.row).collect() };
    let messages = store.hit_places(Feed::Messages, &ids("message")).await?;
    let decisions = store.hit_places(Feed::Decisions, &ids("decision")).await?;
    let tasks = store.hit_places(Feed::Tasks, &ids("task")).await?;
    for f in found {
        let places = match f.hit.kind {
            "decision" => &decisions,
            "task" => &tasks,
            _ => &messages,
        };
        let Some(place) = places.iter().find(|p| p.id == f.row) else { continue };
        let mut hit = f.hit;
        hit.thread_id = place.thread_id;
        hit.subject = place.subject.clone();
        hits.push(hit);
    }
    Ok(hits)
}

fn resolve_fields(index: &tantivy::Index) -> Result<Fields, IndexError> {
    let (expected, fields) = Fields::build();
    let schema = index.schema();
    for (field, entry) in expected.fields() {
        if schema.get_field(entry.name()).ok() != Some(field) {
            return Err(IndexError::Engine(tantivy::TantivyError::SchemaError(format!(
                "field {} differs from this version of docket",
                entry.name()
            ))));
        }
    }
    Ok(fields)
}

/// The writer side: the lock, the tantivy writer, and how far each feed has been read.
struct Writing {
    /// Held (flock) for as long as this process may write.
    _lock: File,
    /// Used only on blocking threads (adding documents, committing), never on the runtime's.
    writer: Arc<Mutex<IndexWriter>>,
    reader: IndexReader,
    fields: Fields,
    progress: [Progress; 4],
    committed: Watermark,
}

impl Writing {
    /// Takes the lock, then opens the index, or creates it when missing, unreadable, of another
    /// schema version, or ahead of the store (another database). Returns whether it was created.
    async fn open(dir: &Path, store: &Store) -> Result<(Writing, bool), IndexError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| IndexError::Io { path, source }
        };
        let parent = dir.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let lock_path = dir.with_extension("lock");
        let lock = File::options().create(true).truncate(false).write(true).open(&lock_path).map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(IndexError::Locked(dir.to_path_buf())),
            Err(std::fs::TryLockError::Error(source)) => return Err(IndexError::Io { path: lock_path, source }),
        }
        let existing = match open_existing(dir) {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "search index unreadable; rebuilding it from the database");
                None
            }
        };
        let existing = match existing {
            Some((index, mark)) if ahead_of(store, &mark).await? => {
                tracing::warn!("search index is ahead of the database (another database?); rebuilding it");
                drop(index);
                None
            }
            other => other,
        };
        let (index, mark, created) = match existing {
            Some((index, mark)) => (index, mark, false),
            None => (create(dir)?, Watermark::default(), true),
        };
        let fields = resolve_fields(&index)?;
        let writer: IndexWriter = match index.writer_with_num_threads(1, WRITER_BUDGET) {
            Ok(w) => w,
            Err(tantivy::TantivyError::LockFailure(..)) => return Err(IndexError::Locked(dir.to_path_buf())),
            Err(e) => return Err(e.into()),
        };
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let progress =
            [Progress::new(mark.messages), Progress::new(mark.decisions), Progress::new(mark.tasks), Progress::new(mark.history)];
        let mut writing = Writing { _lock: lock, writer: Arc::new(Mutex::new(writer)), reader, fields, progress, committed: mark };
        if created {
            // Record the schema version at once, so an empty new index is not rebuilt again.
            writing.commit().await?;
        }
        Ok((writing, created))
    }

    fn mark(&self) -> Watermark {
        let [m, d, t, h] = &self.progress;
        Watermark { schema: SCHEMA_VERSION, messages: m.done(), decisions: d.done(), tasks: t.done(), history: h.done() }
    }

    /// Drops every document and rewinds the feeds (takes effect at the next commit).
    fn clear(&mut self) -> Result<(), IndexError> {
        locked(&self.writer)?.delete_all_documents()?;
        self.progress = Default::default();
        Ok(())
    }

    async fn catch_up(&mut self, store: &Store, now: i64, progress: &(dyn Fn(u64) + Sync)) -> Result<u64, IndexError> {
        let (mut written, mut since_commit) = (0u64, 0u64);
        for (slot, feed) in FEEDS.into_iter().enumerate() {
            loop {
                let ids = store.ids_after(feed, self.progress[slot].done(), FETCH).await?;
                let wanted = self.progress[slot].wanted(&ids);
                for chunk in wanted.chunks(ROWS) {
                    let n = self.index_rows(store, feed, chunk).await?;
                    self.progress[slot].handled(chunk);
                    written += n;
                    since_commit += n;
                    progress(n);
                    if since_commit >= COMMIT_EVERY {
                        self.progress[slot].advance(now);
                        self.commit().await?;
                        since_commit = 0;
                    }
                }
                self.progress[slot].advance(now);
                if (ids.len() as i64) < FETCH || wanted.is_empty() {
                    break;
                }
            }
        }
        if since_commit > 0 || self.mark() != self.committed {
            self.commit().await?;
        }
        Ok(written)
    }

    /// Writes the documents for some ids of a feed; returns how many. The rows are read here;
    /// building the documents and handing them to the writer (which blocks while tantivy's
    /// indexing queue is full) run on a blocking thread, so a long catch-up leaves the runtime
    /// thread to the SMTP sessions and timers.
    async fn index_rows(&mut self, store: &Store, feed: Feed, ids: &[i64]) -> Result<u64, IndexError> {
        let mut docs: Vec<(&'static str, SearchRow)> = Vec::new();
        let mut add = |kind: &'static str, rows: Vec<SearchRow>| docs.extend(rows.into_iter().map(|r| (kind, r)));
        match feed {
            Feed::Messages => add("message", store.search_rows(feed, ids).await?),
            Feed::Decisions => add("decision", store.search_rows(feed, ids).await?),
            Feed::Tasks => add("task", store.search_rows(feed, ids).await?),
            Feed::History => {
                let items = store.history_items(ids).await?;
                let of = |prefix: &str| -> Vec<i64> { items.iter().filter(|(k, _)| k == prefix).map(|(_, id)| *id).collect() };
                add("decision", store.search_rows(Feed::Decisions, &of("D")).await?);
                add("task", store.search_rows(Feed::Tasks, &of("T")).await?);
            }
        }
        let n = docs.len() as u64;
        let (writer, fields) = (self.writer.clone(), self.fields);
        tokio::task::spawn_blocking(move || {
            let writer = locked(&writer)?;
            docs.iter().try_for_each(|(kind, row)| put(&writer, &fields, kind, row))
        })
        .await
        .map_err(|e| IndexError::Worker(e.to_string()))??;
        Ok(n)
    }

    /// Commits what was added, with the watermark as payload, on a blocking thread; then makes
    /// it visible to this process's searches.
    async fn commit(&mut self) -> Result<(), IndexError> {
        let mark = self.mark();
        let payload = serde_json::to_string(&mark).map_err(|e| IndexError::Worker(e.to_string()))?;
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || -> Result<(), IndexError> {
            let mut writer = locked(&writer)?;
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&payload);
            prepared.commit()?;
            Ok(())
        })
        .await
        .map_err(|e| IndexError::Worker(e.to_string()))??;
        self.reader.reload()?;
        self.committed = mark;
        Ok(())
    }
}

/// The writer, unless an earlier write panicked while holding it (then the index is reopened).
fn locked(writer: &Mutex<IndexWriter>) -> Result<std::sync::MutexGuard<'_, IndexWriter>, IndexError> {
    writer.lock().map_err(|_| IndexError::Worker("the index writer failed in an earlier write".into()))
}

/// Adds a document, replacing any older one with the same key.
fn put(writer: &IndexWriter, f: &Fields, kind: &str, row: &SearchRow) -> Result<(), IndexError> {
    let key = format!("{kind}:{}", row.id);
    writer.delete_term(Term::from_field_text(f.key, &key));
    let mut doc = TantivyDocument::new();
    doc.add_text(f.key, &key);
    doc.add_text(f.kind, kind);
    doc.add_i64(f.id, row.id);
    doc.add_text(f.space, &row.space);
    doc.add_i64(f.thread, row.thread_id);
    doc.add_text(f.message_id, row.message_id.as_deref().unwrap_or(""));
    let from = [row.from_addr.as_deref(), row.from_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    doc.add_text(f.from, &from);
    doc.add_i64(f.date, row.date);
    doc.add_text(f.subject, &row.subject);
    doc.add_text(f.body, &row.body);
    doc.add_text(f.status, row.status.as_deref().unwrap_or(""));
    doc.add_text(f.goal, row.goal.as_deref().unwrap_or(""));
    writer.add_document(doc)?;
    Ok(())
}

/// Opens an index that exists and is of this schema version, with its watermark.
fn open_existing(dir: &Path) -> Result<Option<(tantivy::Index, Watermark)>, IndexError> {
    if !dir.join("meta.json").exists() {
        return Ok(None);
    }
    let index = tantivy::Index::open_in_dir(dir)?;
    schema::register(index.tokenizers());
    resolve_fields(&index)?;
    let metas = index.load_metas()?;
    let mark: Watermark = metas.payload.as_deref().and_then(|p| serde_json::from_str(p).ok()).unwrap_or_default();
    if mark.schema != SCHEMA_VERSION {
        tracing::info!(found = mark.schema, want = SCHEMA_VERSION, "search index of another version; rebuilding it");
        return Ok(None);
    }
    // Opening a reader opens every segment: a missing or truncated file shows up here.
    let reader: IndexReader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
    drop(reader);
    Ok(Some((index, mark)))
}

/// Whether the watermark names rows the store does not have (the index belongs to another database).
async fn ahead_of(store: &Store, mark: &Watermark) -> Result<bool, StoreError> {
    for (feed, done) in
        [(Feed::Messages, mark.messages), (Feed::Decisions, mark.decisions), (Feed::Tasks, mark.tasks), (Feed::History, mark.history)]
    {
        if done > 0 && store.max_id(feed).await? < done {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A new empty index in `dir`, replacing whatever was there.
fn create(dir: &Path) -> Result<tantivy::Index, IndexError> {
    let io = |source| IndexError::Io { path: dir.to_path_buf(), source };
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io)?;
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    let (schema, _) = Fields::build();
    let index = tantivy::Index::builder().schema(schema).create_in_dir(dir)?;
    schema::register(index.tokenizers());
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// A search waiting on the index (here: on the reader lock, held by another thread) must not
    /// hold the runtime thread: a timer still fires meanwhile.
    #[tokio::test(flavor = "current_thread")]
    async fn searching_leaves_the_runtime_thread_free() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::new(dir.path().join("index"));
        let (held_tx, held_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let holder = index.clone();
        let blocker = std::thread::spawn(move || {
            let _guard = holder.inner.reading.lock().unwrap();
            held_tx.send(()).unwrap();
            // Without a release (the search blocked the test's only thread), let go eventually
            // so the test fails on its assertion instead of hanging.
            let _ = release_rx.recv_timeout(Duration::from_secs(30));
        });
        held_rx.recv().unwrap();
        let searching = index.clone();
        let search = tokio::spawn(async move { searching.find(query::parse("hello").unwrap(), &SearchOptions::default()).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!search.is_finished(), "the search ran on the runtime thread");
        release_tx.send(()).unwrap();
        let result = search.await.unwrap();
        assert!(matches!(result, Err(IndexError::Missing(_))), "{result:?}");
        blocker.join().unwrap();
    }

    /// Issue 11: adding a catch-up's documents to the writer (here: waiting for the writer, held
    /// by another thread) must not hold the runtime thread: a timer still fires meanwhile.
    #[tokio::test(flavor = "current_thread")]
    async fn indexing_leaves_the_runtime_thread_free() {
        use crate::ingest::{Envelope, InboundMessage, Source};
        let dir = tempfile::tempdir().unwrap();
        let app = crate::app::App::open(crate::config::Config::defaults_in(dir.path()).unwrap()).await.unwrap();
        app.store.add_space("eng", "Engineering", 0).await.unwrap();
        // The writer is open (an empty index, committed) before the messages arrive.
        assert_eq!(app.index.catch_up(&app.store, 0).await.unwrap().documents, 0);
        for i in 0..30 {
            let raw = format!("From: a@example.org\r\nSubject: s{i}\r\nMessage-ID: <{i}@example.org>\r\n\r\nbody {i}\r\n");
            let msg = InboundMessage { raw: raw.into_bytes(), envelope: Envelope::default(), source: Source::Import };
            crate::ingest::accept(&app, msg, Some("eng")).await.unwrap();
        }
        let writer = app.index.inner.writing.lock().await.as_ref().unwrap().writer.clone();
        let (held_tx, held_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let blocker = std::thread::spawn(move || {
            let _guard = writer.lock().unwrap();
            held_tx.send(()).unwrap();
            // Released by the test only if its timer fired while the catch-up waited; otherwise
            // let go eventually, so the test fails on its assertion instead of hanging.
            release_rx.recv_timeout(Duration::from_secs(10)).is_ok()
        });
        held_rx.recv().unwrap();
        let (index, store) = (app.index.clone(), app.store.clone());
        let catching_up = tokio::spawn(async move { index.catch_up(&store, 0).await });
        // Time for the catch-up to read its rows and reach the writer.
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(!catching_up.is_finished(), "the catch-up wrote without the writer");
        let _ = release_tx.send(());
        assert!(blocker.join().unwrap(), "the catch-up held the runtime thread while waiting for the writer");
        assert_eq!(catching_up.await.unwrap().unwrap().documents, 30);
    }
}
