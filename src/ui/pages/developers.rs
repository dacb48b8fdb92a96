//! Developers: the Account SID, rotating the auth token (shown once), a curl example, and API
//! keys (create with the secret shown once, list, revoke).
use crate::server_fns::auth::CurrentUser;
use crate::server_fns::developers::{
    list_api_keys, ApiKeyView, CreateApiKey, RevokeApiKey, RotateAuthToken,
};
use crate::ui::components::confirm::ConfirmInline;
use crate::ui::components::create_once::{CreateByName, ShownOnce};
use crate::ui::components::form::alert;
use crate::ui::components::layout::{use_current_user, WithUser};
use crate::ui::components::otp::short_time;
use crate::ui::components::table::{headers, DataTable};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DevelopersPage() -> impl IntoView {
    let rotate = ServerAction::<RotateAuthToken>::new();
    let (confirming, set_confirming) = signal(false);
    view! {
        <Title text="Developers" />
        <h1>"Developers"</h1>
        <WithUser children=move |user| {
            view! { <Credentials user rotate confirming set_confirming /> }
        } />
        <ApiKeys />
    }
}

/// Credentials and the curl example, for the signed-in user's account and role.
#[component]
fn Credentials(
    user: CurrentUser,
    rotate: ServerAction<RotateAuthToken>,
    confirming: ReadSignal<bool>,
    set_confirming: WriteSignal<bool>,
) -> impl IntoView {
    let may_rotate = user.role.rotates_auth_token();
    let sid = user.account_sid.to_string();
    let curl = format!(
        "curl -u {sid}:$AUTH_TOKEN {}/2fa/accounts/{sid}",
        user.api_base
    );
    view! {
        <section class="card">
            <h2>"API credentials"</h2>
            <dl class="facts">
                <dt>"Account SID"</dt>
                <dd>
                    <code>{sid.clone()}</code>
                </dd>
                <dt>"Auth token"</dt>
                <dd>
                    "Shown only when the account is created or the token is rotated; smart2fa keeps only a hash."
                </dd>
            </dl>
            {move || match rotate.value().get() {
                Some(Ok(token)) => {
                    view! {
                        <div class="notice success" role="status">
                            <p>"New auth token. Copy it now: it will not be shown again."</p>
                            <code class="secret" data-testid="new-token">
                                {token}
                            </code>
                        </div>
                    }
                        .into_any()
                }
                Some(Err(e)) => alert(e.message),
                None => ().into_any(),
            }}
            {may_rotate
                .then(|| {
                    view! {
                        <Show
                            when=move || confirming.get()
                            fallback=move || {
                                view! {
                                    <button
                                        class="danger"
                                        on:click=move |_| set_confirming.set(true)
                                    >
                                        "Rotate auth token…"
                                    </button>
                                }
                            }
                        >
                            <div class="confirm">
                                <p>
                                    "The current token stops working immediately. Every integration using it must be updated."
                                </p>
                                <button
                                    class="danger"
                                    on:click=move |_| {
                                        rotate.dispatch(RotateAuthToken {});
                                        set_confirming.set(false);
                                    }
                                >
                                    "Rotate now"
                                </button>
                                <button on:click=move |_| {
                                    set_confirming.set(false)
                                }>"Keep the current token"</button>
                            </div>
                        </Show>
                    }
                })}
            {(!may_rotate)
                .then(|| {
                    view! {
                        <p class="muted">
                            "Only admins can rotate the auth token (your role: " {user.role.label()}
                            ")."
                        </p>
                    }
                })}
        </section>
        <section class="card">
            <h2>"Try the API"</h2>
            <p>"With your auth token in " <code>"$AUTH_TOKEN"</code> ":"</p>
            <pre class="code">{curl}</pre>
        </section>
    }
}

/// API keys: each integration gets its own, so one can be revoked without touching the others.
/// Creating needs JavaScript: the secret is shown once, on this page.
#[component]
fn ApiKeys() -> impl IntoView {
    let user = use_current_user();
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    let confirm = RwSignal::new(None::<String>);
    view! {
        <section class="card api-keys" aria-label="API keys">
            <h2>"API keys"</h2>
            <p class="muted">
                "A key authenticates as this account: HTTP Basic with the key's SID (SK…) as the user name and its secret as the password. "
                "Give each integration its own key, so one can be revoked without touching the others."
            </p>
            {move || match create.value().get() {
                Some(Ok(new)) => {
                    view! {
                        <ShownOnce
                            sid=("Key SID", "new-key-sid", new.key.sid.clone())
                            secret=("Secret", "new-key-secret", new.secret.clone())
                        >
                            "Key "
                            <strong>{new.key.name.clone()}</strong>
                            " created. Copy its secret now: it will not be shown again."
                        </ShownOnce>
                    }
                        .into_any()
                }
                Some(Err(e)) => alert(e.message),
                None => ().into_any(),
            }}
            {move || revoke.value().get().and_then(|r| r.err()).map(|e| alert(e.message))}
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading API keys…"</p> }
            }>
                {move || Suspend::new(async move {
                    let may_manage = user.await.is_ok_and(|u| u.role.manages_credentials());
                    let form = may_manage
                        .then(|| {
                            view! {
                                <CreateByName
                                    id="key-name"
                                    label="New key's name"
                                    placeholder="checkout-service"
                                    button="Create key"
                                    needs_js="Creating a key needs JavaScript: its secret is shown once, on this page."
                                    pending=create.pending()
                                    created=Signal::derive(move || {
                                        matches!(create.value().get(), Some(Ok(_)))
                                    })
                                    on_create=Callback::new(move |name| {
                                        create.dispatch(CreateApiKey { name });
                                    })
                                />
                            }
                        });
                    let list = match keys.await {
                        Err(e) => alert(e.message),
                        Ok(all) => {
                            view! {
                                <DataTable
                                    label="API keys"
                                    headers=headers(&["Name", "Key SID", "Created", "Status", ""])
                                    rows=all
                                    row=move |k: ApiKeyView| {
                                        view! { <KeyRow k may_manage revoke confirm /> }
                                    }
                                    empty=|| {
                                        view! {
                                            <p class="empty">
                                                "No API keys yet. The auth token above works too; a key per integration is easier to revoke."
                                            </p>
                                        }
                                    }
                                />
                            }
                                .into_any()
                        }
                    };
                    view! {
                        {form}
                        {list}
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn KeyRow(
    k: ApiKeyView,
    may_manage: bool,
    revoke: ServerAction<RevokeApiKey>,
    confirm: RwSignal<Option<String>>,
) -> impl IntoView {
    let status = match &k.revoked {
        Some(at) => format!("Revoked {}", short_time(at)),
        None => "Active".to_owned(),
    };
    let action = (may_manage && k.revoked.is_none()).then(|| {
        let sid = k.sid.clone();
        view! {
            <ConfirmInline
                key=k.sid.clone()
                asking=confirm
                ask="Revoke…"
                question=format!("Revoke {}? Calls with it are refused at once.", k.name)
                act="Revoke"
                on_confirm=Callback::new(move |()| {
                    revoke.dispatch(RevokeApiKey { sid: sid.clone() });
                })
            />
        }
    });
    view! {
        <tr data-key=k.name.clone() class:revoked=k.revoked.is_some()>
            <td>
                <strong>{k.name.clone()}</strong>
            </td>
            <td>
                <code>{k.sid.clone()}</code>
            </td>
            <td class="nowrap">{short_time(&k.created)}</td>
            <td data-testid="key-status">{status}</td>
            <td class="actions">{action}</td>
        </tr>
    }
}
