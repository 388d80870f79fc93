//! Cursor pagination shared by every list: `limit` and `cursor` in, `items`
//! and `next_cursor` out. Cursors are opaque to clients.

use base64::Engine;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 25;
pub const MAX_LIMIT: i64 = 100;

/// A validated page request: how many rows, and the key to start after.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<String>,
}

impl PageRequest {
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_query(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = cursor.map(decode_cursor).transpose()?;
        Ok(PageRequest { limit, after })
    }

    /// Rows to fetch: one more than the page, to learn whether another follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts the over-fetched rows to a page and makes the next cursor from the
    /// last row's key.
    pub fn page<T>(&self, rows: Vec<T>, key: impl Fn(&T) -> &str) -> Page<T> {
        self.page_by(rows, |row| key(row).to_owned())
    }

    /// As [`PageRequest::page`], for keys built from several columns.
    pub fn page_by<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> String) -> Page<T> {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| encode_cursor(&key(r)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

/// A cursor key for lists ordered by an instant, then an id.
pub fn time_key(at: chrono::NaiveDateTime, id: &str) -> String {
    format!("{}|{id}", at.and_utc().timestamp_micros())
}

/// Reads a [`time_key`] back from a page request's cursor.
pub fn parse_time_key(
    after: Option<&str>,
) -> Result<Option<(chrono::NaiveDateTime, String)>, ApiError> {
    let parse = |text: &str| {
        let (micros, id) = text.split_once('|')?;
        let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
        Some((at, id.to_owned()))
    };
    after
        .map(|text| {
            parse(text)
                .ok_or_else(|| ApiError::bad_query("cursor", "not a cursor returned by this list"))
        })
        .transpose()
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

const CURSOR_PREFIX: &str = "k:";

fn encode_cursor(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{key}"))
}

fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::bad_query("cursor", "not a cursor returned by this list");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix(CURSOR_PREFIX)
        .map(str::to_owned)
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_keys_read_back_and_foreign_text_is_refused() {
        let at = chrono::DateTime::from_timestamp_micros(1_800_000_000_123_456)
            .unwrap()
            .naive_utc();
        let key = time_key(at, "abc|def");
        assert_eq!(
            parse_time_key(Some(&key)).unwrap(),
            Some((at, "abc|def".to_owned()))
        );
        assert_eq!(parse_time_key(None).unwrap(), None);
        assert!(parse_time_key(Some("yesterday|x")).is_err());
        assert!(parse_time_key(Some("no separator")).is_err());
    }

    #[test]
    fn limit_defaults_and_is_bounded() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, DEFAULT_LIMIT);
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(MAX_LIMIT + 1), None).is_err());
        assert_eq!(
            PageRequest::parse(Some(MAX_LIMIT), None).unwrap().limit,
            MAX_LIMIT
        );
    }

    #[test]
    fn a_full_page_yields_a_cursor_that_resumes_after_its_last_row() {
        let req = PageRequest::parse(Some(2), None).unwrap();
        let page = req.page(vec!["a", "b", "c"], |s| s);
        assert_eq!(page.items, vec!["a", "b"]);
        let cursor = page.next_cursor.expect("more rows follow");
        let next = PageRequest::parse(Some(2), Some(&cursor)).unwrap();
        assert_eq!(next.after.as_deref(), Some("b"));
    }

    #[test]
    fn the_last_page_has_no_cursor() {
        let req = PageRequest::parse(Some(2), None).unwrap();
        assert_eq!(req.page(vec!["a", "b"], |s| s).next_cursor, None);
    }

    #[test]
    fn a_forged_cursor_is_refused() {
        assert!(PageRequest::parse(None, Some("!!")).is_err());
        assert!(PageRequest::parse(None, Some("YWJj")).is_err());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// A cursor made from any key reads back as that key.
            #[test]
            fn cursors_read_back_as_the_key_they_were_made_from(key in any::<String>()) {
                let cursor = encode_cursor(&key);
                prop_assert_eq!(PageRequest::parse(None, Some(&cursor)).unwrap().after, Some(key));
            }

            /// Any text is a cursor only if it is one this API could have
            /// made: decoding never panics, and what it accepts re-encodes to
            /// the same text.
            #[test]
            fn only_cursors_this_api_makes_are_accepted(text in prop_oneof![any::<String>(), "[A-Za-z0-9_-]{0,24}"]) {
                if let Ok(page) = PageRequest::parse(None, Some(&text)) {
                    prop_assert_eq!(encode_cursor(&page.after.unwrap()), text);
                }
            }

            #[test]
            fn a_limit_is_accepted_exactly_from_one_to_the_maximum(limit in prop_oneof![any::<i64>(), -2i64..(MAX_LIMIT + 3)]) {
                prop_assert_eq!(PageRequest::parse(Some(limit), None).is_ok(), (1..=MAX_LIMIT).contains(&limit));
            }

            /// A page holds at most `limit` rows, in order, and has a cursor
            /// exactly when rows were left over; the cursor resumes after the
            /// page's last row.
            #[test]
            fn pages_cut_at_the_limit_and_resume_after_their_last_row(limit in 1i64..10, rows in 0usize..25) {
                let request = PageRequest::parse(Some(limit), None).unwrap();
                let keys: Vec<String> = (0..rows).map(|i| format!("{i:03}")).collect();
                let page = request.page(keys.clone(), |k| k);
                let shown = rows.min(limit as usize);
                prop_assert_eq!(&page.items[..], &keys[..shown]);
                match page.next_cursor {
                    Some(cursor) => {
                        prop_assert!(rows > shown);
                        let next = PageRequest::parse(Some(limit), Some(&cursor)).unwrap();
                        prop_assert_eq!(next.after, Some(keys[shown - 1].clone()));
                    }
                    None => prop_assert_eq!(rows, shown),
                }
            }

            /// Time keys read back for any instant a timestamp can hold and
            /// any id, even one containing the separator.
            #[test]
            fn time_keys_read_back(micros in -8_000_000_000_000_000i64..8_000_000_000_000_000, id in any::<String>()) {
                let at = chrono::DateTime::from_timestamp_micros(micros).unwrap().naive_utc();
                prop_assert_eq!(parse_time_key(Some(&time_key(at, &id))).unwrap(), Some((at, id)));
            }

            #[test]
            fn any_text_is_a_time_key_or_refused_without_panicking(text in prop_oneof![any::<String>(), "-?[0-9]{0,22}\\|.{0,5}"]) {
                if let Err(error) = parse_time_key(Some(&text)) {
                    let names_the_cursor = matches!(error, ApiError::BadRequest { errors, .. } if errors[0].field == "cursor");
                    prop_assert!(names_the_cursor);
                }
            }
        }
    }
}
