//! Recording: a stored message's tag extraction becomes items (docs/tags.md). Mentions resolve against
//! the space's members, refs against the store; commands (`#done`, `#assign`, `#due`, `#cancel`,
//! `#reopen`, `#object`, `#withdraw`) apply only for members of the item's space. Meeting notes
//! are recorded first and every item of the message links to them; a reply with new text from an
//! asked member answers the thread's open asks; `supersedes D-n` retires D-n. Anything that cannot
//! apply is a warning and changes nothing. Runs inside the message's transaction, so it is all or
//! nothing.

use crate::config::Config;
use crate::parse::dates::{DateContext, Zone};
use crate::parse::tags::{self, Extraction, Item, Kind, Origin as TagOrigin, TagInput, Verb};
use crate::store::StoreError;
use crate::store::items::{Change, ItemKind, Origin, TaskField};
use crate::store::messages::Tx;
use crate::store::spaces::{Member, Space};
use crate::store::states::{AskStatus, DecisionSource, DecisionStatus, ProposalStatus, TaskStatus};
use chrono::{DateTime, FixedOffset, Utc};

/// Where the message was stored and who sent it.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub space: &'a Space,
    pub members: &'a [Member],
    pub thread_id: i64,
    /// Row id of the stored message.
    pub message_id: i64,
    pub sender: Option<&'a str>,
    /// The message's date (unix seconds): when its items were decided or created.
    pub at: i64,
    /// The message's subject (the title of meeting notes that name none).
    pub subject: &'a str,
    /// Whether the sender wrote new text (a reply that answers an ask).
    pub has_text: bool,
    pub config: &'a Config,
}

/// What a message recorded, for receipts and the CLI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    pub created: Vec<String>,
    pub changed: Vec<String>,
    pub warnings: Vec<String>,
}

impl Context<'_> {
    fn sender_is_member(&self) -> bool {
        self.sender.is_some_and(|s| self.members.iter().any(|m| m.email == s))
    }

    fn member(&self, mention: &str) -> Option<&Member> {
        find_member(self.members, mention)
    }
}

/// `bob`, `@bob` or `bob@x.org` → that member of the space.
pub fn find_member<'m>(members: &'m [Member], mention: &str) -> Option<&'m Member> {
    let mention = mention.trim_start_matches('@').to_lowercase();
    members.iter().find(|m| if mention.contains('@') { m.email == mention } else { m.handle == mention })
}

/// Dates resolve in the sender's zone: their member setting, else the Date header's offset, else
/// the server default; relative to the message's Date, else `fallback_now` (docs/tags.md).
pub fn date_context(
    config: &Config,
    member_tz: Option<&str>,
    date: Option<DateTime<FixedOffset>>,
    fallback_now: DateTime<Utc>,
) -> DateContext {
    let zone =
        member_tz.and_then(Zone::named).or_else(|| date.as_ref().map(Zone::of_header)).unwrap_or(Zone::Named(config.server.timezone));
    DateContext {
        now: date.map(|d| d.with_timezone(&Utc)).unwrap_or(fallback_now),
        zone,
        default_due_time: config.reminders.default_due_time,
        date_order: None,
    }
}

/// Reads the tags of a message's visible text.
pub fn extract(visible_text: &str, subject: &str, dates: &DateContext) -> Extraction {
    tags::extract(&TagInput { visible_text, subject, dates })
}

pub async fn record(tx: &mut Tx, ctx: &Context<'_>, ex: &Extraction) -> Result<Recorded, StoreError> {
    let mut out = Recorded { warnings: ex.warnings.clone(), ..Recorded::default() };
    let goal_id = match &ex.goal {
        Some(goal) => Some(tx.upsert_goal(ctx.space.id, &goal.slug, goal.title.as_deref(), ctx.at).await?),
        None => None,
    };
    let mut origin = Origin {
        space_id: ctx.space.id,
        thread_id: ctx.thread_id,
        message_id: Some(ctx.message_id),
        author: ctx.sender,
        at: ctx.at,
        goal_id,
        notes_id: None,
    };
    let change = Change { by: ctx.sender, message_id: ctx.message_id, at: ctx.at };
    // Answers first: an ask made in this message is not answered by it.
    answer_asks(tx, ctx, &change, &mut out).await?;
    let mut created: Vec<(ItemKind, i64)> = Vec::new();
    for item in &ex.items {
        let made = match item.kind {
            Kind::Notes => {
                let title = if item.text.is_empty() { crate::thread::base_subject(ctx.subject).display } else { item.text.clone() };
                let id = tx.insert_notes(&origin, &title).await?;
                origin.notes_id = Some(id);
                Some((ItemKind::Notes, id))
            }
            Kind::Decision => {
                let source = if item.origin == TagOrigin::Subject { DecisionSource::Subject } else { DecisionSource::Tag };
                let id = tx.insert_decision(&origin, &item.text, source, None).await?;
                if let Some(old) = &item.supersedes {
                    supersede(tx, ctx, old, id, &change, &mut out).await?;
                }
                Some((ItemKind::Decision, id))
            }
            Kind::Ask => Some((ItemKind::Ask, create_ask(tx, ctx, &origin, item, &mut out.warnings).await?)),
            Kind::Task => Some((ItemKind::Task, create_task(tx, ctx, &origin, item, &mut out.warnings).await?)),
            Kind::Proposal => {
                Some((ItemKind::Proposal, tx.insert_proposal(&origin, &item.text, item.closes_at.map(|t| t.timestamp())).await?))
            }
            Kind::Objection => {
                object(tx, ctx, item, &mut out).await?;
                None
            }
            Kind::Command => {
                command(tx, ctx, item, &change, &mut out).await?;
                None
            }
        };
        if let Some(made) = made {
            out.warnings.extend(crate::hours::Check::of(ctx).item(item));
            for reference in &item.refs {
                match resolve_ref(tx, ctx, reference).await? {
                    Ok(target) => tx.link(made, target).await?,
                    Err(warning) => out.warnings.push(warning),
                }
            }
            created.push(made);
            out.created.push(made.0.label(made.1));
        }
    }
    // Items created in one message belong together (a decision lists the tasks made with it).
    for (n, a) in created.iter().enumerate() {
        for b in &created[n + 1..] {
            tx.link(*a, *b).await?;
        }
    }
    tx.save_warnings(ctx.message_id, &out.warnings).await?;
    Ok(out)
}

/// The open asks of the thread that this message answers: its sender wrote new text and is one
/// of the asked members (or, for an ask of the whole space, anyone but the asker).
async fn answer_asks(tx: &mut Tx, ctx: &Context<'_>, change: &Change<'_>, out: &mut Recorded) -> Result<(), StoreError> {
    let Some(sender) = ctx.sender.filter(|_| ctx.has_text && ctx.sender_is_member()) else { return Ok(()) };
    for ask in tx.open_asks_in(ctx.thread_id).await? {
        if ask.is_of(sender) && tx.close_ask(ask.row.id, AskStatus::Answered, Some(sender), None, change).await? {
            out.changed.push(ItemKind::Ask.label(ask.row.id));
        }
    }
    Ok(())
}

async fn create_ask(
    tx: &mut Tx,
    ctx: &Context<'_>,
    origin: &Origin<'_>,
    item: &Item,
    warnings: &mut Vec<String>,
) -> Result<i64, StoreError> {
    let mut asked: Vec<String> = Vec::new();
    for mention in &item.asked_of {
        match ctx.member(mention) {
            Some(m) if !asked.contains(&m.email) => asked.push(m.email.clone()),
            Some(_) => {}
            None => warnings.push(format!("@{mention} is not a member of {}; the ask is not addressed to them", ctx.space.slug)),
        }
    }
    if let Some(closes) = item.closes_at
        && closes.timestamp() < ctx.at
    {
        warnings.push(format!("'{}' is already past: the ask closes at the next tick", item.due_text.as_deref().unwrap_or("the deadline")));
    }
    tx.insert_ask(origin, &item.text, &asked, item.closes_at.map(|t| t.timestamp()), item.default.as_deref()).await
}

/// `supersedes D-n`: D-n (of this space, still standing) is marked superseded by `new`; its open
/// tasks are named for review.
async fn supersede(tx: &mut Tx, ctx: &Context<'_>, old: &str, new: i64, change: &Change<'_>, out: &mut Recorded) -> Result<(), StoreError> {
    if !ctx.sender_is_member() {
        out.warnings.push(format!("only members of {} can supersede decisions; {old} stands", ctx.space.slug));
        return Ok(());
    }
    let id = match resolve_ref(tx, ctx, old).await? {
        Ok((ItemKind::Decision, id)) => id,
        Ok(_) => return Ok(()),
        Err(w) => {
            out.warnings.push(format!("supersedes: {w}; nothing was superseded"));
            return Ok(());
        }
    };
    if tx.decision_status(id).await? == Some(DecisionStatus::Superseded) {
        out.warnings.push(format!("{old} was already superseded; it stays as it was"));
        return Ok(());
    }
    tx.supersede(id, new, change).await?;
    out.changed.push(old.to_owned());
    let open = tx.open_tasks_of_decision(id).await?;
    if !open.is_empty() {
        let list: Vec<String> = open.iter().map(|t| ItemKind::Task.label(*t)).collect();
        out.warnings.push(format!("{old} is superseded; review its open tasks: {}", list.join(", ")));
    }
    Ok(())
}

async fn create_task(
    tx: &mut Tx,
    ctx: &Context<'_>,
    origin: &Origin<'_>,
    item: &Item,
    warnings: &mut Vec<String>,
) -> Result<i64, StoreError> {
    let mut resolve = |mention: &str| match ctx.member(mention) {
        Some(m) => Some(m.email.clone()),
        None => {
            warnings.push(format!("@{mention} is not a member of {}; the task has no owner from it", ctx.space.slug));
            None
        }
    };
    let owner = item.owner.as_deref().and_then(&mut resolve);
    let watchers: Vec<String> = item.watchers.iter().filter_map(|w| resolve(w)).collect();
    if let Some(due) = item.due
        && due.timestamp() < ctx.at
    {
        warnings.push(format!("'{}' is already past: the task is recorded as overdue", item.due_text.as_deref().unwrap_or("the due date")));
    }
    tx.insert_task(origin, &item.text, owner.as_deref(), &watchers, item.due.map(|d| d.timestamp()), item.due_text.as_deref()).await
}

async fn resolve_ref(tx: &mut Tx, ctx: &Context<'_>, reference: &str) -> Result<Result<(ItemKind, i64), String>, StoreError> {
    check_ref(tx, ctx.space.id, reference).await
}

/// `T-4` in this space, or a warning saying why not.
pub async fn check_ref(tx: &mut Tx, space_id: i64, reference: &str) -> Result<Result<(ItemKind, i64), String>, StoreError> {
    let Some((kind, id)) = ItemKind::parse_ref(reference) else {
        return Ok(Err(format!("'{reference}' is not an item reference (like T-4, D-2 or P-1)")));
    };
    Ok(match tx.item_space(kind, id).await? {
        None => Err(format!("{reference} does not exist")),
        Some(space) if space != space_id => Err(format!("{reference} belongs to another space; it was left unchanged")),
        Some(_) => Ok((kind, id)),
    })
}

async fn object(tx: &mut Tx, ctx: &Context<'_>, item: &Item, out: &mut Recorded) -> Result<(), StoreError> {
    if !ctx.sender_is_member() {
        out.warnings.push(format!("only members of {} can object to proposals", ctx.space.slug));
        return Ok(());
    }
    let id = match item.target.as_deref() {
        Some(reference) => match resolve_ref(tx, ctx, reference).await? {
            Ok((ItemKind::Proposal, id)) => id,
            Ok(_) => {
                out.warnings.push(format!("{reference} is not a proposal; #object needs a P-n"));
                return Ok(());
            }
            Err(w) => {
                out.warnings.push(w);
                return Ok(());
            }
        },
        None => match tx.open_proposal_in(ctx.thread_id).await? {
            Some(id) => id,
            None => {
                out.warnings.push("#object: this thread has no open proposal (name one, like #object P-2)".into());
                return Ok(());
            }
        },
    };
    let Some(proposal) = tx.proposal(id).await? else { return Ok(()) };
    if proposal.status != ProposalStatus::Open {
        out.warnings.push(format!("P-{id} is already {}; the objection was not recorded", proposal.status));
        return Ok(());
    }
    tx.insert_objection(id, ctx.sender, ctx.at, &item.text, ctx.message_id).await?;
    out.changed.push(ItemKind::Proposal.label(id));
    Ok(())
}

async fn command(tx: &mut Tx, ctx: &Context<'_>, item: &Item, change: &Change<'_>, out: &mut Recorded) -> Result<(), StoreError> {
    let Some(verb) = item.verb else { return Ok(()) };
    let name = match verb {
        Verb::Done => "done",
        Verb::Assign => "assign",
        Verb::Due => "due",
        Verb::Cancel => "cancel",
        Verb::Reopen => "reopen",
        Verb::Withdraw => return withdraw(tx, ctx, item, change, out).await,
    };
    if !ctx.sender_is_member() {
        out.warnings.push(format!("#{name}: only members of {} can change tasks", ctx.space.slug));
        return Ok(());
    }
    let id = match item.target.as_deref() {
        Some(reference) => match resolve_ref(tx, ctx, reference).await? {
            Ok((ItemKind::Task, id)) => id,
            Ok(_) => {
                out.warnings.push(format!("#{name} {reference}: only tasks (T-n) can be changed this way"));
                return Ok(());
            }
            Err(w) => {
                out.warnings.push(format!("#{name}: {w}"));
                return Ok(());
            }
        },
        None => {
            let mine = match ctx.sender {
                Some(sender) => tx.open_tasks_of(ctx.thread_id, sender).await?,
                None => Vec::new(),
            };
            match mine.as_slice() {
                [only] => *only,
                [] => {
                    out.warnings.push(format!("#{name}: you have no open task in this thread (name one, like #{name} T-4)"));
                    return Ok(());
                }
                many => {
                    let list: Vec<String> = many.iter().map(|id| ItemKind::Task.label(*id)).collect();
                    out.warnings.push(format!("#{name}: you have several open tasks here ({}); name one", list.join(", ")));
                    return Ok(());
                }
            }
        }
    };
    let Some(task) = tx.task(id).await? else { return Ok(()) };
    let label = ItemKind::Task.label(id);
    match verb {
        Verb::Done | Verb::Cancel => {
            let status = if verb == Verb::Done { TaskStatus::Done } else { TaskStatus::Cancelled };
            if task.status != TaskStatus::Open {
                out.warnings.push(format!("{label} is already {}", task.status));
                return Ok(());
            }
            tx.set_task_status(id, task.status, status, change).await?;
            if verb == Verb::Done {
                tx.update_task(id, TaskField::DoneAt, Some(ctx.at.to_string()), None, change).await?;
            }
        }
        Verb::Reopen => {
            if task.status == TaskStatus::Open {
                out.warnings.push(format!("{label} is already open"));
                return Ok(());
            }
            tx.set_task_status(id, task.status, TaskStatus::Open, change).await?;
            tx.update_task(id, TaskField::DoneAt, None, None, change).await?;
        }
        Verb::Assign => {
            let Some(owner) = item.owner.as_deref().and_then(|m| ctx.member(m)).map(|m| m.email.clone()) else {
                let who = item.owner.as_deref().unwrap_or("(nobody)");
                out.warnings.push(format!("#assign {label}: @{who} is not a member of {}; {label} was left unchanged", ctx.space.slug));
                return Ok(());
            };
            out.warnings.extend(crate::hours::Check::of(ctx).task(Some(&owner), task.due));
            tx.update_task(id, TaskField::Owner, Some(owner), task.owner, change).await?;
        }
        Verb::Due => {
            let Some(due) = item.due else { return Ok(()) };
            out.warnings.extend(crate::hours::Check::of(ctx).task(task.owner.as_deref(), Some(due.timestamp())));
            tx.update_task(id, TaskField::Due, Some(due.timestamp().to_string()), task.due.map(|d| d.to_string()), change).await?;
        }
        Verb::Withdraw => {}
    }
    out.changed.push(label);
    Ok(())
}

/// `#withdraw [P-n]`: the proposer takes back their open proposal (default: their newest open one
/// in this thread).
async fn withdraw(tx: &mut Tx, ctx: &Context<'_>, item: &Item, change: &Change<'_>, out: &mut Recorded) -> Result<(), StoreError> {
    let Some(sender) = ctx.sender else { return Ok(()) };
    let id = match item.target.as_deref() {
        Some(reference) => match resolve_ref(tx, ctx, reference).await? {
            Ok((ItemKind::Proposal, id)) => id,
            Ok(_) => return Ok(()),
            Err(w) => {
                out.warnings.push(format!("#withdraw: {w}"));
                return Ok(());
            }
        },
        None => match tx.open_proposal_of(ctx.thread_id, sender).await? {
            Some(id) => id,
            None => {
                out.warnings.push("#withdraw: you have no open proposal in this thread (name one, like #withdraw P-2)".into());
                return Ok(());
            }
        },
    };
    let Some(proposal) = tx.proposal(id).await? else { return Ok(()) };
    let label = ItemKind::Proposal.label(id);
    if proposal.author.as_deref() != Some(sender) {
        out.warnings.push(format!("#withdraw {label}: only its proposer can withdraw it; it was left unchanged"));
    } else if proposal.status != ProposalStatus::Open {
        out.warnings.push(format!("{label} is already {}; it was not withdrawn", proposal.status));
    } else {
        tx.withdraw_proposal(id, change).await?;
        out.changed.push(label);
    }
    Ok(())
}
