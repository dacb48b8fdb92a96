import { expect, test, type APIRequestContext, type Page } from "@playwright/test";

// Settings → Fraud guard: an admin turns blocking on, a burst of unverified sends to one number
// prefix is refused after three (429/7024), the block is listed with why and lifted from the
// page, and the lift is in the Audit log filtered by actor. The mode is put back at the end
// (the tests share one account).
const email = process.env.E2E_EMAIL ?? "";
const password = process.env.E2E_PASSWORD ?? "";
const sid = process.env.E2E_ACCOUNT_SID ?? "";
const token = process.env.E2E_AUTH_TOKEN ?? "";
const auth = { Authorization: "Basic " + Buffer.from(`${sid}:${token}`).toString("base64") };
// A prefix of its own per run: +44 7400 NN.
const nn = String(10 + (Date.now() % 90));
const prefix = `+447400${nn}`;

function withJs() {
  return test.info().project.name === "js";
}

async function signIn(page: Page) {
  await page.goto("/login");
  if (withJs()) await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account-name")).toBeVisible();
}

async function openGuard(page: Page) {
  await page.goto("/settings/fraud");
  await expect(page.getByRole("heading", { level: 1, name: "Settings · Fraud guard" })).toBeVisible();
  if (withJs()) await expect(page.locator('.fraud-guard[data-ready="true"]')).toHaveCount(1);
}

async function resetMode(request: APIRequestContext) {
  const res = await request.put("/2fa/settings/fraudGuard", { headers: auth, data: { mode: null, safeList: null } });
  expect(res.status()).toBe(200);
}

test("a burst to one prefix is blocked, listed, lifted and audited", async ({ page, request }) => {
  test.skip(!withJs(), "the JavaScript project");
  expect(sid, "E2E_ACCOUNT_SID must be set (see .ci/test.sh)").not.toBe("");
  await signIn(page);
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Settings" }).click();
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Fraud guard" }).click();
  await expect(page.locator('.fraud-guard[data-ready="true"]')).toHaveCount(1);
  await expect(page.getByTestId("mode-now")).toContainText("Not set");
  await expect(page.getByTestId("applies")).toHaveText("SMS: monitor · Calls: monitor");
  try {
    await page.getByLabel(/^Block: refuse sends/).check();
    await page.getByRole("button", { name: "Save fraud guard" }).click();
    await expect(page.getByTestId("fraud-saved")).toBeVisible();
    await expect(page.getByTestId("mode-now")).toHaveText("Block (set here)");

    // The attack: one code to each of five numbers of the prefix, none verified.
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await request.post("/2fa/send", {
        headers: auth,
        data: { service: "Pump", to: `${prefix}${String(1000 + i)}` },
      });
      statuses.push(res.status());
      if (res.status() === 429) {
        const body = await res.json();
        expect(body.errorCode).toBe(7024);
        expect(body.prefix).toBe(prefix);
        expect(res.headers()["retry-after"]).toBe("43200");
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);

    await openGuard(page);
    const row = page.locator(`tr[data-prefix="${prefix}"]`);
    await expect(row).toHaveCount(1);
    await expect(row).toContainText("GB");
    await expect(row).toContainText("4 unverified OTPs in the last hour");
    await row.getByRole("button", { name: `Lift the block of ${prefix}` }).click();
    await expect(page.getByTestId("no-blocks")).toBeVisible();
    // Lifted: the prefix goes through again.
    const after = await request.post("/2fa/send", { headers: auth, data: { service: "Pump", to: `${prefix}2000` } });
    expect(after.status()).toBe(200);

    // Found in the Audit log, filtered by actor.
    await page.goto(`/audit?actor=${encodeURIComponent(email)}&action=fraud_guard.lift`);
    const lifted = page.getByRole("table", { name: "Audit log" }).locator('tr[data-action="fraud_guard.lift"]').filter({ hasText: prefix });
    await expect(lifted).toHaveCount(1);
    await expect(lifted.getByTestId("audit-actor")).toContainText(email);
  } finally {
    await resetMode(request);
  }
});

test("the fraud guard page renders and saves without JavaScript", async ({ page, request }) => {
  test.skip(withJs(), "the no-JS project");
  await signIn(page);
  await openGuard(page);
  try {
    await page.getByLabel(/^Monitor: accept them/).check();
    await page.getByLabel("One number or prefix per line", { exact: false }).fill("+14155550100\n+447400");
    await page.getByLabel("None (not set)").uncheck();
    await page.getByRole("button", { name: "Save fraud guard" }).click();
    await openGuard(page);
    await expect(page.getByTestId("mode-now")).toHaveText("Monitor (record only) (set here)");
    await expect(page.getByTestId("safe-list-now")).toHaveText("2 entries (set here)");
  } finally {
    await resetMode(request);
  }
});
