//! The OpenAPI 3 document of the `/2fa` API, generated from the handlers themselves (each
//! carries its `#[utoipa::path]`) and their wire types (the types requests deserialize into
//! and answers serialize from); served at `/2fa/openapi.json`. A test checks real answers
//! against it as well.
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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

#[derive(OpenApi)]
#[openapi(
    info(title = "smart2fa API", description = "Send, verify and cancel one-time codes by SMS, voice call or email; search session detail records. Every path also answers with a .json suffix. Errors are always the JSON envelope."),
    paths(super::otps::send, super::otps::verify, super::otps::cancel, super::otps::search, super::otps::sdr_one, super::otps::sandbox_messages, super::accounts::create, super::accounts::list, super::accounts::get_one, super::accounts::update, super::limits::create, super::limits::list, super::limits::get_one, super::limits::update, super::limits::delete, super::usage::totals, super::usage::by_period, super::error_codes::list, super::providers::create, super::providers::list, super::providers::get_one, super::providers::update, super::providers::delete, super::providers::test, super::settings::get, super::settings::update, super::settings::rotate_callback_secret, super::settings::get_countries, super::settings::update_countries, super::fraud::get, super::fraud::update, super::fraud::blocks, super::fraud::lift, super::templates::list, super::templates::get_one, super::templates::update, super::templates::delete, super::audit::list),
    modifiers(&BasicAuth),
    security(("basic" = [])),
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
