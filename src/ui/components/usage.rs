//! Pieces the usage pages share: number formats, a report as chart data, the report table.
use crate::server_fns::usage::{UsageReport, UsageRow};
use crate::ui::components::chart::ChartData;
use crate::ui::components::table::{DataTable, Header};
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
    let line = |r: UsageRow, total: bool| {
        let cells = r
            .values
            .iter()
            .map(|v| view! { <td class="num">{count(*v)}</td> })
            .collect_view();
        let head = if total {
            view! { <th scope="row">{r.label}</th> }.into_any()
        } else {
            view! { <td class="nowrap">{r.label}</td> }.into_any()
        };
        view! {
            <tr data-period=r
                .start>
                {head} {cells} <td class="num" data-col="total">
                    {count(r.count)}
                </td> <td class="num" data-col="verified">
                    {count(r.verified)}
                </td> <td class="num" data-col="conversion">
                    {percent(r.conversion)}
                </td> <td class="num" data-col="price">
                    {r.price}
                </td>
            </tr>
        }
    };
    let period = match report.period.as_str() {
        "month" => "Month",
        "year" => "Year",
        _ => "Day",
    };
    let by = report.by;
    let mut headers = vec![Header::from(period)];
    headers.extend(report.series.into_iter().map(|s| {
        let cell = view! {
            <th class="num" data-series=s.clone() title=format!("OTPs by {by}")>
                {s.replace('_', " ")}
            </th>
        };
        Header::Cell(cell.into_any())
    }));
    headers.extend(
        ["Total", "Verified", "Conversion", "Price (USD)"].map(|t| Header::Num(t.to_owned())),
    );
    let totals = report.totals;
    view! {
        <div class="table-scroll">
            <DataTable
                label="Usage report"
                class="report"
                testid="usage-table"
                headers
                rows=report.rows
                row=move |r| line(r, false)
                foot=Box::new(move || line(totals, true).into_any())
            />
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
