// Builds the demo page into dist/web: index.html naming content-hashed assets in dist/web/assets
// (one minified ES module bundle, its CSS and icon, by esbuild) and favicon.svg for /favicon.ico.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../../", import.meta.url));
const src = `${root}src/web/`;
const out = `${root}dist/web/`;
// Hashed names pile up otherwise, and a stale one would still be served.
rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}assets`, { recursive: true });
const result = await build({
  entryPoints: [`${src}app.ts`, `${src}app.css`, `${src}favicon.svg`],
  outdir: `${out}assets`,
  // A new build gets new names, so the server may let browsers keep assets for a year.
  entryNames: "[name]-[hash]",
  loader: { ".svg": "copy" },
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  metafile: true,
  // The client loads `ws` only where no global WebSocket exists (Node 20); browsers never do.
  external: ["ws"],
  logLevel: "warning",
});

// index.html names its assets by their source names (/assets/app.js); point them at the hashed files.
let html = readFileSync(`${src}index.html`, "utf8");
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (!output.entryPoint) continue;
  const hashed = basename(file);
  const plain = hashed.replace(/-[A-Z0-9]{8}(\.[a-z]+)$/, "$1");
  html = html.replaceAll(`"/assets/${plain}"`, `"/assets/${hashed}"`);
}
const unhashed = html.match(/"\/assets\/[^"]*"/g)?.filter((ref) => !/-[A-Z0-9]{8}\.[a-z]+"$/.test(ref));
if (unhashed?.length) throw new Error(`index.html names assets that the build did not emit: ${unhashed.join(", ")}`);
writeFileSync(`${out}index.html`, html);
copyFileSync(`${src}favicon.svg`, `${out}favicon.svg`);
