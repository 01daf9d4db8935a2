// Slipway: typed Pulumi components for an API behind a gateway, with Postgres, observability and
// synced secrets, on a single Docker host or on DigitalOcean App Platform behind Cloudflare.
export { ApiService, ApiServiceArgs } from "./api-service";
export { Gateway, GatewayArgs, GatewayImageBuild, GatewayImageBuildArgs, gatewayMetricsTarget } from "./gateway";
export { ManagedDatabase, ManagedDatabaseArgs } from "./managed-database";
export { ManagedCache, ManagedCacheArgs } from "./managed-cache";
export { Observability, ObservabilityArgs } from "./observability";
export { SecretsSync, SecretsSyncArgs } from "./secrets-sync";
export { DockerHost, DockerHostArgs } from "./targets/docker-host";
export { DoApp, DoAppArgs } from "./targets/do-app";
export { CloudflareEdge, CloudflareEdgeArgs } from "./targets/cloudflare-edge";
export { AppContributor, AppPart, mergeAppSpecParts, toApiSpec } from "./targets/app-spec";
export { SecretRollout, SECRETS_REVISION_OUTPUT } from "./targets/secrets-rollout";
export { Target, DockerTarget, DoAppTarget, DoAppProviders, DoRegion, DO_REGIONS, doAppTarget } from "./core/target";
export { EnvVar, Secret, isSecret, secret } from "./core/env";
export { Link, LinkRequest, Linkable, ScrapeSink, ScrapeTargets } from "./core/link";
export { EdgeRecord } from "./core/edge";
export { Routable, ServiceEndpoint } from "./core/service";
export { SlipwayConfigError } from "./core/errors";
export { RegistryCredentialArgs, localOnlyImage } from "./core/registries";

// The pure validators every constructor runs before it registers anything. Call them all first
// (as this repo's stack/preflight.ts does) to reject a whole stack's bad input before the first
// resource registers, rather than component by component.
export { normalizeApiService, serviceEndpoint } from "./api-service/normalize";
export { validateApiService } from "./api-service";
export { normalizeGateway } from "./gateway/normalize";
export { validateGateway } from "./gateway";
export { normalizeManagedDatabase } from "./managed-database/normalize";
export { validateManagedDatabase } from "./managed-database";
export { normalizeManagedCache } from "./managed-cache/normalize";
export { validateManagedCache } from "./managed-cache";
export { normalizeObservability } from "./observability/normalize";
export { validateObservability } from "./observability";
export { normalizeSecretsSync } from "./secrets-sync/normalize";
export { normalizeDockerHost } from "./targets/docker-host";
