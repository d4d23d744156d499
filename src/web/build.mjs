// Builds the demo page into dist/web: one minified ES module bundle (esbuild) plus the HTML and CSS.
import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../../", import.meta.url));
const out = `${root}dist/web/`;
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [`${root}src/web/app.ts`],
  outfile: `${out}app.js`,
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  // The client loads `ws` only where no global WebSocket exists (Node 20); browsers never do.
  external: ["ws"],
  logLevel: "warning",
});
for (const file of ["index.html", "app.css"]) copyFileSync(`${root}src/web/${file}`, `${out}${file}`);
