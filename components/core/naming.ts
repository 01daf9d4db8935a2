/** DigitalOcean App Platform's rule for app, component and database names (2 to 32 characters). */
export const DO_NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;

/** A Docker container or volume name: what `docker create --name` accepts. */
export const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** An environment variable key that both Docker and DigitalOcean (`^[_A-Za-z][_A-Za-z0-9]*$`) accept. */
export const ENV_KEY = /^[_A-Za-z][_A-Za-z0-9]*$/;

/**
 * A DNS hostname: labels of 1 to 63 letters, digits or inner hyphens, at least two labels, a
 * non-numeric TLD, at most 253 characters. `localhost` is accepted on its own for local stacks.
 */
export function isHostname(value: string): boolean {
    if (value === "localhost") return true;
    if (value.length < 4 || value.length > 253) return false;
    const labels = value.split(".");
    if (labels.length < 2) return false;
    const tld = labels[labels.length - 1]!;
    if (/^[0-9]+$/.test(tld)) return false;
    return labels.every(l => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(l));
}

/** Turn a logical name such as `Core API` into a DO-safe, Docker-safe slug such as `core-api`. */
export function slug(value: string): string {
    return value.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
}
