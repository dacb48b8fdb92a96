//! The console: the HTML shell, the router, pages and shared components.
pub mod components;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

use components::layout::ConsoleLayout;
use pages::audit::AuditPage;
use pages::{
    channels::ChannelsPage, countries::CountriesPage, defaults::DefaultsPage,
    developers::DevelopersPage, fraud::FraudGuardPage, home::HomePage, limits::LimitsPage,
    login::LoginPage, not_found::NotFound, otps::OtpsPage, sdr::SdrPage, send::SendPage,
    subaccounts::SubAccountsPage, templates::TemplatesPage, usage::UsagePage, users::UsersPage,
};

/// The document around the app, rendered on the server.
pub fn shell(options: leptos::config::LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Marks the page as interactive, so tests (and people) know clicks are handled.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/smart2fa.css" />
        <Title formatter=|t: String| {
            if t.is_empty() { "smart2fa".to_string() } else { format!("{t} · smart2fa") }
        } />
        <Router>
            <Routes fallback=NotFound>
                <Route path=StaticSegment("login") view=LoginPage />
                <ParentRoute path=StaticSegment("") view=ConsoleLayout ssr=SsrMode::Async>
                    <Route path=StaticSegment("") view=HomePage />
                    <Route path=StaticSegment("developers") view=DevelopersPage />
                    <Route path=StaticSegment("send") view=SendPage />
                    <Route path=StaticSegment("otps") view=OtpsPage />
                    <Route path=(StaticSegment("otps"), ParamSegment("id")) view=SdrPage />
                    <Route path=StaticSegment("usage") view=UsagePage />
                    <Route path=StaticSegment("limits") view=LimitsPage />
                    <Route path=StaticSegment("settings") view=ChannelsPage />
                    <Route
                        path=(StaticSegment("settings"), StaticSegment("channels"))
                        view=ChannelsPage
                    />
                    <Route
                        path=(StaticSegment("settings"), StaticSegment("defaults"))
                        view=DefaultsPage
                    />
                    <Route
                        path=(StaticSegment("settings"), StaticSegment("templates"))
                        view=TemplatesPage
                    />
                    <Route
                        path=(StaticSegment("settings"), StaticSegment("countries"))
                        view=CountriesPage
                    />
                    <Route
                        path=(StaticSegment("settings"), StaticSegment("fraud"))
                        view=FraudGuardPage
                    />
                    <Route path=StaticSegment("subaccounts") view=SubAccountsPage />
                    <Route path=StaticSegment("users") view=UsersPage />
                    <Route path=StaticSegment("audit") view=AuditPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
