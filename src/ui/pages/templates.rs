//! Settings → Templates: pick a channel and a language (the built-in ones, those with a
//! template, or any other tag), edit the text (and an email's subject and HTML part) with a live
//! preview filled with a sample code, the SMS length in characters and segments (GSM-7 or
//! UCS-2), save, or reset to the parent's or the built-in text. The selection lives in the URL
//! (`?channel=sms&language=es`), so the page works without JavaScript too. Support: read-only.
use crate::domain::template::{self, Encoding};
use crate::domain::Channel;
use crate::server_fns::templates::{
    templates_page, ResetTemplate, SaveTemplate, TemplateView, TemplatesView,
};
use crate::ui::components::form::{action_field_error, action_other_error, alert, Field};
use crate::ui::components::layout::use_current_user;
use crate::ui::components::query::use_url_query;
use crate::ui::components::settings_tabs::SettingsTabs;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_navigate;

/// The form fields a template error may name (the others are shown above the buttons).
const FIELDS: &[&str] = &["subject", "text", "html"];

const PATH: &str = "/settings/templates";

/// What the URL selects: a channel and a language tag as typed (`other` wins over `language`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Selection {
    channel: Channel,
    /// The canonical tag, or the raw text when it is no tag.
    language: Result<String, String>,
}

fn selection(params: Vec<(&str, &str)>) -> Selection {
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, v)| *n == k && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
    };
    let channel = get("channel")
        .and_then(|c| Channel::parse(&c))
        .unwrap_or(Channel::Sms);
    let raw = get("other")
        .or_else(|| get("language"))
        .unwrap_or_else(|| template::FALLBACK_LANGUAGE.to_owned());
    Selection {
        channel,
        language: template::language_tag(&raw).ok_or(raw),
    }
}

fn url(channel: &str, language: &str) -> String {
    format!("{PATH}?channel={channel}&language={language}")
}

/// How a language is listed: its own name for the built-in ones, else its tag.
fn language_label(tag: &str) -> String {
    match template::language_name(tag) {
        Some(name) => format!("{name} ({tag})"),
        None => tag.to_owned(),
    }
}

fn source_words(source: &str) -> &'static str {
    match source {
        "account" => "this account's own text",
        "parent" => "the parent account's text",
        _ => "the built-in text",
    }
}

#[component]
pub fn TemplatesPage() -> impl IntoView {
    let user = use_current_user();
    let save = ServerAction::<SaveTemplate>::new();
    let reset = ServerAction::<ResetTemplate>::new();
    // Reload after a successful save or reset only: a refused save keeps what was typed.
    let reloads = RwSignal::new(0u32);
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            reloads.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = reset.value().get() {
            reloads.update(|n| *n += 1);
        }
    });
    let page = Resource::new(move || reloads.get(), |_| templates_page());
    // The view reads it before any await, so a new selection re-renders the editor.
    let chosen = use_url_query(&["channel", "language", "other"], selection);

    // Set in the browser once the page is loaded and interactive (tests wait for it).
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| {
        if page.get().is_some() {
            set_ready.set(true);
        }
    });

    view! {
        <Title text="Settings · Templates" />
        <SettingsTabs />
        <div class="page-head">
            <h1>"Settings · Templates"</h1>
        </div>
        <p class="muted">
            "What your codes say, per channel and language. Placeholders: " <code>"{code}"</code>
            " (required), " <code>"{service}"</code> ", " <code>"{ttl}"</code> " or "
            <code>"{minutes}"</code> " (minutes until the code expires). A send's "
            <code>"language"</code>
            " picks the template: the exact tag (es-MX), then its base language (es), then English. A sub-account uses its parent's templates until it writes its own."
        </p>
        <div class="templates" data-ready=move || ready.get().to_string()>
            <Transition fallback=|| {
                view! { <p class="loading">"Loading templates…"</p> }
            }>
                {move || {
                    let sel = chosen.get();
                    Suspend::new(async move {
                        let may_edit = user.await.is_ok_and(|u| u.role.manages_credentials());
                        match page.await {
                            Err(e) => alert(e.message),
                            Ok(view) => {
                                view! {
                                    <Picker view=view.clone() sel=sel.clone() />
                                    {match sel.language.clone() {
                                        Err(raw) => {
                                            alert(
                                                format!(
                                                    "{raw:?} is no language tag: use one like es or es-MX.",
                                                ),
                                            )
                                        }
                                        Ok(language) => {
                                            let (t, is_new) = current(&view, sel.channel, &language);
                                            view! {
                                                <Editor
                                                    t
                                                    language
                                                    is_new
                                                    has_parent=view.has_parent
                                                    may_edit
                                                    save
                                                    reset
                                                />
                                            }
                                                .into_any()
                                        }
                                    }}
                                }
                                    .into_any()
                            }
                        }
                    })
                }}
            </Transition>
        </div>
    }
}

/// The template shown for a channel and language: the one listed for it, else (a language
/// without any) the one its messages fall back to, as a starting point (`true`: new).
fn current(view: &TemplatesView, channel: Channel, language: &str) -> (TemplateView, bool) {
    let find = |l: &str| {
        view.templates
            .iter()
            .find(|t| t.channel == channel.as_str() && t.language == l)
            .cloned()
    };
    if let Some(t) = find(language) {
        return (t, false);
    }
    let fallback = template::language_choices(language, None)
        .iter()
        .find_map(|l| find(l))
        .unwrap_or_else(|| {
            let (l, t) = template::choose_builtin(channel, language, None);
            TemplateView {
                channel: channel.as_str().into(),
                language: l,
                subject: t.subject.unwrap_or_default(),
                text: t.text,
                html: t.html.unwrap_or_default(),
                source: "builtin".into(),
            }
        });
    (fallback, true)
}

/// Channel and language: a GET form (so it works without JavaScript); with JavaScript a change
/// of either select opens that template at once.
#[component]
fn Picker(view: TemplatesView, sel: Selection) -> impl IntoView {
    let navigate = use_navigate();
    let mut languages: Vec<String> = Vec::new();
    for t in &view.templates {
        if !languages.contains(&t.language) {
            languages.push(t.language.clone());
        }
    }
    let language = sel.language.clone().unwrap_or_default();
    let listed = languages.contains(&language);
    let channel = sel.channel.as_str();
    let go_language = {
        let navigate = navigate.clone();
        move |ev| navigate(&url(channel, &event_target_value(&ev)), Default::default())
    };
    let language_now = language.clone();
    let go_channel = move |ev| {
        navigate(
            &url(&event_target_value(&ev), &language_now),
            Default::default(),
        )
    };
    let other = if listed {
        String::new()
    } else {
        language.clone()
    };
    view! {
        <Form
            method="GET"
            action=PATH
            attr:class="card create-form template-picker"
            attr:aria-label="Template"
        >
            <Field id="template-channel" label="Channel">
                <select id="template-channel" name="channel" on:change=go_channel>
                    {Channel::ALL
                        .into_iter()
                        .map(|c| {
                            view! {
                                <option value=c.as_str() selected=c == sel.channel>
                                    {c.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </Field>
            <Field id="template-language" label="Language">
                <select id="template-language" name="language" on:change=go_language>
                    {languages
                        .into_iter()
                        .map(|l| {
                            let selected = l == language;
                            view! {
                                <option value=l.clone() selected=selected>
                                    {language_label(&l)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </Field>
            <Field
                id="template-other"
                label="Other language"
                hint="A tag like es-MX or pt-BR, for a text of its own."
            >
                <input
                    id="template-other"
                    name="other"
                    type="text"
                    value=other
                    placeholder="es-MX"
                    maxlength="35"
                    aria-describedby="template-other-hint"
                />
            </Field>
            <button type="submit" class="small-btn">
                "Open"
            </button>
        </Form>
    }
}

/// The editor of one template, with its live preview.
#[component]
fn Editor(
    t: TemplateView,
    /// The language being edited (for a new one, `t` is its fallback's template).
    language: String,
    is_new: bool,
    has_parent: bool,
    may_edit: bool,
    save: ServerAction<SaveTemplate>,
    reset: ServerAction<ResetTemplate>,
) -> impl IntoView {
    let channel = Channel::parse(&t.channel).unwrap_or(Channel::Sms);
    let is_email = channel == Channel::Email;
    let text = RwSignal::new(t.text.clone());
    let subject = RwSignal::new(t.subject.clone());
    let html = RwSignal::new(t.html.clone());
    let error_for = move |field: &'static str| action_field_error(save, field);
    let status = if is_new {
        format!(
            "No {} template in {language} yet: its messages use {} in {}. Save to give {language} a text of its own.",
            channel.label(),
            source_words(&t.source),
            t.language
        )
    } else {
        format!("Now: {}.", source_words(&t.source))
    };
    let own = !is_new && t.source == "account";
    let reset_label = if has_parent {
        "Reset (use the parent's or the built-in text)"
    } else {
        "Reset to the built-in text"
    };
    let preview = move || template::sample(&text.get(), channel);
    let length = move || {
        let l = template::sms_length(&preview());
        let segments = if l.segments == 1 {
            "1 segment".to_owned()
        } else {
            format!("{} segments", l.segments)
        };
        let encoding = match l.encoding {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2 (characters outside GSM-7: 70 per segment, 67 when split)",
        };
        format!("{} characters · {segments} · {encoding}", l.characters)
    };
    let too_long = move || template::sms_length(&preview()).segments > template::MAX_SMS_SEGMENTS;
    let heading = format!("{} · {}", channel.label(), language_label(&language));
    let (channel_value, language_value) = (channel.as_str().to_owned(), language.clone());
    let (reset_channel, reset_language) = (channel_value.clone(), language_value.clone());
    let (saved_channel, saved_language) = (channel_value.clone(), language_value.clone());
    let html_language = t.language.clone();
    view! {
        <div class="grid two template-editor">
            <section class="card" aria-label="Template text">
                <h2>{heading}</h2>
                <p class="muted" data-testid="template-source">
                    {status}
                </p>
                <ActionForm action=save>
                    <input type="hidden" name="channel" value=channel_value />
                    <input type="hidden" name="language" value=language_value />
                    {is_email
                        .then(|| {
                            view! {
                                <Field
                                    id="template-subject"
                                    label="Subject"
                                    error=error_for("subject")
                                >
                                    <input
                                        id="template-subject"
                                        name="subject"
                                        type="text"
                                        value=t.subject.clone()
                                        maxlength=template::MAX_SUBJECT_CHARS.to_string()
                                        readonly=!may_edit
                                        on:input=move |ev| subject.set(event_target_value(&ev))
                                    />
                                </Field>
                            }
                        })}
                    <Field id="template-text" label="Text" error=error_for("text")>
                        <textarea
                            id="template-text"
                            name="text"
                            rows="5"
                            readonly=!may_edit
                            prop:value=t.text.clone()
                            on:input=move |ev| text.set(event_target_value(&ev))
                        >
                            {t.text.clone()}
                        </textarea>
                    </Field>
                    {is_email
                        .then(|| {
                            view! {
                                <Field
                                    id="template-html"
                                    label="HTML part"
                                    hint="Optional; left empty, it is made from the text. Placeholders as in the text."
                                    error=error_for("html")
                                >
                                    <textarea
                                        id="template-html"
                                        name="html"
                                        rows="8"
                                        readonly=!may_edit
                                        prop:value=t.html.clone()
                                        on:input=move |ev| html.set(event_target_value(&ev))
                                    >
                                        {t.html.clone()}
                                    </textarea>
                                </Field>
                            }
                        })}
                    {action_other_error(save, FIELDS)}
                    {may_edit
                        .then(|| {
                            view! {
                                <div class="form-actions">
                                    <button
                                        type="submit"
                                        class="primary small-btn"
                                        disabled=move || save.pending().get()
                                    >
                                        "Save"
                                    </button>
                                </div>
                            }
                        })}
                </ActionForm>
                {(may_edit && own)
                    .then(|| {
                        view! {
                            <ActionForm action=reset attr:class="reset-form">
                                <input type="hidden" name="channel" value=reset_channel />
                                <input type="hidden" name="language" value=reset_language />
                                <button type="submit" class="small-btn">
                                    {reset_label}
                                </button>
                            </ActionForm>
                        }
                    })}
                {move || reset.value().get().and_then(|r| r.err()).map(|e| alert(e.message))}
                {move || {
                    save.value()
                        .get()
                        .and_then(|r| r.ok())
                        .filter(|saved| {
                            saved.channel == saved_channel && saved.language == saved_language
                        })
                        .map(|_| {
                            view! {
                                <p class="ok" role="status">
                                    "Saved. New messages use this text."
                                </p>
                            }
                        })
                }}
            </section>
            <section class="card template-preview" aria-label="Preview">
                <h2>"Preview"</h2>
                <p class="muted">
                    "With the sample code " {template::SAMPLE_CODE} ", service "
                    {template::SAMPLE_SERVICE} " and " {template::SAMPLE_MINUTES} " minutes."
                </p>
                {is_email
                    .then(|| {
                        view! {
                            <p>
                                <strong>"Subject: "</strong>
                                <span data-testid="template-preview-subject">
                                    {move || template::sample(&subject.get(), Channel::Email)}
                                </span>
                            </p>
                        }
                    })}
                <pre class="code" data-testid="template-preview">
                    {preview}
                </pre>
                {(channel == Channel::Sms)
                    .then(|| {
                        view! {
                            <p data-testid="template-length" class:error=too_long>
                                {length}
                            </p>
                        }
                    })}
                {is_email
                    .then(|| {
                        view! {
                            <iframe
                                class="template-html-preview"
                                title="HTML preview"
                                sandbox=""
                                srcdoc=move || {
                                    let h = html.get();
                                    let h = if h.trim().is_empty() {
                                        template::html_from_text(&text.get(), &html_language)
                                    } else {
                                        h
                                    };
                                    template::render_html(
                                        &h,
                                        template::SAMPLE_CODE,
                                        template::SAMPLE_SERVICE,
                                        template::SAMPLE_MINUTES,
                                    )
                                }
                            ></iframe>
                        }
                    })}
            </section>
        </div>
    }
}
