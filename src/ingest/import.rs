//! `docket import`: archives into the same pipeline as live mail. Reads mbox (mboxo/mboxrd), Maildir
//! and directories of `.eml` files as a stream (memory stays flat), parses on a blocking thread while
//! the store writes batches, records how far each mbox got (resumable), and reports what it could not
//! read with its byte offset instead of stopping. Re-importing adds nothing (dedup by Message-ID).

use super::{Envelope, InboundMessage, IngestError, Prepared, Source, Target, inbound_row, prepare, resolve_space, store_prepared};
use crate::app::App;
use crate::parse::mime::Flag;
use crate::store::messages::RawInsert;
use crate::store::spaces::Space;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Messages per transaction: large enough to amortise the commit, small enough to resume cheaply.
const BATCH: usize = 256;
/// How often the search index catches up while an import runs.
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub space: Option<String>,
    /// Draw a progress bar (on a terminal).
    pub progress: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub files: u64,
    pub messages: u64,
    pub stored: u64,
    pub duplicates: u64,
    /// Files skipped because an earlier run imported them completely.
    pub already_imported: u64,
    /// Documents added to the search index (none when another process, like `serve`, holds it:
    /// that process indexes them within a second).
    pub indexed: u64,
    pub problems: Vec<Problem>,
}

/// Something that could not be imported; the rest of the archive still was.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub path: String,
    /// Byte offset of the message in an mbox file.
    pub offset: Option<u64>,
    pub error: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mbox,
    Maildir,
    EmlDir,
    Eml,
}

/// One message read from an archive: where it was and its bytes.
#[derive(Debug)]
struct Item {
    path: PathBuf,
    /// Offset in an mbox, or none for one-file-per-message sources.
    offset: Option<u64>,
    /// Where the next message starts (the resume point once this one is committed).
    next_offset: u64,
    raw: Vec<u8>,
    prepared: Prepared,
}

pub async fn import(app: &App, paths: &[PathBuf], opts: &ImportOptions) -> Result<ImportReport, IngestError> {
    let named = match &opts.space {
        Some(slug) => Some(app.store.space(slug).await?.ok_or_else(|| IngestError::UnknownSpace(slug.clone()))?),
        None => None,
    };
    let mut report = ImportReport::default();
    // The index follows the import from a second task (its writer thread works while we parse
    // and store), committing once per round rather than per batch.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let follower = tokio::spawn(follow(app.clone(), stopped));
    let result = import_all(app, paths, named.as_ref(), opts, &mut report).await;
    let _ = stop.send(true);
    let followed = follower.await.unwrap_or(0);
    result?;
    match app.index.catch_up(&app.store, app.now().timestamp()).await {
        Ok(done) => report.indexed = followed + done.documents,
        Err(crate::index::IndexError::Locked(_)) => tracing::debug!("search index held by another process; it indexes the import"),
        Err(e) => {
            tracing::warn!(error = %e, "imported messages are not searchable yet: the next `serve`, `search` or `reindex` indexes them")
        }
    }
    Ok(report)
}

async fn import_all(
    app: &App,
    paths: &[PathBuf],
    named: Option<&Space>,
    opts: &ImportOptions,
    report: &mut ImportReport,
) -> Result<(), IngestError> {
    for path in paths {
        report.files += 1;
        let path = path.canonicalize().unwrap_or_else(|_| path.clone());
        match detect(&path) {
            Ok(kind) => import_one(app, &path, kind, named, opts, report).await?,
            Err(error) => report.problems.push(Problem { path: path.display().to_string(), offset: None, error }),
        }
    }
    Ok(())
}

/// Catches the index up every `FOLLOW_EVERY` until told to stop; returns the documents written.
/// Gives up quietly when another process holds the index (it indexes the import itself).
async fn follow(app: App, mut stopped: tokio::sync::watch::Receiver<bool>) -> u64 {
    let mut written = 0;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(FOLLOW_EVERY) => {}
            _ = stopped.changed() => return written,
        }
        match app.index.catch_up(&app.store, app.now().timestamp()).await {
            Ok(done) => written += done.documents,
            Err(_) => return written,
        }
    }
}

async fn import_one(
    app: &App,
    path: &Path,
    kind: Kind,
    named: Option<&Space>,
    opts: &ImportOptions,
    report: &mut ImportReport,
) -> Result<(), IngestError> {
    let display = path.display().to_string();
    let (total, start) = match kind {
        Kind::Mbox => {
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            let resume = match named {
                Some(space) => app.store.import_offset(&display, space.id).await?,
                None => None,
            };
            let start = match resume {
                Some((old_size, done)) if old_size as u64 <= size && done as u64 <= size => done as u64,
                _ => 0,
            };
            if start == size && start > 0 {
                report.already_imported += 1;
                return Ok(());
            }
            (size, start)
        }
        _ => (0, 0),
    };
    let bar = progress_bar(opts.progress, total, &display);
    bar.set_position(start);

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Item, Problem>>(64);
    let producer_path = path.to_path_buf();
    let producer = tokio::task::spawn_blocking(move || read_archive(&producer_path, kind, start, &tx));

    let mut batch: Vec<Item> = Vec::with_capacity(BATCH);
    loop {
        let next = rx.recv().await;
        let finished = next.is_none();
        match next {
            Some(Ok(item)) => batch.push(item),
            Some(Err(problem)) => report.problems.push(problem),
            None => {}
        }
        if batch.len() >= BATCH || (finished && !batch.is_empty()) || (rx.is_empty() && batch.len() >= 16) {
            let items = std::mem::take(&mut batch);
            let end = items.last().map(|i| i.next_offset).unwrap_or(start);
            let done = write_batch(app, items, named, kind == Kind::Mbox, report).await?;
            bar.set_position(if kind == Kind::Mbox { end } else { bar.position() + done });
        }
        if finished {
            break;
        }
    }
    if let Ok(Err(e)) = producer.await {
        report.problems.push(Problem { path: display, offset: None, error: e.to_string() });
    }
    bar.finish_and_clear();
    Ok(())
}

/// Writes a batch in one transaction. If the transaction fails for a reason that is not temporary,
/// each message is retried alone so one bad message cannot hold back the others.
async fn write_batch(
    app: &App,
    items: Vec<Item>,
    named: Option<&Space>,
    record_offset: bool,
    report: &mut ImportReport,
) -> Result<u64, IngestError> {
    let count = items.len() as u64;
    match write_items(app, &items, named, record_offset).await {
        Ok((stored, duplicates, problems)) => {
            report.messages += count;
            report.stored += stored;
            report.duplicates += duplicates;
            report.problems.extend(problems);
        }
        Err(e) if e.is_temporary() => return Err(e),
        Err(_) => {
            for item in items {
                report.messages += 1;
                match write_items(app, std::slice::from_ref(&item), named, record_offset).await {
                    Ok((s, d, p)) => {
                        report.stored += s;
                        report.duplicates += d;
                        report.problems.extend(p);
                    }
                    Err(e) if e.is_temporary() => return Err(e),
                    Err(e) => {
                        report.problems.push(Problem { path: item.path.display().to_string(), offset: item.offset, error: e.to_string() })
                    }
                }
            }
        }
    }
    Ok(count)
}

async fn write_items(
    app: &App,
    items: &[Item],
    named: Option<&Space>,
    record_offset: bool,
) -> Result<(u64, u64, Vec<Problem>), IngestError> {
    let now = app.now().timestamp();
    let mut tx = app.store.begin().await?;
    let (mut stored, mut duplicates, mut problems) = (0, 0, Vec::new());
    let mut members: std::collections::HashMap<i64, Vec<crate::store::spaces::Member>> = std::collections::HashMap::new();
    for item in items {
        let msg = InboundMessage { raw: Vec::new(), envelope: Envelope::default(), source: Source::Import };
        let space = match named {
            Some(space) => space.clone(),
            None => match resolve_space(app, None, &msg.envelope, &item.prepared.parsed).await {
                Ok(space) => space,
                Err(e) => {
                    problems.push(Problem { path: item.path.display().to_string(), offset: item.offset, error: e.to_string() });
                    continue;
                }
            },
        };
        let row = inbound_row(&space, &item.prepared, &msg, "[]", now);
        let row = crate::store::messages::NewInbound { raw: &item.raw, ..row };
        match tx.insert_inbound(&row).await? {
            RawInsert::Duplicate => duplicates += 1,
            RawInsert::Inserted(inbound_id) => {
                let members = match members.get(&space.id) {
                    Some(m) => m,
                    None => {
                        let loaded = app.store.members(&space).await?;
                        members.entry(space.id).or_insert(loaded)
                    }
                };
                let target = Target { space: &space, members, config: &app.config };
                store_prepared(&mut tx, &target, inbound_id, &item.prepared, None, now).await?;
                stored += 1;
            }
        }
    }
    if record_offset && let (Some(space), Some(last)) = (named, items.last()) {
        let size = std::fs::metadata(&last.path).map(|m| m.len()).unwrap_or(0) as i64;
        tx.save_import_offset(&last.path.display().to_string(), space.id, size, last.next_offset as i64, now).await?;
    }
    tx.commit().await?;
    Ok((stored, duplicates, problems))
}

fn progress_bar(show: bool, total: u64, name: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = if total > 0 { ProgressBar::new(total) } else { ProgressBar::new_spinner() };
    let template = if total > 0 { "{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})" } else { "{msg} {spinner} {pos} messages" };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(name.rsplit('/').next().unwrap_or(name).to_string());
    bar
}

/// What a path holds, judged from its shape and first bytes.
fn detect(path: &Path) -> Result<Kind, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.is_dir() {
        return Ok(if path.join("cur").is_dir() || path.join("new").is_dir() { Kind::Maildir } else { Kind::EmlDir });
    }
    if meta.len() == 0 {
        return Err("empty file: no messages".into());
    }
    let mut head = vec![0u8; 4096.min(meta.len() as usize)];
    File::open(path).and_then(|mut f| f.read_exact(&mut head)).map_err(|e| format!("cannot read: {e}"))?;
    if head.starts_with(b"From ") {
        return Ok(Kind::Mbox);
    }
    if crate::parse::mime::looks_like_message(&head) {
        return Ok(Kind::Eml);
    }
    Err("not an mbox, Maildir or .eml message (no mbox 'From ' line and no mail header at the start)".into())
}

/// Runs on a blocking thread: reads each message, prepares it and sends it on.
fn read_archive(path: &Path, kind: Kind, start: u64, out: &tokio::sync::mpsc::Sender<Result<Item, Problem>>) -> std::io::Result<()> {
    let send = |path: &Path, offset: Option<u64>, next_offset: u64, raw: Vec<u8>| {
        let prepared = prepare(&raw);
        let item = if raw.iter().all(u8::is_ascii_whitespace) || prepared.parsed.flags.contains(&Flag::Unparseable) {
            Err(Problem { path: path.display().to_string(), offset, error: "not a mail message (no header section)".into() })
        } else {
            Ok(Item { path: path.to_path_buf(), offset, next_offset, raw, prepared })
        };
        out.blocking_send(item).is_ok()
    };
    match kind {
        Kind::Mbox => {
            let mut file = File::open(path)?;
            file.seek(SeekFrom::Start(start))?;
            for message in MboxReader::new(BufReader::with_capacity(1 << 16, file), start) {
                let m = message?;
                if !send(path, Some(m.offset), m.next_offset, m.raw) {
                    break;
                }
            }
        }
        Kind::Eml => {
            let raw = std::fs::read(path)?;
            send(path, None, 0, raw);
        }
        Kind::Maildir | Kind::EmlDir => {
            for file in message_files(path, kind)? {
                match std::fs::read(&file) {
                    Ok(raw) => {
                        if !send(&file, None, 0, raw) {
                            break;
                        }
                    }
                    Err(e) => {
                        let problem = Problem { path: file.display().to_string(), offset: None, error: format!("cannot read: {e}") };
                        if out.blocking_send(Err(problem)).is_err() {
                            break;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Maildir: the files in `cur/` and `new/`; a plain directory: every `.eml` below it. Sorted.
fn message_files(dir: &Path, kind: Kind) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = match kind {
        Kind::Maildir => vec![dir.join("cur"), dir.join("new")],
        _ => vec![dir.to_path_buf()],
    };
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let p = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            match kind {
                Kind::Maildir if !is_dir => out.push(p),
                Kind::EmlDir if is_dir => stack.push(p),
                Kind::EmlDir if name.to_ascii_lowercase().ends_with(".eml") => out.push(p),
                _ => {}
            }
        }
    }
    out.sort();
    Ok(out)
}

/// One message of an mbox file.
#[derive(Debug, PartialEq, Eq)]
pub struct MboxMessage {
    /// Offset of its `From ` separator line.
    pub offset: u64,
    /// Offset of the next separator (or the end of the file).
    pub next_offset: u64,
    pub raw: Vec<u8>,
}

/// Streams an mbox: a message starts at a `From ` line at the start of the file or after a blank
/// line; `>From ` quoting is undone one level (mboxrd, which also reads mboxo's `>From `).
#[derive(Debug)]
pub struct MboxReader<R> {
    input: R,
    offset: u64,
    current: Option<(u64, Vec<u8>)>,
    prev_blank: bool,
    done: bool,
}

impl<R: BufRead> MboxReader<R> {
    pub fn new(input: R, start: u64) -> Self {
        Self { input, offset: start, current: None, prev_blank: true, done: false }
    }

    fn finish(current: (u64, Vec<u8>), next_offset: u64) -> MboxMessage {
        let (offset, mut raw) = current;
        // The blank line before the next separator belongs to the mbox format, not the message.
        if raw.ends_with(b"\r\n\r\n") {
            raw.truncate(raw.len() - 2);
        } else if raw.ends_with(b"\n\n") {
            raw.truncate(raw.len() - 1);
        }
        MboxMessage { offset, next_offset, raw }
    }
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = std::io::Result<MboxMessage>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = match self.input.read_until(b'\n', &mut line) {
                Ok(n) => n,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            if n == 0 {
                self.done = true;
                return self.current.take().map(|c| Ok(Self::finish(c, self.offset)));
            }
            let line_start = self.offset;
            self.offset += n as u64;
            let is_blank = line == b"\n" || line == b"\r\n";
            if line.starts_with(b"From ") && self.prev_blank {
                self.prev_blank = false;
                let finished = self.current.replace((line_start, Vec::new()));
                if let Some(c) = finished {
                    return Some(Ok(Self::finish(c, line_start)));
                }
                continue;
            }
            self.prev_blank = is_blank;
            if let Some((_, raw)) = self.current.as_mut() {
                let quoted = line.iter().take_while(|b| **b == b'>').count();
                if quoted > 0 && line[quoted..].starts_with(b"From ") {
                    raw.extend_from_slice(&line[1..]);
                } else {
                    raw.extend_from_slice(&line);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(mbox: &str) -> Vec<MboxMessage> {
        MboxReader::new(mbox.as_bytes(), 0).collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn mboxrd_split_and_unquote() {
        let mbox = "From a@x Thu Jan  1 00:00:00 1970\nSubject: one\n\nhello\n>From the start\n>>From deeper\n\nFrom b@x Thu Jan  1 00:00:00 1970\nSubject: two\n\nbye\n";
        let got = read(mbox);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].raw, b"Subject: one\n\nhello\nFrom the start\n>From deeper\n");
        assert_eq!(got[0].offset, 0);
        assert_eq!(got[1].offset as usize, mbox.find("From b@x").unwrap());
        assert_eq!(got[0].next_offset, got[1].offset);
        assert_eq!(got[1].raw, b"Subject: two\n\nbye\n");
        assert_eq!(got[1].next_offset as usize, mbox.len());
    }

    #[test]
    fn from_inside_a_paragraph_is_text() {
        let got = read("From a@x\nSubject: s\n\nline\nFrom here on, text\n");
        assert_eq!(got.len(), 1);
        assert!(got[0].raw.ends_with(b"From here on, text\n"));
    }
}
