import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";

// Home (last 24 h cards, 30-day chart) and the Usage page (filters, period, URL, chart, table,
// CSV), over OTPs this file sends through the API with a service of its own.
const email = process.env.E2E_EMAIL ?? "";
const password = process.env.E2E_PASSWORD ?? "";
const sid = process.env.E2E_ACCOUNT_SID ?? "";
const token = process.env.E2E_AUTH_TOKEN ?? "";
const auth = { Authorization: "Basic " + Buffer.from(`${sid}:${token}`).toString("base64") };
const run = Date.now().toString(36);
const today = new Date().toISOString().slice(0, 10);

function withJs(page: Page) {
  return test.info().project.name === "js";
}

async function signIn(page: Page) {
  await page.goto("/login");
  if (withJs(page)) await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account-name")).toBeVisible();
}

async function send(api: APIRequestContext, data: object): Promise<string> {
  const res = await api.post("/2fa/send", { headers: auth, data });
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()).requestID as string;
}

async function verify(api: APIRequestContext, requestId: string) {
  let code = "";
  await expect(async () => {
    const res = await api.get(`/2fa/sandbox/messages?requestID=${requestId}`, { headers: auth });
    const text: string = (await res.json()).messages?.[0]?.text ?? "";
    code = /code is ([A-Za-z0-9]+)/.exec(text)?.[1] ?? "";
    expect(code).not.toBe("");
  }).toPass({ timeout: 15_000 });
  const res = await api.post("/2fa/verify", { headers: auth, data: { requestID: requestId, code } });
  expect(res.status(), await res.text()).toBe(200);
}

/** Per project: 3 SMS to US numbers (2 verified), 1 SMS to GB, 1 verified email. */
async function history(api: APIRequestContext, service: string, offset: number) {
  const base = 2000 + ((Date.now() + offset) % 7000);
  const us = [0, 1, 2].map((i) => `+1415555${base + i}`);
  const ids = [];
  for (const to of us) ids.push(await send(api, { service, to }));
  await verify(api, ids[0]);
  await verify(api, ids[1]);
  await send(api, { service, to: "+442079460958" });
  await verify(api, await send(api, { service, channel: "email", emailTo: `usage-${run}@example.com` }));
}

const service = () => `U${run}${test.info().project.name.replace("-", "")}`;

test.beforeEach(async ({ request }, info) => {
  if (info.title.startsWith("home")) return;
  if ((globalThis as { seeded?: string }).seeded === service()) return;
  await history(request, service(), info.project.name === "js" ? 0 : 3);
  (globalThis as { seeded?: string }).seeded = service();
});

test("home shows the last 24 hours per channel and a 30-day chart", async ({ page, request }) => {
  await send(request, { service: `H${run}`, to: `+1415555${1000 + (Date.now() % 900)}` });
  await signIn(page);
  for (const ch of ["sms", "call", "email"]) {
    await expect(page.locator(`.card.stat[data-channel=${ch}]`)).toBeVisible();
  }
  expect(Number((await page.getByTestId("sms-sent").textContent())?.replace(/,/g, ""))).toBeGreaterThan(0);
  await expect(page.getByTestId("sms-conversion")).toHaveText(/^\d+\.\d %$/);
  if (!withJs(page)) {
    await expect(page.locator("#home-chart canvas")).toHaveCount(0);
    return;
  }
  await expect(page.locator("#home-chart[data-drawn=true] canvas").first()).toBeVisible();
  const option = await page.evaluate(() => {
    const w = window as unknown as { echarts: { getInstanceByDom(el: Element): { getOption(): any } } };
    const o = w.echarts.getInstanceByDom(document.getElementById("home-chart")!).getOption();
    return { series: o.series.map((s: any) => [s.name, s.stack]), labels: o.xAxis[0].data };
  });
  expect(option.series).toEqual([
    ["sms", "otps"],
    ["call", "otps"],
    ["email", "otps"],
  ]);
  expect(option.labels).toHaveLength(30);
  expect(option.labels[29]).toBe(today);
});

/** The usage chart's bar total and its line's name. */
async function chartTotals(page: Page) {
  await expect(page.locator("#usage-chart[data-drawn=true] canvas").first()).toBeVisible();
  return page.evaluate(() => {
    const w = window as unknown as { echarts: { getInstanceByDom(el: Element): { getOption(): any } } };
    const o = w.echarts.getInstanceByDom(document.getElementById("usage-chart")!).getOption();
    const bars = o.series.filter((s: any) => s.type === "bar");
    const line = o.series.find((s: any) => s.type === "line");
    return {
      total: bars.flatMap((s: any) => s.data).reduce((a: number, b: number) => a + b, 0),
      names: bars.map((s: any) => s.name),
      line: line?.name,
    };
  });
}

function totals(page: Page) {
  const foot = page.getByTestId("usage-table").locator("tfoot tr");
  return {
    count: foot.locator("[data-col=total]"),
    verified: foot.locator("[data-col=verified]"),
    conversion: foot.locator("[data-col=conversion]"),
  };
}

test("usage filters by country, channel, status and period; the URL keeps the report", async ({ page }) => {
  test.skip(!withJs(page), "the chart needs JavaScript; the next test covers the page without it");
  await signIn(page);
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Usage" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Usage" })).toBeVisible();
  const form = page.getByRole("form", { name: "Report" });

  await form.getByLabel("Service").fill(service());
  await form.getByLabel("Country").fill("US");
  await form.getByLabel("Channel").selectOption("sms");
  await form.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(new RegExp(`service=${service()}.*`));
  await expect(page).toHaveURL(/country=US/);
  await expect(page).toHaveURL(/channel=sms/);
  const t = totals(page);
  await expect(t.count).toHaveText("3");
  await expect(t.verified).toHaveText("2");
  await expect(t.conversion).toHaveText("66.7 %");
  expect(await chartTotals(page)).toEqual({ total: 3, names: ["sms", "call", "email"], line: "conversion rate" });

  await form.getByLabel("Status").selectOption("verified");
  await form.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/status=verified/);
  await expect(t.count).toHaveText("2");

  // By month, stacked by status; a reload shows the same report.
  await form.getByLabel("Period").selectOption("month");
  await form.getByLabel("Bars by").selectOption("status");
  await form.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/period=month/);
  await expect(page.getByTestId("usage-table").locator("thead th[data-series=verified]")).toBeVisible();
  const month = today.slice(0, 7);
  await expect(page.getByTestId("usage-table").locator("tbody tr").last().locator("td").first()).toHaveText(month);
  expect(await chartTotals(page)).toEqual({ total: 2, names: ["verified"], line: "conversion rate" });
  const url = page.url();
  await page.reload();
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  expect(page.url()).toBe(url);
  await expect(form.getByLabel("Period")).toHaveValue("month");
  await expect(form.getByLabel("Status")).toHaveValue("verified");
  await expect(form.getByLabel("Country")).toHaveValue("US");
  await expect(t.count).toHaveText("2");

  // The CSV is the table.
  const download = page.waitForEvent("download");
  await page.getByTestId("usage-csv").click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^usage-month-\d{4}-\d{2}-01-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync(await file.path(), "utf8").trim().split("\r\n");
  expect(csv[0]).toBe("period,start,end,status:verified,total,verified,conversionRate,price,priceUnit");
  expect(csv).toHaveLength(1 + 12 + 1);
  expect(csv[12]).toMatch(new RegExp(`^${month},${month}-01,${today},2,2,2,1\\.0000,`));
  expect(csv[13]).toMatch(/^Total,\d{4}-\d{2}-01,\d{4}-\d{2}-\d{2},2,2,2,1\.0000,/);

  // Another country, every status, by year.
  await form.getByLabel("Country").fill("GB");
  await form.getByLabel("Status").selectOption("");
  await form.getByLabel("Period").selectOption("year");
  await form.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/period=year/);
  await expect(t.count).toHaveText("1");
  await expect(page.getByTestId("usage-table").locator("tbody tr")).toHaveCount(5);
});

test("usage renders its table and exports without JavaScript", async ({ page }) => {
  test.skip(withJs(page), "checks the page before (or without) hydration");
  await signIn(page);
  await page.goto(`/usage?service=${service()}&country=US&channel=sms`);
  const t = totals(page);
  await expect(t.count).toHaveText("3");
  await expect(t.verified).toHaveText("2");
  await expect(page.getByTestId("usage-table").locator("tbody tr")).toHaveCount(30);
  const form = page.getByRole("form", { name: "Report" });
  await form.getByLabel("Status").selectOption("verified");
  await form.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/status=verified/);
  await expect(t.count).toHaveText("2");
  const href = await page.getByTestId("usage-csv").getAttribute("href");
  expect(href).toContain(`service=${service()}`);
  const res = await page.request.get(href!);
  expect(res.status()).toBe(200);
  const csv = (await res.text()).trim().split("\r\n");
  expect(csv).toHaveLength(1 + 30 + 1);
  expect(csv[31]).toMatch(/^Total,[^,]*,[^,]*,2,0,0,2,2,1\.0000,/);
});
