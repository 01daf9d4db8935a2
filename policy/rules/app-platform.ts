// DigitalOcean App Platform: redundancy in production, databases behind trusted sources, and
// secrets only in SECRET envs (a GENERAL value is shown in the control panel and the API).
import { Props, ResourceRule, StackRule, StackViolation, asArray, asRecord, isKnown } from "./types";

export const APP = "digitalocean:index/app:App";
export const DATABASE_CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster";
export const DATABASE_FIREWALL = "digitalocean:index/databaseFirewall:DatabaseFirewall";

export const appMinInstances: ResourceRule = {
    kind: "resource",
    types: [APP],
    name: "do-app-min-instances",
    description: "In production, every App Platform service runs at least two instances (one can restart or deploy while the other serves).",
    fix: "Set the service's `instanceCount` to 2 or more (Slipway: `replicas: 2`), or autoscaling with `minInstanceCount` >= 2.",
    level: "advisory",
    settings: ["production", "minInstances"],
    check(_t, props, _o, s) {
        if (!s.production) return [];
        return asArray<Record<string, unknown>>(asRecord(props.spec).services).flatMap(svc => {
            const auto = asRecord(svc?.autoscaling);
            const count = auto.minInstanceCount ?? svc?.instanceCount ?? 1;
            if (!isKnown(count) || Number(count) >= s.minInstances) return [];
            return [`service "${svc?.name}" runs ${count} instance${count === 1 ? "" : "s"} (production needs ${s.minInstances})`];
        });
    },
};

const ANYWHERE = ["0.0.0.0/0", "::/0", "0.0.0.0"];

export const databaseTrustedSources: StackRule = {
    kind: "stack",
    name: "do-database-trusted-sources",
    description: "Every DO database or cache cluster has a firewall (trusted sources), and no rule opens it to any address.",
    fix: "Add a `digitalocean.DatabaseFirewall` for the cluster with rules of type `app`, `droplet`, `tag` or a specific `ip_addr` " +
        "(Slipway's DoApp adds one of type app); never 0.0.0.0/0.",
    level: "advisory",
    settings: [],
    check(resources) {
        const firewalls = resources.filter(r => r.type === DATABASE_FIREWALL);
        const out: StackViolation[] = [];
        for (const c of resources.filter(r => r.type === DATABASE_CLUSTER)) {
            const guarded = firewalls.some(f => f.dependencies.includes(c.urn));
            if (!guarded) out.push({ urn: c.urn, message: `${c.name} has no DatabaseFirewall: any address can reach it (password only)` });
        }
        for (const f of firewalls) {
            for (const rule of asArray<Record<string, unknown>>(f.props.rules)) {
                if (rule?.type === "ip_addr" && ANYWHERE.includes(String(rule.value))) {
                    out.push({ urn: f.urn, message: `${f.name} trusts ${rule.value}: every address on the internet` });
                }
            }
        }
        return out;
    },
};

/** Env names that say "secret", and values that are one whatever the name. */
const SECRET_KEY = /SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY|SIGNING_?KEY|WEBHOOK/i;
/** Names that point at a secret rather than hold one (a file path, an id). */
const REFERENCE_KEY = /_(FILE|PATH|ID)$/i;
const SECRET_VALUE = [
    /^(sk|rk)_(live|test)_[0-9a-z]/i, // Stripe
    /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
    /^[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:[^@/\s]+@/i, // a URL with a password (postgres://user:pass@host)
    /^(ghp|gho|ghs|github_pat)_[0-9A-Za-z_]{20,}/,
    /^xox[abprs]-[0-9A-Za-z-]{10,}/, // Slack
    /^AKIA[0-9A-Z]{16}$/, // AWS access key id
    /^https:\/\/hooks\.slack\.com\/services\//,
];

function envLists(spec: Props): { where: string; envs: Record<string, unknown>[] }[] {
    const lists = [{ where: "app", envs: asArray<Record<string, unknown>>(spec.envs) }];
    for (const kind of ["services", "workers", "jobs", "staticSites", "functions"]) {
        for (const c of asArray<Record<string, unknown>>(spec[kind])) {
            lists.push({ where: `${kind.replace(/s$/, "")} "${c?.name}"`, envs: asArray(c?.envs) });
        }
    }
    return lists;
}

export const noSecretInGeneralEnv: ResourceRule = {
    kind: "resource",
    types: [APP],
    name: "do-app-no-secret-in-general-env",
    description: "No App Platform env of type GENERAL (the default) holds a secret: GENERAL values are shown in plain text in the control panel and the API.",
    fix: "Give the env `type: \"SECRET\"` (Slipway: declare it in `secrets`, or link SecretsSync) and its value from a Pulumi secret.",
    level: "advisory",
    settings: [],
    check(_t, props) {
        const out: string[] = [];
        for (const { where, envs } of envLists(asRecord(props.spec))) {
            for (const e of envs) {
                if (!e || e.type === "SECRET") continue;
                const key = String(e.key ?? "");
                const value = e.value;
                const byKey = SECRET_KEY.test(key) && !REFERENCE_KEY.test(key) && value !== undefined && value !== "";
                const byValue = typeof value === "string" && isKnown(value) && SECRET_VALUE.some(p => p.test(value));
                if (byKey || byValue) out.push(`${where}: env ${key} is ${e.type ?? "GENERAL"} but ${byValue ? "its value looks like a secret" : "its name says secret"}`);
            }
        }
        return out;
    },
};

export const APP_PLATFORM_RULES = [appMinInstances, databaseTrustedSources, noSecretInGeneralEnv];
