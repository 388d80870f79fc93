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
}
