// The Gateway's default Caddy image: docker/caddy/Dockerfile as .github/workflows/release-images.yml
// publishes it. That workflow rewrites the line below on every release, to the pushed image pinned
// by digest (`ghcr.io/<owner>/slipway-caddy:<tag>@sha256:...`). Until a release has run, it names
// the tag the first release will push, which no registry holds yet: build it with
// `image: { build: true }` (GatewayArgs.image) instead. The tag names Slipway's own Caddy modules'
// sources (scripts/caddy-image-tag.sh): the generated config needs them as this package wrote them,
// and test/unit/caddy-image-tag.test.ts fails when they change and this line does not.
export const PUBLISHED_CADDY_IMAGE = "ghcr.io/slipway/slipway-caddy:2.10.2-ratelimit-0.1.0-slipway-1ba55c1d";
