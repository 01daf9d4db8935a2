// Gateway's public Args types, apart from index.ts so normalize.ts and the target files can import
// them without an import cycle.
import type * as pulumi from "@pulumi/pulumi";
import type { Routable } from "../core/service";
import type { Target } from "../core/target";
import type { GatewayDockerTransform } from "./transforms/docker";
import type { GatewayDoAppTransform } from "./transforms/do-app";

/** Signature algorithms the gateway verifies. `none` is never accepted. */
export type GatewayJwtAlgorithm =
    | "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "ES384" | "ES512" | "EdDSA" | "HS256" | "HS384" | "HS512";

/**
 * JWT validation at the edge (docker target; seed: "JWT validation at the gateway"): a request to
 * the route passes only with `Authorization: Bearer <token>` whose signature verifies and whose
 * `iss`, `aud`, `exp`, `nbf` and `iat` hold. Anything else is answered `401` with a JSON body
 * (`{"error":"invalid_token","error_description":"the token has expired"}`) and
 * `WWW-Authenticate: Bearer realm="api", error="invalid_token", ...` (no error code when no token
 * was sent, as RFC 6750 asks), and never reaches the service. Set exactly one key source:
 * `jwksUrl`, `publicKey` or `hmacSecret`. The key's type decides what it verifies, so an RSA key
 * never checks an HS256 token. The service still sees `Authorization` and may check the token again.
 *
 * On do-app there is no such hook in App Platform: validate in the service, or use Cloudflare's
 * API Shield JWT validation where the plan has it.
 */
export interface GatewayJwtArgs {
    /**
     * The `iss` every token must carry. Required with `jwksUrl` and `publicKey` (an issuer's keys
     * sign tokens for every API it serves); optional with `hmacSecret` (tokens without `iss`, as in
     * seed 003, then pass on the secret alone).
     * @default none (required unless hmacSecret) @example `"https://auth.example.com/"`
     */
    issuer?: string;
    /**
     * The `aud` tokens for this API carry, so a token for another API of the same issuer is
     * refused. Required and optional as `issuer`.
     * @default none (required unless hmacSecret) @example `"shop-api"`
     */
    audience?: string;
    /**
     * Accepted `alg` values; each must suit the key source (HS* only with `hmacSecret`).
     * @default `["RS256","ES256"]` with jwksUrl, the key's own with publicKey (RSA: RS256, P-256: ES256, Ed25519: EdDSA), `["HS256"]` with hmacSecret
     * @example `["RS256","PS256"]`
     */
    algorithms?: GatewayJwtAlgorithm[];
    /**
     * Where the issuer publishes its signing keys (RSA, EC, Ed25519). https; plain http only to a
     * loopback address or a one-label name (a container on the stack's own network).
     * @default none @example `"https://auth.example.com/.well-known/jwks.json"`
     */
    jwksUrl?: string;
    /**
     * How often the gateway fetches the JWKS again: a removed key stops verifying within this
     * time. A token with a `kid` the gateway does not know also fetches it, at most once per 30 s.
     * @default `"15m"` @example `"5m"`
     */
    jwksRefresh?: string;
    /** A PEM public key (`-----BEGIN PUBLIC KEY-----`), not a secret: it goes into the config. @default none @example `"-----BEGIN PUBLIC KEY-----\n..."` */
    publicKey?: string;
    /**
     * A shared HMAC secret (at least 32 bytes), used as its bytes. A secret: on docker it reaches
     * Caddy as the file `/run/secrets/JWT_SECRET_<hash of the route prefix>`, never the config; a
     * new secret replaces the Caddy container.
     * @default none @example `pulumi.secret(process.env.JWT_SECRET!)`
     */
    hmacSecret?: pulumi.Input<string>;
    /**
     * Claims the service receives as request headers, claim → header. Headers of these names that
     * the client sent are always removed first, so a client cannot claim to be someone.
     * Strings pass as they are, numbers and booleans as text, anything else as JSON.
     * @default `{ sub: "X-User-Id" }` @example `{ sub: "X-User-Id", scope: "X-User-Scope" }`
     */
    forwardClaims?: Record<string, string>;
    /** Leeway for `exp`, `nbf` and `iat` against clock skew, up to 5m. @default `"30s"` @example `"0s"` */
    clockSkew?: string;
}

export interface GatewayRouteArgs {
    /**
     * Requests whose path is this prefix or lies below it (segment-wise: `/v1` covers `/v1/x`,
     * not `/v10`) go to `service`. The longest matching prefix wins. A trailing slash is ignored.
     * @example `"/v1/core"`
     */
    pathPrefix: string;
    /** The ApiService (anything with an `endpoint`). @example `api` */
    service: Routable;
    /**
     * Remove the prefix before proxying, so the service sees `/users` for `/v1/core/users`.
     * @default `false`
     */
    stripPrefix?: boolean;
    /** Name of a zone in `rateLimits` that this route counts against. @default none (not limited) @example `"general"` */
    rateLimit?: string;
    /**
     * Require a valid JWT on this route (docker target; refused on do-app). See {@link GatewayJwtArgs}.
     * @default none (no token needed)
     * @example `{ issuer: "https://auth.example.com/", audience: "shop-api", jwksUrl: "https://auth.example.com/.well-known/jwks.json" }`
     */
    jwt?: GatewayJwtArgs;
}

export interface GatewayRateLimitArgs {
    /** Sustained rate: this many requests per `window`, per key. @example `100` */
    events: number;
    /** Window length in s/m/h. On do-app it must be a Cloudflare period (10s, 1m, 2m, 5m, 10m, 1h). @example `"1m"` */
    window: string;
    /**
     * Requests a client may send at once. Caddy's limiter is a sliding window with no separate
     * burst, so the zone becomes `burst` events per `window × burst / events`: the same
     * sustained rate, with `burst` allowed in a spike (5/1m burst 10 → 10 per 2m). Cloudflare
     * has no burst either and enforces `events` per `window` there.
     * @default `events`
     * @example `150`
     */
    burst?: number;
    /**
     * What a client is: its IP, or the value of a request header (e.g. an API key).
     * @default `"ip"`
     * @example `"header:X-Api-Key"`
     */
    key?: "ip" | `header:${string}`;
}

export interface GatewaySecurityHeadersArgs {
    /** HSTS, or false to omit it. @default `{ maxAgeSeconds: 31536000, includeSubDomains: true, preload: false }` */
    hsts?: false | { maxAgeSeconds?: number; includeSubDomains?: boolean; preload?: boolean };
    /**
     * The API serves JSON, not pages, so the default denies every resource and all framing.
     * @default `"default-src 'none'; frame-ancestors 'none'"`
     * @example `false`
     */
    contentSecurityPolicy?: string | false;
    /** @default `"DENY"` @example `"SAMEORIGIN"` */
    frameOptions?: "DENY" | "SAMEORIGIN" | false;
    /** @default `"strict-origin-when-cross-origin"` @example `"no-referrer"` */
    referrerPolicy?: string | false;
    /** Remove the `Server` header (Caddy's and the upstream's). Cloudflare always sets its own. @default `true` @example `false` */
    stripServer?: boolean;
}

export interface GatewayCorsArgs {
    /** Origins allowed to call the API from a browser: `https://host[:port]` or `http://localhost:<port>`. @example `["https://app.example.com"]` */
    allowOrigins: string[];
    /** @default `["GET","POST","PUT","PATCH","DELETE","OPTIONS"]` @example `["GET"]` */
    allowMethods?: string[];
    /** @default `["Authorization","Content-Type","X-Request-ID"]` @example `["Content-Type"]` */
    allowHeaders?: string[];
    /** @default `["X-Request-ID"]` @example `["X-Request-ID","Retry-After"]` */
    exposeHeaders?: string[];
    /** How long browsers may cache a preflight answer. @default `600` @example `86400` */
    maxAgeSeconds?: number;
    /** Allow cookies / Authorization from the browser. Incompatible with `"*"`. @default `false` @example `true` */
    allowCredentials?: boolean;
}

export interface GatewayUpstreamArgs {
    /** Active health check period. @default `"10s"` @example `"5s"` */
    healthInterval?: string;
    /** @default `"5s"` @example `"2s"` */
    healthTimeout?: string;
    /** How long a failed request counts against a replica (passive health). @default `"30s"` @example `"10s"` */
    failDuration?: string;
    /** Failed requests within failDuration that mark a replica down. @default `3` @example `5` */
    maxFails?: number;
    /** How long to keep trying other replicas when one cannot be reached. @default `"5s"` @example `"10s"` */
    tryDuration?: string;
    /** @default `"250ms"` @example `"1s"` */
    tryInterval?: string;
    /** @default `"5s"` @example `"2s"` */
    dialTimeout?: string;
    /** @default `"30s"` @example `"60s"` */
    responseHeaderTimeout?: string;
    /**
     * Which service path the active check probes. Liveness by default: replicas share their
     * dependencies (one database), so when readiness fails it fails on every replica at once, and a
     * readiness check would then take all of them out: the gateway would answer 503 to everything
     * (liveness and non-database routes too) after `tryDuration`, and keep doing so until the next
     * check after recovery. With liveness, the API answers for itself (`/ready` 503, data routes
     * 503 at once). `"ready"` suits replicas with dependencies of their own.
     * @default `"health"`
     * @example `"ready"`
     */
    healthCheck?: "ready" | "health";
}

/**
 * Build the Gateway's Caddy image on the target engine from `docker/caddy/Dockerfile`, which ships
 * in this package: Caddy and the rate-limit module at the versions of `docker/caddy/versions.env`
 * and Slipway's JWT module (`docker/caddy/jwtauth`), compiled in a Go build stage, on Debian bookworm. The engine pulls the two base images and the
 * build fetches Go modules, so it needs Docker Hub and proxy.golang.org, or the args below.
 */
export interface GatewayImageBuildArgs {
    /**
     * Build args of the Dockerfile, for an engine behind a mirror or without the defaults.
     * @default the Dockerfile's: `GO_IMAGE` `golang:1.26.8-bookworm`, `BASE_IMAGE` `debian:bookworm-slim`, `GOPROXY` `https://proxy.golang.org,direct`, `GOSUMDB` `sum.golang.org`
     * @example `{ BASE_IMAGE: "registry.example.com/mirror/debian:bookworm-slim", GOPROXY: "https://goproxy.example.com" }`
     */
    args?: { GO_IMAGE?: string; BASE_IMAGE?: string; GOPROXY?: string; GOSUMDB?: string };
    /** The image's os/arch. @default the engine's @example `"linux/arm64"` */
    platform?: string;
}

/** `GatewayArgs.image` as a build of the package's Dockerfile on the target engine. */
export interface GatewayImageBuild {
    /** `true` for the Dockerfile's defaults, or its build args and platform. @example `true` */
    build: true | GatewayImageBuildArgs;
}

export interface GatewayCloudflareArgs {
    /** The Cloudflare zone holding `domains`. @example `cfg.require("cloudflareZoneId")` */
    zoneId: pulumi.Input<string>;
    /** Account id, reserved for account-scoped resources (unused today). @default none @example `cfg.get("cloudflareAccountId")` */
    accountId?: pulumi.Input<string>;
    /**
     * Manage zone settings (SSL strict, TLS 1.2+, always HTTPS, HSTS) and the zone's entry-point
     * rulesets for rate limiting, WAF and response headers. A zone has one entry point per phase,
     * so turn this off when something else owns them.
     * @default `true`
     * @example `false`
     */
    manageZone?: boolean;
    /**
     * Managed WAF rules to run: the full Cloudflare Managed Ruleset (Pro and up), the Free Managed
     * Ruleset (every plan), or none.
     * @default `"none"` on the Free plan, `"cloudflare"` on the others
     * @example `"free"`
     */
    wafManagedRuleset?: "cloudflare" | "free" | "none";
    /**
     * The zone's Cloudflare plan: the rules are generated so that this plan accepts them (see the
     * README's "Cloudflare plans" table). Free: one rate-limit rule, 10 s periods, path-only
     * expressions, no custom 429 body, no Cloudflare Managed Ruleset.
     * @default `"free"`
     * @example `"pro"`
     */
    plan?: GatewayCloudflarePlan;
    /**
     * Mirror the gateway's rate-limit zones as Cloudflare rate-limiting rules. On docker Caddy
     * enforces the zones anyway (keyed on the real client address), so `false` leaves them to Caddy
     * alone when the plan cannot take them; on do-app the rules are the only limit, and this must stay on.
     * @default `true`
     * @example `false`
     */
    edgeRateLimits?: boolean;
    /**
     * Docker: the host's public IPv4 address, which proxied `A` records of the domains point at.
     * At least one of `originIpv4` and `originIpv6` on docker; an error on do-app.
     * @default none
     * @example `droplet.ipv4Address`
     */
    originIpv4?: pulumi.Input<string>;
    /** Docker: the host's public IPv6 address, for proxied `AAAA` records. @default none @example `"2a03:b0c0:3:d0::1a2b:1"` */
    originIpv6?: pulumi.Input<string>;
    /**
     * Docker: whether the records send traffic through Cloudflare. `false` for the first deploy
     * only: Caddy's first ACME certificate needs the HTTP-01 challenge to reach the host directly
     * (README, "Cloudflare in front of a Docker host"); set it back once the certificate is issued.
     * @default `true`
     * @example `false`
     */
    proxied?: boolean;
    /**
     * Docker: only Cloudflare may reach the origin. Caddy requires a client certificate signed by
     * Cloudflare's origin-pull CA on HTTPS (Authenticated Origin Pulls), and the zone's
     * Authenticated Origin Pulls setting is turned on so that Cloudflare presents it. `false`
     * turns both off. An error on do-app (App Platform is the origin there).
     * @default `true` (Cloudflare's origin-pull CA, components/gateway/cloudflare-data.ts)
     * @example `{ clientCa: fs.readFileSync("origin-pull-ca.pem", "utf8") }`
     */
    originLock?: boolean | GatewayOriginLockArgs;
    /**
     * Docker: the proxies whose `CF-Connecting-IP` Caddy believes (CIDRs or addresses); a request
     * from anywhere else is keyed, logged and forwarded by its own address. An error on do-app.
     * @default Cloudflare's published ranges (components/gateway/cloudflare-data.ts)
     * @example `["173.245.48.0/20", "2400:cb00::/32"]`
     */
    trustedProxies?: string[];
}

/** The Cloudflare plans, cheapest first: each accepts what the ones before it accept. */
export type GatewayCloudflarePlan = "free" | "pro" | "business" | "enterprise";

/** Authenticated Origin Pulls at a docker origin behind Cloudflare. */
export interface GatewayOriginLockArgs {
    /**
     * PEM of the CA whose client certificates Caddy accepts on HTTPS: Cloudflare's origin-pull CA by
     * default; a zone that uploaded its own origin-pull certificate passes that certificate's CA.
     * @default Cloudflare's origin-pull CA (components/gateway/cloudflare-data.ts)
     * @example `fs.readFileSync("my-origin-pull-ca.pem", "utf8")`
     */
    clientCa?: string;
}

/**
 * Which ACME CA issues the certificates of tls `"auto"`: Let's Encrypt production unless told
 * otherwise, e.g. Let's Encrypt's staging CA while testing, or a private ACME CA (step-ca, Pebble,
 * an internal PKI) whose own HTTPS certificate is signed by a root the Caddy image does not trust.
 */
export interface GatewayAcmeArgs {
    /**
     * The CA's ACME directory URL (https). Caddy retries a failed order against Let's Encrypt's
     * staging CA only when this is Let's Encrypt production.
     * @default `"https://acme-v02.api.letsencrypt.org/directory"` (Let's Encrypt production)
     * @example `"https://acme-staging-v02.api.letsencrypt.org/directory"`
     */
    directory?: string;
    /**
     * PEM of the root certificate(s) that the ACME server's own HTTPS certificate chains to, when
     * that is a private CA. Only for talking to the ACME server: clients of the gateway trust (or
     * not) the CA that issued its certificates as they always do. Public data, not a secret. On
     * docker it reaches Caddy as a file in its config volume, named by the PEM's hash, so changing
     * it is a config reload, not a restart.
     * @default none (the system roots of the Caddy image)
     * @example `fs.readFileSync("ca/root.pem", "utf8")`
     */
    caRoot?: string;
}

export interface GatewayAccessLogArgs {
    /** JSON lines to stdout (Docker's log driver keeps them). @default `true` @example `false` */
    stdout?: boolean;
    /** Also write JSON lines to this file (rolled at 100 MB, 5 kept, 30 days), on a volume. Docker only. @default none @example `"/var/log/caddy/access.log"` */
    file?: string;
    /**
     * Request headers whose values the log shows as `["REDACTED"]`: credentials a client sends in a
     * header of its own. Caddy's runtime log hides them too, in the requests it writes. Added to the defaults, never instead of them; `Authorization`,
     * `Proxy-Authorization`, `Cookie` and `Set-Cookie` are always redacted.
     * @default `X-Api-Key`, `Api-Key`, `X-Auth-Token`, and every header a rate-limit zone is keyed by (`key: "header:<Name>"`)
     * @example `["X-Partner-Token"]`
     */
    redactHeaders?: string[];
    /**
     * Query parameters whose values the log's `uri` shows as `REDACTED`: credentials sent in a URL
     * (a token in a link, a signed URL's signature), here and in Caddy's runtime log. Names match in
     * any case. Added to the
     * defaults, never instead of them; `access_token` is always redacted.
     * @default `api_key`, `apikey`, `auth`, `client_secret`, `code`, `id_token`, `password`, `refresh_token`, `secret`, `sig`, `signature`, `token`, `x-amz-credential`, `x-amz-security-token`, `x-amz-signature`
     * @example `["partner_key"]`
     */
    redactQuery?: string[];
    /**
     * Log one in this many successful requests (status below 400) to a service's health or ready
     * path, at the path clients reach it through the routes (not behind a `jwt` check): uptime
     * monitors and load balancers poll those all day. Such a line carries `"sampled_1_in": N`;
     * a failed check is always logged, and the metrics count every request. `1` logs them all.
     * Docker only (App Platform keeps its own request logs).
     * @default `100`
     * @example `1`
     */
    sampleHealthChecks?: number;
}

/**
 * The metrics path of the services behind the gateway (seed: the API serves Prometheus metrics at
 * `GET /metrics` and, in production, wants a bearer token). The catch-all route would proxy it to
 * the public, so the gateway refuses it for everyone unless a token is given here; with a token,
 * only requests carrying exactly `Authorization: Bearer <token>` pass, and go on to the routes as
 * any other request (the service checks the token too: give it the same one).
 */
export interface GatewayPublicMetricsArgs {
    /**
     * The path refused at the edge, and everything below it (segment-wise, as a route prefix).
     * Caddy matches it whatever the case; Cloudflare compares it lowercased.
     * @default `"/metrics"`
     * @example `"/internal/metrics"`
     */
    path?: string;
    /**
     * Let requests with `Authorization: Bearer <token>` through: the token an outside Prometheus
     * scrapes with (`authorization: { credentials: ... }` in its scrape config). A secret: 32 to
     * 512 characters of letters, digits, `-._~+/` (then `=` padding); a plain string is refused in
     * production. It never appears in a generated file: on docker the config loader writes it into
     * Caddy's config volume (readable by Caddy's uid only) and Caddy reads it per request through a `{file.*}`
     * placeholder, so the Caddy JSON, its revision hash and `caddyJson` carry only the file's path;
     * on do-app it is part of a Cloudflare custom rule's expression (a secret input; the rule's
     * expression shows as `[secret]` in previews). Rotating it re-pushes the config, no restart.
     * @default none: the path is refused for everyone
     * @example `new random.RandomPassword("metrics-token", { length: 48, special: false }).result`
     */
    allowWithToken?: pulumi.Input<string>;
}

/**
 * Per child resource, args to merge over the ones Gateway builds, or a function that edits copies
 * of them and of the resource options (see `Transform` in core/transform.ts). Keys of both
 * targets: docker `image`, `container`, `loader`, `volume`; do-app `zoneSetting`, `ruleset`.
 */
export type GatewayTransform = GatewayDockerTransform & GatewayDoAppTransform;

export interface GatewayArgs {
    /** Where to run. @example `host.target` */
    target: Target;
    /** Path-prefix routes to services; at least one. @example `[{ pathPrefix: "/v1", service: api, rateLimit: "general" }]` */
    routes: GatewayRouteArgs[];
    /**
     * Public hostnames. None means a local gateway on plain HTTP. On do-app they need `cloudflare`.
     * @default `[]`
     * @example `["api.example.com"]`
     */
    domains?: string[];
    /**
     * `auto`: ACME certificates (Let's Encrypt, or the CA in `acme`); `internal`: Caddy's local CA (staging, tests);
     * `off`: plain HTTP. Not settable on do-app (App Platform and Cloudflare terminate TLS).
     * On docker, `auto` needs a DockerHost whose `publishAddress` the internet reaches (e.g.
     * `"0.0.0.0"`): on the loopback default it is an error, since no ACME challenge or client gets in,
     * unless `acme.directory` names a private CA (one on the stack's network reaches Caddy there).
     * Caddy answers the challenges on its HTTP port and redirects every other plain-HTTP request to HTTPS.
     * @default `"auto"` with public domains, `"off"` otherwise
     * @example `"internal"`
     */
    tls?: "auto" | "internal" | "off";
    /** ACME account email for expiry notices (tls `auto` only). @default none (ACME without an account email) @example `"ops@example.com"` */
    email?: string;
    /**
     * The ACME CA for tls `"auto"` (docker only: App Platform and Cloudflare manage the certificates
     * on do-app). A directory other than a public CA's also lets `"auto"` run on a loopback-only
     * DockerHost, since a private CA on the stack's network reaches Caddy there.
     * @default Let's Encrypt production, the image's system roots
     * @example `{ directory: "https://ca.internal:9000/acme/acme/directory", caRoot: fs.readFileSync("root.pem", "utf8") }`
     */
    acme?: GatewayAcmeArgs;
    /** Named rate-limit zones that routes refer to. @default `{}` @example `{ general: { events: 100, window: "1m", burst: 150 } }` */
    rateLimits?: Record<string, GatewayRateLimitArgs>;
    /**
     * Response security headers.
     * @default HSTS 1y + subdomains, CSP deny-all, DENY framing, nosniff, strict referrer, no Server
     * @example `{ hsts: { preload: true }, frameOptions: "SAMEORIGIN" }`
     */
    securityHeaders?: GatewaySecurityHeadersArgs;
    /** Browser CORS, answered at the edge. @default none (no CORS headers) @example `{ allowOrigins: ["https://app.example.com"] }` */
    cors?: GatewayCorsArgs;
    /**
     * Largest request body; bigger ones get 413. KB/MB/GB are decimal, KiB/MiB/GiB binary.
     * Docker only: setting it on do-app is an error (see README of the target).
     * @default `"10MB"`
     * @example `"1MB"`
     */
    maxBodySize?: string;
    /** Response encodings, in preference order; `[]` turns compression off (docker only). @default `["zstd","gzip"]` @example `["gzip"]` */
    compression?: ("zstd" | "gzip")[];
    /**
     * JSON access logs, or false for none. Lines are buffered and written at least every 250 ms
     * and when Caddy stops or reloads, so a crash (SIGKILL) can lose up to the last 250 ms, as with
     * nginx's `access_log ... buffer= flush=`.
     * @default `{ stdout: true }`
     * @example `{ stdout: true, file: "/var/log/caddy/access.log" }`
     */
    accessLog?: GatewayAccessLogArgs | false;
    /**
     * Load balancing and health checking of the service replicas (docker; App Platform balances its own instances).
     * @default see {@link GatewayUpstreamArgs}
     * @example `{ healthCheck: "health", maxFails: 5 }`
     */
    upstream?: GatewayUpstreamArgs;
    /** Host port for HTTP on `target.publishAddress` (docker). @default `8080` without TLS, `80` with @example `8081` */
    publishPort?: number;
    /** Host port for HTTPS (docker, TLS on). @default `443` @example `8443` */
    publishHttpsPort?: number;
    /**
     * The Caddy image: Caddy with the rate-limit module and Slipway's connection handoff for
     * reloads (`docker/caddy/handoff`; stock Caddy images lack both). By default
     * the image this package's release workflow publishes from `docker/caddy/Dockerfile`, pinned by
     * digest; `{ build: true }` builds that same Dockerfile, shipped in the package, on the target
     * engine instead (a `docker.Image`, never pushed): for an engine that pulls from Docker Hub but
     * not from GHCR, or before the first release (see the README's image table).
     *
     * Any other image must have `caddy` on PATH and `wget` for the health check (and, for routes
     * with `jwt`, Slipway's `http.handlers.slipway_jwt`, else Caddy refuses the config), and let uid 10002
     * write /data, /config and /var/log/caddy. A reference (`repo:tag` or `repo@sha256:...`), not
     * an image id: the gateway resolves it with a `docker.RemoteImage` (a local image of that name
     * is used as is, otherwise it is pulled) and runs Caddy on the resulting id, so an unchanged
     * image never replaces Caddy. A `docker.Image`'s `imageName` works too.
     * @default the published `ghcr.io/<owner>/slipway-caddy:<caddy>-ratelimit-<module>-slipway-<hash>@sha256:...` (components/gateway/published-image.ts)
     * @example `{ build: true }`
     * @example `"ghcr.io/acme/caddy-ratelimit:2.10.2"`
     */
    image?: pulumi.Input<string> | GatewayImageBuild;
    /**
     * The Cloudflare zone in front of the gateway. Required on do-app when `domains` are set. On
     * docker it puts Cloudflare in front of the host: proxied DNS records to `originIpv4`/`originIpv6`,
     * the zone's TLS settings and rulesets, the real client address from `CF-Connecting-IP`, and the
     * origin locked to Cloudflare (`originLock`).
     * @default none
     * @example `{ zoneId: cfg.require("cloudflareZoneId") }`
     */
    cloudflare?: GatewayCloudflareArgs;
    /**
     * The services' metrics path on the public gateway: refused (a JSON 404 from Caddy, a block
     * from Cloudflare) unless `allowWithToken` is set and the request carries that token.
     * Docker: Caddy refuses it before CORS, rate limits and routing, on every domain. do-app: a rule
     * in the zone's custom firewall ruleset, so it needs `cloudflare` with `manageZone` (setting
     * `publicMetrics` without them is an error). Requests to the App's own `*.ondigitalocean.app`
     * URL do not pass Cloudflare (as for rate limits and WAF): the service must refuse the path
     * without its token itself.
     * @default `{ path: "/metrics" }`: refused for everyone
     * @example `{ allowWithToken: metricsToken.result }`
     */
    publicMetrics?: GatewayPublicMetricsArgs;
    /**
     * Transform how this component creates its underlying resources, for what the args above do
     * not cover: per child, args merged over the component's (shallow), or a function editing
     * copies of the args and options in place. Docker: `image`, `container` (Caddy), `loader`
     * (each config revision's), `volume` (each volume); do-app: `zoneSetting` and `ruleset` (the
     * Cloudflare zone's). A key of the other target is accepted and unused, so a program moves
     * between targets unchanged; logical names never change. The routes and Caddy JSON still
     * come from the args above.
     * @default none
     * @example `{ container: { shmSize: 128 }, loader: (args) => { args.memory = 256; args.memorySwap = 256; } }`
     */
    transform?: GatewayTransform;
}
