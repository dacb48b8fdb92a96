//! The signed-in frame: header with account and user, navigation, and the page outlet.
//! Loads the current user once; without a session it redirects to the login page.
//!
//! The outlet sits outside every reactive closure and `Suspend`: during server rendering Leptos
//! invokes such closures twice (a dry run, then the real one), so a page built inside one would
//! create its resources twice and the browser could hydrate against the data of the discarded
//! copy. Pages therefore create their resources at their top level and await the user where
//! they need it ([`WithUser`] or [`use_current_user`]).
use crate::domain::ConsoleError;
use crate::server_fns::auth::{whoami, CurrentUser, Logout};
use crate::server_fns::subaccounts::SwitchAccount;
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use std::sync::Arc;

/// The navigation of console.md, in order.
pub const NAV: [(&str, &str); 10] = [
    ("/", "Home"),
    ("/send", "Send test OTP"),
    ("/otps", "OTPs"),
    ("/usage", "Usage"),
    ("/limits", "Limits"),
    ("/settings", "Settings"),
    ("/developers", "Developers"),
    ("/subaccounts", "Sub-accounts"),
    ("/users", "Users"),
    ("/audit", "Audit log"),
];

/// The signed-in user, loaded once by the layout.
pub type UserResource = Resource<Result<CurrentUser, ConsoleError>>;

#[derive(Clone, Copy)]
struct CurrentUserContext(UserResource);

#[component]
pub fn ConsoleLayout() -> impl IntoView {
    let user: UserResource = Resource::new(|| (), |_| whoami());
    provide_context(CurrentUserContext(user));
    let logout = ServerAction::<Logout>::new();
    view! {
        <div class="console">
            <header class="topbar">
                <a class="brand" href="/">
                    "smart2fa"
                </a>
                <Suspense fallback=|| {
                    view! { <span class="spacer"></span> }
                }>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(u) => {
                                view! {
                                    {u
                                        .home_account_name
                                        .clone()
                                        .map(|home| {
                                            view! {
                                                <span class="home-account">{home.clone()}" ›"</span>
                                            }
                                        })}
                                    <span class="account" data-testid="account-name">
                                        {u.account_name}
                                    </span>
                                    {u.home_account_name.map(|home| view! { <BackHome home /> })}
                                    <span class="spacer"></span>
                                    <span class="who">{u.email}" · "{u.role.label()}</span>
                                }
                                    .into_any()
                            }
                            Err(_) => view! { <Redirect path="/login" /> }.into_any(),
                        }
                    })}
                </Suspense>
                <ActionForm action=logout attr:class="inline">
                    <button type="submit" class="link">
                        "Sign out"
                    </button>
                </ActionForm>
            </header>
            <nav class="sidenav" aria-label="Console">
                <ul>
                    {NAV
                        .iter()
                        .map(|(href, label)| {
                            view! {
                                <li>
                                    <A href=*href exact=true>
                                        {*label}
                                    </A>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
            <main class="content">
                <Outlet />
            </main>
        </div>
    }
}

/// The signed-in user, for pages inside the layout: await it inside a `Suspend`.
pub fn use_current_user() -> UserResource {
    expect_context::<CurrentUserContext>().0
}

/// Renders its children with the signed-in user once it is known (nothing without a session:
/// the layout redirects to the login page then).
#[component]
pub fn WithUser<F, V>(children: F) -> impl IntoView
where
    F: Fn(CurrentUser) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let user = use_current_user();
    let children = Arc::new(children);
    view! {
        <Suspense fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || {
                let children = Arc::clone(&children);
                Suspend::new(async move { user.await.ok().map(|u| children(u)) })
            }}
        </Suspense>
    }
}

/// While the console works on a sub-account: back to the user's own account (a full reload, so
/// every page and the header load that account again).
#[component]
fn BackHome(home: String) -> impl IntoView {
    let switch = ServerAction::<SwitchAccount>::new();
    reload_after(switch);
    view! {
        <button
            class="link back-home"
            on:click=move |_| {
                switch
                    .dispatch(SwitchAccount {
                        sid: String::new(),
                    });
            }
        >
            {format!("Back to {home}")}
        </button>
    }
}

/// Once `switch` succeeded, reloads the console at its home page.
pub fn reload_after(switch: ServerAction<SwitchAccount>) {
    Effect::new(move |_| {
        if let Some(Ok(())) = switch.value().get() {
            #[cfg(feature = "hydrate")]
            let _ = window().location().set_href("/");
        }
    });
}
