// Loads a generated Pi extension the way Pi would, with a stand-in `pi`.
//
//   node pi_harness.cjs TYPESCRIPT_DIR EXTENSION.ts CALLS.json
//
// The extension is compiled with the TypeScript compiler (syntax errors fail
// the run), its default export is called with an object that records
// registerTool() and runs exec() as a real child process without a shell, as
// Pi does, and each {name, params} of CALLS.json is executed. Prints JSON:
// {"tools": [...], "results": {name: {ok, text}}}.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { execFile } = require("node:child_process");

async function main() {
  const [tsDir, file, callsFile] = process.argv.slice(2);
  const ts = require(path.join(tsDir, "node_modules", "typescript"));
  const source = fs.readFileSync(file, "utf8");
  const compiled = ts.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  });
  if (compiled.diagnostics.length > 0) {
    const text = compiled.diagnostics.map((d) =>
      ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    throw new Error(`syntax errors: ${text.join("; ")}`);
  }
  const module = { exports: {} };
  new Function("module", "exports", "require", compiled.outputText)(
    module, module.exports, require);

  const tools = [];
  const pi = {
    registerTool(tool) {
      tools.push(tool);
    },
    exec(command, args, options) {
      return new Promise((resolve) => {
        execFile(command, args, { signal: options && options.signal }, (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({ stdout, stderr, code, killed: false });
        });
      });
    },
  };
  module.exports.default(pi);

  const results = {};
  for (const call of JSON.parse(fs.readFileSync(callsFile, "utf8"))) {
    const tool = tools.find((t) => t.name === call.name);
    try {
      const result = await tool.execute("call-1", call.params, undefined, undefined, {});
      results[call.name] = { ok: true, text: result.content[0].text };
    } catch (error) {
      results[call.name] = { ok: false, text: error.message };
    }
  }
  const listed = tools.map((t) => ({
    name: t.name,
    label: t.label,
    description: t.description,
    parameters: t.parameters,
  }));
  process.stdout.write(JSON.stringify({ tools: listed, results }));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
