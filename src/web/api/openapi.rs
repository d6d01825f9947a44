//! `/api/v1/openapi.json`: the OpenAPI 3.1 description of every API route, its parameters and the
//! JSON it answers (written by hand; tests check it names every route of `endpoints()` and that
//! the properties it lists are the keys the handlers send).

use axum::Json;
use serde_json::{Value, json};

pub async fn document() -> Json<Value> {
    Json(spec())
}

fn string() -> Value {
    json!({"type": "string"})
}
fn nullable(t: &str) -> Value {
    json!({"type": [t, "null"]})
}
fn time() -> Value {
    json!({"type": "string", "format": "date-time"})
}
fn nullable_time() -> Value {
    json!({"type": ["string", "null"], "format": "date-time"})
}
fn strings() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}
fn one_of(values: &[&str]) -> Value {
    json!({"type": "string", "enum": values})
}
fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// An object schema whose every property is required (absent values are `null`).
fn object(props: &[(&str, Value)]) -> Value {
    let names: Vec<&str> = props.iter().map(|(n, _)| *n).collect();
    let properties: serde_json::Map<String, Value> = props.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
    json!({"type": "object", "required": names, "properties": properties})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn paging() -> Vec<Value> {
    vec![
        query("limit", "Items per page, 1 to 500 (default 50).", json!({"type": "integer", "minimum": 1, "maximum": 500})),
        query("cursor", "Opaque: the `next_cursor` of the previous page.", string()),
    ]
}

fn space_param() -> Value {
    query("space", "Only this space (its slug); 404 when the member is not in it.", string())
}

fn errors() -> Value {
    let e = |d: &str| json!({"description": d, "content": {"application/json": {"schema": schema("Error")}}});
    json!({
        "400": e("A bad parameter (limit, cursor, status, query)."),
        "401": e("No token, or not a valid one; the answer carries `WWW-Authenticate: Bearer`."),
        "503": e("The database is unavailable; try again."),
    })
}

/// A GET of a list: the page envelope of `item`.
fn list(summary: &str, item: &str, mut params: Vec<Value>) -> Value {
    params.extend(paging());
    let mut responses = errors();
    responses["200"] = json!({
        "description": format!("One page of {item} objects."),
        "content": {"application/json": {"schema": object(&[
            ("items", json!({"type": "array", "items": schema(item)})),
            ("next_cursor", json!({"type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on the last."})),
        ])}}
    });
    json!({"get": {"summary": summary, "security": [{"bearer": []}], "parameters": params, "responses": responses}})
}

pub fn spec() -> Value {
    let mut thread_detail = thread_props();
    thread_detail.push(("messages", json!({"type": "array", "items": schema("Message")})));
    let mut one_thread = errors();
    one_thread["200"] =
        json!({"description": "The thread with its messages.", "content": {"application/json": {"schema": schema("ThreadDetail")}}});
    one_thread["404"] = json!({"description": "No such thread, or not in the member's spaces.", "content": {"application/json": {"schema": schema("Error")}}});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "docket API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The record (threads, decisions, tasks, proposals, search) as JSON, as the member a token acts for sees it. Lists are paged: {items, next_cursor}."
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "A token from `docket token create EMAIL`."}},
            "schemas": {
                "Error": object(&[("error", string())]),
                "Space": object(&[("slug", string()), ("name", string()), ("address", string()), ("members", json!({"type": "integer"}))]),
                "Thread": object(&thread_props()),
                "ThreadDetail": object(&thread_detail),
                "Message": object(&[
                    ("id", json!({"type": "integer"})), ("message_id", nullable("string")), ("from", nullable("string")), ("date", time()),
                    ("subject", string()), ("visible_text", string()), ("attachments", json!({"type": "array", "items": schema("Attachment")})),
                ]),
                "Attachment": object(&[("filename", nullable("string")), ("content_type", string()), ("size", json!({"type": "integer"}))]),
                "Decision": object(&[
                    ("id", string()), ("text", string()), ("space", string()), ("thread_id", json!({"type": "integer"})),
                    ("message_id", nullable("string")), ("author", nullable("string")), ("decided_at", time()), ("goal", nullable("string")),
                    ("tasks", strings()), ("source", one_of(&["tag", "proposal", "subject", "default"])),
                    ("status", one_of(&["standing", "superseded"])), ("supersedes", nullable("string")), ("notes", nullable("string")),
                ]),
                "Task": object(&[
                    ("id", string()), ("title", string()), ("space", string()), ("owner", nullable("string")), ("watchers", strings()),
                    ("due", nullable_time()), ("status", one_of(&["open", "done", "cancelled"])), ("thread_id", json!({"type": "integer"})),
                    ("message_id", nullable("string")), ("created_by", nullable("string")), ("created_at", time()), ("done_at", nullable_time()),
                    ("decision", nullable("string")), ("goal", nullable("string")), ("notes", nullable("string")),
                ]),
                "Proposal": object(&[
                    ("id", string()), ("text", string()), ("closes_at", nullable_time()),
                    ("status", one_of(&["open", "adopted", "blocked", "withdrawn"])),
                    ("objections", json!({"type": "array", "items": schema("Objection")})), ("decision", nullable("string")),
                ]),
                "Objection": object(&[("by", nullable("string")), ("at", time()), ("text", string())]),
                "SearchHit": object(&[
                    ("kind", one_of(&["message", "decision", "task"])),
                    ("id", json!({"type": ["integer", "string"], "description": "A message's number, or an item's id like D-3."})),
                    ("message_id", nullable("string")), ("thread_id", json!({"type": "integer"})), ("space", string()), ("subject", string()),
                    ("snippet", string()), ("date", time()), ("score", json!({"type": "number"})),
                ]),
            }
        },
        "paths": {
            "/api/v1/spaces": list("The member's spaces.", "Space", vec![]),
            "/api/v1/threads": list("Threads, most recently active first.", "Thread", vec![space_param()]),
            "/api/v1/threads/{id}": {"get": {
                "summary": "One thread with its messages (oldest first).",
                "security": [{"bearer": []}],
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": one_thread,
            }},
            "/api/v1/decisions": list("Decisions, newest first.", "Decision", vec![space_param()]),
            "/api/v1/tasks": list("Tasks, soonest due first.", "Task", vec![
                space_param(),
                query("owner", "Only tasks owned by this address.", string()),
                query("status", "open, done or cancelled.", one_of(&["open", "done", "cancelled"])),
                query("overdue", "true: only open tasks past their due time.", json!({"type": "boolean"})),
            ]),
            "/api/v1/proposals": list("Proposals, newest first.", "Proposal", vec![
                space_param(),
                query("status", "open, adopted, blocked or withdrawn.", one_of(&["open", "adopted", "blocked", "withdrawn"])),
            ]),
            "/api/v1/search": list("Search messages, decisions and tasks (at most the first 1000 hits).", "SearchHit", vec![
                json!({"name": "q", "in": "query", "required": true, "description": "Words, \"phrases\", -excluded, and from: space: kind: status: before: after: goal: filters.", "schema": string()}),
                query("sort", "relevance (default) or date (newest first).", one_of(&["relevance", "date"])),
            ]),
            "/api/v1/openapi.json": {"get": {
                "summary": "This document (no token needed).",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1.", "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
        }
    })
}

fn thread_props() -> Vec<(&'static str, Value)> {
    vec![
        ("id", json!({"type": "integer"})),
        ("space", string()),
        ("subject", string()),
        ("started_at", time()),
        ("last_activity_at", time()),
        ("message_count", json!({"type": "integer"})),
        ("participants", strings()),
        ("rounds", json!({"type": "integer"})),
        ("status", one_of(&["open", "decided", "looping"])),
        ("decisions", strings()),
        ("tasks", strings()),
    ]
}
