// Each build folder says which module format its .js files are, whatever the package's own "type".
import { writeFileSync } from "node:fs";

writeFileSync(new URL("../dist/esm/package.json", import.meta.url), `${JSON.stringify({ type: "module" })}\n`);
writeFileSync(new URL("../dist/cjs/package.json", import.meta.url), `${JSON.stringify({ type: "commonjs" })}\n`);
