//! Request extractors that turn bad input into problem+json naming the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use validator::Validate;

use crate::error::{ApiError, FieldError};

/// A JSON body: `application/json` only, size-limited, unknown fields refused
/// (by `deny_unknown_fields` on the type), then checked with `Validate`.
///
/// The outcome is held, not raised, so a handler authorizes first and only
/// then learns whether the body was good: callers without rights never learn
/// anything from validation messages.
pub struct JsonBody<T>(Result<T, ApiError>);

impl<T> JsonBody<T> {
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

fn content_type_is(req: &HttpRequest, wanted: impl Fn(&mime::Mime) -> bool) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| wanted(&m))
}

impl<T> FromRequest for JsonBody<T>
where
    T: DeserializeOwned + Validate + 'static,
{
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = content_type_is(req, |m| {
            m.type_() == mime::APPLICATION
                && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
        });
        let limit = req.app_data::<BodyLimit>().map_or(DEFAULT_LIMIT, |l| l.0);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            Ok(JsonBody(
                read_body(
                    content_type_ok,
                    "the body must be JSON sent as Content-Type: application/json",
                    limit,
                    body,
                    json_body,
                )
                .await,
            ))
        })
    }
}

/// A form body (`application/x-www-form-urlencoded`, as OAuth 2.0 token
/// requests are sent), read and checked like [`JsonBody`].
pub struct FormBody<T>(Result<T, ApiError>);

impl<T> FormBody<T> {
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T> FromRequest for FormBody<T>
where
    T: DeserializeOwned + Validate + 'static,
{
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = content_type_is(req, |m| {
            m.type_() == mime::APPLICATION && m.subtype() == mime::WWW_FORM_URLENCODED
        });
        let limit = req.app_data::<BodyLimit>().map_or(DEFAULT_LIMIT, |l| l.0);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            Ok(FormBody(
                read_body(
                    content_type_ok,
                    "the body must be sent as Content-Type: application/x-www-form-urlencoded",
                    limit,
                    body,
                    form_body,
                )
                .await,
            ))
        })
    }
}

async fn read_body<T, F>(
    content_type_ok: bool,
    content_type_problem: &str,
    limit: usize,
    body: F,
    parse: fn(&[u8]) -> Result<T, ApiError>,
) -> Result<T, ApiError>
where
    F: Future<Output = Result<web::Bytes, actix_web::Error>>,
{
    if !content_type_ok {
        return Err(ApiError::UnsupportedMediaType(content_type_problem.into()));
    }
    let bytes = body
        .await
        .map_err(|e| match e.as_response_error().status_code().as_u16() {
            413 => ApiError::PayloadTooLarge(limit),
            _ => ApiError::BadRequest {
                detail: "the request body could not be read".into(),
                errors: Vec::new(),
            },
        })?;
    parse(&bytes)
}

/// A JSON body as [`JsonBody`] reads it: parsed, then checked with
/// `Validate`. Public so the request-body fuzz target drives this very code.
pub fn json_body<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: T = parse_json_checked(bytes, |value: &T| match value.validate() {
        Ok(()) => Vec::new(),
        Err(invalid) => match ApiError::from(invalid) {
            ApiError::Validation(errors) => errors,
            _ => Vec::new(),
        },
    })?;
    value.validate()?;
    Ok(value)
}

fn form_body<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: T = parse_form(bytes)?;
    value.validate()?;
    Ok(value)
}

/// A form body's fields; a wrong, missing or unknown one is named.
pub fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner().to_string();
        ApiError::Validation(vec![FieldError::new(
            field_of(e.path().to_string(), &inner),
            inner,
        )])
    })
}

const DEFAULT_LIMIT: usize = 65_536;

/// The body limit the app enforces (through `PayloadConfig`), kept for messages.
pub struct BodyLimit(pub usize);

/// One JSON value and nothing after it but white space: a second value or
/// stray text after the first is malformed, not ignored.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    parse_json_checked(bytes, |_: &T| Vec::new())
}

/// As [`parse_json`]; when the body does not fit `T`, every field that is
/// wrong is named, not only the first serde meets, together with what
/// `check` finds wrong in the rest.
fn parse_json_checked<T: DeserializeOwned>(
    bytes: &[u8],
    check: impl Fn(&T) -> Vec<FieldError>,
) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => {
            de.end()
                .map_err(|e| malformed(&strip_position(&e.to_string())))?;
            Ok(value)
        }
        Err(first) => {
            // serde_json reports some wrong values in well-formed JSON as
            // syntax errors (a number where a name is expected: "expected
            // value"); only a body that is not one JSON value is malformed.
            let value = serde_json::from_slice::<serde_json::Value>(bytes)
                .map_err(|e| malformed(&strip_position(&e.to_string())))?;
            let mut errors = every_field_error(value, &check);
            if errors.is_empty() {
                let message = strip_position(&first.inner().to_string());
                errors.push(FieldError::new(
                    field_of(first.path().to_string(), &message),
                    format!("not a value this field takes ({message})"),
                ));
            }
            Err(ApiError::Validation(errors))
        }
    }
}

/// At most this many wrong fields are named in one answer.
const MAX_FIELD_ERRORS: usize = 32;

/// Names each field of `value` that does not fit `T`. serde stops at the
/// first, so each one found is set right (an unknown choice becomes a known
/// one, an unknown or mistyped key is dropped) and the body read again,
/// until it fits — then `check` names what is wrong in the rest — or a
/// field cannot be set right.
fn every_field_error<T: DeserializeOwned>(
    mut value: serde_json::Value,
    check: &impl Fn(&T) -> Vec<FieldError>,
) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = Vec::new();
    while errors.len() < MAX_FIELD_ERRORS {
        let error = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(fits) => {
                for more in check(&fits) {
                    if !errors.iter().any(|seen| seen.field == more.field) {
                        errors.push(more);
                    }
                }
                break;
            }
            Err(error) => error,
        };
        let message = strip_position(&error.inner().to_string());
        let field = field_of(error.path().to_string(), &message);
        if errors.iter().any(|seen| seen.field == field) {
            break;
        }
        errors.push(FieldError::new(field, message.clone()));
        let path: Vec<_> = error.path().iter().cloned().collect();
        if !set_right(&mut value, &path, &message) {
            break;
        }
    }
    errors
}

/// Makes the value at `path` one that fits, as far as the error `message`
/// tells: the first choice it lists for an unknown choice, else no value.
fn set_right(
    value: &mut serde_json::Value,
    path: &[serde_path_to_error::Segment],
    message: &str,
) -> bool {
    use serde_path_to_error::Segment;
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut parent = value;
    for segment in parents {
        let next = match segment {
            Segment::Map { key } => parent.get_mut(key.as_str()),
            Segment::Seq { index } => parent.get_mut(*index),
            _ => None,
        };
        match next {
            Some(next) => parent = next,
            None => return false,
        }
    }
    let known_choice = message
        .starts_with("unknown variant")
        .then(|| message.split("expected").nth(1))
        .flatten()
        .and_then(|expected| expected.split('`').nth(1))
        .map(|choice| serde_json::Value::String(choice.to_owned()));
    match (last, known_choice) {
        (Segment::Map { key }, Some(choice)) => parent
            .get_mut(key.as_str())
            .map(|slot| *slot = choice)
            .is_some(),
        (Segment::Seq { index }, Some(choice)) => {
            parent.get_mut(*index).map(|slot| *slot = choice).is_some()
        }
        (Segment::Map { key }, None) => parent
            .as_object_mut()
            .and_then(|object| object.remove(key.as_str()))
            .is_some(),
        _ => false,
    }
}

fn malformed(message: &str) -> ApiError {
    ApiError::BadRequest {
        detail: format!("malformed JSON: {message}"),
        errors: Vec::new(),
    }
}

/// A query string, unknown parameters refused, then checked with `Validate`;
/// held like [`JsonBody`] so authorization comes first.
pub struct QueryParams<T>(Result<T, ApiError>);

impl<T> QueryParams<T> {
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T> FromRequest for QueryParams<T>
where
    T: DeserializeOwned + Validate + 'static,
{
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(Ok(QueryParams(parse_query(req.query_string()))))
    }
}

/// For PATCH bodies: tells an absent field (`None`) from an explicit null (`Some(None)`).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// For a field that may be left out but not sent as `null`: without it
/// serde reads `null` as absent, and a client that meant to clear the
/// field would be silently ignored. A `null` is then a 422 naming it.
pub fn not_null<'de, T, D>(de: D) -> Result<Option<T>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    T::deserialize(de).map(Some)
}

pub fn parse_query<T: DeserializeOwned + Validate>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner().to_string();
        ApiError::bad_query(field_of(e.path().to_string(), &inner), inner)
    })?;
    value.validate().map_err(|e| match ApiError::from(e) {
        ApiError::Validation(errors) => ApiError::BadRequest {
            detail: errors
                .iter()
                .map(|e| format!("query parameter `{}`: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            errors,
        },
        other => other,
    })?;
    Ok(value)
}

/// The field a serde error is about. serde_path_to_error's path already ends
/// in an unknown field's name; a missing field is named only in the message.
fn field_of(path: String, message: &str) -> String {
    // An unknown key that is empty leaves the path empty or ending in a dot;
    // the object holding it is named instead of nothing.
    let path = path.trim_end_matches('.').to_owned();
    let at_root = path.is_empty();
    if message.starts_with("missing field") {
        if let Some(name) = message.split('`').nth(1) {
            return if at_root {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            };
        }
    }
    if at_root {
        "body".to_owned()
    } else {
        path
    }
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    struct Body {
        #[validate(length(min = 1, max = 5))]
        name: String,
        #[allow(dead_code)]
        age: Option<u8>,
    }

    fn fields(err: ApiError) -> Vec<String> {
        match err {
            ApiError::Validation(errors) | ApiError::BadRequest { errors, .. } => {
                errors.into_iter().map(|e| e.field).collect()
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_missing_and_mistyped_fields_are_named() {
        assert_eq!(
            fields(parse_json::<Body>(br#"{"name":"a","extra":1}"#).unwrap_err()),
            ["extra"]
        );
        assert_eq!(
            fields(parse_json::<Body>(br#"{"age":1}"#).unwrap_err()),
            ["name"]
        );
        assert_eq!(
            fields(parse_json::<Body>(br#"{"name":"a","age":"x"}"#).unwrap_err()),
            ["age"]
        );
    }

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    struct Choices {
        #[allow(dead_code)]
        category: crate::domain::requests::Category,
        #[allow(dead_code)]
        urgency: crate::domain::requests::Urgency,
        #[validate(length(max = 3))]
        title: String,
        #[allow(dead_code)]
        flags: Vec<crate::domain::requests::Urgency>,
    }

    #[test]
    fn every_wrong_field_is_named_not_only_the_first() {
        let err = json_body::<Choices>(
            br#"{"category":"not-a-category","urgency":"whenever","title":"too long",
                 "flags":["high","soon"],"extra":1}"#,
        )
        .unwrap_err();
        let mut named = fields(err);
        named.sort();
        assert_eq!(named, ["category", "extra", "flags[1]", "title", "urgency"]);
        let err = json_body::<Choices>(br#"{"category":7,"urgency":"high"}"#).unwrap_err();
        assert_eq!(fields(err), ["category"], "a missing field is named once");
    }

    #[test]
    fn an_unknown_empty_key_names_the_object_that_holds_it() {
        assert_eq!(
            fields(parse_json::<Body>(br#"{"name":"a","":1}"#).unwrap_err()),
            ["body"]
        );
        assert_eq!(
            fields(parse_form::<Body>(b"name=a&=1").unwrap_err()),
            ["body"]
        );
    }

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    struct WithKind {
        #[allow(dead_code)]
        kind: crate::domain::requests::Urgency,
    }

    #[test]
    fn a_number_for_a_name_in_well_formed_json_is_a_field_error() {
        assert_eq!(
            fields(parse_json::<WithKind>(br#"{"kind": 1}"#).unwrap_err()),
            ["kind"]
        );
        assert!(matches!(
            parse_json::<WithKind>(br#"{"kind": 1"#).unwrap_err(),
            ApiError::BadRequest { .. }
        ));
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        assert!(matches!(
            parse_json::<Body>(b"{not json").unwrap_err(),
            ApiError::BadRequest { .. }
        ));
    }

    #[test]
    fn text_after_the_json_value_is_malformed_but_trailing_white_space_is_not() {
        for body in [
            &br#"{"name":"a"} {"name":"b"}"#[..],
            br#"{"name":"a"}x"#,
            br#"{"name":"a"}}"#,
        ] {
            assert!(matches!(
                parse_json::<Body>(body).unwrap_err(),
                ApiError::BadRequest { .. }
            ));
        }
        assert!(parse_json::<Body>(b"{\"name\":\"a\"}\n ").is_ok());
    }

    #[test]
    fn form_fields_are_named_like_json_fields() {
        assert_eq!(
            fields(parse_form::<Body>(b"name=a&extra=1").unwrap_err()),
            ["extra"]
        );
        assert_eq!(fields(parse_form::<Body>(b"age=1").unwrap_err()), ["name"]);
        let body: Body = parse_form(b"name=a%20b&age=3").unwrap();
        assert_eq!(body.name, "a b");
    }

    #[test]
    fn query_errors_name_the_parameter() {
        assert_eq!(
            fields(parse_query::<Body>("name=toolong").unwrap_err()),
            ["name"]
        );
        assert_eq!(
            fields(parse_query::<Body>("name=a&x=1").unwrap_err()),
            ["x"]
        );
        assert!(parse_query::<Body>("name=a&age=3").is_ok());
    }
}
