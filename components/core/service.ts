/**
 * What a Gateway needs to know about an ApiService, as plain data known at construction time, so
 * route validation stays pure and runs before anything registers.
 */
export interface ServiceEndpoint {
    /** The ApiService's logical name; also its DO component name and its Docker network alias. */
    readonly name: string;
    /** The HTTP port the service listens on inside its container / instance. */
    readonly port: number;
    /** Replica count (Docker containers, or DO instances). */
    readonly replicas: number;
    /**
     * Docker only: one network alias per replica (`<name>-1`, `<name>-2`, ...). Aliases are shared by
     * an old and a new container during a create-before-delete replace, which is what makes a
     * rolling image update possible without dropping requests.
     */
    readonly dialHosts: readonly string[];
    /** Paths of the liveness and readiness checks, e.g. `/health` and `/ready`. */
    readonly healthPath: string;
    readonly readyPath: string;
}

/** Anything routable: ApiService implements it. */
export interface Routable {
    readonly endpoint: ServiceEndpoint;
}
