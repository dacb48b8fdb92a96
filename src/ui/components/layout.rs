//! The signed-in frame: header with account and user, navigation, and the page outlet.
//! Loads the current user once; without a session it redirects to the login page.
use crate::server_fns::auth::{whoami, CurrentUser, Logout};
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};

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

#[component]
pub fn ConsoleLayout() -> impl IntoView {
    let user = Resource::new(|| (), |_| whoami());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(u) => view! { <SignedIn user=u/> }.into_any(),
                    Err(_) => view! { <Redirect path="/login"/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SignedIn(user: CurrentUser) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let account_name = user.account_name.clone();
    provide_context(user.clone());
    view! {
        <div class="console">
            <header class="topbar">
                <a class="brand" href="/">"smart2fa"</a>
                <span class="account" data-testid="account-name">{account_name}</span>
                <span class="spacer"></span>
                <span class="who">{user.email.clone()}" · "{user.role.label()}</span>
                <ActionForm action=logout attr:class="inline">
                    <button type="submit" class="link">"Sign out"</button>
                </ActionForm>
            </header>
            <nav class="sidenav" aria-label="Console">
                <ul>
                    {NAV
                        .iter()
                        .map(|(href, label)| view! { <li><A href=*href exact=true>{*label}</A></li> })
                        .collect_view()}
                </ul>
            </nav>
            <main class="content">
                <Outlet/>
            </main>
        </div>
    }
}

/// The signed-in user, for pages inside the layout.
pub fn use_current_user() -> CurrentUser {
    expect_context::<CurrentUser>()
}
