import { expect, test } from "@playwright/test";

// The Users page: an admin adds a user, who signs in with the role given; the admin changes the
// role and disables the user (signed out at once), then enables them again. The account's only
// admin cannot step down.
const email = process.env.E2E_EMAIL ?? "";
const password = process.env.E2E_PASSWORD ?? "";

async function signIn(page: import("@playwright/test").Page, who: string, pw: string) {
  await page.goto("/login");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByLabel("Email").fill(who);
  await page.getByLabel("Password").fill(pw);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account-name")).toBeVisible();
}

test("add a user, change their role, disable and enable them", async ({ page, browser, javaScriptEnabled }) => {
  test.skip(!javaScriptEnabled, "role and status changes are interactive");
  const newEmail = `user-${Date.now().toString(36)}@e2e.example.com`;
  const newPassword = "e2e-user-password-1";
  await signIn(page, email, password);
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Users" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Users" })).toBeVisible();
  await expect(page.locator('.users-list[data-ready="true"]')).toHaveCount(1);

  // The only admin cannot step down: the page says why and the role stays.
  const me = page.locator(`tr[data-user="${email}"]`);
  await me.getByLabel(`Role of ${email}`).selectOption("developer");
  await expect(page.getByRole("alert")).toContainText("at least one active admin");
  await expect(me.getByLabel(`Role of ${email}`)).toHaveValue("admin");
  await expect(me.getByRole("button", { name: "Disable…" })).toHaveCount(0);

  const form = page.getByRole("region", { name: "Add a user" });
  await form.getByLabel("Email").fill(newEmail);
  await form.getByLabel("Role").selectOption("developer");
  await form.getByLabel("Initial password").fill(newPassword);
  await form.getByRole("button", { name: "Add user" }).click();
  await expect(form.getByRole("status")).toContainText("User added");
  const row = page.locator(`tr[data-user="${newEmail}"]`);
  await expect(row.getByLabel(`Role of ${newEmail}`)).toHaveValue("developer");
  await expect(row.getByTestId("user-status")).toHaveText("Active");

  // The new user signs in (their own browser context) and sees the page read-only.
  const other = await browser.newContext();
  const theirs = await other.newPage();
  await signIn(theirs, newEmail, newPassword);
  await theirs.goto("/users");
  await expect(theirs.locator(`tr[data-user="${newEmail}"]`)).toContainText("Developer");
  await expect(theirs.getByRole("region", { name: "Add a user" })).toHaveCount(0);

  // Support now; then disabled: their next page load goes to the login page.
  await row.getByLabel(`Role of ${newEmail}`).selectOption("support");
  await expect(row.getByLabel(`Role of ${newEmail}`)).toHaveValue("support");
  await row.getByRole("button", { name: "Disable…" }).click();
  await row.getByRole("button", { name: "Disable", exact: true }).click();
  await expect(row.getByTestId("user-status")).toHaveText("Disabled");
  await theirs.goto("/users");
  await expect(theirs).toHaveURL(/\/login/);

  await row.getByRole("button", { name: "Enable" }).click();
  await expect(row.getByTestId("user-status")).toHaveText("Active");
  await signIn(theirs, newEmail, newPassword);
  await other.close();
});

test("the Users page renders without JavaScript", async ({ page, javaScriptEnabled }) => {
  test.skip(javaScriptEnabled, "the no-JavaScript rendering");
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.goto("/users");
  await expect(page.getByRole("table", { name: "Users" })).toContainText(email);
  await expect(page.getByRole("region", { name: "Add a user" })).toBeVisible();
});
