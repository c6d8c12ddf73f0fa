// `pnpm build`: bundles each service's src/server.ts into services/<service>/dist/server.mjs, so production
// runs plain JavaScript with `node dist/server.mjs` and needs no TypeScript loader at run time.
//
// The workspace packages (@ipaas/*) export TypeScript source, so they are bundled in. Every third-party
// package stays external and is loaded from node_modules at run time. pnpm links a package only into the
// node_modules of the package that declares it, so a dependency of an internal package (pg, @prisma/client,
// pino…) is not reachable from the service's own folder: each of those gets a relative symlink in
// dist/node_modules, next to the bundle, pointing at the copy the internal package would have loaded.
//
//   node scripts/build.mjs [--out=dist]   (the folder, inside each service's, written to)
import { existsSync, mkdirSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { build } from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");
const SERVICES = ["api-auth", "dashboard-auth"];
/** Another folder than dist/ lets a test build its own copy while the real one is in use. */
const OUT = process.argv.find((a) => a.startsWith("--out="))?.slice("--out=".length) ?? "dist";
if (OUT === "" || OUT.startsWith("/") || OUT.split(/[\\/]/).includes(".."))
  throw new Error(`--out must be a folder inside the service's: ${OUT}`);

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

/** Where Node's lookup finds `name` from `fromDir`: the first node_modules/<name> up the tree, or null. */
function findPackage(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(candidate)) return realpathSync(candidate);
    if (dirname(dir) === dir) return null;
  }
}

/**
 * Marks every bare import that is not an @ipaas/* package as external, and records which copy of the
 * package the importing file would load, so that copy can be made reachable from the bundle.
 */
function externalDependencies(needed) {
  return {
    name: "external-dependencies",
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith("@ipaas/") || args.path.startsWith("node:")) return undefined;
        const name = packageName(args.path);
        const location = findPackage(name, args.resolveDir);
        if (location === null) return { errors: [{ text: `${name} is not installed for ${args.importer}` }] };
        const seen = needed.get(name);
        if (seen && seen.location !== location)
          return {
            errors: [
              {
                text: `two copies of ${name}: ${seen.location} (for ${seen.importer}) and ${location} (for ${args.importer})`,
              },
            ],
          };
        needed.set(name, { location, importer: args.importer });
        return { path: args.path, external: true };
      });
    },
  };
}

/**
 * `import.meta.url` in a bundled file would be the bundle's URL, but the code means its own source file
 * (packages/db finds prisma/migrations from it, service-kit finds docs/errors.md). Each use becomes that
 * file's URL, computed at run time relative to the bundle, so the tree still works wherever it is moved.
 */
function sourceFileUrls(outDir) {
  return {
    name: "source-file-urls",
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const source = await readFile(args.path, "utf8");
        if (!source.includes("import.meta.url")) return undefined;
        const fromBundle = relative(outDir, args.path).split(sep).join("/");
        const url = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
        return { contents: source.replaceAll("import.meta.url", url), loader: "ts" };
      });
    },
  };
}

/**
 * Prisma's query compiler ships as a module whose only export is the WebAssembly binary as a 4.4 MB base64
 * string. Once imported, a module is never unloaded, so the heap would keep that text twice for the life
 * of the process: the module's source and the string it exports. The bundle reads the file instead, when
 * the first client asks for the compiler, and keeps one copy. The format is checked here, at build time.
 */
function prismaQueryCompiler() {
  const filter = /^@prisma\/client\/runtime\/query_compiler_\w+\.\w+\.wasm-base64\.mjs$/;
  return {
    name: "prisma-query-compiler",
    setup(build) {
      build.onResolve({ filter }, (args) => ({
        path: args.path,
        namespace: "prisma-query-compiler",
        pluginData: { resolveDir: args.resolveDir, importer: args.importer },
      }));
      build.onLoad({ filter: /.*/, namespace: "prisma-query-compiler" }, async (args) => {
        const client = findPackage("@prisma/client", args.pluginData.resolveDir);
        if (client === null)
          return { errors: [{ text: `@prisma/client is not installed for ${args.pluginData.importer}` }] };
        const file = join(client, args.path.slice("@prisma/client/".length));
        const text = await readFile(file, "latin1");
        if (!/^const wasm = "[A-Za-z0-9+/=]+";\s*export \{ wasm \};?\s*$/.test(text))
          return { errors: [{ text: `${file} no longer holds one base64 string: see prismaQueryCompiler()` }] };
        return {
          loader: "js",
          contents: [
            'import { readFileSync } from "node:fs";',
            `const text = readFileSync(new URL(import.meta.resolve(${JSON.stringify(args.path)})), "latin1");`,
            "export const wasm = text.slice(text.indexOf('\"') + 1, text.lastIndexOf('\"'));",
          ].join("\n"),
        };
      });
    },
  };
}

/**
 * Links each external package that is not in the service's own node_modules into dist/node_modules. A copy
 * found further up (the workspace root's development dependencies) does not count: production may prune it.
 */
function linkDependencies(serviceDir, outDir, needed) {
  const linked = [];
  for (const [name, { location }] of needed) {
    const own = join(serviceDir, "node_modules", name);
    if (existsSync(own) && realpathSync(own) === location) continue;
    const link = join(outDir, "node_modules", name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(relative(dirname(link), location), link, "dir");
    linked.push(name);
  }
  return linked;
}

async function bundle(service) {
  const serviceDir = join(ROOT, "services", service);
  const outDir = join(serviceDir, OUT);
  // Only what a build makes: a test may be running its own build in a folder inside dist/.
  for (const made of ["server.mjs", "server.mjs.map", "node_modules"])
    rmSync(join(outDir, made), { recursive: true, force: true });
  const needed = new Map();
  const result = await build({
    entryPoints: [join(serviceDir, "src", "server.ts")],
    outfile: join(outDir, "server.mjs"),
    absWorkingDir: serviceDir,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: true,
    // Readable stack traces without a source map; function names kept for Fastify's plugin names.
    minify: false,
    keepNames: true,
    logLevel: "warning",
    metafile: true,
    plugins: [prismaQueryCompiler(), externalDependencies(needed), sourceFileUrls(outDir)],
  });
  const linked = linkDependencies(serviceDir, outDir, needed);
  const bytes = result.metafile.outputs[relative(serviceDir, join(outDir, "server.mjs"))]?.bytes ?? 0;
  process.stdout.write(
    `${service}: ${OUT}/server.mjs ${(bytes / 1024).toFixed(0)} kB, ${needed.size} external packages` +
      ` (${linked.length} linked into ${OUT}/node_modules)\n`,
  );
}

for (const service of SERVICES) await bundle(service);
