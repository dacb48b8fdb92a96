import { expect, test } from "@playwright/test";

// Sub-accounts: create one (its auth token shown once), switch the console into it (the header
// says where you are and the pages show its data), come back, suspend and reactivate it.
const email = process.env.E2E_EMAIL ?? "";
const password = process.env.E2E_PASSWORD ?? "";
const accountName = process.env.E2E_ACCOUNT_NAME ?? "";

test("create a sub-account, switch into it and back, suspend and reactivate it", async ({ page, request, javaScriptEnabled }) => {
  test.skip(!javaScriptEnabled, "creating and switching are interactive");
  const subName = `EU ${Date.now().toString(36)}`;
  await page.goto("/login");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account-name")).toHaveText(accountName);
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Sub-accounts" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Sub-accounts" })).toBeVisible();
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);

  await page.getByLabel("New sub-account's name").fill(subName);
  await page.getByRole("button", { name: "Create sub-account" }).click();
  const notice = page.getByRole("status");
  await expect(notice).toContainText("will not be shown again");
  const subSid = (await notice.getByTestId("new-sub-sid").textContent())!.trim();
  const token = (await notice.getByTestId("new-sub-token").textContent())!.trim();
  const auth = { Authorization: "Basic " + Buffer.from(`${subSid}:${token}`).toString("base64") };
  expect((await request.get(`/2fa/accounts/${subSid}`, { headers: auth })).status()).toBe(200);
  const row = page.locator(`tr[data-sub="${subName}"]`);
  await expect(row.getByTestId("sub-status")).toHaveText("Active");

  // Suspend: its token is refused; reactivate: accepted again.
  await row.getByRole("button", { name: "Suspend" }).click();
  await expect(row.getByTestId("sub-status")).toHaveText("Suspended");
  expect((await request.get(`/2fa/accounts/${subSid}`, { headers: auth })).status()).toBe(403);
  await row.getByRole("button", { name: "Reactivate" }).click();
  await expect(row.getByTestId("sub-status")).toHaveText("Active");
  expect((await request.get(`/2fa/accounts/${subSid}`, { headers: auth })).status()).toBe(200);

  // Switch into it: the header names it and the Developers page shows its SID.
  await row.getByRole("button", { name: "Switch to" }).click();
  await expect(page.getByTestId("account-name")).toHaveText(subName);
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Developers" }).click();
  await expect(page.getByText(subSid).first()).toBeVisible();
  await page.getByRole("button", { name: `Back to ${accountName}` }).click();
  await expect(page.getByTestId("account-name")).toHaveText(accountName);
  await expect(page.getByRole("button", { name: `Back to ${accountName}` })).toHaveCount(0);
});
