// Module hooks for improv-wifi-serial-sdk's dist/, which is ES modules written for bundlers: its package.json does
// not say "type": "module" and its imports name files without ".js" ("./util/hex-formatter"). Node loads it as it
// is with these two rules; nothing of the package is changed.
const DIST = "/node_modules/improv-wifi-serial-sdk/dist/";

export async function resolve(specifier, context, next) {
  if (context.parentURL?.includes(DIST) && specifier.startsWith(".") && !specifier.endsWith(".js")) {
    return next(`${specifier}.js`, context);
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (url.includes(DIST) && url.endsWith(".js")) {
    const result = await next(url, { ...context, format: "module" });
    return { ...result, format: "module", shortCircuit: true };
  }
  return next(url, context);
}
