import type { Transform } from "../../core/transform";
import type { AppServiceSpec } from "../../targets/app-spec";

/** `transform` keys of the do-app target (see `ApiServiceArgs.transform`). */
export interface ApiServiceDoAppTransform {
    /**
     * The service's entry in the App spec, before DoApp merges it (and moves its SECRET envs to
     * the App level). Not a resource: a function's `opts` are not used, and `name` is the service's.
     * @example `{ instanceSizeSlug: "apps-d-1vcpu-2gb" }`
     * @example `(service) => { service.cors = { allowOrigins: [{ exact: "https://app.example.com" }] }; }`
     */
    service?: Transform<AppServiceSpec>;
}
