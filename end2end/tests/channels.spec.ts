import { expect, test, type Page } from "@playwright/test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

// Settings → Channels against a real SMTP server (aiosmtpd on 127.0.0.1, started by
// .ci/test.sh, which writes every message it accepts as a .json file in E2E_SMTP_DIR): add an
// SMTP provider, read the server's refusal of a wrong password in words, fix it, send a test
// message, then send a test OTP by email, find it in the mailbox and verify its code.
const email = process.env.E2E_EMAIL ?? "";
const password = process.env.E2E_PASSWORD ?? "";
const smtpPort = process.env.E2E_SMTP_PORT ?? "";
const smtpDir = process.env.E2E_SMTP_DIR ?? "";
const smtpUser = process.env.E2E_SMTP_USER ?? "";
const smtpPassword = process.env.E2E_SMTP_PASSWORD ?? "";

test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, "interactive page");

type Mail = { rcpt_tos: string[]; auth_login: string | null; headers: [string, string][]; parts: { type: string; content: string }[] };

/// The messages the SMTP server accepted for `to`.
function mailbox(to: string): Mail[] {
  return readdirSync(smtpDir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(join(smtpDir, f), "utf8")) as Mail)
    .filter((m) => m.rcpt_tos.includes(to));
}

function header(m: Mail, name: string): string | undefined {
  return m.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

async function signIn(page: Page) {
  await page.goto("/login");
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account-name")).toBeVisible();
}

test("email through an SMTP server set up in Settings → Channels", async ({ page }) => {
  expect(smtpPort, "E2E_SMTP_PORT must be set (see .ci/test.sh)").not.toBe("");
  const run = Date.now().toString(36);
  const providerName = `E2E SMTP ${run}`;
  await signIn(page);
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Settings · Channels" })).toBeVisible();
  await expect(page.locator('.channels[data-ready="true"]')).toHaveCount(1);
  const emailLineup = page.locator('.lineup[data-channel="email"]');
  await expect(emailLineup).toHaveAttribute("data-source", "sandbox");

  // Add an SMTP provider with a wrong password.
  await page.getByRole("button", { name: "Add provider" }).click();
  const form = page.getByRole("region", { name: "Add provider" });
  await form.getByLabel("Kind").selectOption("smtp");
  await form.getByLabel("Name", { exact: true }).fill(providerName);
  await expect(form.getByLabel("Email", { exact: true })).toBeChecked();
  await form.getByLabel("Host").fill("127.0.0.1");
  await form.getByLabel("Port").fill(smtpPort);
  await form.getByLabel("Security").selectOption("none");
  await form.getByLabel("User name (optional)").fill(smtpUser);
  await form.getByLabel("Password", { exact: true }).fill("not-the-password");
  await form.getByLabel("Sender address").fill("otp@e2e.example.com");
  await form.getByLabel("Sender name (optional)").fill("E2E Corp");
  await form.getByRole("button", { name: "Save provider" }).click();
  const row = page.locator(`tr[data-provider="${providerName}"]`);
  await expect(row).toContainText("SMTP server");
  await expect(row).toContainText("Email");
  await expect(emailLineup).toHaveAttribute("data-source", "own");
  await expect(emailLineup).toContainText(providerName);

  // A test message: the server refuses the password, and the page says so in words.
  const testTo = `test-${run}@e2e.example.com`;
  await row.getByRole("button", { name: "Send a test…" }).click();
  const panel = page.getByRole("region", { name: `Send a test through ${providerName}` });
  await panel.getByLabel("Send to").fill(testTo);
  await panel.getByRole("button", { name: "Send test" }).click();
  const answer = panel.getByTestId("test-answer");
  await expect(answer).toHaveAttribute("data-accepted", "false");
  await expect(answer).toContainText(/user name or password|credentials/i);
  expect(mailbox(testTo)).toHaveLength(0);

  // Fix the password (the other settings stay as they were), then the test goes through.
  await row.getByRole("button", { name: "Edit" }).click();
  const edit = page.getByRole("region", { name: "Edit provider" });
  await expect(edit.getByLabel("Host")).toHaveValue("127.0.0.1");
  await expect(edit.getByLabel("Password", { exact: true })).toHaveValue("");
  await edit.getByLabel("Password", { exact: true }).fill(smtpPassword);
  await edit.getByRole("button", { name: "Save provider" }).click();
  await expect(edit).toHaveCount(0);
  await row.getByRole("button", { name: "Send a test…" }).click();
  await panel.getByLabel("Send to").fill(testTo);
  await panel.getByRole("button", { name: "Send test" }).click();
  await expect(answer).toHaveAttribute("data-accepted", "true");
  await expect.poll(() => mailbox(testTo).length).toBe(1);
  const testMail = mailbox(testTo)[0];
  expect(testMail.auth_login).toBe(smtpUser);
  expect(header(testMail, "Subject")).toBe("smart2fa test message");
  expect(header(testMail, "From")).toContain("otp@e2e.example.com");

  // A test OTP by email reaches the mailbox; its code verifies.
  const otpTo = `otp-${run}@e2e.example.com`;
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Send test OTP" }).click();
  const send = page.getByRole("region", { name: "Send" });
  await send.locator('select[name="form[channels][0]"]').selectOption("email");
  await send.getByLabel("Email address").fill(otpTo);
  await send.getByLabel("Service").fill(`E2E${run}`);
  await send.getByRole("button", { name: "Send" }).click();
  await expect(page.getByTestId("send-answer")).toContainText("200");
  const deliveries = page.getByTestId("deliveries");
  await expect(deliveries).toContainText(`Email through ${providerName}`);
  // An SMTP server's 250 means it took the message: sent (no receipt comes from SMTP).
  await expect(deliveries.locator("li").first()).toHaveAttribute("data-status", "sent");
  await expect.poll(() => mailbox(otpTo).length).toBe(1);
  const otpMail = mailbox(otpTo)[0];
  const text = otpMail.parts.find((p) => p.type === "text/plain")?.content ?? "";
  const html = otpMail.parts.find((p) => p.type === "text/html")?.content ?? "";
  const code = /code is ([A-Za-z0-9]+)/.exec(text)?.[1] ?? "";
  expect(code, text).not.toBe("");
  expect(html).toContain(code);
  const verify = page.getByRole("region", { name: "Verify" });
  await verify.getByLabel("Code").fill(code);
  await verify.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("verify-answer")).toHaveText("200 — OK: verified");

  // Leave the account on the sandbox for the other tests.
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Settings" }).click();
  await expect(page.locator('.channels[data-ready="true"]')).toHaveCount(1);
  await row.getByRole("button", { name: "Delete…" }).click();
  await row.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(row).toHaveCount(0);
  await expect(emailLineup).toHaveAttribute("data-source", "sandbox");

  // Calls may ask for a key before the code; the choice holds across a reload, and goes back.
  const voice = page.getByRole("region", { name: "Voice calls" });
  await expect(voice.getByTestId("voice-press-key")).toHaveText("off");
  await voice.getByLabel("Press a key first").selectOption("on");
  await voice.getByRole("button", { name: "Save" }).click();
  await expect(voice.getByTestId("voice-press-key")).toHaveText("on");
  await page.reload();
  await expect(page.locator('.channels[data-ready="true"]')).toHaveCount(1);
  await expect(voice.getByTestId("voice-press-key")).toHaveText("on");
  await expect(voice.getByLabel("Press a key first")).toHaveValue("on");
  await voice.getByLabel("Press a key first").selectOption("off");
  await voice.getByRole("button", { name: "Save" }).click();
  await expect(voice.getByTestId("voice-press-key")).toHaveText("off");
});
