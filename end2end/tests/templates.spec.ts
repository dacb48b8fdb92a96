import { expect, test, type APIRequestContext, type Page } from "@playwright/test";

// Settings → Templates: edit the Spanish SMS template, watch the live preview and the SMS
// length follow the typing, save, and see a send with `language: "es-MX"` (through the REST API)
// use it in the sandbox outbox; then reset it to the built-in text. Without JavaScript the
// picker and the server-rendered preview work as plain pages.
const email = process.env.E2E_EMAIL ?? "";
const password = process.env.E2E_PASSWORD ?? "";
const sid = process.env.E2E_ACCOUNT_SID ?? "";
const token = process.env.E2E_AUTH_TOKEN ?? "";
const auth = { Authorization: "Basic " + Buffer.from(`${sid}:${token}`).toString("base64") };

async function signIn(page: Page, hydrated: boolean) {
  await page.goto("/login");
  if (hydrated) {
    await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  }
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account-name")).toBeVisible();
}

/// The sandbox text of a request, once delivered.
async function sandboxText(request: APIRequestContext, requestID: string): Promise<string> {
  let text = "";
  await expect
    .poll(async () => {
      const res = await request.get(`/2fa/sandbox/messages?requestID=${requestID}`, { headers: auth });
      text = (await res.json()).messages?.[0]?.text ?? "";
      return text;
    })
    .not.toBe("");
  return text;
}

test("edit the Spanish SMS template and see an es-MX send use it", async ({ page, request, javaScriptEnabled }) => {
  test.skip(!javaScriptEnabled, "the live preview is interactive");
  expect(sid, "E2E_ACCOUNT_SID must be set (see .ci/test.sh)").not.toBe("");
  const run = Date.now().toString(36);
  await signIn(page, true);
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Settings" }).click();
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Templates" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Settings · Templates" })).toBeVisible();
  await expect(page.locator('.templates[data-ready="true"]')).toHaveCount(1);

  // Pick SMS in Spanish: the built-in text, its preview with the sample code, its length.
  const picker = page.getByRole("form", { name: "Template" });
  await picker.getByLabel("Channel").selectOption("sms");
  await picker.getByLabel("Language", { exact: true }).selectOption("es");
  await expect(page).toHaveURL(/channel=sms&language=es$/);
  const editor = page.getByRole("region", { name: "Template text" });
  await expect(editor.getByRole("heading", { level: 2 })).toContainText("Español (es)");
  const text = editor.getByLabel("Text", { exact: true });
  await expect(text).toHaveValue(/^Tu código de \{service\} es \{code\}/);
  const preview = page.getByTestId("template-preview");
  await expect(preview).toContainText("Tu código de MyApp es 481592.");
  const length = page.getByTestId("template-length");
  await expect(length).toContainText("1 segment");
  await expect(length).toContainText("UCS-2");

  // The preview follows the typing, before anything is saved.
  const mine = `E2E ${run}: tu código de {service} es {code}, válido {minutes} min.`;
  await text.fill(mine);
  await expect(preview).toHaveText(`E2E ${run}: tu código de MyApp es 481592, válido 10 min.`);
  await expect(length).toContainText(`${mine.length - "{service}{code}{minutes}".length + "MyApp48159210".length} characters`);

  // Without {code} the save is refused next to the field, and what was typed stays.
  await text.fill("Sin código");
  await expect(preview).toHaveText("Sin código");
  await editor.getByRole("button", { name: "Save" }).click();
  await expect(editor.getByRole("alert")).toContainText("Text must contain the {code} placeholder.");
  await expect(text).toHaveValue("Sin código");

  await text.fill(mine);
  await editor.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("template-source")).toContainText("this account's own text");
  await expect(editor.getByLabel("Text", { exact: true })).toHaveValue(mine);

  // A send in Mexican Spanish falls back to the account's Spanish template.
  const res = await request.post("/2fa/send", {
    headers: auth,
    data: { service: `Tienda${run}`, to: "+14155550142", language: "es-MX" },
  });
  expect(res.status()).toBe(200);
  const { requestID } = await res.json();
  const sms = await sandboxText(request, requestID);
  expect(sms).toMatch(new RegExp(`^E2E ${run}: tu código de Tienda${run} es [0-9A-Z]{4,10}, válido \\d+ min\\.$`));

  // Reset: the built-in Spanish text again (and for the next send too).
  await page.getByRole("button", { name: /^Reset/ }).click();
  await expect(page.getByTestId("template-source")).toContainText("the built-in text");
  await expect(page.getByLabel("Text", { exact: true })).toHaveValue(/^Tu código de \{service\} es \{code\}/);
  const again = await request.post("/2fa/send", {
    headers: auth,
    data: { service: `Tienda${run}`, to: "+14155550143", language: "es-MX" },
  });
  expect(again.status()).toBe(200);
  expect(await sandboxText(request, (await again.json()).requestID)).toMatch(new RegExp(`^Tu código de Tienda${run} es `));

  // The edit and the reset are in the Audit log, filtered by who made them.
  await page.goto(`/audit?actor=${encodeURIComponent(email)}&target=sms%2Fes`);
  const rows = page.getByRole("table", { name: "Audit log" });
  await expect(rows.locator('tr[data-action="template.update"]').filter({ hasText: `E2E ${run}` })).toHaveCount(1);
  await expect(rows.locator('tr[data-action="template.delete"]').first()).toBeVisible();
});

test("without JavaScript the picker opens a template with its preview", async ({ page, javaScriptEnabled }) => {
  test.skip(javaScriptEnabled, "the no-JavaScript rendering");
  await signIn(page, false);
  await page.goto("/settings/templates");
  await expect(page.getByRole("heading", { level: 1, name: "Settings · Templates" })).toBeVisible();
  const picker = page.getByRole("form", { name: "Template" });
  await picker.getByLabel("Channel").selectOption("email");
  await picker.getByLabel("Other language").fill("fr-CA");
  await picker.getByRole("button", { name: "Open" }).click();
  await expect(page).toHaveURL(/channel=email/);
  // fr-CA has no template of its own: the French one is shown as the starting point.
  await expect(page.getByTestId("template-source")).toContainText("No Email template in fr-CA yet");
  await expect(page.getByLabel("Subject")).toHaveValue("Votre code {service}");
  await expect(page.getByTestId("template-preview-subject")).toHaveText("Votre code MyApp");
  await expect(page.getByTestId("template-preview")).toContainText("Votre code de vérification MyApp est 481592.");
});
