//! Users: the account's console users. Admins add a user (email, role, initial password), change
//! roles and disable or enable users; the account always keeps an active admin. Others read.
use crate::domain::Role;
use crate::server_fns::users::{list_users, AddUser, SetUserDisabled, SetUserRole, UserView};
use crate::ui::components::confirm::ConfirmInline;
use crate::ui::components::form::{
    action_field_error, action_other_error, alert, SelectField, SelectOption, TextField,
};
use crate::ui::components::layout::use_current_user;
use crate::ui::components::otp::short_time;
use crate::ui::components::table::{headers, DataTable};
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
    let confirm = RwSignal::new(None::<String>);
    // Set in the browser once the list is loaded and interactive (tests wait for it).
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| {
        if users.get().is_some() {
            set_ready.set(true);
        }
    });
    let add_error = move |field: &'static str| action_field_error(add, field);
    let change_error = move || {
        let role_err = set_role.value().get().and_then(|r| r.err());
        let disabled_err = set_disabled.value().get().and_then(|r| r.err());
        role_err.or(disabled_err).map(|e| alert(e.message))
    };
    view! {
        <Title text="Users" />
        <h1>"Users"</h1>
        <p class="muted">
            "Admins manage everything; developers send test OTPs and manage limits and API keys; support staff search, open and cancel OTPs and read reports."
        </p>
        {change_error}
        <div class="users-list" data-ready=move || ready.get().to_string()>
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading users…"</p> }
            }>
                {move || Suspend::new(async move {
                    let me = user.await.ok();
                    let is_admin = me.as_ref().is_some_and(|u| u.role == Role::Admin);
                    let my_sid = me.map(|u| u.user_sid.to_string()).unwrap_or_default();
                    let add_form = is_admin
                        .then(|| {
                            view! {
                                <section class="card user-form" aria-label="Add a user">
                                    <h2>"Add a user"</h2>
                                    <ActionForm action=add>
                                        <div class="row">
                                            <TextField
                                                id="user-email"
                                                name="email"
                                                label="Email"
                                                kind="email"
                                                autocomplete="off"
                                                required=true
                                                error=add_error("email")
                                            />
                                            <SelectField
                                                id="user-role"
                                                name="role"
                                                label="Role"
                                                options=role_options()
                                                selected=Role::Support.as_str()
                                                error=add_error("role")
                                            />
                                            <TextField
                                                id="user-password"
                                                name="password"
                                                label="Initial password"
                                                kind="password"
                                                autocomplete="new-password"
                                                minlength=10
                                                required=true
                                                error=add_error("password")
                                                hint="At least 10 characters. Pass it on to the new user over a channel you trust."
                                            />
                                        </div>
                                        <button class="primary" type="submit">
                                            "Add user"
                                        </button>
                                        {move || {
                                            matches!(add.value().get(), Some(Ok(())))
                                                .then(|| {
                                                    view! {
                                                        <p class="notice success" role="status">
                                                            "User added. They can sign in now."
                                                        </p>
                                                    }
                                                })
                                        }}
                                        {action_other_error(add, &["email", "role", "password"])}
                                    </ActionForm>
                                </section>
                            }
                        });
                    let table = match users.await {
                        Err(e) => alert(e.message),
                        Ok(all) => {
                            view! {
                                <DataTable
                                    label="Users"
                                    headers=headers(
                                        &["Email", "Role", "Status", "Last sign-in", ""],
                                    )
                                    rows=all
                                    row=move |u: UserView| {
                                        let me = u.sid == my_sid;
                                        view! {
                                            <UserRow u is_admin me set_role set_disabled confirm />
                                        }
                                    }
                                />
                            }
                                .into_any()
                        }
                    };
                    view! {
                        {table}
                        {add_form}
                    }
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
    confirm: RwSignal<Option<String>>,
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
            <select
                aria-label=format!("Role of {}", u.email)
                prop:value=shown
                on:change=move |ev| {
                    let role = event_target_value(&ev);
                    set_shown.set(role.clone());
                    set_role
                        .dispatch(SetUserRole {
                            sid: sid.clone(),
                            role,
                        });
                }
            >
                {role_options()
                    .into_iter()
                    .map(|(value, text)| {
                        view! {
                            <option value=value selected=value == current.as_str()>
                                {text}
                            </option>
                        }
                    })
                    .collect_view()}
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
                <button on:click=move |_| {
                    set_disabled
                        .dispatch(SetUserDisabled {
                            sid: sid.clone(),
                            disabled: false,
                        });
                }>"Enable"</button>
            }
            .into_any()
        } else {
            let key = sid.clone();
            view! {
                <ConfirmInline
                    key
                    asking=confirm
                    ask="Disable…"
                    question=format!("Disable {}? They are signed out at once.", u.email)
                    act="Disable"
                    on_confirm=Callback::new(move |()| {
                        set_disabled
                            .dispatch(SetUserDisabled {
                                sid: sid.clone(),
                                disabled: true,
                            });
                    })
                />
            }
            .into_any()
        }
    });
    view! {
        <tr data-user=u.email.clone() class:revoked=u.disabled>
            <td>
                {u.email.clone()}
                {me
                    .then(|| {
                        view! {
                            " "
                            <span class="muted">"(you)"</span>
                        }
                    })}
            </td>
            <td>{role_cell}</td>
            <td data-testid="user-status">{if u.disabled { "Disabled" } else { "Active" }}</td>
            <td class="nowrap">
                {u.last_login.as_deref().map(short_time).unwrap_or_else(|| "never".into())}
            </td>
            <td class="actions">{action}</td>
        </tr>
    }
}

/// Every role, as the role selects offer them.
fn role_options() -> Vec<SelectOption> {
    Role::ALL
        .into_iter()
        .map(|r| (r.as_str(), r.label().to_owned()))
        .collect()
}
