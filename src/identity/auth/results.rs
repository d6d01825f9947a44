//! A trusted MTA's Authentication-Results headers (RFC 8601): the DKIM verdict and DMARC
//! alignment they report, read only from headers of the trusted authserv-id.

use super::{Authentication, aligned};

/// One `method=result` of a trusted header with its `ptype.property=value` pairs, as written
/// (comments removed; case and quotes left for the reader to normalise).
struct Resinfo {
    method: String,
    result: String,
    props: Vec<(String, String)>,
}

/// The results in the Authentication-Results headers written by `authserv_id` (RFC 8601 §2.2), in
/// order; headers of any other id are skipped, as the MTA in front must strip forged ones.
fn trusted_results<'a>(headers: &'a [String], authserv_id: &'a str) -> impl Iterator<Item = Resinfo> + 'a {
    headers.iter().flat_map(move |header| {
        let clean = strip_comments(header);
        let mut parts = clean.split(';');
        let id = parts.next().and_then(|p| p.split_whitespace().next()).unwrap_or_default();
        if !id.eq_ignore_ascii_case(authserv_id) {
            return Vec::new();
        }
        parts
            .filter_map(|resinfo| {
                let mut words = resinfo.split_whitespace();
                let (method, result) = words.next().and_then(|w| w.split_once('='))?;
                let props = words.filter_map(|w| w.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
                Some(Resinfo { method: method.to_string(), result: result.to_string(), props })
            })
            .collect()
    })
}

/// Reads `dkim=` results of the Authentication-Results headers written by `authserv_id`
/// (RFC 8601 §2.2); headers of any other id are ignored, as the MTA in front must strip forged ones.
pub fn from_results(headers: &[String], authserv_id: &str, from_domain: &str) -> Authentication {
    let mut seen = Vec::new();
    for Resinfo { method, result, props } in trusted_results(headers, authserv_id) {
        if !method.eq_ignore_ascii_case("dkim") {
            continue;
        }
        let domain = props
            .iter()
            .find_map(|(k, v)| match k.to_ascii_lowercase().as_str() {
                "header.d" => Some(v.to_string()),
                "header.i" => v.rsplit_once('@').map(|(_, d)| d.to_string()),
                _ => None,
            })
            .unwrap_or_default()
            .to_ascii_lowercase();
        if result.eq_ignore_ascii_case("pass") && aligned(&domain, from_domain) {
            return Authentication::Pass(domain);
        }
        if result.eq_ignore_ascii_case("temperror") {
            return Authentication::Unavailable(format!("{authserv_id} reported dkim=temperror"));
        }
        seen.push(format!("dkim={result} header.d={domain}"));
    }
    Authentication::Fail(if seen.is_empty() {
        format!("{authserv_id} reported no DKIM result for this message")
    } else {
        format!("{authserv_id} reported {} for From domain {from_domain}", seen.join(", "))
    })
}

/// What a trusted MTA's results say about DMARC alignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Alignment {
    Aligned(String),
    TempError(String),
    None,
}

/// Alignment from the Authentication-Results of `authserv_id`: `dmarc=pass`, or `dkim=pass` with an
/// aligned `header.d`, or `spf=pass` with an aligned `smtp.mailfrom` (RFC 8601 §2.7, RFC 7489 §3.1).
pub(super) fn results_alignment(headers: &[String], authserv_id: &str, from_domain: &str) -> Alignment {
    let mut temporary = None;
    for resinfo in trusted_results(headers, authserv_id) {
        let (method, result) = (resinfo.method.to_ascii_lowercase(), resinfo.result.to_ascii_lowercase());
        let props: Vec<(String, String)> =
            resinfo.props.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.trim_matches('"').to_ascii_lowercase())).collect();
        let prop = |name: &str| props.iter().find(|(k, _)| k == name).map(|(_, v)| v.rsplit_once('@').map_or(v.as_str(), |(_, d)| d));
        let identity = match method.as_str() {
            "dmarc" => prop("header.from"),
            "dkim" => prop("header.d").or_else(|| prop("header.i")),
            "spf" => prop("smtp.mailfrom").or_else(|| prop("smtp.helo")),
            _ => continue,
        };
        let identity = identity.unwrap_or_default();
        match result.as_str() {
            "pass" if method == "dmarc" && identity.trim_end_matches('.') == from_domain.trim_end_matches('.') => {
                return Alignment::Aligned(format!("{authserv_id} reported dmarc=pass"));
            }
            // Relaxed alignment, approximated without a public-suffix list: one domain is
            // the other or a parent of it.
            "pass" if method != "dmarc" && (aligned(identity, from_domain) || aligned(from_domain, identity)) => {
                return Alignment::Aligned(format!("{authserv_id} reported {method}=pass for {identity}"));
            }
            "temperror" => temporary = Some(format!("{authserv_id} reported {method}=temperror")),
            _ => {}
        }
    }
    temporary.map_or(Alignment::None, Alignment::TempError)
}

/// Removes RFC 5322 comments `( … )`, nested, outside quoted strings.
fn strip_comments(s: &str) -> String {
    let (mut out, mut depth, mut quoted, mut escaped) = (String::with_capacity(s.len()), 0usize, false, false);
    for c in s.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' if depth == 0 => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => {
                depth -= 1;
                out.push(' ');
                continue;
            }
            _ => {}
        }
        if depth == 0 && c != '(' && c != '\\' {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_from_trusted_results() {
        let h = |s: &str| vec![s.to_string()];
        let check = |header: &str| results_alignment(&h(header), "mx.team.org", "example.org");
        assert!(matches!(check("mx.team.org; dmarc=pass header.from=example.org"), Alignment::Aligned(_)));
        assert!(matches!(check("mx.team.org; dkim=pass header.d=example.org"), Alignment::Aligned(_)));
        assert!(matches!(check("mx.team.org; spf=pass smtp.mailfrom=bounce@mail.example.org"), Alignment::Aligned(_)));
        assert!(matches!(check("mx.team.org; spf=pass smtp.mailfrom=\"x@example.org\""), Alignment::Aligned(_)));
        assert_eq!(check("mx.team.org; dmarc=pass header.from=evil.test"), Alignment::None);
        assert_eq!(check("mx.team.org; dkim=pass header.d=evil.test; spf=pass smtp.mailfrom=a@evil.test"), Alignment::None);
        assert_eq!(check("mx.team.org; dmarc=fail header.from=example.org"), Alignment::None);
        assert_eq!(check("other.host; dmarc=pass header.from=example.org"), Alignment::None, "untrusted id ignored");
        assert_eq!(check("mx.team.org; dmarc=fail (dmarc=pass header.from=example.org) header.from=example.org"), Alignment::None);
        assert!(matches!(check("mx.team.org; dkim=temperror header.d=example.org"), Alignment::TempError(_)));
    }

    #[test]
    fn authentication_results() {
        let h = |s: &str| vec![s.to_string()];
        let pass = h("mx.team.org; dkim=pass (2048-bit key; unprotected) header.d=example.org header.s=sel; spf=pass");
        assert_eq!(from_results(&pass, "mx.team.org", "example.org"), Authentication::Pass("example.org".into()));
        assert_eq!(from_results(&pass, "MX.TEAM.ORG", "lists.example.org"), Authentication::Pass("example.org".into()));
        assert!(matches!(from_results(&pass, "other.host", "example.org"), Authentication::Fail(_)), "untrusted id ignored");
        let foreign = h("mx.team.org 1; dkim=pass header.d=evil.test");
        assert!(matches!(from_results(&foreign, "mx.team.org", "example.org"), Authentication::Fail(why) if why.contains("evil.test")));
        let by_i = h("mx.team.org; dkim=pass header.i=@example.org");
        assert_eq!(from_results(&by_i, "mx.team.org", "example.org"), Authentication::Pass("example.org".into()));
        let temp = h("mx.team.org; dkim=temperror header.d=example.org");
        assert!(matches!(from_results(&temp, "mx.team.org", "example.org"), Authentication::Unavailable(_)));
        let none = h("mx.team.org; none");
        assert!(matches!(from_results(&none, "mx.team.org", "example.org"), Authentication::Fail(_)));
        assert!(matches!(from_results(&[], "mx.team.org", "example.org"), Authentication::Fail(_)));
        let commented = h("mx.team.org; dkim=fail (dkim=pass header.d=example.org) header.d=example.org");
        assert!(matches!(from_results(&commented, "mx.team.org", "example.org"), Authentication::Fail(_)), "comments are not results");
    }
}
