import { expect, test } from "@playwright/test";

// Needs JavaScript (the edit and delete buttons are interactive); the page itself renders on
// the server and its add form also posts without JavaScript.
const email = process.env.E2E_EMAIL ?? "";
const password = process.env.E2E_PASSWORD ?? "";
const sid = process.env.E2E_ACCOUNT_SID ?? "";
const token = process.env.E2E_AUTH_TOKEN ?? "";

test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, "interactive page");

test("create a limit, see it block REST sends, edit it, delete it", async ({ page, request }) => {
  expect(sid, "E2E_ACCOUNT_SID must be set (see .ci/test.sh)").not.toBe("");
  // A name of its own, so a retry starts from a clean slate.
  const limitName = `e2e_${Date.now().toString(36)}`;
  await page.goto("/login");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account-name")).toBeVisible();
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Limits" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Limits" })).toBeVisible();
  const ready = page.locator('.limits-list[data-ready="true"]');
  await expect(ready).toHaveCount(1);

  // Add: 2 per 1 minute.
  await page.getByRole("button", { name: "Add limit" }).click();
  const form = page.getByRole("region", { name: "Add limit" });
  await form.getByLabel("Name").fill(limitName);
  await form.getByLabel("Description").fill("end-to-end test");
  await form.locator("#max1").fill("2");
  await form.locator("#every1").fill("1");
  await form.getByLabel("Unit of bucket 1").selectOption("minutes");
  await form.getByRole("button", { name: "Save limit" }).click();
  const row = page.locator(`tr[data-limit="${limitName}"]`);
  await expect(row).toContainText("2 per 1 minute");
  await expect(row.getByTestId("blocked-24h")).toHaveText("0");

  // A duplicate name is explained next to the name field.
  await page.getByRole("button", { name: "Add limit" }).click();
  await form.getByLabel("Name").fill(limitName);
  await form.locator("#max1").fill("3");
  await form.locator("#every1").fill("1");
  await form.getByRole("button", { name: "Save limit" }).click();
  await expect(form.getByRole("alert")).toContainText("already exists");
  await form.getByRole("button", { name: "Cancel" }).click();

  // Sends through the REST API until the limit blocks.
  const auth = { Authorization: "Basic " + Buffer.from(`${sid}:${token}`).toString("base64") };
  // Fresh numbers each run (per-destination resend protection would refuse repeats).
  const firstNumber = Date.now() % 9000;
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await request.post("/2fa/send", {
      headers: auth,
      data: { service: "E2E", to: `+1415555${1000 + ((firstNumber + i) % 9000)}`, limits: { [limitName]: "203.0.113.50" } },
    });
    statuses.push(res.status());
  }
  expect(statuses).toEqual([200, 200, 429]);
  await page.reload();
  await expect(ready).toHaveCount(1);
  await expect(row.getByTestId("blocked-24h")).toHaveText("1");

  // Edit: 5 per 1 minute.
  const edit = page.getByRole("region", { name: "Edit limit" });
  await row.getByRole("button", { name: "Edit" }).click();
  await expect(edit).toBeVisible();
  await expect(edit.locator("#max1")).toHaveValue("2");
  await edit.locator("#max1").fill("5");
  await edit.getByRole("button", { name: "Save limit" }).click();
  await expect(row).toContainText("5 per 1 minute");

  // Delete with a confirmation.
  await row.getByRole("button", { name: "Delete…" }).click();
  await row.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(row).toHaveCount(0);
});
