//! Labelled form fields: a label, the control, an optional hint and the error that concerns the
//! field. [`Field`] wraps any control; [`TextField`] and [`SelectField`] are the usual ones.
//! The controls are plain form controls with a `name`, so the forms also post without JavaScript.
//!
//! Errors come from a server function's [`ConsoleError`], whose `field` names the form field:
//! [`field_errors`] gives a loaded answer's message per field, [`action_field_error`] does it
//! for the last answer of a [`ServerAction`], [`action_other_error`] keeps the errors of no
//! listed field (shown once, above or below the form).
use crate::domain::{Channel, ConsoleError, OtpStatus};
use crate::ui::components::otp::status_label;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::components::Form;

/// One `<option>`: its value and the text shown.
pub type SelectOption = (&'static str, String);

/// A label and the control it names (the children, whose id is `id`), then the hint and the
/// field's error, if any.
#[component]
pub fn Field(
    /// The control's id, which the label points at.
    #[prop(into)]
    id: String,
    #[prop(into)] label: String,
    /// A short help text under the control (`{id}-hint`, for `aria-describedby`).
    #[prop(optional, into)]
    hint: MaybeProp<String>,
    /// The message of the error that concerns this field.
    #[prop(optional, into)]
    error: Signal<Option<String>>,
    /// Another class besides `field` (`search`, `checkbox`).
    #[prop(optional)]
    class: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let class = match class {
        Some(c) => format!("field {c}"),
        None => "field".to_owned(),
    };
    let hint_id = format!("{id}-hint");
    view! {
        <div class=class>
            <label for=id>{label}</label>
            {children()}
            {move || {
                hint.get()
                    .map(|h| {
                        view! {
                            <p class="hint muted" id=hint_id.clone()>
                                {h}
                            </p>
                        }
                    })
            }}
            <FieldError error />
        </div>
    }
}

/// The message of the error that concerns a field (or a group of fields), next to it.
#[component]
pub fn FieldError(#[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    move || {
        error.get().map(|m| {
            view! {
                <p class="error field-error" role="alert">
                    {m}
                </p>
            }
        })
    }
}

/// A labelled `<input>` (text by default; `kind` is its `type`).
#[component]
pub fn TextField(
    #[prop(into)] id: String,
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(optional, into)] hint: MaybeProp<String>,
    #[prop(optional, into)] error: Signal<Option<String>>,
    /// The input's `type`: `text`, `email`, `password`, `date`, `search`, `number`…
    #[prop(default = "text")]
    kind: &'static str,
    /// The value the field starts with.
    #[prop(optional, into)]
    value: Option<String>,
    #[prop(optional)] placeholder: Option<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] autofocus: bool,
    #[prop(optional)] minlength: Option<u32>,
    #[prop(optional)] maxlength: Option<u32>,
    /// Suggestions offered while typing (a `<datalist>` with the id `{id}-list`).
    #[prop(optional)]
    suggestions: Option<Vec<String>>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let described = move || hint.get().map(|_| hint_id.clone());
    let list_id = suggestions.as_ref().map(|_| format!("{id}-list"));
    let datalist = suggestions.map(|values| {
        view! {
            <datalist id=list_id
                .clone()>
                {values.into_iter().map(|v| view! { <option value=v></option> }).collect_view()}
            </datalist>
        }
    });
    view! {
        <Field id=id.clone() label hint error>
            <input
                id=id
                name=name
                type=kind
                value=value
                placeholder=placeholder.filter(|p| !p.is_empty())
                autocomplete=autocomplete
                list=list_id.clone()
                minlength=minlength
                maxlength=maxlength
                required=required
                autofocus=autofocus
                aria-describedby=described
            />
            {datalist}
        </Field>
    }
}

/// A labelled `<select>`. With `any`, a first option of value `""` offers "no choice".
#[component]
pub fn SelectField(
    #[prop(into)] id: String,
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(optional, into)] hint: MaybeProp<String>,
    #[prop(optional, into)] error: Signal<Option<String>>,
    options: Vec<SelectOption>,
    /// The value selected when the page renders (none: the browser shows the first option).
    #[prop(optional, into)]
    selected: String,
    /// The text of a first option with the value `""` (such as "Any").
    #[prop(optional_no_strip)]
    any: Option<&'static str>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let described = move || hint.get().map(|_| hint_id.clone());
    let any = any.map(|text| {
        view! {
            <option value="" selected=selected.is_empty()>
                {text}
            </option>
        }
    });
    let options = options
        .into_iter()
        .map(|(value, text)| {
            view! {
                <option value=value selected=selected == value>
                    {text}
                </option>
            }
        })
        .collect_view();
    view! {
        <Field id=id.clone() label hint error>
            <select id=id name=name aria-describedby=described>
                {any}
                {options}
            </select>
        </Field>
    }
}

/// `(value, text)` pairs as select options.
pub fn options(pairs: &[(&'static str, &'static str)]) -> Vec<SelectOption> {
    pairs.iter().map(|(v, t)| (*v, (*t).to_owned())).collect()
}

/// Every channel: its API name and what people call it.
pub fn channel_options() -> Vec<SelectOption> {
    Channel::ALL
        .into_iter()
        .map(|c| (c.as_str(), c.label().to_owned()))
        .collect()
}

/// Every OTP status: its API name and as the status badges show it.
pub fn status_options() -> Vec<SelectOption> {
    OtpStatus::ALL
        .into_iter()
        .map(|s| (s.as_str(), status_label(s.as_str())))
        .collect()
}

/// The message of `result`'s error if it concerns `field`.
fn field_message<T>(result: Option<&Result<T, ConsoleError>>, field: &str) -> Option<String> {
    match result {
        Some(Err(e)) if e.field.as_deref() == Some(field) => Some(e.message.clone()),
        _ => None,
    }
}

/// An answer's error, by the field it concerns: `field -> message`, for the fields' `error`.
pub fn field_errors<T>(
    result: &Result<T, ConsoleError>,
) -> impl Fn(&str) -> Option<String> + Clone + Send + Sync + 'static {
    let error = result.as_ref().err().cloned().map(Err::<(), _>);
    move |field| field_message(error.as_ref(), field)
}

/// The error of `action`'s last answer if it concerns `field`, for a field's `error`.
pub fn action_field_error<S>(action: ServerAction<S>, field: &'static str) -> Signal<Option<String>>
where
    S: ServerFn<Error = ConsoleError> + Send + Sync + Clone + 'static,
    S::Output: Send + Sync + 'static,
{
    Signal::derive(move || action.value().with(|r| field_message(r.as_ref(), field)))
}

/// The error of `action`'s last answer unless it concerns one of `fields` (those are shown next
/// to their field), as an alert.
pub fn action_other_error<S>(
    action: ServerAction<S>,
    fields: &'static [&'static str],
) -> impl Fn() -> Option<AnyView> + Send + Sync + Copy + 'static
where
    S: ServerFn<Error = ConsoleError> + Send + Sync + Clone + 'static,
    S::Output: Send + Sync + 'static,
{
    move || {
        action.value().with(|r| match r {
            Some(Err(e)) if !e.field.as_deref().is_some_and(|f| fields.contains(&f)) => {
                Some(alert(e.message.clone()))
            }
            _ => None,
        })
    }
}

/// A message that something went wrong, announced to screen readers.
pub fn alert(message: impl Into<String>) -> AnyView {
    let message: String = message.into();
    view! {
        <p class="error" role="alert">
            {message}
        </p>
    }
    .into_any()
}

/// A list's filters: a GET form to the page itself (so the filters land in the URL), a field
/// per filter (the children), the submit button and a link back to the unfiltered page.
#[component]
pub fn FilterForm(
    /// The page's path (`/otps`).
    action: &'static str,
    /// The form's accessible name.
    label: &'static str,
    /// The submit button's text.
    submit: &'static str,
    /// The text of the link to the page without filters.
    reset: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <Form method="GET" action=action attr:class="card filters" attr:aria-label=label>
            {children()}
            <div class="form-actions">
                <button type="submit" class="primary small-btn">
                    {submit}
                </button>
                <a class="button" href=action>
                    {reset}
                </a>
            </div>
        </Form>
    }
}
