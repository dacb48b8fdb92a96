import { expect, test, type Page } from "@playwright/test";

// Settings → Defaults and Settings → Countries: a changed default expiry is what the next
// test OTP gets; calls narrowed to one country make the Send page refuse a call elsewhere
// (7011, next to the number). Both are put back at the end (the tests share one account).
const email = process.env.E2E_EMAIL ?? "";
const password = process.env.E2E_PASSWORD ?? "";
const sid = process.env.E2E_ACCOUNT_SID ?? "";
const token = process.env.E2E_AUTH_TOKEN ?? "";
const auth = { Authorization: "Basic " + Buffer.from(`${sid}:${token}`).toString("base64") };
const run = Date.now().toString(36);
const base = 1000 + (Date.now() % 8000);

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

async function openSettings(page: Page, tab: string, ready: string) {
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Settings" }).click();
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: tab }).click();
  await expect(page.getByRole("heading", { level: 1, name: `Settings · ${tab}` })).toBeVisible();
  if (withJs(page)) await expect(page.locator(`.${ready}[data-ready="true"]`)).toHaveCount(1);
}

async function sendTest(page: Page, to: string, channel: string) {
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Send test OTP" }).click();
  const send = page.getByRole("region", { name: "Send" });
  await send.locator('select[name="form[channels][0]"]').selectOption(channel);
  await send.getByLabel("Phone number").fill(to);
  await send.getByLabel("Service").fill(`Set${run}`);
  await send.getByRole("button", { name: "Send" }).click();
}

test("a default expiry applies to the next OTP; a country left out refuses calls", async ({ page }) => {
  test.skip(!withJs(page), "the send page answers in place");
  expect(sid, "E2E_ACCOUNT_SID must be set (see .ci/test.sh)").not.toBe("");
  await signIn(page);

  // Default expiry 5 minutes.
  await openSettings(page, "Defaults", "defaults");
  await expect(page.locator("#expiry-hint")).toContainText("Now: 600 (built-in).");
  await page.getByLabel("Expiry (seconds)").fill("300");
  await page.getByRole("button", { name: "Save defaults" }).click();
  await expect(page.getByTestId("defaults-saved")).toBeVisible();
  await expect(page.locator("#expiry-hint")).toContainText("Now: 300 (set here).");

  await sendTest(page, `+1415555${base}`, "sms");
  await expect(page.getByTestId("send-answer")).toContainText("200");
  const rid = (await page.getByTestId("sent-request-id").textContent()) ?? "";
  const sdr = await (await page.request.get(`/2fa/search/${rid}`, { headers: auth })).json();
  expect((Date.parse(sdr.expiresAt) - Date.parse(sdr.dateCreated)) / 1000).toBe(300);

  // Calls only to GB: a call to a US number is refused next to the number.
  await openSettings(page, "Countries", "countries");
  const calls = page.getByTestId("call_mode");
  await expect(page.getByTestId("call_mode-now")).toHaveText("all countries (built-in)");
  await calls.getByLabel("Only the countries ticked below").check();
  await page.getByLabel("Find a country").fill("united kingdom");
  await expect(page.locator(".countries-table tbody tr:not(.hidden)")).toHaveCount(1);
  await page.getByLabel("Calls to United Kingdom of Great Britain and Northern Ireland").check();
  await page.getByRole("button", { name: "Save countries" }).click();
  await expect(page.getByTestId("countries-saved")).toBeVisible();
  await expect(page.getByTestId("call_mode-now")).toHaveText("only GB (set here)");

  await sendTest(page, `+1415555${base + 1}`, "call");
  await expect(page.getByText("This account does not allow calls to US")).toBeVisible();
  await expect(page.getByTestId("send-answer")).toHaveCount(0);

  // Put both back.
  await openSettings(page, "Countries", "countries");
  await page.getByTestId("call_mode").getByLabel("As the server's default", { exact: false }).check();
  await page.getByRole("button", { name: "Save countries" }).click();
  await expect(page.getByTestId("call_mode-now")).toHaveText("all countries (built-in)");
  await openSettings(page, "Defaults", "defaults");
  await page.getByLabel("Expiry (seconds)").fill("");
  await page.getByRole("button", { name: "Save defaults" }).click();
  await expect(page.locator("#expiry-hint")).toContainText("Now: 600 (built-in).");

  // Both changes are in the Audit log, filtered by who made them.
  for (const [action, text] of [["settings.update", "300"], ["countries.update", "GB"]]) {
    await page.goto(`/audit?actor=${encodeURIComponent(email)}&action=${action}`);
    const rows = page.getByRole("table", { name: "Audit log" }).locator(`tr[data-action="${action}"]`);
    await expect(rows.filter({ hasText: text }).first()).toBeVisible();
    for (const a of await rows.getByTestId("audit-actor").allTextContents()) expect(a).toContain(email);
  }
});

test("the settings pages render and save without JavaScript", async ({ page }) => {
  test.skip(withJs(page), "the no-JS project");
  await signIn(page);
  await page.goto("/settings/defaults");
    await page.getByLabel("Attempts", { exact: true }).fill("4");
  await page.getByRole("button", { name: "Save defaults" }).click();
  await page.goto("/settings/defaults");
  await expect(page.locator("#max_attempts-hint")).toContainText("Now: 4 (set here).");
  await page.getByLabel("Attempts", { exact: true }).fill("");
  await page.getByRole("button", { name: "Save defaults" }).click();
  await page.goto("/settings/defaults");
  await expect(page.locator("#max_attempts-hint")).toContainText("Now: 5 (built-in).");
  await page.goto("/settings/countries");
  await expect(page.getByRole("table", { name: "Countries" }).getByText("Germany")).toBeVisible();
});
