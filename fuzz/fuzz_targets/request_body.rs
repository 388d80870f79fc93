//! Arbitrary bytes as the body of `POST /api/v1/requests`, read as the
//! handler reads it (`JsonBody<SubmitRequest>`: parse, then `Validate`), then
//! the submission workflow's own rule on the young person's age. Every body
//! must be accepted or refused with a problem the client can act on, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nru_helpdesk::api::extract::json_body;
use nru_helpdesk::api::requests::input::SubmitRequest;
use nru_helpdesk::domain::requests::age_problem;
use nru_helpdesk::error::ApiError;

fuzz_target!(|data: &[u8]| {
    let one_json_value = serde_json::from_slice::<serde_json::Value>(data).is_ok();
    match json_body::<SubmitRequest>(data) {
        Ok(body) => {
            assert!(one_json_value, "accepted a body that is not one JSON value");
            if let Some((field, _)) = age_problem(body.young_person.age, body.young_person.age_band)
            {
                assert!(field.starts_with("young_person."), "age problem names {field}");
            }
        }
        // 422: well-formed but wrong; each error names the field at fault.
        Err(ApiError::Validation(errors)) => {
            assert!(!errors.is_empty(), "a validation error without fields");
            for error in errors {
                assert!(!error.field.is_empty(), "unnamed field: {}", error.message);
            }
        }
        // 400: only for bytes that are not one JSON value.
        Err(ApiError::BadRequest { detail, .. }) => {
            assert!(!one_json_value, "one JSON value refused as malformed: {detail}");
        }
        Err(other) => panic!("a body can only be accepted, invalid or malformed, not {other:?}"),
    }
});
