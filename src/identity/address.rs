//! What a recipient address asks for (docs/mail-flow.md): `SPACE@DOMAIN` starts a thread,
//! `SPACE+TOKEN@DOMAIN` replies into one, `docket@DOMAIN` is the commands address; anything else
//! is not ours. Pure: the store and the token check come after.

/// Local part of the commands address; no space may take this slug.
pub const COMMANDS: &str = "docket";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Space {
        slug: String,
    },
    Reply {
        slug: String,
        token: String,
    },
    Commands,
    /// Another domain: we are not a relay.
    Foreign,
    /// Our domain but not a shape we know (empty local part, several `+`).
    Unknown,
}

pub fn classify(address: &str, domain: &str) -> Recipient {
    let Some((local, host)) = address.rsplit_once('@') else {
        return Recipient::Unknown;
    };
    if !host.eq_ignore_ascii_case(domain) {
        return Recipient::Foreign;
    }
    let local = local.to_ascii_lowercase();
    let (slug, token) = match local.split_once('+') {
        Some((slug, token)) => (slug, Some(token)),
        None => (local.as_str(), None),
    };
    if slug.is_empty() {
        return Recipient::Unknown;
    }
    match token {
        None if slug == COMMANDS => Recipient::Commands,
        None => Recipient::Space { slug: slug.to_string() },
        Some(t) if !t.is_empty() && !t.contains('+') && slug != COMMANDS => {
            Recipient::Reply { slug: slug.to_string(), token: t.to_string() }
        }
        Some(_) => Recipient::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let d = "docket.test";
        assert_eq!(classify("eng@docket.test", d), Recipient::Space { slug: "eng".into() });
        assert_eq!(classify("ENG@Docket.Test", d), Recipient::Space { slug: "eng".into() });
        assert_eq!(classify("eng+abc2@docket.test", d), Recipient::Reply { slug: "eng".into(), token: "abc2".into() });
        assert_eq!(classify("docket@docket.test", d), Recipient::Commands);
        assert_eq!(classify("eng@elsewhere.org", d), Recipient::Foreign);
        for bad in ["eng", "@docket.test", "+x@docket.test", "eng+@docket.test", "eng+a+b@docket.test", "docket+x@docket.test"] {
            assert_eq!(classify(bad, d), Recipient::Unknown, "{bad}");
        }
    }
}
