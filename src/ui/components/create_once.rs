//! Creating a credential whose secret is shown once, on the page (API keys, sub-accounts): a
//! name form usable only once the page is interactive (a plain form post would lose the
//! secret), and the notice that shows the new sid and secret.
use crate::ui::components::form::Field;
use leptos::prelude::*;

/// The name form. `on_create` gets the name; the field is cleared when `created` turns true.
#[component]
pub fn CreateByName(
    id: &'static str,
    label: &'static str,
    placeholder: &'static str,
    button: &'static str,
    /// What the page says while it is not interactive (no JavaScript).
    needs_js: &'static str,
    #[prop(into)] pending: Signal<bool>,
    #[prop(into)] created: Signal<bool>,
    on_create: Callback<String>,
) -> impl IntoView {
    let (name, set_name) = signal(String::new());
    // Effects run in the browser only: until then the form cannot be used.
    let (interactive, set_interactive) = signal(false);
    Effect::new(move |_| set_interactive.set(true));
    Effect::new(move |_| {
        if created.get() {
            set_name.set(String::new());
        }
    });
    view! {
        <form
            class="create-form"
            on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                on_create.run(name.get_untracked());
            }
        >
            <Field id label>
                <input
                    id=id
                    type="text"
                    maxlength="64"
                    placeholder=placeholder
                    required
                    prop:value=name
                    on:input=move |ev| set_name.set(event_target_value(&ev))
                />
            </Field>
            <button
                class="primary"
                type="submit"
                disabled=move || !interactive.get() || pending.get()
            >
                {button}
            </button>
            <p class="muted" hidden=move || interactive.get()>
                {needs_js}
            </p>
        </form>
    }
}

/// The notice after creating: `children` say what was created; then the sid and the secret
/// (label, test id, value each), the secret set apart for copying.
#[component]
pub fn ShownOnce(
    children: Children,
    sid: (&'static str, &'static str, String),
    secret: (&'static str, &'static str, String),
) -> impl IntoView {
    let (sid_label, sid_testid, sid_value) = sid;
    let (secret_label, secret_testid, secret_value) = secret;
    view! {
        <div class="notice success" role="status">
            <p>{children()}</p>
            <dl class="facts">
                <dt>{sid_label}</dt>
                <dd>
                    <code data-testid=sid_testid>{sid_value}</code>
                </dd>
                <dt>{secret_label}</dt>
                <dd>
                    <code class="secret" data-testid=secret_testid>
                        {secret_value}
                    </code>
                </dd>
            </dl>
        </div>
    }
}
