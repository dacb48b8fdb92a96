import { expect, test, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";

// Send test OTP, OTPs search, SDR detail and cancel. The server runs with the sandbox provider.
const email = process.env.E2E_EMAIL ?? "";
const password = process.env.E2E_PASSWORD ?? "";
const sid = process.env.E2E_ACCOUNT_SID ?? "";
const token = process.env.E2E_AUTH_TOKEN ?? "";
const auth = { Authorization: "Basic " + Buffer.from(`${sid}:${token}`).toString("base64") };

// Fresh numbers and a service of its own per run.
const run = Date.now().toString(36);
const service = `E2E${run}`;
const base = 1000 + (Date.now() % 8000);
const phone = (i: number) => `+1415555${base + i}`;

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

test("send a test SMS, verify it, find it, open its SDR, export it", async ({ page }) => {
  test.skip(!withJs(page), "the send page follows the OTP live");
  await signIn(page);
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Send test OTP" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Send test OTP" })).toBeVisible();

  const send = page.getByRole("region", { name: "Send" });
  await send.getByLabel("Phone number").fill(phone(0));
  await expect(page.getByTestId("destination-check")).toHaveText(`✓ ${phone(0)} · US`);
  await send.getByLabel("Service").fill(service);
  await send.getByRole("button", { name: "Send" }).click();
  await expect(page.getByTestId("send-answer")).toContainText("200");
  const requestId = (await page.getByTestId("sent-request-id").textContent()) ?? "";
  expect(requestId).toMatch(/^OTP[0-9a-f]{32}$/);

  // The status follows delivery without a reload; the sandbox shows the text the user gets.
  const status = page.getByRole("region", { name: "Status" });
  await expect(status.locator(".badge")).toHaveText("delivered");
  const message = page.getByTestId("sandbox-message");
  await expect(message).toContainText(`Your ${service} code is`);
  const code = /code is ([A-Za-z0-9]+)/.exec((await message.textContent()) ?? "")![1];

  const verify = page.getByRole("region", { name: "Verify" });
  await verify.getByLabel("Code").fill(code === "000000" ? "111111" : "000000");
  await verify.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("verify-answer")).toHaveText("7030 — Wrong code. 4 attempts left.");
  await verify.getByLabel("Code").fill(code);
  await verify.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("verify-answer")).toHaveText("200 — OK: verified");
  await expect(status.locator(".badge")).toHaveText("verified");

  // Find it by number in OTPs (spaces as people type them), then open it.
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "OTPs" }).click();
  const filters = page.getByRole("form", { name: "Filters" });
  await filters.getByLabel("Destination").fill(phone(0).replace(/^(\+1)(415)/, "$1 $2 "));
  await filters.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/destination=/);
  await expect(page.getByTestId("otp-total")).toHaveText("1 OTP matches");
  const row = page.locator(`tr[data-request-id="${requestId}"]`);
  await expect(row.locator(".badge")).toHaveText("verified");
  await row.getByRole("link").click();
  await expect(page.getByTestId("request-id")).toHaveText(requestId);
  const timeline = page.getByRole("list", { name: "Timeline" });
  for (const kind of ["created", "attempt_sent", "delivery_report", "verify_failed", "verified"]) {
    await expect(timeline.locator(`li[data-event="${kind}"]`)).toHaveCount(1);
  }
  await expect(timeline).toContainText("attemptsLeft: 4");
  await expect(page.getByRole("button", { name: "Cancel OTP…" })).toHaveCount(0);
  await expect(page.locator("body")).not.toContainText(`code is ${code}`);

  // Export the filtered set: this service's OTPs only.
  await page.goto(`/otps?service=${service}`);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  const download = page.waitForEvent("download");
  await page.getByTestId("export-csv").click();
  const csv = readFileSync(await (await download).path(), "utf8").trim().split("\r\n");
  await expect(page.getByTestId("export-progress")).toHaveText("Exported 1 row.");
  expect(csv[0].split(",").slice(0, 3)).toEqual(["requestID", "dateCreated", "service"]);
  expect(csv.length).toBe(2);
  expect(csv[1]).toContain(requestId);
  expect(csv[1]).toContain(`,${service},`);
  expect(csv[1]).toContain(",verified,");
});

test("cancel an OTP from its SDR page", async ({ page, request }) => {
  test.skip(!withJs(page), "cancel is a button");
  const res = await request.post("/2fa/send", { headers: auth, data: { service, to: phone(1) } });
  expect(res.status()).toBe(200);
  const requestId = (await res.json()).requestID as string;
  await signIn(page);
  await page.goto(`/otps/${requestId}`);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByRole("button", { name: "Cancel OTP…" }).click();
  await page.getByRole("group", { name: "Confirm cancel" }).getByRole("button", { name: "Cancel OTP" }).click();
  await expect(page.locator(".page-head .badge")).toHaveText("canceled");
  await expect(page.getByRole("list", { name: "Timeline" }).locator('li[data-event="canceled"]')).toContainText(
    `by ${email}`,
  );
  await expect(page.getByRole("button", { name: "Cancel OTP…" })).toHaveCount(0);
  const verify = await request.post("/2fa/verify", { headers: auth, data: { requestID: requestId, code: "123456" } });
  expect((await verify.json()).errorCode).toBe(7033);
});

test("a workflow to a failing number falls back to email", async ({ page }) => {
  test.skip(!withJs(page), "the send page follows the OTP live");
  await signIn(page);
  await page.goto("/send");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  const send = page.getByRole("region", { name: "Send" });
  await send.getByLabel("First").selectOption("sms");
  await send.getByLabel("Then").first().selectOption("email");
  // The sandbox fails numbers ending in 0000.
  await send.getByLabel("Phone number").fill("+14155550000");
  await send.getByLabel("Email address").fill(`fallback-${run}@example.com`);
  await send.getByLabel("Service").fill(service);
  await send.getByRole("button", { name: "Send" }).click();
  const status = page.getByRole("region", { name: "Status" });
  await expect(status.locator(".badge")).toHaveText("delivered");
  await expect(page.getByTestId("sandbox-message")).toContainText(`fallback-${run}@example.com`);
  await page.getByTestId("sent-request-id").click();
  const timeline = page.getByRole("list", { name: "Timeline" });
  await expect(timeline.locator('li[data-event="fallback"]')).toContainText("to: email");
  const attempts = page.getByRole("table", { name: "Delivery attempts" });
  await expect(attempts.locator("tbody tr")).toHaveCount(2);
  await expect(attempts.locator("tbody tr").first()).toContainText("always fails");
});

test("search and the SDR render without JavaScript", async ({ page, request }) => {
  test.skip(withJs(page), "the no-JavaScript project");
  const res = await request.post("/2fa/send", { headers: auth, data: { service, to: phone(2), reference: `nojs-${run}` } });
  const requestId = (await res.json()).requestID as string;
  await signIn(page);
  await page.goto("/otps");
  await page.getByLabel("Reference").fill(`nojs-${run}`);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(new RegExp(`reference=nojs-${run}`));
  const row = page.locator(`tr[data-request-id="${requestId}"]`);
  await expect(row).toContainText(phone(2));
  await row.getByRole("link").click();
  await expect(page.getByTestId("request-id")).toHaveText(requestId);
  await expect(page.getByRole("list", { name: "Timeline" }).locator('li[data-event="created"]')).toHaveCount(1);
});
