// promtool unit tests for the generated alert rules, built from the rules' own arguments: each
// scenario is a set of series with a known truth (the P95 of the request durations it encodes,
// its 5xx share, its replicas...), placed just above or just below a threshold, and the expected
// alerts follow from that truth, not from the rule's expression. Every scenario asserts the whole
// set of alerts firing at its evaluation time (every rule in the file, most of them quiet).
import type { NormalizedAlerts } from "../../components/observability/normalize";
import { alertRules, AlertRule, CACHE_MEMORY_RATIO, GATEWAY_JOB, GATEWAY_METRICS, REPLICAS_LABEL } from "../../components/observability/rules";

type Labels = Record<string, string>;
interface Series { series: string; values: string }
interface Expected { alert: string; labels: Labels; value?: number }
interface Check { minute: number; firing: Expected[]; note: string }
interface PromqlCheck { minute: number; expr: string; value: number; labels?: Labels; note: string }
export interface Scenario { name: string; series: Series[]; checks: Check[]; promql?: PromqlCheck[] }

const sel = (name: string, labels: Labels) => `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",")}}`;
/** A counter that grows by `perMinute` each minute for `minutes` minutes (minutes + 1 samples). */
const counter = (perMinute: number, minutes: number) => `0+${perMinute}x${minutes}`;
const constant = (v: number, minutes: number) => `${v}x${minutes}`;

/** Go's `%.4g`, as Prometheus' humanize* template functions print. */
export function g4(v: number): string {
    if (v === 0 || !Number.isFinite(v)) return String(v);
    const r = Number(v.toPrecision(4));
    const e = Math.floor(Math.log10(Math.abs(r)));
    if (e < -4 || e >= 4) {
        const [m, x] = r.toExponential(3).split("e");
        const xn = Number(x);
        return `${m!.replace(/\.?0+$/, "")}e${xn < 0 ? "-" : "+"}${String(Math.abs(xn)).padStart(2, "0")}`;
    }
    return String(r);
}

function humanize(v: number): string {
    if (v === 0) return g4(v);
    let p = "";
    if (Math.abs(v) >= 1) {
        for (const s of ["k", "M", "G", "T", "P", "E", "Z", "Y"]) { if (Math.abs(v) < 1000) break; p = s; v /= 1000; }
    } else {
        for (const s of ["m", "u", "n", "p", "f", "a", "z", "y"]) { if (Math.abs(v) >= 1) break; p = s; v *= 1000; }
    }
    return g4(v) + p;
}

function humanize1024(v: number): string {
    if (Math.abs(v) <= 1) return g4(v);
    let p = "";
    for (const s of ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"]) { if (Math.abs(v) < 1024) break; p = s; v /= 1024; }
    return g4(v) + p;
}

/** The few template forms the rules use: `$labels.x`, `$value`, `$value | humanize…`. */
export function renderTemplate(t: string, labels: Labels, value: number | undefined): string {
    return t.replace(/\{\{ *([^}]*?) *\}\}/g, (_, body: string) => {
        const m = /^\$labels\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(body);
        if (m) return labels[m[1]!] ?? "";
        const v = /^\$value(?: *\| *(humanize|humanize1024|humanizePercentage))?$/.exec(body);
        if (!v) throw new Error(`renderTemplate: unsupported template {{ ${body} }}`);
        if (value === undefined) throw new Error(`renderTemplate: {{ ${body} }} needs the alert's value`);
        switch (v[1]) {
            case "humanize": return humanize(value);
            case "humanize1024": return humanize1024(value);
            case "humanizePercentage": return `${g4(value * 100)}%`;
            default: return Number.isInteger(value) ? String(value) : String(value);
        }
    });
}

/** The true P95 of a set of durations (nearest rank), the quantity the latency alerts are about. */
export function trueP95(durations: [seconds: number, count: number][]): number {
    const all = durations.flatMap(([d, c]) => Array<number>(c).fill(d)).sort((x, y) => x - y);
    return all[Math.ceil(0.95 * all.length) - 1]!;
}

/** A histogram's series for requests of the given durations each minute, over the given bounds. */
function histogram(a: NormalizedAlerts, job: string, bounds: number[], perMinute: [number, number][], minutes: number): Series[] {
    const base = { job, method: "GET", route: "/v1/items", [a.metrics.statusLabel]: "200" };
    const within = (le: number) => perMinute.filter(([d]) => d <= le).reduce((s, [, c]) => s + c, 0);
    const total = perMinute.reduce((s, [, c]) => s + c, 0);
    const sum = perMinute.reduce((s, [d, c]) => s + d * c, 0);
    return [
        ...bounds.map(le => ({ series: sel(`${a.metrics.histogram}_bucket`, { ...base, le: String(le) }), values: counter(within(le), minutes) })),
        { series: sel(`${a.metrics.histogram}_bucket`, { ...base, le: "+Inf" }), values: counter(total, minutes) },
        { series: sel(`${a.metrics.histogram}_count`, base), values: counter(total, minutes) },
        { series: sel(`${a.metrics.histogram}_sum`, base), values: counter(+sum.toFixed(6), minutes) },
    ];
}

/** Just below `t` (inside its bucket) and just above it (inside the next one, or past the last bound). */
function around(bounds: number[], t: number): { below: number; above: number } {
    const i = bounds.findIndex(b => Math.abs(b - t) < 1e-9);
    if (i < 0) throw new Error(`around: ${t} is not a bound of ${bounds.join(",")}`);
    const prev = i > 0 ? bounds[i - 1]! : 0;
    const next = bounds[i + 1] ?? t * 2;
    return { below: +(t - (t - prev) / 100).toFixed(9), above: +(t + (next - t) / 100).toFixed(9) };
}

export function scenarios(a: NormalizedAlerts): Scenario[] {
    const F = a.for;
    const E = Math.max(F.latency, F.errorRate, F.targetDown, F.replicas, F.runtime) + 7;
    const out: Scenario[] = [];
    const bounds = a.metrics.buckets;
    const svc = (job: string) => ({ job });

    // ---- latency: the truth is the P95 of the durations, compared with each threshold ----
    const latency = (name: string, job: string, perMinute: [number, number][], layout = bounds, extra: Partial<Scenario> = {}) => {
        const p95 = trueP95(perMinute);
        const firing: Expected[] = [];
        if (p95 > a.latencyP95WarningMs / 1000) firing.push({ alert: "SlipwayLatencyP95Warning", labels: svc(job), value: share(perMinute, a.latencyP95WarningMs / 1000) });
        const hasCritical = layout.some(b => Math.abs(b - a.latencyP95CriticalMs / 1000) < 1e-9);
        if (p95 > a.latencyP95CriticalMs / 1000 && hasCritical) firing.push({ alert: "SlipwayLatencyP95Critical", labels: svc(job), value: share(perMinute, a.latencyP95CriticalMs / 1000) });
        if (!hasCritical) firing.push({ alert: "SlipwayLatencyBucketMissing", labels: svc(job) });
        out.push({
            name, series: histogram(a, job, layout, perMinute, E),
            checks: [{ minute: E, firing, note: `true P95 ${p95}s` }, ...(extra.checks ?? [])],
            promql: extra.promql,
        });
    };
    const share = (perMinute: [number, number][], le: number) =>
        perMinute.filter(([d]) => d <= le).reduce((s, [, c]) => s + c, 0) / perMinute.reduce((s, [, c]) => s + c, 0);
    for (const [sev, ms] of [["warning", a.latencyP95WarningMs], ["critical", a.latencyP95CriticalMs]] as const) {
        const t = ms / 1000;
        const { below, above } = around(bounds, t);
        // 94.9 % under the line and 5.1 % just past it: the P95 (the 950th of 1000) is just past it.
        latency(`latency ${sev}: P95 just above ${ms}ms`, `p95-above-${sev}`, [[below, 949], [above, 51]], bounds, sev === "critical" ? {
            // Pending, not firing, before `for:` has passed.
            checks: [{ minute: F.latency, firing: [], note: "pending for less than for:" }],
        } : {});
        // Exactly 95 % under the line: the P95 is under it, so nothing fires.
        latency(`latency ${sev}: P95 just below ${ms}ms (exactly 95% within)`, `p95-below-${sev}`, [[below, 950], [above, 50]]);
    }
    // The issue's case: every request takes 1.01 s. With a 2 s bound the P95 reads 1.01 s; without
    // one (the old layout), histogram_quantile put it at 2.4 s and the critical fired.
    latency("every request takes 1.01s, on the service's buckets", "one-second", [[1.01, 1000]]);
    if (bounds.includes(2) && bounds.includes(1) && bounds.includes(2.5)) {
        const old = bounds.filter(b => b !== 2);
        latency("every request takes 1.01s, on the old buckets (no 2s bound)", "old-layout", [[1.01, 1000]], old, {
            promql: [{
                minute: E, note: "the interpolated P95 the old rule compared: 1 + 1.5 * 0.95 = 2.425s, past the 2s line",
                expr: `histogram_quantile(0.95, sum by (le) (rate(${a.metrics.histogram}_bucket{job="old-layout"}[5m]))) > bool 2`, value: 1,
            }],
        });
    }

    // ---- 5xx share: the truth is the share itself ----
    const errors = (name: string, job: string, ratio: number, gateway: boolean) => {
        const total = 100_000;
        const bad = Math.round(ratio * total);
        const firing: Expected[] = [];
        const prefix = gateway ? "SlipwayGatewayErrorRate" : "SlipwayErrorRate";
        if (ratio > a.errorRateWarning) firing.push({ alert: `${prefix}Warning`, labels: svc(job), value: bad / total });
        if (ratio > a.errorRateCritical) firing.push({ alert: `${prefix}Critical`, labels: svc(job), value: bad / total });
        const series = gateway
            ? [["502", bad], ["200", total - bad]].map(([code, n]) => ({
                series: sel(GATEWAY_METRICS.requests, { job, [GATEWAY_METRICS.statusLabel]: String(code), method: "GET" }),
                values: counter(n as number, E),
            }))
            : [["500", bad], ["200", total - bad]].map(([status, n]) => ({
                series: sel(a.metrics.requests, { job, method: "GET", route: "/v1/items", [a.metrics.statusLabel]: String(status) }),
                values: counter(n as number, E),
            }));
        out.push({ name, series, checks: [{ minute: E, firing, note: `${g4(ratio * 100)}% 5xx` }] });
    };
    for (const gateway of a.gateway ? [false, true] : [false]) {
        const who = gateway ? "gateway" : "service";
        for (const [sev, r] of [["warning", a.errorRateWarning], ["critical", a.errorRateCritical]] as const) {
            errors(`${who} 5xx ${sev}: just above ${g4(r * 100)}%`, gateway ? GATEWAY_JOB : `errors-above-${sev}`, +(r * 1.02).toFixed(6), gateway);
            errors(`${who} 5xx ${sev}: just below ${g4(r * 100)}%`, gateway ? GATEWAY_JOB : `errors-below-${sev}`, +(r * 0.98).toFixed(6), gateway);
        }
    }

    // ---- replicas and targets: up per target, the declared count in the `replicas` label ----
    {
        const up = (job: string, instance: string, v: number, more: Labels = {}): Series =>
            ({ series: sel("up", { job, instance, ...more }), values: constant(v, E) });
        const series: Series[] = [
            // 1 of 2 healthy: just below the declared count.
            up("api", "api-r1-1:8080", 1, { release: "r1", [REPLICAS_LABEL]: "2" }),
            up("api", "api-r1-2:8080", 0, { release: "r1", [REPLICAS_LABEL]: "2" }),
            // 2 of 2 in the old release while the new one's replicas are not up yet: enough.
            up("web", "web-r1-1:8080", 1, { release: "r1", [REPLICAS_LABEL]: "2" }),
            up("web", "web-r1-2:8080", 1, { release: "r1", [REPLICAS_LABEL]: "2" }),
            up("web", "web-r2-1:8080", 0, { release: "r2", [REPLICAS_LABEL]: "2" }),
            up("web", "web-r2-2:8080", 0, { release: "r2", [REPLICAS_LABEL]: "2" }),
            // The largest count a service can declare: 19 of 20.
            ...Array.from({ length: 20 }, (_, i) => up("big", `big-r1-${i + 1}:8080`, i === 19 ? 0 : 1, { release: "r1", [REPLICAS_LABEL]: "20" })),
            // 1 of 1: exactly the declared count.
            up("one", "one-r1-1:8080", 1, { release: "r1", [REPLICAS_LABEL]: "1" }),
            // A target that is no service's replica.
            up("node-exporter", "node-exporter:9100", 0),
            up("prometheus", "localhost:9090", 1),
        ];
        const firing: Expected[] = [];
        for (const s of series) {
            if (!s.values.startsWith("0x")) continue;
            const labels = Object.fromEntries([...s.series.matchAll(/(\w+)="([^"]*)"/g)].map(m => [m[1]!, m[2]!]));
            firing.push({ alert: "SlipwayTargetDown", labels });
        }
        firing.push({ alert: "SlipwayReplicasMissing", labels: { job: "api", [REPLICAS_LABEL]: "2" }, value: 1 });
        firing.push({ alert: "SlipwayReplicasMissing", labels: { job: "big", [REPLICAS_LABEL]: "20" }, value: 19 });
        out.push({
            name: "targets and replicas", series,
            checks: [
                { minute: E, firing, note: "down targets; services under their declared replicas" },
                { minute: Math.min(F.targetDown, F.replicas) - 1, firing: [], note: "nothing before for:" },
            ],
        });
    }

    // ---- Go runtime: one instance just above each line, one on it ----
    {
        const mib = 1024 * 1024;
        const g = (instance: string, v: number): Series => ({ series: sel("go_goroutines", { job: "api", instance }), values: constant(v, E) });
        const m = (instance: string, v: number): Series => ({ series: sel("process_resident_memory_bytes", { job: "api", instance }), values: constant(v, E) });
        out.push({
            name: "Go runtime",
            series: [g("api-1:8080", a.goroutines + 1), g("api-2:8080", a.goroutines), m("api-1:8080", a.residentMemoryMiB * mib + 1), m("api-2:8080", a.residentMemoryMiB * mib)],
            checks: [{
                minute: E, note: "just above the line on api-1, on it on api-2",
                firing: [
                    { alert: "SlipwayGoroutinesHigh", labels: { job: "api", instance: "api-1:8080" }, value: a.goroutines + 1 },
                    { alert: "SlipwayMemoryHigh", labels: { job: "api", instance: "api-1:8080" }, value: a.residentMemoryMiB * mib + 1 },
                ],
            }],
        });
    }

    // ---- cache: the exporter answers (up 1) while its server is down; memory against maxmemory ----
    {
        const job = "cache-metrics";
        const max = 100 * 1024 * 1024;
        const redisUp = (instance: string, v: number): Series => ({ series: sel("redis_up", { job, instance }), values: constant(v, E) });
        const mem = (instance: string, used: number, limit: number): Series[] => [
            { series: sel("redis_memory_used_bytes", { job, instance }), values: constant(used, E) },
            { series: sel("redis_memory_max_bytes", { job, instance }), values: constant(limit, E) },
        ];
        const above = Math.round(max * (CACHE_MEMORY_RATIO + 0.05));
        out.push({
            name: "cache down, cache memory",
            series: [
                redisUp("down:9121", 0), redisUp("up:9121", 1),
                ...mem("above:9121", above, max),
                ...mem("on-the-line:9121", Math.round(max * CACHE_MEMORY_RATIO), max),
                // No maxmemory: nothing to be near.
                ...mem("unlimited:9121", max, 0),
            ],
            checks: [
                {
                    minute: E, note: "a server the exporter cannot reach; memory just above the line, on it, and without a limit",
                    firing: [
                        { alert: "SlipwayCacheDown", labels: { job, instance: "down:9121" }, value: 0 },
                        { alert: "SlipwayCacheMemoryNearLimit", labels: { job, instance: "above:9121" }, value: above / max },
                    ],
                },
                { minute: Math.min(F.targetDown, F.runtime) - 1, firing: [], note: "nothing before for:" },
            ],
        });
    }

    // ---- request rate: now against the same window one baseline earlier ----
    {
        const baselineMinutes = { "1h": 60, "1d": 1440, "1w": 10_080 }[a.requestRate.baseline];
        const C = baselineMinutes + 10;
        const end = C + 10 + F.requestRate + 2;
        const r = a.requestRate;
        const floorPerMinute = r.floorPerSecond * 60;
        const B = Math.max(600, Math.ceil(floorPerMinute * 4));
        const jobs: { job: string; before: number; after: number }[] = [
            { job: "drop-above", before: B, after: Math.floor(B * r.drop * 0.98) },
            { job: "drop-below", before: B, after: Math.ceil(B * r.drop * 1.02) },
            { job: "idle", before: Math.floor(floorPerMinute * 0.9), after: 0 },
            { job: "spike-above", before: B, after: Math.ceil(B * r.spike * 1.01) },
            { job: "spike-below", before: B, after: Math.floor(B * r.spike * 0.99) },
            { job: "spike-under-floor", before: Math.max(1, Math.floor(floorPerMinute / (r.spike * 4))), after: Math.max(1, Math.floor(floorPerMinute * 0.5)) },
        ];
        const series = jobs.map(j => ({
            series: sel(a.metrics.requests, { job: j.job, method: "GET", route: "/v1/items", [a.metrics.statusLabel]: "200" }),
            // `before` a minute up to minute C, then `after` a minute up to `end`.
            values: `${counter(j.before, C)} ${j.before * C + j.after}+${j.after}x${end - C - 1}`,
        }));
        const firing: Expected[] = [];
        for (const j of jobs) {
            const [now, then] = [j.after / 60, j.before / 60];
            if (now < r.drop * then && then >= r.floorPerSecond) firing.push({ alert: "SlipwayRequestRateDrop", labels: svc(j.job), value: now });
            if (now > r.spike * then && now >= r.floorPerSecond) firing.push({ alert: "SlipwayRequestRateSpike", labels: svc(j.job), value: now });
        }
        out.push({ name: `request rate against ${r.baseline} earlier`, series, checks: [{ minute: end, firing, note: "drops, spikes, and idle traffic under the floor" }] });
    }
    return out;
}

/** Expected alerts of `rule` as promtool wants them: every label (the rule's, templated) and annotation. */
function expectedAlert(rule: AlertRule, e: Expected) {
    const labels: Labels = { ...e.labels };
    for (const [k, v] of Object.entries(rule.labels)) labels[k] = renderTemplate(v, e.labels, e.value);
    return {
        exp_labels: labels,
        exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, renderTemplate(v, e.labels, e.value)])),
    };
}

const minutes = (m: number) => `${m}m`;

/**
 * The promtool test document for the rules file `rulesFile` generated from `a`: one test per
 * scenario, asserting for each check every alert in the file (the expected ones, and none of the
 * others). Alerts of rules the profile leaves out are not expected.
 */
export function promtoolTests(a: NormalizedAlerts, rulesFile: string) {
    const rules = alertRules(a).groups.flatMap(g => g.rules);
    const byName = new Map(rules.map(r => [r.alert, r]));
    return {
        rule_files: [rulesFile],
        evaluation_interval: "1m",
        tests: scenarios(a).map(s => ({
            name: s.name,
            interval: "1m",
            input_series: s.series,
            alert_rule_test: s.checks.flatMap(c => [...byName.values()].map(rule => ({
                eval_time: minutes(c.minute),
                alertname: rule.alert,
                exp_alerts: c.firing.filter(e => e.alert === rule.alert).map(e => expectedAlert(rule, e)),
            }))),
            ...(s.promql ? {
                promql_expr_test: s.promql.map(p => ({ expr: p.expr, eval_time: minutes(p.minute), exp_samples: [{ labels: "{}", value: p.value }] })),
            } : {}),
        })),
    };
}

/** Each scenario and check in words, with the alerts it expects: the test's own summary. */
export function describeScenarios(a: NormalizedAlerts): string[] {
    const present = new Set(alertRules(a).groups.flatMap(g => g.rules.map(r => r.alert)));
    return scenarios(a).flatMap(s => s.checks.map(c => {
        const fired = c.firing.filter(e => present.has(e.alert)).map(e => `${e.alert}{${Object.values(e.labels).join(",")}}`);
        return `${s.name} @${c.minute}m (${c.note}): ${fired.length ? fired.join(" ") : "quiet"}`;
    }));
}
