//! The raw configuration: `docket.toml` merged with `DOCKET__SECTION__KEY` variables into one flat
//! table of dotted keys, and a `Reader` that marks every key it reads and collects every problem, so
//! that unknown keys and bad values are all reported at once, each naming its key.

use super::ConfigError;
use config::{Environment, File, FileFormat, Value, ValueKind};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// Every configured key, flattened to `section.key`, with its value as written.
#[derive(Debug, Default)]
pub struct RawTable {
    values: BTreeMap<String, Value>,
}

impl RawTable {
    /// Merges the file (when given) and the environment (the process's, or `env` in tests).
    pub fn load(file: Option<&Path>, env: Option<HashMap<String, String>>) -> Result<Self, ConfigError> {
        let mut builder = config::Config::builder();
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Missing(path.to_path_buf()));
            }
            builder = builder.add_source(File::from(path).format(FileFormat::Toml).required(true));
        }
        let mut environment = Environment::with_prefix("DOCKET").prefix_separator("__").separator("__");
        if env.is_some() {
            environment = environment.source(env);
        }
        builder = builder.add_source(environment);
        let merged =
            builder.build().and_then(|c| c.try_deserialize::<HashMap<String, Value>>()).map_err(|e| ConfigError::Syntax(e.to_string()))?;
        let mut values = BTreeMap::new();
        for (key, value) in merged {
            flatten(key, value, &mut values);
        }
        Ok(Self { values })
    }
}

fn flatten(prefix: String, value: Value, out: &mut BTreeMap<String, Value>) {
    match value.kind {
        ValueKind::Table(table) => {
            for (key, value) in table {
                flatten(format!("{prefix}.{key}"), value, out);
            }
        }
        _ => {
            out.insert(prefix, value);
        }
    }
}

/// Reads typed values out of a `RawTable`, remembering what was read and what was wrong.
#[derive(Debug)]
pub struct Reader<'a> {
    table: &'a RawTable,
    used: RefCell<BTreeSet<String>>,
    errors: RefCell<Vec<String>>,
}

impl<'a> Reader<'a> {
    pub fn new(table: &'a RawTable) -> Self {
        Self { table, used: RefCell::default(), errors: RefCell::default() }
    }

    /// The value of `key` converted by `parse`, or `None` when unset or empty. A conversion error is
    /// recorded against the key.
    pub fn opt<T>(&self, key: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        self.used.borrow_mut().insert(key.to_string());
        let value = self.table.values.get(key)?;
        let text = match &value.kind {
            ValueKind::Array(_) | ValueKind::Table(_) => {
                self.error(key, "expected a single value, not a list or table".into());
                return None;
            }
            _ => value.clone().into_string().unwrap_or_default(),
        };
        if text.trim().is_empty() {
            return None;
        }
        match parse(text.trim()) {
            Ok(v) => Some(v),
            Err(why) => {
                self.error(key, why);
                None
            }
        }
    }

    /// Like `opt`, falling back to `default` when unset or invalid (the error is still recorded).
    pub fn get<T>(&self, key: &str, default: T, parse: impl FnOnce(&str) -> Result<T, String>) -> T {
        self.opt(key, parse).unwrap_or(default)
    }

    pub fn error(&self, key: &str, why: String) {
        self.errors.borrow_mut().push(format!("{key}: {why}"));
    }

    /// Ends reading: every key nobody asked for is an error, and all errors come back together.
    pub fn finish(self) -> Result<(), ConfigError> {
        let used = self.used.into_inner();
        let mut errors = self.errors.into_inner();
        for key in self.table.values.keys().filter(|k| !used.contains(*k)) {
            errors.push(format!("{key}: unknown key (docs/configuration.md lists every key docket reads)"));
        }
        if errors.is_empty() { Ok(()) } else { Err(ConfigError::Invalid(errors)) }
    }
}

// Value converters shared by the sections.

pub fn string(s: &str) -> Result<String, String> {
    Ok(s.to_string())
}

pub fn uint(s: &str) -> Result<u64, String> {
    s.parse::<u64>().map_err(|_| format!("expected a whole number, got '{s}'"))
}

pub fn positive(s: &str) -> Result<u64, String> {
    match uint(s)? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

pub fn boolean(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(format!("expected true or false, got '{s}'")),
    }
}

pub fn duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("expected a duration like 24h or 30m, got '{s}' ({e})"))
}

pub fn socket_addr(s: &str) -> Result<std::net::SocketAddr, String> {
    s.parse().map_err(|_| format!("expected HOST:PORT with an IP address, like 127.0.0.1:2525, got '{s}'"))
}

pub fn one_of<T: Copy>(choices: &'static [(&'static str, T)]) -> impl Fn(&str) -> Result<T, String> {
    move |s| {
        choices.iter().find(|(name, _)| name.eq_ignore_ascii_case(s)).map(|(_, v)| *v).ok_or_else(|| {
            let names: Vec<_> = choices.iter().map(|(n, _)| format!("\"{n}\"")).collect();
            format!("expected one of {}, got '{s}'", names.join(", "))
        })
    }
}
