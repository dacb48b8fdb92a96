import { expect, test, type Page } from "@playwright/test";

// The account is created by .ci/test.sh with the CLI before the server starts.
const email = process.env.E2E_EMAIL ?? "";
const password = process.env.E2E_PASSWORD ?? "";
const accountName = process.env.E2E_ACCOUNT_NAME ?? "";

test.beforeAll(() => {
  expect(email, "E2E_EMAIL must be set (see .ci/test.sh)").not.toBe("");
});

function withJs(page: Page) {
  return test.info().project.name === "js";
}

async function ready(page: Page) {
  // Clicks before hydration are lost: with JavaScript, wait for the marker the app sets.
  if (withJs(page)) await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

async function signIn(page: Page, pw = password) {
  await page.goto("/login");
  await ready(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(pw);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("signed-out visitors are sent to the login page", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "Sign in to the console" })).toBeVisible();
});

test("log in, see the account, reload keeps the session, log out", async ({ page }) => {
  await signIn(page);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("account-name")).toHaveText(accountName);
  await expect(page.getByRole("heading", { level: 1, name: accountName })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Developers" })).toBeVisible();

  await page.reload();
  await ready(page);
  await expect(page.getByTestId("account-name")).toHaveText(accountName);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
});

test("a wrong password shows a clear message and no session", async ({ page }) => {
  await signIn(page, "definitely not the password");
  await expect(page.getByRole("alert")).toHaveText("Email or password is incorrect.");
  await expect(page).toHaveURL(/\/login/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
});

test("an email and password that open two accounts ask which one", async ({ page }) => {
  const multiEmail = process.env.E2E_MULTI_EMAIL ?? "";
  const multiPassword = process.env.E2E_MULTI_PASSWORD ?? "";
  const secondSid = process.env.E2E_MULTI_SID2 ?? "";
  expect(secondSid, "E2E_MULTI_SID2 must be set (see .ci/test.sh)").not.toBe("");
  await page.goto("/login");
  await ready(page);
  await page.getByLabel("Email").fill(multiEmail);
  await page.getByLabel("Password").fill(multiPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  if (withJs(page)) {
    // The accounts the password opened, by name; the form keeps what was typed.
    const choice = page.getByTestId("choose-account");
    await expect(choice.getByRole("radio")).toHaveCount(2);
    await choice.getByLabel(/Multi Two/).check();
  } else {
    // Without JavaScript: the page asks for the account's SID.
    await expect(page).toHaveURL(/error=choose/);
    await expect(page.getByRole("alert")).toContainText("open several accounts");
    await page.getByLabel("Email").fill(multiEmail);
    await page.getByLabel("Password").fill(multiPassword);
    await page.getByLabel("Account SID").fill(secondSid);
  }
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("account-name")).toHaveText("Multi Two");
});

test("navigation between console pages keeps the frame", async ({ page }) => {
  await signIn(page);
  await expect(page.getByTestId("account-name")).toHaveText(accountName);
  const nav = page.getByRole("navigation", { name: "Console" });
  await nav.getByRole("link", { name: "Developers" }).click();
  await expect(page).toHaveURL(/\/developers$/);
  await expect(page.getByRole("heading", { level: 1, name: "Developers" })).toBeVisible();
  await expect(page.getByText("curl -u")).toBeVisible();
  await nav.getByRole("link", { name: "Usage" }).click();
  await expect(page).toHaveURL(/\/usage$/);
  await expect(page.getByRole("heading", { level: 1, name: "Usage" })).toBeVisible();
  await expect(page.getByTestId("usage-table")).toBeVisible();
  await nav.getByRole("link", { name: "Settings" }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole("heading", { level: 1, name: "Settings · Channels" })).toBeVisible();
  await expect(page.locator('.lineup[data-channel="sms"]')).toContainText("SMS");
  await nav.getByRole("link", { name: "Audit log" }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByRole("heading", { level: 1, name: "Audit log" })).toBeVisible();
  await expect(page.getByTestId("account-name")).toHaveText(accountName);
});

test("unknown pages answer 404", async ({ page }) => {
  const res = await page.goto("/no/such/page");
  expect(res?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});
