// Cloudflare at the edge: the origin connection verifies the origin's certificate (SSL "strict"),
// and clients need TLS 1.2 or newer. A zone the stack proxies must say so, not inherit a default.
import { StackResource, StackRule, StackViolation, asRecord, isKnown } from "./types";

export const ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting";
export const DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord";
/** @pulumi/cloudflare 5.x's all-in-one settings resource. */
export const ZONE_SETTINGS_OVERRIDE = "cloudflare:index/zoneSettingsOverride:ZoneSettingsOverride";

/** The value each zone sets for a setting: ZoneSetting (6.x) or ZoneSettingsOverride (5.x). */
function settingByZone(resources: StackResource[], settingId: string, overrideKey: string): Map<unknown, { r: StackResource; value: unknown }[]> {
    const out = new Map<unknown, { r: StackResource; value: unknown }[]>();
    const add = (zone: unknown, r: StackResource, value: unknown) => out.set(zone, [...(out.get(zone) ?? []), { r, value }]);
    for (const r of resources) {
        if (r.type === ZONE_SETTING && r.props.settingId === settingId) add(r.props.zoneId, r, r.props.value);
        const o = asRecord(r.props.settings)[overrideKey];
        if (r.type === ZONE_SETTINGS_OVERRIDE && o !== undefined) add(r.props.zoneId, r, o);
    }
    return out;
}

/** A rule: each proxied zone sets `settingId`, and every value set passes `ok`. */
function zoneRule(name: string, settingId: string, overrideKey: string, ok: (v: unknown) => boolean, want: string,
    description: string, fix: string): StackRule {
    return {
        kind: "stack", name, description, fix, level: "advisory", settings: [],
        check(resources) {
            const set = settingByZone(resources, settingId, overrideKey);
            const out: StackViolation[] = [];
            for (const list of set.values()) {
                for (const { r, value } of list) {
                    if (isKnown(value) && !ok(value)) out.push({ urn: r.urn, message: `${r.name} sets ${settingId} to ${JSON.stringify(value)} (want ${want})` });
                }
            }
            const proxied = resources.filter(r => r.type === DNS_RECORD && r.props.proxied === true && isKnown(r.props.zoneId));
            for (const zone of new Set(proxied.map(r => r.props.zoneId))) {
                if (set.has(zone)) continue;
                const record = proxied.find(r => r.props.zoneId === zone)!;
                out.push({ urn: record.urn, message: `zone ${zone} proxies ${record.props.name} but the stack does not set its ${settingId} (want ${want})` });
            }
            return out;
        },
    };
}

export const sslStrict = zoneRule("cloudflare-ssl-strict", "ssl", "ssl", v => v === "strict", `"strict"`,
    "Every proxied Cloudflare zone uses SSL mode strict: Cloudflare verifies the origin's certificate (flexible or full lets anyone in the path impersonate the origin).",
    "Add `new cloudflare.ZoneSetting(..., { zoneId, settingId: \"ssl\", value: \"strict\" })` (Slipway's Gateway does on App Platform).");

const TLS = ["1.2", "1.3"];

export const minTls12 = zoneRule("cloudflare-min-tls-1-2", "min_tls_version", "minTlsVersion", v => TLS.includes(String(v)), "1.2 or 1.3",
    "Every proxied Cloudflare zone refuses clients below TLS 1.2.",
    "Add `new cloudflare.ZoneSetting(..., { zoneId, settingId: \"min_tls_version\", value: \"1.2\" })`.");

export const CLOUDFLARE_RULES = [sslStrict, minTls12];
