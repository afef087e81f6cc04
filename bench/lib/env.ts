/**
 * Imported first by bench/run.ts: Powertools' Logger and Metrics read these variables when they
 * are constructed, which happens while the benchmark modules are imported.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// As `npm start` does: tierq logs one INFO line per task, which would bury the progress line.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
// Metrics stay on, as on Lambda, so their cost is measured; quietStdout() drops the EMF lines.
// The local stack would otherwise default its functions to POWERTOOLS_METRICS_DISABLED=true.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'false';
process.env.POWERTOOLS_SERVICE_NAME ??= 'tierq';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'tierq';

/** Marker export so the import above is not a side-effect-only module to the linter. */
export const benchEnvironment = true;
