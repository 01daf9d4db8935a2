// Shared inputs for the Gateway tests (pure: no Pulumi runtime needed).
import type { Target } from "../../components/core/target";
import type { GatewayArgs } from "../../components/gateway";

/** A routable stand-in for an ApiService, as the contract allows (`{ endpoint }`). */
export function svc(name = "api", replicas = 2, port = 8080) {
    return {
        endpoint: {
            name, port, replicas,
            dialHosts: Array.from({ length: replicas }, (_, i) => `${name}-${i + 1}`),
            healthPath: "/health", readyPath: "/ready",
        },
    };
}

/** Plain target values for normalize-only tests (docker resources are never created from them). */
export const plainDocker = (production = false, publishAddress = "127.0.0.1") =>
    ({ kind: "docker", production, environment: "dev", publishAddress }) as unknown as Target;
/** A docker target the internet reaches, as public domains with ACME need. */
export const publicDocker = (production = false) => plainDocker(production, "0.0.0.0");
export const plainDo = () => ({ kind: "do-app", production: true, environment: "prod", contributors: new Set() }) as unknown as Target;

/** Local stack: seed-000-like zones (waitlist 5/1m burst 10, general 100/1m burst 150), CORS, two services. */
export function localArgs(target: Target): GatewayArgs {
    return {
        target,
        routes: [
            { pathPrefix: "/v1", service: svc("api"), rateLimit: "general" },
            { pathPrefix: "/v1/waitlist", service: svc("api"), rateLimit: "waitlist" },
            { pathPrefix: "/media/", service: svc("media", 1, 9000), stripPrefix: true, rateLimit: "general" },
        ],
        rateLimits: {
            waitlist: { events: 5, window: "1m", burst: 10 },
            general: { events: 100, window: "1m", burst: 150 },
        },
        cors: { allowOrigins: ["http://localhost:3000", "https://app.example.com"], allowCredentials: true },
    };
}

/** Public domains with an email for ACME, a header-keyed zone, and a file access log. */
export function domainArgs(target: Target): GatewayArgs {
    return {
        target,
        domains: ["api.example.com", "api.example.net"],
        email: "ops@example.com",
        routes: [
            { pathPrefix: "/", service: svc("web", 1, 3000) },
            { pathPrefix: "/v1/core", service: svc("core", 3), rateLimit: "core" },
            { pathPrefix: "/v1/media", service: svc("media", 1, 9000), rateLimit: "partner" },
        ],
        rateLimits: {
            core: { events: 100, window: "1m" },
            partner: { events: 50, window: "10s", key: "header:X-Api-Key" },
        },
        accessLog: { stdout: true, file: "/var/log/caddy/access.log" },
        compression: ["gzip"],
    };
}
