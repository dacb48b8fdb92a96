//! Users: the account's console users. Admins add a user (email, role, initial password), change
//! roles and disable or enable users; the account always keeps an active admin. Others read.
use crate::domain::Role;
use crate::server_fns::users::{list_users, AddUser, SetUserDisabled, SetUserRole, UserView};
use crate::ui::components::layout::use_current_user;
use crate::ui::components::otp::short_time;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn UsersPage() -> impl IntoView {
    let user = use_current_user();
    let add = ServerAction::<AddUser>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let set_disabled = ServerAction::<SetUserDisabled>::new();
    let users = Resource::new(
        move || {
            (
                add.version().get(),
                set_role.version().get(),
                set_disabled.version().get(),
            )
        },
        |_| list_users(),
    );
    let (confirm, set_confirm) = signal(None::<String>);
    // Set in the browser once the list is loaded and interactive (tests wait for it).
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| {
        if users.get().is_some() {
            set_ready.set(true);
        }
    });
    let add_error = move |field: &'static str| {
        move || match add.value().get() {
            Some(Err(e)) if e.field.as_deref() == Some(field) => {
                Some(view! { <p class="error field-error" role="alert">{e.message}</p> })
            }
            _ => None,
        }
    };
    let change_error = move || {
        let role_err = set_role.value().get().and_then(|r| r.err());
        let disabled_err = set_disabled.value().get().and_then(|r| r.err());
        role_err
            .or(disabled_err)
            .map(|e| view! { <p class="error" role="alert">{e.message}</p> })
    };
    view! {
        <Title text="Users"/>
        <h1>"Users"</h1>
        <p class="muted">
            "Admins manage everything; developers send test OTPs and manage limits and API keys; support staff search, open and cancel OTPs and read reports."
        </p>
        {change_error}
        <div class="users-list" data-ready=move || ready.get().to_string()>
        <Suspense fallback=|| view! { <p class="loading">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                let me = user.await.ok();
                let is_admin = me.as_ref().is_some_and(|u| u.role == Role::Admin);
                let my_sid = me.map(|u| u.user_sid.to_string()).unwrap_or_default();
                let add_form = is_admin.then(|| view! {
                    <section class="card user-form" aria-label="Add a user">
                        <h2>"Add a user"</h2>
                        <ActionForm action=add>
                            <div class="row">
                                <div class="field">
                                    <label for="user-email">"Email"</label>
                                    <input id="user-email" name="email" type="email" autocomplete="off" required/>
                                    {add_error("email")}
                                </div>
                                <div class="field">
                                    <label for="user-role">"Role"</label>
                                    <select id="user-role" name="role">
                                        {Role::ALL.iter().map(|r| view! { <option value=r.as_str() selected=*r == Role::Support>{r.label()}</option> }).collect_view()}
                                    </select>
                                    {add_error("role")}
                                </div>
                                <div class="field">
                                    <label for="user-password">"Initial password"</label>
                                    <input id="user-password" name="password" type="password" autocomplete="new-password" minlength="10" required/>
                                    {add_error("password")}
                                </div>
                            </div>
                            <p class="muted">"Pass the password on to the new user over a channel you trust."</p>
                            <button class="primary" type="submit">"Add user"</button>
                            {move || match add.value().get() {
                                Some(Ok(())) => Some(view! { <p class="notice success" role="status">"User added. They can sign in now."</p> }.into_any()),
                                Some(Err(e)) if !matches!(e.field.as_deref(), Some("email" | "role" | "password")) =>
                                    Some(view! { <p class="error" role="alert">{e.message}</p> }.into_any()),
                                _ => None,
                            }}
                        </ActionForm>
                    </section>
                });
                let table = match users.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(all) => view! {
                        <table class="data" aria-label="Users">
                            <thead><tr><th>"Email"</th><th>"Role"</th><th>"Status"</th><th>"Last sign-in"</th><th></th></tr></thead>
                            <tbody>
                                {all.into_iter().map(|u| {
                                    let me = u.sid == my_sid;
                                    view! { <UserRow u is_admin me set_role set_disabled confirm set_confirm/> }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                };
                view! { {table} {add_form} }
            })}
        </Suspense>
        </div>
    }
}

#[component]
fn UserRow(
    u: UserView,
    is_admin: bool,
    me: bool,
    set_role: ServerAction<SetUserRole>,
    set_disabled: ServerAction<SetUserDisabled>,
    confirm: ReadSignal<Option<String>>,
    set_confirm: WriteSignal<Option<String>>,
) -> impl IntoView {
    let sid = u.sid.clone();
    let role_cell = if is_admin {
        let sid = sid.clone();
        let current = u.role;
        // The select shows the stored role again when a change is refused (the browser would
        // otherwise keep showing the choice that did not happen).
        let (shown, set_shown) = signal(current.as_str().to_owned());
        Effect::new(move |_| {
            if let Some(Err(_)) = set_role.value().get() {
                set_shown.set(current.as_str().to_owned());
            }
        });
        view! {
            <select aria-label=format!("Role of {}", u.email) prop:value=shown on:change=move |ev| {
                let role = event_target_value(&ev);
                set_shown.set(role.clone());
                set_role.dispatch(SetUserRole { sid: sid.clone(), role });
            }>
                {Role::ALL.iter().map(|r| view! { <option value=r.as_str() selected=*r == current>{r.label()}</option> }).collect_view()}
            </select>
        }
        .into_any()
    } else {
        u.role.label().into_any()
    };
    let action = (is_admin && !me).then(|| {
        if u.disabled {
            let sid = sid.clone();
            view! {
                <button on:click=move |_| { set_disabled.dispatch(SetUserDisabled { sid: sid.clone(), disabled: false }); }>"Enable"</button>
            }
            .into_any()
        } else {
            let (sid_ask, sid_show, sid_do) = (sid.clone(), sid.clone(), sid.clone());
            let email = u.email.clone();
            view! {
                <Show when=move || confirm.get().as_deref() == Some(sid_show.as_str())
                    fallback=move || { let sid = sid_ask.clone(); view! {
                        <button class="danger" on:click=move |_| set_confirm.set(Some(sid.clone()))>"Disable…"</button>
                    } }>
                    <span class="confirm-inline">
                        {format!("Disable {email}? They are signed out at once.")}
                        <button class="danger" on:click={let sid = sid_do.clone(); move |_| { set_disabled.dispatch(SetUserDisabled { sid: sid.clone(), disabled: true }); set_confirm.set(None); }}>"Disable"</button>
                        <button on:click=move |_| set_confirm.set(None)>"Keep"</button>
                    </span>
                </Show>
            }
            .into_any()
        }
    });
    view! {
        <tr data-user=u.email.clone() class:revoked=u.disabled>
            <td>{u.email.clone()}{me.then(|| view! { " " <span class="muted">"(you)"</span> })}</td>
            <td>{role_cell}</td>
            <td data-testid="user-status">{if u.disabled { "Disabled" } else { "Active" }}</td>
            <td class="nowrap">{u.last_login.as_deref().map(short_time).unwrap_or_else(|| "never".into())}</td>
            <td class="actions">{action}</td>
        </tr>
    }
}
