// Drives Junction's admin UI in headless Chromium (Debian's /usr/bin/chromium, through
// playwright-core) the way a first-time user would, and reports what the Rust test checks
// afterwards over HTTP (crates/junction/tests/admin_ui.rs runs this script).
//
// Environment: JUNCTION_URL (the gateway), MASTER_KEY, TIME_COMMAND (mcp-server-time's path),
// SCREENSHOT_DIR (kept as test artifacts). Prints one JSON line on success:
// {"key": "<the virtual key the Keys page generated>"}; any failed step throws, which exits 1
// with the step's name and a screenshot of the page at that moment.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.JUNCTION_URL;
const masterKey = process.env.MASTER_KEY;
const timeCommand = process.env.TIME_COMMAND;
const shots = process.env.SCREENSHOT_DIR ?? 'screenshots';
if (!base || !masterKey || !timeCommand) {
  console.error('JUNCTION_URL, MASTER_KEY and TIME_COMMAND are required');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const TIMEOUT = 30_000;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
const page = await context.newPage();
page.setDefaultTimeout(TIMEOUT);
const consoleErrors = [];
// A refused sign-in is a 401 the browser logs as a failed load; that one is expected.
page.on('console', (m) => {
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
});
page.on('pageerror', (e) => consoleErrors.push(String(e)));
page.on('dialog', (d) => d.accept());

let stepName = 'start';
async function step(name, body) {
  stepName = name;
  await body();
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

try {
  await step('01-sign-in-refused', async () => {
    await page.goto(`${base}/ui/`);
    // Keyboard only: the key field has focus on arrival, Enter submits.
    await page.getByLabel('API key').waitFor();
    await page.keyboard.type('sk-not-a-key');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: /not accepted|invalid|Authentication/i }).waitFor();
  });

  await step('02-signed-in', async () => {
    await page.getByLabel('API key').fill(masterKey);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'MCP servers' }).click();
    await page.getByRole('heading', { level: 1, name: 'MCP servers' }).waitFor();
  });

  await step('03-add-stdio-server', async () => {
    await page.getByRole('button', { name: 'Add MCP server' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('clock');
    await dialog.getByLabel('Transport').selectOption({ label: 'stdio' });
    await dialog.getByLabel('Command', { exact: true }).fill(timeCommand);
    await dialog.getByLabel('Access groups').fill('timekeepers');
    await dialog.getByLabel('Description').fill('The time, from mcp-server-time');
    await dialog.getByRole('button', { name: 'Add server' }).click();
    await dialog.waitFor({ state: 'hidden' });
  });

  await step('04-server-healthy', async () => {
    // The server connects in the background; the page's Refresh shows it once healthy.
    const row = page.getByRole('region', { name: 'MCP servers' }).getByRole('row', { name: /clock/ });
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      if (await row.getByText(/^healthy$/i).count()) break;
      if (Date.now() > deadline) throw new Error('the clock server never showed as healthy');
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForTimeout(300);
    }
  });

  await step('05-tools', async () => {
    await page.goto(`${base}/ui/#/tools/clock`);
    await page.getByRole('heading', { level: 1, name: 'MCP tools' }).waitFor();
    await page.getByRole('button', { name: 'clock-get_current_time', exact: true }).click();
    await page.getByText('"timezone"').first().waitFor();
  });

  await step('06-copy-name', async () => {
    const item = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('button', { name: 'clock-get_current_time', exact: true }) });
    const copy = item.getByRole('button', { name: 'Copy name' });
    await copy.click();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    if (copied !== 'clock-get_current_time') throw new Error(`Copy name copied ${JSON.stringify(copied)}`);
  });

  await step('07-call-tool', async () => {
    await page.getByLabel('Arguments (JSON)').fill('{"timezone": "Europe/Paris"}');
    await page.getByRole('button', { name: 'Call tool' }).click();
    await page.getByRole('region', { name: 'Result' }).getByText('Europe/Paris').first().waitFor();
  });

  let key;
  await step('08-create-key', async () => {
    await page.goto(`${base}/ui/#/keys`);
    await page.getByRole('heading', { level: 1, name: 'Keys' }).waitFor();
    await page.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Key alias').fill('timekeeper');
    await dialog.getByRole('group', { name: 'MCP access groups' }).getByLabel('timekeepers').check();
    await dialog.getByRole('button', { name: 'Generate key' }).click();
    key = (await dialog.getByTestId('new-key').textContent())?.trim();
    if (!key?.startsWith('sk-')) throw new Error(`no key shown: ${key}`);
  });

  await step('09-key-listed', async () => {
    await page.keyboard.press('Escape');
    await page.getByRole('row').filter({ hasText: 'timekeeper' }).first().waitFor();
  });

  await step('10-playground', async () => {
    await page.goto(`${base}/ui/#/playground`);
    await page.getByRole('heading', { level: 1, name: 'Playground' }).waitFor();
    await page.getByLabel('Model').selectOption('mock');
    await page.getByRole('checkbox', { name: 'clock' }).check();
    await page.getByLabel('Message').fill('What time is it in Paris?');
    await page.getByRole('button', { name: 'Send' }).click();
    const conversation = page.getByLabel('Conversation');
    await conversation.locator('[data-item-type="mcp_list_tools"]').first().waitFor();
    await conversation.locator('[data-item-type="mcp_call"]').getByText('Europe/Paris').first().waitFor();
    await conversation.locator('[data-item-type="message"]').last().waitFor();
  });

  await step('11-narrow-screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/ui/#/servers`);
    await page.getByRole('heading', { level: 1, name: 'MCP servers' }).waitFor();
    const menu = page.getByRole('button', { name: 'Menu' });
    await menu.click();
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Logs' }).click();
    await page.getByRole('heading', { level: 1, name: 'Logs' }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 1) throw new Error(`the page is ${overflow}px wider than a 390px screen`);
  });

  await step('12-dashboard', async () => {
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.goto(`${base}/ui/#/dashboard`);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.getByRole('heading', { name: 'Most-used tools' }).waitFor();
    // One call from the Tools page, one from the playground.
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'get_current_time' }) });
    await row.filter({ hasText: 'clock' }).getByRole('cell', { name: '2', exact: true }).first().waitFor();
  });

  await step('13-virtual-key-view', async () => {
    // The key made on the Keys page signs in too: it is offered only what a key may use,
    // and sees only the tools of its access group.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').fill(key);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.getByText('timekeeper', { exact: true }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Pages' });
    for (const hidden of ['Keys', 'Teams', 'MCP servers']) {
      if (await nav.getByRole('link', { name: hidden, exact: true }).count()) {
        throw new Error(`a virtual key is offered the ${hidden} page`);
      }
    }
    await nav.getByRole('link', { name: 'MCP tools' }).click();
    await page.getByRole('button', { name: 'clock-get_current_time', exact: true }).waitFor();
    if (await page.getByRole('button', { name: /^everything-/ }).count()) {
      throw new Error('a key limited to the timekeepers group is shown the everything tools');
    }
  });

  if (consoleErrors.length) throw new Error(`the browser console showed errors:\n${consoleErrors.join('\n')}`);
  console.log(JSON.stringify({ key }));
} catch (error) {
  await page.screenshot({ path: join(shots, `failed-${stepName}.png`), fullPage: true }).catch(() => {});
  console.error(`step ${stepName} failed: ${error instanceof Error ? error.stack : error}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
