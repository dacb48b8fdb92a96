//! The CSV export link. Without JavaScript it is a plain download of the streamed file; in the
//! browser it reads the same stream itself to show how many rows have arrived (of how many),
//! then hands the file to the browser's download.
use leptos::prelude::*;

/// Export progress: rows received so far, and whether it is still running.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // only the browser runs an export
enum Progress {
    Idle,
    Running(u64),
    Done(u64),
    Failed,
}

#[component]
pub fn ExportCsv(
    /// `/console/otps.csv?…`
    href: String,
    /// Rows expected, when known exactly.
    total: Option<i64>,
) -> impl IntoView {
    let (progress, set_progress) = signal(Progress::Idle);
    let on_click = {
        let href = href.clone();
        move |ev: leptos::ev::MouseEvent| {
            if matches!(progress.get_untracked(), Progress::Running(_)) {
                ev.prevent_default();
                return;
            }
            #[cfg(feature = "hydrate")]
            {
                ev.prevent_default();
                let href = href.clone();
                leptos::task::spawn_local(async move {
                    set_progress.set(Progress::Running(0));
                    match browser::download(&href, "otps.csv", |rows| {
                        set_progress.set(Progress::Running(rows))
                    })
                    .await
                    {
                        Ok(rows) => set_progress.set(Progress::Done(rows)),
                        Err(_) => set_progress.set(Progress::Failed),
                    }
                });
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (&ev, &href, set_progress);
        }
    };
    let status = move || match progress.get() {
        Progress::Idle => None,
        Progress::Running(rows) => Some(match total {
            Some(total) => view! {
                <span class="export-progress" role="status" data-testid="export-progress">
                    <progress max=total.max(1) value=rows.min(total.max(0) as u64)></progress>
                    {format!(" {rows} of {total} rows…")}
                </span>
            }
            .into_any(),
            None => view! {
                <span class="export-progress" role="status" data-testid="export-progress">
                    <progress></progress>
                    {format!(" {rows} rows…")}
                </span>
            }
            .into_any(),
        }),
        Progress::Done(rows) => Some(
            view! {
                <span class="export-progress" role="status" data-testid="export-progress">
                    {format!("Exported {rows} row{}.", if rows == 1 { "" } else { "s" })}
                </span>
            }
            .into_any(),
        ),
        Progress::Failed => Some(
            view! {
                <span class="error" role="alert" data-testid="export-progress">
                    "The export failed. Try again."
                </span>
            }
            .into_any(),
        ),
    };
    view! {
        <span class="export">
            {status}
            <a
                class="button"
                href=href
                download="otps.csv"
                rel="external"
                data-testid="export-csv"
                on:click=on_click
            >
                "Export CSV"
            </a>
        </span>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    /// Fetches `href`, counting lines as they stream in, then saves the file as `name`.
    /// Answers the data rows (lines after the header).
    pub async fn download(href: &str, name: &str, on_rows: impl Fn(u64)) -> Result<u64, JsValue> {
        let window = web_sys::window().ok_or("no window")?;
        let response: web_sys::Response = JsFuture::from(window.fetch_with_str(href))
            .await?
            .dyn_into()?;
        if !response.ok() {
            return Err(JsValue::from_str("export refused"));
        }
        let body = response.body().ok_or("no body")?;
        let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().dyn_into()?;
        let chunks = js_sys::Array::new();
        let mut lines = 0u64;
        loop {
            let step = JsFuture::from(reader.read()).await?;
            if js_sys::Reflect::get(&step, &"done".into())?.is_truthy() {
                break;
            }
            let bytes: js_sys::Uint8Array =
                js_sys::Reflect::get(&step, &"value".into())?.dyn_into()?;
            lines += bytes.to_vec().iter().filter(|b| **b == b'\n').count() as u64;
            chunks.push(&bytes);
            on_rows(lines.saturating_sub(1));
        }
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("text/csv");
        let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&chunks, &options)?;
        let url = web_sys::Url::create_object_url_with_blob(&blob)?;
        let document = window.document().ok_or("no document")?;
        let a: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
        a.set_href(&url);
        a.set_download(name);
        a.set_rel("external");
        document.body().ok_or("no body")?.append_child(&a)?;
        a.click();
        a.remove();
        web_sys::Url::revoke_object_url(&url)?;
        Ok(lines.saturating_sub(1))
    }
}
