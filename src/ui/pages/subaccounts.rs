//! Sub-accounts of the signed-in user's own account: create (the auth token shown once), rename,
//! suspend, reactivate, close; switch the console into one. Admins change; every role switches.
use crate::domain::{AccountStatus, Role};
use crate::server_fns::subaccounts::{
    list_subaccounts, CreateSubaccount, SubAccountView, SwitchAccount, UpdateSubaccount,
};
use crate::ui::components::confirm::ConfirmInline;
use crate::ui::components::create_once::{CreateByName, ShownOnce};
use crate::ui::components::form::alert;
use crate::ui::components::layout::{reload_after, use_current_user};
use crate::ui::components::otp::short_time;
use crate::ui::components::table::{headers, DataTable, EmptyCard};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SubAccountsPage() -> impl IntoView {
    let user = use_current_user();
    let create = ServerAction::<CreateSubaccount>::new();
    let update = ServerAction::<UpdateSubaccount>::new();
    let switch = ServerAction::<SwitchAccount>::new();
    reload_after(switch);
    let subs = Resource::new(
        move || (create.version().get(), update.version().get()),
        |_| list_subaccounts(),
    );
    let ctx = RowCtx {
        update,
        switch,
        confirm: RwSignal::new(None),
    };
    view! {
        <Title text="Sub-accounts" />
        <h1>"Sub-accounts"</h1>
        <p class="muted">
            "A sub-account has its own OTPs, limits, credentials, users and usage; its API calls use its own AccountSid and auth token, or yours with "
            <code>"accountSid"</code> ". Switch into one to work on it here."
        </p>
        {move || match create.value().get() {
            Some(Ok(new)) => {
                view! {
                    <ShownOnce
                        sid=("Account SID", "new-sub-sid", new.account.sid.clone())
                        secret=("Auth token", "new-sub-token", new.auth_token.clone())
                    >
                        "Sub-account "
                        <strong>{new.account.name.clone()}</strong>
                        " created. Copy its auth token now: it will not be shown again."
                    </ShownOnce>
                }
                    .into_any()
            }
            Some(Err(e)) => alert(e.message),
            None => ().into_any(),
        }}
        {move || {
            let err = update
                .value()
                .get()
                .and_then(|r| r.err())
                .or_else(|| switch.value().get().and_then(|r| r.err()));
            err.map(|e| alert(e.message))
        }}
        <Suspense fallback=|| {
            view! { <p class="loading">"Loading sub-accounts…"</p> }
        }>
            {move || Suspend::new(async move {
                let me = user.await.ok();
                let is_admin = me.as_ref().is_some_and(|u| u.role == Role::Admin);
                let current = me.as_ref().map(|u| u.account_sid.to_string()).unwrap_or_default();
                let form = is_admin
                    .then(|| {
                        view! {
                            <CreateByName
                                id="sub-name"
                                label="New sub-account's name"
                                placeholder="Acme EU"
                                button="Create sub-account"
                                needs_js="Creating a sub-account needs JavaScript: its auth token is shown once, on this page."
                                pending=create.pending()
                                created=Signal::derive(move || {
                                    matches!(create.value().get(), Some(Ok(_)))
                                })
                                on_create=Callback::new(move |name| {
                                    create.dispatch(CreateSubaccount { name });
                                })
                            />
                        }
                    });
                let list = match subs.await {
                    Err(e) => alert(e.message),
                    Ok(all) => {
                        view! {
                            <DataTable
                                label="Sub-accounts"
                                class="subs"
                                headers=headers(&["Name", "Account SID", "Status", "Created", ""])
                                rows=all
                                row=move |a: SubAccountView| {
                                    let here = a.sid == current;
                                    view! { <SubRow a here is_admin ctx /> }
                                }
                                empty=|| {
                                    view! {
                                        <EmptyCard>
                                            "No sub-accounts yet. Create one per customer, brand or environment to keep their OTPs, limits and usage apart."
                                        </EmptyCard>
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
    }
}

#[derive(Clone, Copy)]
struct RowCtx {
    update: ServerAction<UpdateSubaccount>,
    switch: ServerAction<SwitchAccount>,
    confirm: RwSignal<Option<String>>,
}

#[component]
fn SubRow(a: SubAccountView, here: bool, is_admin: bool, ctx: RowCtx) -> impl IntoView {
    let RowCtx {
        update,
        switch,
        confirm,
    } = ctx;
    let (renaming, set_renaming) = signal(false);
    let (new_name, set_new_name) = signal(a.name.clone());
    let sid = a.sid.clone();
    let set_status = {
        let sid = sid.clone();
        move |status: AccountStatus| {
            update.dispatch(UpdateSubaccount {
                sid: sid.clone(),
                name: None,
                status: Some(status.as_str().to_owned()),
            });
        }
    };
    let status_label = match a.status {
        AccountStatus::Active => "Active",
        AccountStatus::Suspended => "Suspended",
        AccountStatus::Closed => "Closed",
    };
    let admin_actions = (is_admin && a.status != AccountStatus::Closed).then(|| {
        let toggle = {
            let set_status = set_status.clone();
            let active = a.status == AccountStatus::Active;
            move |_| {
                set_status(if active {
                    AccountStatus::Suspended
                } else {
                    AccountStatus::Active
                })
            }
        };
        let close = set_status.clone();
        view! {
            <button on:click=move |_| set_renaming.set(true)>"Rename…"</button>
            <button on:click=toggle>
                {if a.status == AccountStatus::Active { "Suspend" } else { "Reactivate" }}
            </button>
            <ConfirmInline
                key=sid.clone()
                asking=confirm
                ask="Close…"
                question=format!(
                    "Close {} for good? Its credentials stop working and it cannot be reopened.",
                    a.name,
                )
                act="Close"
                on_confirm=Callback::new(move |()| close(AccountStatus::Closed))
            />
        }
    });
    let switch_sid = sid.clone();
    let rename_sid = sid.clone();
    view! {
        <tr data-sub=a.name.clone() class:current=here>
            <td>
                <Show
                    when=move || renaming.get()
                    fallback={
                        let n = a.name.clone();
                        move || view! { <strong>{n.clone()}</strong> }
                    }
                >
                    <form
                        class="inline"
                        on:submit={
                            let sid = rename_sid.clone();
                            move |ev: leptos::ev::SubmitEvent| {
                                ev.prevent_default();
                                update
                                    .dispatch(UpdateSubaccount {
                                        sid: sid.clone(),
                                        name: Some(new_name.get_untracked()),
                                        status: None,
                                    });
                                set_renaming.set(false);
                            }
                        }
                    >
                        <input
                            type="text"
                            aria-label="New name"
                            maxlength="64"
                            prop:value=new_name
                            on:input=move |ev| set_new_name.set(event_target_value(&ev))
                        />
                        <button type="submit">"Save"</button>
                    </form>
                </Show>
                {here
                    .then(|| {
                        view! {
                            " "
                            <span class="muted">"(open now)"</span>
                        }
                    })}
            </td>
            <td>
                <code>{sid.clone()}</code>
            </td>
            <td data-testid="sub-status">{status_label}</td>
            <td class="nowrap">{short_time(&a.created)}</td>
            <td class="actions">
                {(!here)
                    .then(|| {
                        view! {
                            <button on:click=move |_| {
                                switch
                                    .dispatch(SwitchAccount {
                                        sid: switch_sid.clone(),
                                    });
                            }>"Switch to"</button>
                        }
                    })} {admin_actions}
            </td>
        </tr>
    }
}
