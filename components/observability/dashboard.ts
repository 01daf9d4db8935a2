// A Grafana dashboard for the services Prometheus scrapes, as typed data rendered to JSON
// deterministically. Importable as is (Dashboards > New > Import, or a provisioning file): the
// Prometheus data source is a template variable, every panel and query names it by that uid, and a
// `service` variable lists the jobs that expose the request counter, so the dashboard needs no
// edit per stack. It reads the metrics the alert rules read (`metrics` in the Args). Pure, no SDK.
import type { NormalizedAlerts, NormalizedObservability } from "./normalize";
import { GATEWAY_JOB, GATEWAY_METRICS, leMatcher } from "./rules";

/** Grafana's dashboard JSON model version this document is written in (Grafana 10.4 / 11). */
export const DASHBOARD_SCHEMA_VERSION = 39;
const DS = { type: "prometheus", uid: "${datasource}" } as const;
/** What Grafana substitutes into the queries; see {@link dashboardExpressions}. */
const RATE = "$__rate_interval";
const SERVICES = `job=~"$service"`;

interface Target { refId: string; datasource: typeof DS; expr: string; legendFormat: string; range: true }
interface Panel {
    id: number;
    type: "timeseries" | "row";
    title: string;
    gridPos: { h: number; w: number; x: number; y: number };
    datasource?: typeof DS;
    description?: string;
    fieldConfig?: { defaults: Record<string, unknown>; overrides: unknown[] };
    options?: Record<string, unknown>;
    targets?: Target[];
    collapsed?: boolean;
    panels?: Panel[];
}

export interface GrafanaDashboard {
    uid: string;
    title: string;
    tags: string[];
    timezone: string;
    schemaVersion: number;
    version: number;
    editable: boolean;
    graphTooltip: number;
    time: { from: string; to: string };
    refresh: string;
    templating: { list: Record<string, unknown>[] };
    annotations: { list: Record<string, unknown>[] };
    panels: Panel[];
}

type Query = [expr: string, legend: string];

/** Units Grafana knows: requests/s, seconds, 0–1 shown as %, bytes, plain numbers. */
type Unit = "reqps" | "s" | "percentunit" | "bytes" | "short";

/** Thresholds drawn as dashed lines at the alert lines, so a graph shows how close it runs. */
function thresholds(lines: { value: number; color: string }[]) {
    return {
        mode: "absolute",
        steps: [{ color: "green", value: null }, ...lines.map(l => ({ color: l.color, value: l.value }))],
    };
}

type DashboardInput = Pick<NormalizedObservability, "namespace" | "environment"> & { alerts: NormalizedAlerts };
type PanelExtra = { description?: string; thresholds?: unknown; min?: number; max?: number };

/** Lays panels out two per line under rows, numbering them as Grafana expects. */
class Layout {
    readonly panels: Panel[] = [];
    private id = 0;
    private x = 0;
    private y = 0;

    row(title: string): void {
        this.panels.push({ id: ++this.id, type: "row", title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: this.y }, panels: [] });
        this.y += 1;
    }

    panel(title: string, unit: Unit, queries: Query[], extra: PanelExtra = {}): void {
        const w = 12;
        this.panels.push({
            id: ++this.id, type: "timeseries", title, datasource: DS,
            ...(extra.description ? { description: extra.description } : {}),
            gridPos: { h: 8, w, x: this.x, y: this.y },
            fieldConfig: {
                defaults: {
                    unit,
                    ...(extra.min === undefined ? {} : { min: extra.min }),
                    ...(extra.max === undefined ? {} : { max: extra.max }),
                    ...(extra.thresholds ? { thresholds: extra.thresholds, custom: { thresholdsStyle: { mode: "dashed" } } } : {}),
                },
                overrides: [],
            },
            options: { legend: { displayMode: "list", placement: "bottom", showLegend: true }, tooltip: { mode: "multi", sort: "desc" } },
            targets: queries.map(([expr, legendFormat], i) => ({ refId: String.fromCharCode(65 + i), datasource: DS, expr, legendFormat, range: true })),
        });
        this.x += w;
        if (this.x >= 24) { this.x = 0; this.y += 8; }
    }
}

const ratio = (num: string, den: string) => `${num} / ${den}`;
const rate = (sel: string) => `sum by (job) (rate(${sel}[${RATE}]))`;
const warnCrit = (w: number, c: number) => thresholds([{ value: w, color: "orange" }, { value: c, color: "red" }]);

function trafficPanels(l: Layout, a: NormalizedAlerts): void {
    const { requests, statusLabel } = a.metrics;
    l.row("Traffic and errors");
    l.panel("Request rate", "reqps", [[rate(`${requests}{${SERVICES}}`), "{{job}}"]]);
    l.panel("5xx error rate", "percentunit", [
        [ratio(rate(`${requests}{${SERVICES},${statusLabel}=~"5.."}`), rate(`${requests}{${SERVICES}}`)), "{{job}}"],
    ], { thresholds: warnCrit(a.errorRateWarning, a.errorRateCritical), min: 0, description: `Alert lines: ${a.errorRateWarning * 100}% warning, ${a.errorRateCritical * 100}% critical.` });
    l.panel("Gateway 5xx error rate", "percentunit", [
        [ratio(rate(`${GATEWAY_METRICS.requests}{job="${GATEWAY_JOB}",${GATEWAY_METRICS.statusLabel}=~"5.."}`), rate(`${GATEWAY_METRICS.requests}{job="${GATEWAY_JOB}"}`)), "{{job}}"],
    ], { thresholds: warnCrit(a.errorRateWarning, a.errorRateCritical), min: 0, description: "Every request through the gateway, including the ones no service answered (502, 504). Empty when the gateway's metrics are not scraped." });
    l.panel("Firing alerts", "short", [[`sum by (alertname, severity) (ALERTS{alertstate="firing"})`, "{{alertname}} ({{severity}})"]], { min: 0 });
}

function latencyPanels(l: Layout, a: NormalizedAlerts): void {
    const h = a.metrics.histogram;
    l.row("Latency");
    const q = (p: number): Query => [`histogram_quantile(${p}, sum by (job, le) (rate(${h}_bucket{${SERVICES}}[${RATE}])))`, `p${Math.round(p * 100)} {{job}}`];
    l.panel("Latency percentiles", "s", [q(0.5), q(0.95), q(0.99)], {
        thresholds: warnCrit(a.latencyP95WarningMs / 1000, a.latencyP95CriticalMs / 1000),
        description: "Interpolated inside buckets: for a view of the shape. The alerts read the exact bucket shares beside this panel.",
    });
    const within = (ms: number): Query => [
        ratio(rate(`${h}_bucket{${SERVICES},${leMatcher(ms / 1000)}}`), rate(`${h}_count{${SERVICES}}`)), `within ${ms}ms {{job}}`,
    ];
    l.panel("Requests within the latency alert lines", "percentunit", [within(a.latencyP95WarningMs), within(a.latencyP95CriticalMs)], {
        thresholds: thresholds([{ value: 0.95, color: "red" }]), max: 1,
        description: "The quantity the P95 alerts compare: P95 is above a line exactly when fewer than 95% of requests finish within it.",
    });
}

function runtimePanels(l: Layout, a: NormalizedAlerts): void {
    l.row("Replicas and Go runtime");
    l.panel("Healthy replicas", "short", [
        [`sum by (job) (up{${SERVICES}})`, "healthy {{job}}"],
        [`count by (job) (up{${SERVICES}})`, "scraped targets {{job}}"],
    ], { min: 0 });
    l.panel("Resident memory", "bytes", [
        [`process_resident_memory_bytes{${SERVICES}}`, "{{instance}}"],
        [`go_memstats_heap_inuse_bytes{${SERVICES}}`, "heap in use {{instance}}"],
    ], { thresholds: thresholds([{ value: a.residentMemoryMiB * 1024 * 1024, color: "orange" }]), min: 0 });
    l.panel("Goroutines", "short", [[`go_goroutines{${SERVICES}}`, "{{instance}}"]], { thresholds: thresholds([{ value: a.goroutines, color: "orange" }]), min: 0 });
}

export function grafanaDashboard(n: DashboardInput): GrafanaDashboard {
    const a = n.alerts;
    const l = new Layout();
    trafficPanels(l, a);
    latencyPanels(l, a);
    runtimePanels(l, a);
    return {
        uid: `${n.namespace}-overview`.slice(0, 40),
        title: `Slipway services: ${n.namespace} (${n.environment})`,
        tags: ["slipway", n.environment],
        timezone: "browser",
        schemaVersion: DASHBOARD_SCHEMA_VERSION,
        version: 1,
        editable: true,
        graphTooltip: 1,
        time: { from: "now-6h", to: "now" },
        refresh: "30s",
        templating: { list: templateVariables(a.metrics.requests) },
        annotations: {
            list: [{
                builtIn: 1, datasource: { type: "grafana", uid: "-- Grafana --" }, enable: true, hide: true,
                iconColor: "rgba(0, 211, 255, 1)", name: "Annotations & Alerts", type: "dashboard",
            }],
        },
        panels: l.panels,
    };
}

/** The datasource picker every panel uses, and the services to show. */
function templateVariables(requests: string): Record<string, unknown>[] {
    return [
        { name: "datasource", label: "Prometheus", type: "datasource", query: "prometheus", current: {}, hide: 0, refresh: 1, regex: "", includeAll: false, multi: false, options: [] },
        {
            name: "service", label: "Service", type: "query", datasource: DS,
            definition: `label_values(${requests}, job)`,
            query: { query: `label_values(${requests}, job)`, refId: "PrometheusVariableQueryEditor-VariableQuery", qryType: 1 },
            current: {}, hide: 0, includeAll: true, allValue: ".*", multi: true, refresh: 2, regex: "", sort: 1, options: [],
        },
    ];
}

/** The dashboard as the file to import: 2-space JSON, keys in a fixed order, a final newline. */
export function dashboardJson(n: Parameters<typeof grafanaDashboard>[0]): string {
    return JSON.stringify(grafanaDashboard(n), null, 2) + "\n";
}

/** What Grafana puts in for its variables, so the queries can be run without Grafana. */
export const GRAFANA_SUBSTITUTES: Record<string, string> = { "$__rate_interval": "1m", "$service": ".*" };

/** Every PromQL query of a dashboard, with Grafana's variables replaced (for checking against Prometheus). */
export function dashboardExpressions(d: GrafanaDashboard): { panel: string; expr: string }[] {
    const flat = (ps: Panel[]): Panel[] => ps.flatMap(p => [p, ...flat(p.panels ?? [])]);
    const sub = (e: string) => Object.entries(GRAFANA_SUBSTITUTES).reduce((s, [k, v]) => s.split(k).join(v), e);
    return flat(d.panels).flatMap(p => (p.targets ?? []).map(t => ({ panel: p.title, expr: sub(t.expr) })));
}
