//! Pieces the usage pages share: number formats, a report as chart data, the report table.
use crate::server_fns::usage::UsageReport;
use crate::ui::components::chart::ChartData;
use leptos::prelude::*;

/// `1234567` → `1,234,567`.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// `0.4567` → `45.7 %`.
pub fn percent(rate: f64) -> String {
    format!("{:.1} %", rate * 100.0)
}

/// The report's rows as a chart: one stack per series, with the conversion line if asked.
pub fn chart_data(report: &UsageReport, conversion: bool) -> ChartData {
    ChartData {
        labels: report.rows.iter().map(|r| r.label.clone()).collect(),
        series: report
            .series
            .iter()
            .enumerate()
            .map(|(i, name)| {
                (
                    name.clone(),
                    report.rows.iter().map(|r| r.values[i]).collect(),
                )
            })
            .collect(),
        conversion: conversion.then(|| report.rows.iter().map(|r| r.conversion).collect()),
    }
}

/// The report as a table: a line per period, the series, total, verified, conversion and
/// price, and the totals at the foot.
#[component]
pub fn UsageTable(report: UsageReport) -> impl IntoView {
    let series = report.series.clone();
    let line = |r: &crate::server_fns::usage::UsageRow, total: bool| {
        let label = r.label.clone();
        let cells = r
            .values
            .iter()
            .map(|v| view! { <td class="num">{count(*v)}</td> })
            .collect_view();
        let head = if total {
            view! { <th scope="row">{label}</th> }.into_any()
        } else {
            view! { <td class="nowrap">{label}</td> }.into_any()
        };
        view! {
            <tr data-period=r.start.clone()>
                {head}
                {cells}
                <td class="num" data-col="total">{count(r.count)}</td>
                <td class="num" data-col="verified">{count(r.verified)}</td>
                <td class="num" data-col="conversion">{percent(r.conversion)}</td>
                <td class="num" data-col="price">{r.price.clone()}</td>
            </tr>
        }
    };
    let body = report.rows.iter().map(|r| line(r, false)).collect_view();
    let foot = line(&report.totals, true);
    let by = report.by.clone();
    view! {
        <div class="table-scroll">
        <table class="data report" aria-label="Usage report" data-testid="usage-table">
            <thead><tr>
                <th>{match report.period.as_str() { "month" => "Month", "year" => "Year", _ => "Day" }}</th>
                {series.into_iter().map(|s| view! { <th class="num" data-series=s.clone() title=format!("OTPs by {by}")>{s.replace('_', " ")}</th> }).collect_view()}
                <th class="num">"Total"</th>
                <th class="num">"Verified"</th>
                <th class="num">"Conversion"</th>
                <th class="num">"Price (USD)"</th>
            </tr></thead>
            <tbody>{body}</tbody>
            <tfoot>{foot}</tfoot>
        </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(10_000_000), "10,000,000");
        assert_eq!(count(-1234), "-1,234");
        assert_eq!(percent(0.4567), "45.7 %");
    }
}
