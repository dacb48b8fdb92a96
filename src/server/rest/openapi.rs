//! The OpenAPI 3 document of the `/2fa` API, generated from the handlers themselves (each
//! carries its `#[utoipa::path]`) and their wire types (the types requests deserialize into
//! and answers serialize from); served at `/2fa/openapi.json`. A test checks real answers
//! against it as well.
use axum::Json;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

struct BasicAuth;

impl Modify for BasicAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("AccountSid:AuthToken (or ApiKeySid:ApiKeySecret)"))
                    .build(),
            ),
        );
    }
}

/// The errors any operation can answer, whatever it does (see Conventions and Authentication in
/// the API docs): every handler reads its input through `ApiInput` (query and body, `accountSid`
/// on every call) and sits behind Basic auth and its throttle. An operation documents its own
/// errors with their codes; these fill in the ones it leaves out, so the document lists every
/// status a client can get.
struct CommonErrors;

const ANY_OPERATION: [(&str, &str); 5] = [
    ("400", "7004 a parameter is invalid (`field` names it; also `accountSid`, `Page`, `PageSize`), 7005 the body is malformed"),
    ("401", "7001 missing or wrong credentials (header `WWW-Authenticate`)"),
    ("403", "7002 the account is not active, or `accountSid` names an account these credentials may not act for"),
    ("404", "7003 not found (also an `accountSid` that is not the caller's or a sub-account's)"),
    ("429", "7060 too many failed authentications from this address (`retryAfter`, header `Retry-After`)"),
];

const WITH_BODY: [(&str, &str); 2] = [
    ("413", "7005 the body is larger than the server accepts"),
    (
        "415",
        "7005 the content type is neither application/json nor application/x-www-form-urlencoded",
    ),
];

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for op in operations_mut(item) {
                add_errors(op, &ANY_OPERATION);
                if op.request_body.is_some() {
                    add_errors(op, &WITH_BODY);
                }
            }
        }
    }
}

fn add_errors(op: &mut Operation, errors: &[(&str, &str)]) {
    for (status, description) in errors {
        op.responses
            .responses
            .entry((*status).to_owned())
            .or_insert_with(|| {
                RefOr::T(
                    Response::builder()
                        .description(*description)
                        .content(
                            "application/json",
                            Content::new(Some(Ref::from_schema_name("ErrorEnvelope"))),
                        )
                        .build(),
                )
            });
    }
}

/// Operation ids are the handlers' names, and several modules name theirs alike (`get_one`,
/// `update`, `list`…): OpenAPI wants each id once, and clients and tools find operations by it
/// (link following, generated method names). An id used more than once gets the path's fixed
/// segments in front (`limits_get_one`, `settings_fraudGuard_get`).
struct UniqueOperationIds;

impl Modify for UniqueOperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut seen = std::collections::HashMap::<String, usize>::new();
        for item in openapi.paths.paths.values() {
            for op in operations(item) {
                if let Some(id) = &op.operation_id {
                    *seen.entry(id.clone()).or_default() += 1;
                }
            }
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let prefix = path
                .trim_start_matches("/2fa/")
                .split('/')
                .filter(|s| !s.starts_with('{'))
                .collect::<Vec<_>>()
                .join("_");
            for op in operations_mut(item) {
                if let Some(id) = &op.operation_id {
                    if seen.get(id).copied().unwrap_or(0) > 1 {
                        op.operation_id = Some(format!("{prefix}_{id}"));
                    }
                }
            }
        }
    }
}

fn operations(item: &PathItem) -> impl Iterator<Item = &Operation> {
    [&item.get, &item.put, &item.post, &item.delete, &item.patch]
        .into_iter()
        .flatten()
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "smart2fa API", description = "Send, verify and cancel one-time codes by SMS, voice call or email; search session detail records. Every path also answers with a .json suffix. Errors are always the JSON envelope."),
    paths(super::otps::send, super::otps::verify, super::otps::cancel, super::otps::search, super::otps::sdr_one, super::otps::sandbox_messages, super::accounts::create, super::accounts::list, super::accounts::get_one, super::accounts::update, super::limits::create, super::limits::list, super::limits::get_one, super::limits::update, super::limits::delete, super::usage::totals, super::usage::by_period, super::error_codes::list, super::providers::create, super::providers::list, super::providers::get_one, super::providers::update, super::providers::delete, super::providers::test, super::settings::get, super::settings::update, super::settings::rotate_callback_secret, super::settings::get_countries, super::settings::update_countries, super::fraud::get, super::fraud::update, super::fraud::blocks, super::fraud::lift, super::templates::list, super::templates::get_one, super::templates::update, super::templates::delete, super::audit::list),
    modifiers(&BasicAuth, &CommonErrors, &UniqueOperationIds),
    security(("basic" = [])),
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
