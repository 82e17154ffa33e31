// Opens mitmweb in Debian's headless Chromium through playwright-core, waits until
// the flow list holds the expected number of rows, saves a screenshot and prints
// the rows' text as JSON on standard output.
//
// node mitmweb_page.cjs URL SCREENSHOT PROFILE_DIR ROWS
// with PLAYWRIGHT_CORE set to the folder of an installed playwright-core.

const { chromium } = require(process.env.PLAYWRIGHT_CORE);

const [url, screenshot, profile, rows] = process.argv.slice(2);
const expected = Number(rows);

// The rows' text; the table keeps empty spacer rows around the visible flows.
// Runs in the page, so it uses nothing from this file.
function flowRows() {
  return [...document.querySelectorAll(".flow-table tbody tr")]
    .map((tr) => tr.innerText.replace(/\s+/g, " ").trim())
    .filter((text) => text !== "");
}

// Whether ROWS flows show a comment within TIMEOUT milliseconds.
async function commentsShown(page, timeout) {
  try {
    await page.waitForFunction(
      (n) =>
        [...document.querySelectorAll(".flow-table tbody td.col-comment")].filter(
          (td) => td.innerText.trim() !== "",
        ).length >= n,
      expected,
      { timeout },
    );
    return true;
  } catch (error) {
    if (error.name === "TimeoutError") return false;
    throw error;
  }
}

async function dragEdge(page, column, dx) {
  const handle = await page.$(`.flow-table th.${column} .col-resize-handle`);
  if (!handle) return;
  const box = await handle.boundingBox();
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + dx, y, { steps: 10 });
  await page.mouse.up();
}

async function main() {
  // A persistent context is how Playwright takes a --user-data-dir of our own.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1400, height: 520 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    const problems = [];
    page.on("pageerror", (error) => problems.push(String(error)));
    await page.goto(url, { waitUntil: "load", timeout: 30000 });
    // Waits for the comment cells, not just the rows: the rows alone would pass
    // a proxy that forgot to write its comments.
    const shown = await commentsShown(page, 30000);
    const texts = await page.evaluate(flowRows);
    // Make room for whole comments the way a person would, by dragging column
    // edges: the path column narrower, the comment column wider.
    await dragEdge(page, "col-path", -360);
    await dragEdge(page, "col-comment", 360);
    const headers = await page.$$eval(".flow-table thead th", (ths) =>
      ths.map((th) => th.innerText.trim()),
    );
    await page.screenshot({ path: screenshot });
    process.stdout.write(
      JSON.stringify({ headers, rows: texts, problems, commentsShown: shown }),
    );
  } finally {
    await context.close();
  }
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
