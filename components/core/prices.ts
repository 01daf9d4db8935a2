// DigitalOcean list prices (USD per month) as data, each with where it came from and when it was
// read. Pure, no SDK: the components' `monthlyCost` and the PR comment's cost line
// (cli/preview-comment/cost.ts) both read this one table, so a change here changes both.
//
// Sources (read offline from stored copies on 2026-12-07; no live API call was made, so
// `doctl apps tier instance-size list` and the pricing pages on a real account are the check):
// - APP_SIZES: the "Instance Sizes" table of github.com/digitalocean-labs/do-app-platform-skills,
//   skills/designer/SKILL.md (DigitalOcean Labs; its table points at
//   docs.digitalocean.com/products/app-platform/details/pricing/). Same slugs as the API's
//   `GET /v2/apps/tiers/instance_sizes` `usd_per_month`; the stored OpenAPI examples only price
//   the legacy basic-xxs ($5) and basic-xs ($10).
// - DEV_DATABASE: the same SKILL.md ("Dev databases ... $7/month, 1GB limit"); seed 002 bills
//   its dev database at the same ~$7.
// - DB_NODE_SIZES: the four basic db-s sizes on which several public cost tables agree
//   ($15 / $30 / $60 / $120 per node). DigitalOcean's own databases pricing page was not among
//   the stored copies: a size missing here is "not in the price list", never guessed.
// - VALKEY: seed 002 only ("a standalone Managed Valkey ... an additional $15/mo"): the price of
//   one node of the smallest size (db-s-1vcpu-1gb, ManagedCache's default). Other sizes are "not
//   in the price list", never guessed.
// Seed 002 bills two apps-s-1vcpu-1gb at ~$20, i.e. $10 each, the price the list gives the
// -fixed size (and the legacy basic-xs had); the list prices apps-s-1vcpu-1gb at $12, so the
// seed's configuration is $31 here, not its ~$27 (test/unit/prices.test.ts shows both).

export interface PriceSource {
    readonly source: string;
    /** When the figure was read (ISO date). */
    readonly read: string;
}

const LABS = { source: "github.com/digitalocean-labs/do-app-platform-skills skills/designer/SKILL.md (Instance Sizes, Dev databases)", read: "2026-12-07" };
const DB_TABLES = { source: "public cost tables agreeing on DigitalOcean's basic db-s node prices (not DigitalOcean's own page)", read: "2026-12-07" };
const SEED_002 = { source: "seed 002 (instant-lite on App Platform, its Costs section) only", read: "2026-12-07" };

/** App Platform container price per instance, by `instance_size_slug`. */
export const APP_SIZES: Readonly<Record<string, number>> = {
    "apps-s-1vcpu-0.5gb": 5,
    "apps-s-1vcpu-1gb-fixed": 10,
    "apps-s-1vcpu-1gb": 12,
    "apps-s-1vcpu-2gb": 25,
    "apps-s-2vcpu-4gb": 50,
    "apps-d-1vcpu-0.5gb": 29,
    "apps-d-1vcpu-1gb": 34,
    "apps-d-1vcpu-2gb": 39,
    "apps-d-1vcpu-4gb": 49,
    "apps-d-2vcpu-4gb": 78,
    "apps-d-2vcpu-8gb": 98,
    "apps-d-4vcpu-8gb": 156,
    "apps-d-4vcpu-16gb": 196,
    "apps-d-8vcpu-32gb": 392,
};

/** An App Platform dev database (`databases[].production: false`), PostgreSQL. */
export const DEV_DATABASE = 7;

/** Managed PostgreSQL price of one node, by size slug; a cluster of n nodes is priced n times. */
export const DB_NODE_SIZES: Readonly<Record<string, number>> = {
    "db-s-1vcpu-1gb": 15,
    "db-s-1vcpu-2gb": 30,
    "db-s-2vcpu-4gb": 60,
    "db-s-4vcpu-8gb": 120,
};

/** A managed Valkey node of the smallest size, `VALKEY_SIZE` (ManagedCache's `do.size` default). */
export const VALKEY = 15;
export const VALKEY_SIZE = "db-s-1vcpu-1gb";

export const PRICE_SOURCES: Readonly<Record<"APP_SIZES" | "DEV_DATABASE" | "DB_NODE_SIZES" | "VALKEY", PriceSource>> = {
    APP_SIZES: LABS, DEV_DATABASE: LABS, DB_NODE_SIZES: DB_TABLES, VALKEY: SEED_002,
};

/** One priced thing: `quantity` × `unitUsd` = `usd`. */
export interface CostItem {
    readonly what: string;
    readonly quantity: number;
    readonly unitUsd: number;
    readonly usd: number;
}

/** A monthly estimate; `usd` undefined means not estimated (`note` says why). */
export interface MonthlyCost {
    readonly usd: number | undefined;
    readonly items: readonly CostItem[];
    readonly note?: string;
}

const item = (what: string, quantity: number, unitUsd: number): CostItem => ({ what, quantity, unitUsd, usd: round(quantity * unitUsd) });
const round = (usd: number) => Math.round(usd * 100) / 100;

export const notEstimated = (note: string): MonthlyCost => ({ usd: undefined, items: [], note });
export const free = (note: string): MonthlyCost => ({ usd: 0, items: [], note });

/** `count` App Platform instances of `slug`. */
export function appInstancesCost(slug: string, count: number): MonthlyCost {
    const unit = APP_SIZES[slug];
    if (unit === undefined) return notEstimated(`no price for App Platform size ${slug} in the price list`);
    return { usd: round(count * unit), items: [item(`App Platform ${slug}`, count, unit)] };
}

export function devDatabaseCost(): MonthlyCost {
    return { usd: DEV_DATABASE, items: [item("App Platform dev database (PostgreSQL)", 1, DEV_DATABASE)] };
}

/** A Managed PostgreSQL cluster of `nodes` nodes of `size` (standbys priced as the primary). */
export function dbClusterCost(size: string, nodes: number): MonthlyCost {
    const unit = DB_NODE_SIZES[size];
    if (unit === undefined) return notEstimated(`no price for database size ${size} in the price list`);
    return { usd: round(nodes * unit), items: [item(`Managed PostgreSQL ${size} node`, nodes, unit)] };
}

/** A Managed Valkey cluster of `nodes` nodes of `size`; only the smallest size is in the price list. */
export function valkeyClusterCost(size: string, nodes: number): MonthlyCost {
    if (size !== VALKEY_SIZE) return notEstimated(`no price for Valkey size ${size} in the price list`);
    return { usd: round(nodes * VALKEY), items: [item(`Managed Valkey ${size} node`, nodes, VALKEY)] };
}

/**
 * A component on a Docker host: the host's price covers it (counted once, by the stack), so 0
 * when the host is priced, else not estimated.
 */
export function onDockerHost(target: { readonly hostMonthlyCost?: number }): MonthlyCost {
    return target.hostMonthlyCost === undefined
        ? notEstimated("docker target: not estimated (no price list; set hostMonthlyCost on the DockerHost)")
        : free("runs on the Docker host, whose price the stack counts once");
}

/** A component's cost on its target: `doApp` on App Platform, the host's share on docker. */
export function targetCost(target: { readonly kind: string; readonly hostMonthlyCost?: number }, doApp: () => MonthlyCost): MonthlyCost {
    return target.kind === "docker" ? onDockerHost(target) : doApp();
}

/** A Docker host's VM, as the user priced it (`DockerHost` `hostMonthlyCost`). */
export function hostCost(usd: number | undefined): MonthlyCost {
    return usd === undefined ? notEstimated("docker target: no price list; set hostMonthlyCost on the DockerHost") : { usd, items: [item("Docker host VM", 1, usd)] };
}

/** The sum; not estimated as soon as one part is. */
export function sumCosts(parts: readonly MonthlyCost[]): MonthlyCost {
    const items = parts.flatMap(p => p.items);
    const unknown = parts.find(p => p.usd === undefined);
    if (unknown) return { usd: undefined, items, note: unknown.note };
    return { usd: round(parts.reduce((s, p) => s + (p.usd ?? 0), 0)), items };
}

/** `$27.00`; `not estimated` when undefined. */
export function formatUsd(usd: number | undefined): string {
    return usd === undefined ? "not estimated" : `$${usd.toFixed(2)}`;
}
