import { expect, test } from "@playwright/test";

// API keys on the Developers page: create one (its secret shown once), call the REST API with
// it, revoke it and see the API refuse it. Creating needs JavaScript (the secret is shown on the
// page, never sent anywhere else); without JavaScript the page still renders the list.
const email = process.env.E2E_EMAIL ?? "";
const password = process.env.E2E_PASSWORD ?? "";
const accountSid = process.env.E2E_ACCOUNT_SID ?? "";

async function signIn(page: import("@playwright/test").Page, js: boolean) {
  await page.goto("/login");
  if (js) await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account-name")).toBeVisible();
  await page.goto("/developers");
  await expect(page.getByRole("heading", { level: 1, name: "Developers" })).toBeVisible();
}

test("create an API key, use it, revoke it", async ({ page, request, javaScriptEnabled }) => {
  test.skip(!javaScriptEnabled, "creating a key is interactive");
  expect(accountSid, "E2E_ACCOUNT_SID must be set (see .ci/test.sh)").not.toBe("");
  const keyName = `e2e-${Date.now().toString(36)}`;
  await signIn(page, true);
  const keys = page.getByRole("region", { name: "API keys" });
  await keys.getByLabel("New key's name").fill(keyName);
  await keys.getByRole("button", { name: "Create key" }).click();
  const notice = keys.getByRole("status");
  await expect(notice).toContainText("will not be shown again");
  const keySid = (await notice.getByTestId("new-key-sid").textContent())!.trim();
  const secret = (await notice.getByTestId("new-key-secret").textContent())!.trim();
  expect(keySid).toMatch(/^SK[0-9a-f]{32}$/);
  expect(secret).toMatch(/^[0-9a-f]{32}$/);
  const row = keys.locator(`tr[data-key="${keyName}"]`);
  await expect(row.getByTestId("key-status")).toHaveText("Active");
  await expect(keys.getByLabel("New key's name")).toHaveValue("");

  // The key acts as the account.
  const auth = { Authorization: "Basic " + Buffer.from(`${keySid}:${secret}`).toString("base64") };
  const me = await request.get(`/2fa/accounts/${accountSid}`, { headers: auth });
  expect(me.status()).toBe(200);
  expect((await me.json()).accountSid).toBe(accountSid);

  // Revoke, with a confirmation; the API refuses the key from then on.
  await row.getByRole("button", { name: "Revoke…" }).click();
  await expect(row).toContainText("Calls with it are refused at once");
  await row.getByRole("button", { name: "Revoke", exact: true }).click();
  await expect(row.getByTestId("key-status")).toContainText("Revoked");
  await expect(row.getByRole("button", { name: "Revoke…" })).toHaveCount(0);
  const refused = await request.get(`/2fa/accounts/${accountSid}`, { headers: auth });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).errorCode).toBe(7001);

  // A reload shows the list from the server, without the secret.
  await page.reload();
  await expect(keys.locator(`tr[data-key="${keyName}"]`).getByTestId("key-status")).toContainText("Revoked");
  await expect(page.getByText(secret)).toHaveCount(0);
});

test("without JavaScript the keys are listed and creating says it needs JavaScript", async ({ page, javaScriptEnabled }) => {
  test.skip(javaScriptEnabled, "the no-JavaScript rendering");
  await signIn(page, false);
  const keys = page.getByRole("region", { name: "API keys" });
  await expect(keys.getByRole("heading", { name: "API keys" })).toBeVisible();
  await expect(keys.getByRole("button", { name: "Create key" })).toBeDisabled();
  await expect(keys).toContainText("Creating a key needs JavaScript");
});
