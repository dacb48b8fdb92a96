//! A destructive action in a table row, asked for again before it happens: a button ("Delete…")
//! that turns into the question, the action and "Keep". One row of a list asks at a time.
use leptos::prelude::*;

#[component]
pub fn ConfirmInline(
    /// The row's key (its sid).
    #[prop(into)]
    key: String,
    /// The key of the row that is asking, shared by the list's rows.
    asking: RwSignal<Option<String>>,
    /// The first button's text ("Delete…").
    ask: &'static str,
    /// What happens if confirmed, in a sentence.
    #[prop(into)]
    question: String,
    /// The confirming button's text ("Delete").
    act: &'static str,
    on_confirm: Callback<()>,
) -> impl IntoView {
    let shown = key.clone();
    view! {
        <Show
            when=move || asking.with(|a| a.as_deref() == Some(shown.as_str()))
            fallback=move || {
                let key = key.clone();
                view! {
                    <button class="danger" on:click=move |_| asking.set(Some(key.clone()))>
                        {ask}
                    </button>
                }
            }
        >
            <span class="confirm-inline">
                {question.clone()}
                <button
                    class="danger"
                    on:click=move |_| {
                        on_confirm.run(());
                        asking.set(None);
                    }
                >
                    {act}
                </button> <button on:click=move |_| asking.set(None)>"Keep"</button>
            </span>
        </Show>
    }
}
