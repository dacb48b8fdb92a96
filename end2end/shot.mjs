import { chromium } from "@playwright/test";
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
for (const [w, h, tag] of [[1280, 1000, "wide"], [390, 1400, "phone"]]) {
  const p = await b.newPage({ viewport: { width: w, height: h } });
  await p.goto("http://127.0.0.1:3919/login");
  await p.waitForSelector("body[data-hydrated=true]");
  await p.getByLabel("Email").fill("shot@example.com");
  await p.getByLabel("Password").fill("shot-password-123");
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.waitForSelector("#home-chart[data-drawn=true]");
  await p.waitForTimeout(1500);
  await p.screenshot({ path: `/tmp/shot/home-${tag}.png`, fullPage: true });
  await p.goto("http://127.0.0.1:3919/usage?period=month&by=status");
  await p.waitForSelector("#usage-chart[data-drawn=true]");
  await p.waitForTimeout(1500);
  await p.screenshot({ path: `/tmp/shot/usage-${tag}.png`, fullPage: false });
}
await b.close();
