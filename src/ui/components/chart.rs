//! Stacked bar charts (with an optional conversion-rate line) drawn in the browser by ECharts
//! through charming. The server renders an empty, labelled box (the numbers are in the page's
//! table); after hydration the chart is drawn into it. ECharts is served by the app itself
//! (`/vendor/echarts.min.js`) and loaded on the first page that draws a chart.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What a chart shows: one bar stack per label, and optionally a rate (0–1) per label.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChartData {
    pub labels: Vec<String>,
    /// Series name and one value per label.
    pub series: Vec<(String, Vec<i64>)>,
    /// Conversion rate per label, drawn as a line on a percent axis.
    pub conversion: Option<Vec<f64>>,
}

/// The colour of a channel or status, the same on every chart and badge.
pub fn color_of(name: &str) -> &'static str {
    match name {
        "sms" => "#2563eb",
        "call" => "#9333ea",
        "email" => "#0d9488",
        "verified" => "#16a34a",
        "delivered" => "#0891b2",
        "sent" => "#60a5fa",
        "pending" => "#94a3b8",
        "expired" => "#f59e0b",
        "canceled" => "#64748b",
        "max_attempts" => "#ea580c",
        "failed" => "#dc2626",
        "blocked" => "#7c2d12",
        _ => "#6b7280",
    }
}

/// A chart box with `id` (unique on the page) and an accessible `label`.
#[component]
pub fn StackedChart(
    id: &'static str,
    data: ChartData,
    #[prop(into)] label: String,
) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let data = data.clone();
        request_animation_frame(move || browser::draw(id, data));
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = data;
    view! { <div id=id class="chart" role="img" aria-label=label data-drawn="false"></div> }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::{color_of, ChartData};
    use charming::component::{Axis, Grid, Legend, LegendType};
    use charming::element::{AxisLabel, AxisType, ItemStyle, Tooltip, Trigger};
    use charming::series::{Bar, Line};
    use charming::{Chart, WasmRenderer};
    use std::cell::RefCell;
    use std::collections::HashMap;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    const SCRIPT_ID: &str = "echarts-js";
    const SCRIPT_SRC: &str = "/vendor/echarts.min.js?v=5.5.1";

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = echarts, js_name = dispose)]
        fn dispose(el: &web_sys::Element);
        #[wasm_bindgen(js_namespace = echarts, js_name = getInstanceByDom)]
        fn instance_by_dom(el: &web_sys::Element) -> JsValue;
    }

    thread_local! {
        /// The element each chart id was last drawn into (its ECharts instance is freed when a
        /// new page draws the same id into a new element).
        static DRAWN: RefCell<HashMap<&'static str, web_sys::Element>> = RefCell::new(HashMap::new());
        static RESIZE_HOOKED: RefCell<bool> = const { RefCell::new(false) };
    }

    pub fn draw(id: &'static str, data: ChartData) {
        with_echarts(move || {
            let Some(el) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(id))
            else {
                return;
            };
            DRAWN.with(|drawn| {
                if let Some(old) = drawn.borrow_mut().insert(id, el.clone()) {
                    dispose(&old);
                }
            });
            dispose(&el);
            let height = el.client_height().max(240) as u32;
            match WasmRenderer::new_opt(None, Some(height)).render(id, &chart(&data)) {
                Ok(_) => {
                    let _ = el.set_attribute("data-drawn", "true");
                }
                Err(e) => leptos::logging::warn!("chart {id}: {e:?}"),
            }
            hook_resize();
        });
    }

    fn chart(data: &ChartData) -> Chart {
        let mut c = Chart::new()
            .tooltip(Tooltip::new().trigger(Trigger::Axis))
            .legend(Legend::new().type_(LegendType::Scroll).bottom(0))
            .grid(
                Grid::new()
                    .left(8)
                    .right(8)
                    .top(24)
                    .bottom(40)
                    .contain_label(true),
            )
            .x_axis(
                Axis::new()
                    .type_(AxisType::Category)
                    .data(data.labels.clone()),
            )
            .y_axis(
                Axis::new()
                    .type_(AxisType::Value)
                    .name("OTPs")
                    .min_interval(1),
            );
        for (name, values) in &data.series {
            c = c.series(
                Bar::new()
                    .name(name.replace('_', " "))
                    .stack("otps")
                    .item_style(ItemStyle::new().color(color_of(name)))
                    .data(values.clone()),
            );
        }
        if let Some(rates) = &data.conversion {
            c = c
                .y_axis(
                    Axis::new()
                        .type_(AxisType::Value)
                        .name("Conversion")
                        .min(0)
                        .max(100)
                        .axis_label(AxisLabel::new().formatter("{value} %")),
                )
                .series(
                    Line::new()
                        .name("conversion rate")
                        .y_axis_index(1)
                        .item_style(ItemStyle::new().color("#111827"))
                        .data(
                            rates
                                .iter()
                                .map(|r| (r * 1000.0).round() / 10.0)
                                .collect::<Vec<_>>(),
                        ),
                );
        }
        c
    }

    /// Runs `f` once ECharts is loaded, loading it first if this page is the first to need it.
    fn with_echarts(f: impl FnOnce() + 'static) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let loaded = js_sys::Reflect::get(&window, &JsValue::from_str("echarts"))
            .map(|v| !v.is_undefined())
            .unwrap_or(false);
        if loaded {
            return f();
        }
        let Some(document) = window.document() else {
            return;
        };
        let script = match document.get_element_by_id(SCRIPT_ID) {
            Some(s) => s,
            None => {
                let Ok(s) = document.create_element("script") else {
                    return;
                };
                let _ = s.set_attribute("id", SCRIPT_ID);
                let _ = s.set_attribute("src", SCRIPT_SRC);
                if let Some(head) = document.head() {
                    let _ = head.append_child(&s);
                }
                s
            }
        };
        let callback = Closure::once_into_js(f);
        let _ = script.add_event_listener_with_callback("load", callback.unchecked_ref());
    }

    /// Charts follow the window's width.
    fn hook_resize() {
        if RESIZE_HOOKED.with(|h| h.replace(true)) {
            return;
        }
        let on_resize = Closure::<dyn Fn()>::new(|| {
            DRAWN.with(|drawn| {
                for el in drawn.borrow().values() {
                    let chart = instance_by_dom(el);
                    if !chart.is_undefined() {
                        chart
                            .unchecked_into::<charming::Echarts>()
                            .resize(JsValue::UNDEFINED);
                    }
                }
            });
        });
        if let Some(w) = web_sys::window() {
            let _ =
                w.add_event_listener_with_callback("resize", on_resize.as_ref().unchecked_ref());
        }
        on_resize.forget();
    }
}
