//! Schema drift: the SQLite and PostgreSQL migrations are kept as near copies by hand, so this
//! migrates a fresh database of each kind through the real `Store::open` and reads back from each
//! catalogue (sqlite_master + pragma_table_info / pragma_index_list / pragma_index_info against
//! information_schema + pg_index + pg_constraint) the tables, their columns in order (name, type
//! class, nullable, default), primary keys, unique constraints, named indexes and foreign keys
//! (columns, target, ON DELETE). Both must be the same.
//! PostgreSQL comes from `DATABASE_URL`; without it the test skips, and under CI it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::fmt;

use sqlx::AnyPool;

/// What a column holds, in words both dialects map to (SQLite's declared type affinity rules,
/// PostgreSQL's `data_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TypeClass {
    Integer,
    Text,
    Bytes,
    Real,
    Boolean,
}

fn sqlite_class(declared: &str) -> TypeClass {
    // SQLite §3.1 "Determination Of Column Affinity", plus BOOLEAN which it would call NUMERIC.
    let t = declared.to_ascii_uppercase();
    if t.contains("BOOL") {
        TypeClass::Boolean
    } else if t.contains("INT") {
        TypeClass::Integer
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        TypeClass::Text
    } else if t.contains("BLOB") || t.is_empty() {
        TypeClass::Bytes
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        TypeClass::Real
    } else {
        panic!("SQLite column type {declared:?} has no class here (NUMERIC affinity): name one")
    }
}

fn postgres_class(data_type: &str) -> TypeClass {
    match data_type {
        "bigint" | "integer" | "smallint" => TypeClass::Integer,
        "text" | "character varying" | "character" => TypeClass::Text,
        "bytea" => TypeClass::Bytes,
        "double precision" | "real" => TypeClass::Real,
        "boolean" => TypeClass::Boolean,
        other => panic!("PostgreSQL column type {other:?} has no class here: name one"),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Column {
    name: String,
    class: TypeClass,
    nullable: bool,
    /// The DEFAULT expression, without quotes and casts (`'0'::bigint` → `0`); identity and
    /// AUTOINCREMENT keys have none.
    default: Option<String>,
}

/// A DEFAULT as both engines would print it for the same literal.
fn normalise_default(raw: &str) -> String {
    let mut d = raw.trim();
    while let Some((value, cast)) = d.rsplit_once("::") {
        if !cast.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '_') {
            break;
        }
        d = value.trim();
    }
    let d = d.strip_prefix('(').and_then(|x| x.strip_suffix(')')).unwrap_or(d);
    d.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')).unwrap_or(d).to_string()
}

/// A FOREIGN KEY: its columns, the table and columns it references, and its ON DELETE action.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ForeignKey {
    columns: Vec<String>,
    references: String,
    to: Vec<String>,
    on_delete: String,
}

/// An index as a user of the schema sees it. Indexes that back a PRIMARY KEY or UNIQUE constraint
/// are named by the engine (`sqlite_autoindex_t_1`, `t_pkey`, `t_a_b_key`), so they are compared
/// by their columns only; indexes made with CREATE INDEX keep their name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Index {
    name: Option<String>,
    columns: Vec<String>,
    unique: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Table {
    columns: Vec<Column>,
    primary_key: Vec<String>,
    indexes: Vec<Index>,
    foreign_keys: Vec<ForeignKey>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Schema {
    tables: BTreeMap<String, Table>,
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, t) in &self.tables {
            writeln!(f, "table {name} (primary key {:?})", t.primary_key)?;
            for c in &t.columns {
                let default = c.default.as_ref().map(|d| format!(" DEFAULT {d}")).unwrap_or_default();
                writeln!(f, "  {} {:?}{}{default}", c.name, c.class, if c.nullable { "" } else { " NOT NULL" })?;
            }
            for k in &t.foreign_keys {
                writeln!(f, "  foreign key {:?} -> {}{:?} on delete {}", k.columns, k.references, k.to, k.on_delete)?;
            }
            for i in &t.indexes {
                let kind = if i.unique { "unique" } else { "index" };
                writeln!(f, "  {kind} {} {:?}", i.name.as_deref().unwrap_or("(constraint)"), i.columns)?;
            }
        }
        Ok(())
    }
}

/// Tables that belong to the engine or to sqlx, not to our migrations.
fn ours(table: &str) -> bool {
    !table.starts_with("sqlite_") && !table.starts_with("_sqlx")
}

async fn sqlite_schema(pool: &AnyPool) -> Schema {
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetch_all(pool).await.unwrap();
    let mut schema = Schema::default();
    for (table,) in names.into_iter().filter(|(n,)| ours(n)) {
        let cols: Vec<(i64, String, String, i64, i64, Option<String>)> =
            sqlx::query_as("SELECT cid, name, type, \"notnull\", pk, dflt_value FROM pragma_table_info($1) ORDER BY cid")
                .bind(&table)
                .fetch_all(pool)
                .await
                .unwrap();
        let mut pk: Vec<(i64, String)> = cols.iter().filter(|c| c.4 > 0).map(|c| (c.4, c.1.clone())).collect();
        pk.sort();
        let columns = cols
            .iter()
            .map(|(_, name, declared, notnull, pk, default)| Column {
                name: name.clone(),
                class: sqlite_class(declared),
                // A PRIMARY KEY column is NOT NULL on PostgreSQL by definition. SQLite lets a
                // non-INTEGER primary key hold NULL (a legacy quirk) unless it says NOT NULL; our
                // writers never store NULL there, so a key column counts as NOT NULL on both.
                nullable: *notnull == 0 && *pk == 0,
                default: default.as_deref().map(normalise_default),
            })
            .collect();
        let fks: Vec<(i64, i64, String, String, Option<String>, String)> =
            sqlx::query_as("SELECT id, seq, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list($1) ORDER BY id, seq")
                .bind(&table)
                .fetch_all(pool)
                .await
                .unwrap();
        let mut foreign_keys: Vec<ForeignKey> = Vec::new();
        let mut last_id = None;
        for (id, _, references, from, to, on_delete) in fks {
            if last_id != Some(id) {
                let on_delete = on_delete.to_ascii_lowercase();
                foreign_keys.push(ForeignKey { columns: vec![], references, to: vec![], on_delete });
                last_id = Some(id);
            }
            let k = foreign_keys.last_mut().unwrap();
            k.columns.push(from);
            // `REFERENCES t` without columns means t's primary key; ours always name them.
            k.to.push(to.expect("a REFERENCES clause that names its columns"));
        }
        foreign_keys.sort();
        let list: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT name, \"unique\", origin FROM pragma_index_list($1)").bind(&table).fetch_all(pool).await.unwrap();
        let mut indexes = Vec::new();
        for (name, unique, origin) in list {
            let cols: Vec<(i64, String)> =
                sqlx::query_as("SELECT seqno, name FROM pragma_index_info($1) ORDER BY seqno").bind(&name).fetch_all(pool).await.unwrap();
            let columns: Vec<String> = cols.into_iter().map(|(_, c)| c).collect();
            match origin.as_str() {
                // The primary key is compared as the table's key, not as an index (an INTEGER
                // PRIMARY KEY has none in SQLite: it is the rowid).
                "pk" => continue,
                "u" => indexes.push(Index { name: None, columns, unique: true }),
                _ => indexes.push(Index { name: Some(name), columns, unique: unique != 0 }),
            }
        }
        indexes.sort();
        schema.tables.insert(table, Table { columns, primary_key: pk.into_iter().map(|(_, c)| c).collect(), indexes, foreign_keys });
    }
    schema
}

async fn postgres_schema(pool: &AnyPool) -> Schema {
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut schema = Schema::default();
    for (table,) in names.into_iter().filter(|(n,)| ours(n)) {
        let cols: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text, is_nullable::text, column_default::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(&table)
        .fetch_all(pool)
        .await
        .unwrap();
        let columns = cols
            .iter()
            .map(|(name, ty, nullable, default)| Column {
                name: name.clone(),
                class: postgres_class(ty),
                nullable: nullable == "YES",
                default: default.as_deref().map(normalise_default),
            })
            .collect();
        // Foreign keys with their columns in key order on both sides, and the ON DELETE action
        // spelt as SQLite's pragma spells it.
        let fks: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT f.relname::text, \
                    array_to_string(ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) \
                                          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord), ','), \
                    array_to_string(ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord) \
                                          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord), ','), \
                    CASE c.confdeltype WHEN 'a' THEN 'no action' WHEN 'r' THEN 'restrict' WHEN 'c' THEN 'cascade' \
                                       WHEN 'n' THEN 'set null' WHEN 'd' THEN 'set default' END \
             FROM pg_constraint c \
             JOIN pg_class t ON t.oid = c.conrelid \
             JOIN pg_class f ON f.oid = c.confrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE c.contype = 'f' AND n.nspname = current_schema() AND t.relname = $1",
        )
        .bind(&table)
        .fetch_all(pool)
        .await
        .unwrap();
        let split = |s: &str| s.split(',').map(str::to_string).collect::<Vec<_>>();
        let mut foreign_keys: Vec<ForeignKey> = fks
            .into_iter()
            .map(|(references, columns, to, on_delete)| ForeignKey { columns: split(&columns), references, to: split(&to), on_delete })
            .collect();
        foreign_keys.sort();
        // Every index of the table with its columns in key order, whether it is unique, whether
        // it is the primary key, and whether a constraint owns it (UNIQUE in CREATE TABLE).
        let rows: Vec<(String, String, bool, bool, bool)> = sqlx::query_as(
            "SELECT i.relname::text, \
                    array_to_string(ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
                                          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord), ','), \
                    x.indisunique, x.indisprimary, \
                    EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) \
             FROM pg_index x \
             JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = current_schema() AND t.relname = $1",
        )
        .bind(&table)
        .fetch_all(pool)
        .await
        .unwrap();
        let mut primary_key = Vec::new();
        let mut indexes = Vec::new();
        for (name, cols, unique, primary, constraint) in rows {
            let columns: Vec<String> = cols.split(',').map(str::to_string).collect();
            if primary {
                primary_key = columns;
            } else if constraint {
                indexes.push(Index { name: None, columns, unique });
            } else {
                indexes.push(Index { name: Some(name), columns, unique });
            }
        }
        indexes.sort();
        schema.tables.insert(table, Table { columns, primary_key, indexes, foreign_keys });
    }
    schema
}

/// Columns on one side only, columns that differ in type class or nullability, and else a
/// different order.
fn column_differences(table: &str, sqlite: &[Column], postgres: &[Column]) -> Vec<String> {
    let mut out = Vec::new();
    for c in sqlite.iter().filter(|c| !postgres.iter().any(|p| p.name == c.name)) {
        out.push(format!("column {table}.{} is only in SQLite", c.name));
    }
    for c in postgres.iter().filter(|c| !sqlite.iter().any(|s| s.name == c.name)) {
        out.push(format!("column {table}.{} is only in PostgreSQL", c.name));
    }
    for s in sqlite {
        if let Some(p) = postgres.iter().find(|p| p.name == s.name)
            && s != p
        {
            out.push(format!("column {table}.{}: SQLite {s:?} vs PostgreSQL {p:?}", s.name));
        }
    }
    if out.is_empty() && sqlite != postgres {
        let names = |cs: &[Column]| cs.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        out.push(format!("{table} column order: SQLite {:?} vs PostgreSQL {:?}", names(sqlite), names(postgres)));
    }
    out
}

/// The tables on one side only, and for the others each difference in words.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for name in sqlite.tables.keys().filter(|n| !postgres.tables.contains_key(*n)) {
        out.push(format!("table {name} is only in SQLite"));
    }
    for name in postgres.tables.keys().filter(|n| !sqlite.tables.contains_key(*n)) {
        out.push(format!("table {name} is only in PostgreSQL"));
    }
    for (name, s) in &sqlite.tables {
        let Some(p) = postgres.tables.get(name) else { continue };
        out.extend(column_differences(name, &s.columns, &p.columns));
        if s.primary_key != p.primary_key {
            out.push(format!("{name} primary key: SQLite {:?} vs PostgreSQL {:?}", s.primary_key, p.primary_key));
        }
        if s.indexes != p.indexes {
            out.push(format!("{name} indexes: SQLite {:?} vs PostgreSQL {:?}", s.indexes, p.indexes));
        }
        if s.foreign_keys != p.foreign_keys {
            out.push(format!("{name} foreign keys: SQLite {:?} vs PostgreSQL {:?}", s.foreign_keys, p.foreign_keys));
        }
    }
    out
}

#[tokio::test]
async fn sqlite_and_postgres_migrate_to_the_same_schema() {
    let sqlite = support::sqlite().await;
    let lite = sqlite_schema(sqlite.app.store.pool()).await;
    // The reader itself must see the schema, or two empty readings would agree.
    for table in ["spaces", "messages", "inbound", "outbound", "tasks", "mutes"] {
        assert!(lite.tables.contains_key(table), "no {table} table read from SQLite:\n{lite}");
    }
    let outbound = &lite.tables["outbound"];
    assert!(outbound.columns.iter().any(|c| c.name == "lease_until" && c.class == TypeClass::Integer && c.nullable), "{lite}");
    assert!(outbound.indexes.iter().any(|i| i.name.as_deref() == Some("outbound_due")), "{lite}");
    assert_eq!(lite.tables["members"].indexes.iter().filter(|i| i.name.is_none() && i.unique).count(), 2, "{lite}");
    assert!(outbound.columns.iter().any(|c| c.name == "attempts" && c.default.as_deref() == Some("0")), "{lite}");
    let cascade =
        ForeignKey { columns: vec!["space_id".into()], references: "spaces".into(), to: vec!["id".into()], on_delete: "cascade".into() };
    assert_eq!(lite.tables["members"].foreign_keys, [cascade], "{lite}");

    let Some(pg) = support::postgres().await else {
        support::skip::skip("DATABASE_URL is not set to a PostgreSQL database, so only SQLite's schema was read");
        return;
    };
    let post = postgres_schema(pg.app.store.pool()).await;
    let drift = differences(&lite, &post);
    assert!(drift.is_empty(), "the migrations drifted apart:\n{}\n\nSQLite:\n{lite}\nPostgreSQL:\n{post}", drift.join("\n"));
    assert_eq!(lite, post);
}

/// The comparison itself finds what drift would look like: a column that differs in type class
/// or nullability, an index on one side only, a missing table.
#[test]
fn differences_name_each_kind_of_drift() {
    let col = |name: &str, class, nullable| Column { name: name.into(), class, nullable, default: None };
    let table =
        |columns: Vec<Column>, indexes: Vec<Index>| Table { columns, primary_key: vec!["id".into()], indexes, foreign_keys: vec![] };
    let base = Schema {
        tables: BTreeMap::from([(
            "t".to_string(),
            table(vec![col("id", TypeClass::Integer, false), col("a", TypeClass::Text, true)], vec![]),
        )]),
    };
    assert!(differences(&base, &base).is_empty());
    let mut typed = base.clone();
    typed.tables.get_mut("t").unwrap().columns[1].class = TypeClass::Bytes;
    assert_eq!(differences(&base, &typed).len(), 1);
    let mut nullable = base.clone();
    nullable.tables.get_mut("t").unwrap().columns[1].nullable = false;
    assert_eq!(differences(&base, &nullable).len(), 1);
    let mut indexed = base.clone();
    indexed.tables.get_mut("t").unwrap().indexes.push(Index { name: Some("t_by_a".into()), columns: vec!["a".into()], unique: false });
    assert_eq!(differences(&base, &indexed).len(), 1);
    let mut extra = base.clone();
    extra.tables.get_mut("t").unwrap().columns.push(col("b", TypeClass::Integer, true));
    assert_eq!(differences(&base, &extra), ["column t.b is only in PostgreSQL"]);
    let mut reordered = base.clone();
    reordered.tables.get_mut("t").unwrap().columns.reverse();
    assert_eq!(differences(&base, &reordered).len(), 1);
    let mut defaulted = base.clone();
    defaulted.tables.get_mut("t").unwrap().columns[1].default = Some("x".into());
    assert_eq!(differences(&base, &defaulted).len(), 1);
    let mut linked = base.clone();
    let fk = ForeignKey { columns: vec!["a".into()], references: "u".into(), to: vec!["id".into()], on_delete: "cascade".into() };
    linked.tables.get_mut("t").unwrap().foreign_keys.push(fk);
    assert_eq!(differences(&base, &linked).len(), 1);
    for (raw, want) in [("0", "0"), ("'0'::bigint", "0"), ("'open'::text", "open"), ("'x'", "x"), ("(0)", "0")] {
        assert_eq!(normalise_default(raw), want, "{raw}");
    }
    let mut more = base.clone();
    more.tables.insert("u".into(), Table::default());
    assert_eq!(differences(&base, &more), ["table u is only in PostgreSQL"]);
    assert_eq!(sqlite_class("INTEGER"), postgres_class("bigint"));
    assert_eq!(sqlite_class("BLOB"), postgres_class("bytea"));
}
