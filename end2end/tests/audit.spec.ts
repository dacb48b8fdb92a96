import { expect, test } from "@playwright/test";

// The Audit log: a change made in the console (a new limit) and one made through the API are
// found in the log filtered by actor and action; the filters live in the URL, so the page also
// works (and filters) without JavaScript. Secrets never show.
const email = process.env.E2E_EMAIL ?? "";
const password = process.env.E2E_PASSWORD ?? "";
const sid = process.env.E2E_ACCOUNT_SID ?? "";
const token = process.env.E2E_AUTH_TOKEN ?? "";

async function signIn(page: import("@playwright/test").Page, javaScriptEnabled: boolean) {
  await page.goto("/login");
  if (javaScriptEnabled) {
    await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  }
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  if (javaScriptEnabled) {
    await expect(page.getByTestId("account-name")).toBeVisible();
  } else {
    await expect(page).not.toHaveURL(/\/login/);
  }
}

test("a limit created in the console is in the Audit log, filtered by actor", async ({ page, javaScriptEnabled }) => {
  test.skip(!javaScriptEnabled, "the Limits page's add form is interactive");
  const limitName = `e2e_audit_${Date.now().toString(36)}`;
  await signIn(page, true);
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Limits" }).click();
  await expect(page.locator('.limits-list[data-ready="true"]')).toHaveCount(1);
  await page.getByRole("button", { name: "Add limit" }).click();
  const form = page.getByRole("region", { name: "Add limit" });
  await form.getByLabel("Name").fill(limitName);
  await form.getByLabel("Description").fill("audited");
  await form.locator("#max1").fill("4");
  await form.locator("#every1").fill("1");
  await form.getByLabel("Unit of bucket 1").selectOption("minutes");
  await form.getByRole("button", { name: "Save limit" }).click();
  await expect(page.locator(`tr[data-limit="${limitName}"]`)).toContainText("4 per 1 minute");

  // The Audit log, filtered by who did it and what.
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Audit log" })).toBeVisible();
  const filters = page.getByRole("form", { name: "Audit log filters" });
  await filters.getByLabel("Actor").fill(email);
  await filters.getByLabel("Action").selectOption("limit.create");
  await filters.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/actor=/);
  await expect(page).toHaveURL(/action=limit\.create/);
  const table = page.getByRole("table", { name: "Audit log" });
  const row = table.locator('tr[data-action="limit.create"]').filter({ hasText: limitName });
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId("audit-actor")).toContainText(email);
  await expect(row.getByTestId("audit-change")).toContainText("buckets");
  // Every row of the filtered list is this user's.
  const actors = await table.getByTestId("audit-actor").allTextContents();
  for (const a of actors) {
    expect(a).toContain(email);
  }
  // The filters survive a reload (they are in the URL).
  await page.reload();
  await expect(page.getByRole("table", { name: "Audit log" }).locator('tr[data-action="limit.create"]').filter({ hasText: limitName })).toHaveCount(1);
  await expect(page.getByTestId("audit-csv")).toHaveAttribute("href", /\/console\/audit\.csv\?.*action=limit\.create/);
  // Never a password in the page.
  expect(await page.content()).not.toContain(password);
});

test("the Audit log renders and filters without JavaScript", async ({ page, request, javaScriptEnabled }) => {
  test.skip(javaScriptEnabled, "the no-JavaScript rendering");
  expect(sid, "E2E_ACCOUNT_SID must be set (see .ci/test.sh)").not.toBe("");
  // A change through the API: its actor is the account's credential.
  const limitName = `e2e_audit_api_${Date.now().toString(36)}`;
  const auth = { Authorization: "Basic " + Buffer.from(`${sid}:${token}`).toString("base64") };
  const created = await request.post("/2fa/limits", {
    headers: auth,
    data: { name: limitName, buckets: [{ name: "m", maxOtp: 5, interval: 60 }] },
  });
  expect(created.status()).toBe(201);
  const limitSid = (await created.json()).limitSid as string;

  await signIn(page, false);
  await page.goto("/audit");
  await expect(page.getByRole("heading", { level: 1, name: "Audit log" })).toBeVisible();
  // The GET form puts the filters in the URL and the server renders the filtered list.
  const filters = page.getByRole("form", { name: "Audit log filters" });
  await filters.getByLabel("Actor").fill(sid);
  await filters.getByLabel("Action").selectOption("limit.create");
  await filters.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(new RegExp(`actor=${sid}`));
  const row = page.getByRole("table", { name: "Audit log" }).locator('tr[data-action="limit.create"]').filter({ hasText: limitSid });
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId("audit-actor")).toContainText(sid);
  await expect(row.getByTestId("audit-change")).toContainText(limitName);
  // The API sees the same entry.
  const listed = await request.get(`/2fa/audit?actor=${sid}&action=limit.create&target=${limitSid}`, { headers: auth });
  expect(listed.status()).toBe(200);
  const body = await listed.json();
  expect(body.entries.length).toBe(1);
  expect(body.entries[0].actor).toEqual({ type: "credential", sid });
  expect(JSON.stringify(body)).not.toContain(token);

  // Clean up the limit (that is audited too).
  expect((await request.delete(`/2fa/limits/${limitSid}`, { headers: auth })).status()).toBe(204);
});
