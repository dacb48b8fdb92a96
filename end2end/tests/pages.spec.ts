import { expect, test } from "@playwright/test";

// Every console page, opened directly (a first load) and reached from another page by the
// menu (a client-side route change): it hydrates without an error and shows its heading.
const email = process.env.E2E_EMAIL ?? "";
const password = process.env.E2E_PASSWORD ?? "";

const pages: [string, RegExp][] = [
  ["/", /./],
  ["/send", /Send/],
  ["/otps", /OTPs/],
  ["/usage", /Usage/],
  ["/limits", /Limits/],
  ["/developers", /Developers/],
  ["/settings/channels", /Settings/],
  ["/settings/defaults", /Settings/],
  ["/settings/templates", /Settings/],
  ["/settings/countries", /Settings/],
  ["/settings/fraud", /Settings/],
  ["/subaccounts", /Sub-accounts/],
  ["/users", /Users/],
  ["/audit", /Audit/],
];

test("every page hydrates, and the menu reaches every page without a reload", async ({ page, javaScriptEnabled }) => {
  test.skip(!javaScriptEnabled, "hydration needs JavaScript");
  // Fourteen full page loads (each compiles the WASM) and ten route changes: more than the
  // default 30 s on a busy machine.
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });

  await page.goto("/login");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  expect(errors, "/login: no error while hydrating").toEqual([]);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account-name")).toBeVisible();

  for (const [path, heading] of pages) {
    await page.goto(path);
    await expect(
      page.locator("body[data-hydrated=true]"),
      `${path} hydrates (errors: ${JSON.stringify(errors)})`,
    ).toHaveCount(1, { timeout: 30_000 });
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(heading);
    expect(errors, `${path}: no error while hydrating`).toEqual([]);
  }

  // Client-side navigation: from Home, every entry of the menu renders its page without a
  // full page load.
  await page.goto("/");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  const nav = page.getByRole("navigation", { name: "Console" });
  const menu: [string, string, RegExp][] = [
    ["Send test OTP", "/send", /Send test OTP/],
    ["OTPs", "/otps", /OTPs/],
    ["Usage", "/usage", /Usage/],
    ["Limits", "/limits", /Limits/],
    ["Settings", "/settings", /Settings/],
    ["Developers", "/developers", /Developers/],
    ["Sub-accounts", "/subaccounts", /Sub-accounts/],
    ["Users", "/users", /Users/],
    ["Audit log", "/audit", /Audit log/],
    ["Home", "/", /./],
  ];
  let documents = 0;
  page.on("request", (r) => {
    if (r.resourceType() === "document") documents += 1;
  });
  for (const [name, path, heading] of menu) {
    await nav.getByRole("link", { name, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${path.replace(/\//g, "\\/")}$`));
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(heading);
    expect(errors, `navigating to ${name}: no error`).toEqual([]);
  }
  expect(documents, "the menu navigates without reloading the page").toBe(0);
});
