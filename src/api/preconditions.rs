//! Conditional and repeatable requests: the ETag a versioned resource
//! carries, the version `If-Match` names, and the `Idempotency-Key` that
//! makes a submission safe to retry.

use crate::error::ApiError;
use actix_web::http::header;
use actix_web::HttpRequest;

pub(crate) fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// The version named by `If-Match`, if any (`*` matches any version). A
/// number too large to be a version is kept as one that matches nothing.
pub(crate) fn if_match(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    // Bare digits are read as the quoted ETag they stand for.
    let unquoted = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .or(Some(text));
    match unquoted {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Some(digits.parse::<i64>().unwrap_or(i64::MAX)))
        }
        _ => Err(ApiError::BadRequest {
            detail: "If-Match must be an ETag from this API, such as \"3\"".into(),
            errors: vec![crate::error::FieldError::new(
                "If-Match",
                "not an ETag from this API",
            )],
        }),
    }
}

const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

pub(crate) fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default();
    if text.is_empty() || text.len() > 255 || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::BadRequest {
            detail: "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
            errors: vec![crate::error::FieldError::new(
                IDEMPOTENCY_KEY,
                "1 to 255 visible ASCII characters",
            )],
        });
    }
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;
    use actix_web::test::TestRequest;
    use proptest::prelude::*;

    fn with_header(name: &str, value: HeaderValue) -> HttpRequest {
        TestRequest::default()
            .insert_header((name, value))
            .to_http_request()
    }

    /// Header values as clients send them: any bytes a header may carry.
    fn header_value() -> impl Strategy<Value = HeaderValue> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            "\"?[0-9]{0,22}\"?".prop_map(String::into_bytes),
        ]
        .prop_filter_map("not a header value", |bytes| {
            HeaderValue::from_bytes(&bytes).ok()
        })
    }

    proptest! {
        /// Every ETag this API sends reads back as its version.
        #[test]
        fn etags_read_back_as_their_version(version in 0i32..=i32::MAX) {
            let req = with_header("If-Match", HeaderValue::from_str(&etag(version)).unwrap());
            prop_assert_eq!(if_match(&req).unwrap(), Some(i64::from(version)));
        }

        /// Any If-Match is read as a version or refused naming the header,
        /// never a panic; what is read is the digits it carries.
        #[test]
        fn any_if_match_is_a_version_or_refused_by_name(value in header_value()) {
            let text = value.to_str().map(str::trim).unwrap_or_default().to_owned();
            match if_match(&with_header("If-Match", value)) {
                Ok(None) => prop_assert_eq!(text, "*"),
                Ok(Some(version)) => {
                    prop_assert!(version >= 0);
                    prop_assert!(text.trim_matches('"').bytes().all(|b| b.is_ascii_digit()));
                }
                Err(ApiError::BadRequest { errors, .. }) => prop_assert_eq!(&errors[0].field, "If-Match"),
                Err(other) => prop_assert!(false, "unexpected {:?}", other),
            }
        }

        /// An Idempotency-Key is taken exactly when it is 1 to 255 visible
        /// ASCII characters, and taken unchanged.
        #[test]
        fn idempotency_keys_are_one_to_255_visible_ascii_characters(value in prop_oneof![header_value(), "[!-~]{250,260}".prop_map(|s| HeaderValue::from_str(&s).unwrap())]) {
            let bytes = value.as_bytes().to_vec();
            let valid = (1..=255).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_graphic);
            match idempotency_key(&with_header(IDEMPOTENCY_KEY, value)) {
                Ok(key) => {
                    prop_assert!(valid);
                    prop_assert_eq!(key.map(String::into_bytes), Some(bytes));
                }
                Err(ApiError::BadRequest { errors, .. }) => {
                    prop_assert!(!valid);
                    prop_assert_eq!(&errors[0].field, IDEMPOTENCY_KEY);
                }
                Err(other) => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }
}
