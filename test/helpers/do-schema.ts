import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import * as fs from "fs";
import * as path from "path";

/** Reference material copied into the repo with its source and licence notes (see its README). */
export const SHARED = path.resolve(__dirname, "../fixtures/shared");
const SCHEMA = path.join(SHARED, "schemas/do-app-spec.schema.json");

let validate: ((x: unknown) => boolean) & { errors?: unknown } | undefined;

/** Validate an API-form app spec against DigitalOcean's schema; returns ajv's errors (empty when valid). */
export function appSpecErrors(spec: unknown): string[] {
    if (!validate) {
        if (!fs.existsSync(SCHEMA)) throw new Error(`DigitalOcean app spec schema not found at ${SCHEMA}`);
        const ajv = new Ajv2020({ allErrors: true, strict: false });
        addFormats(ajv);
        ajv.addFormat("uint32", { type: "number", validate: (n: number) => Number.isInteger(n) && n >= 0 && n <= 4294967295 });
        validate = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA, "utf8")));
    }
    const ok = validate(spec);
    return ok ? [] : ((validate.errors as { instancePath: string; message?: string }[]) ?? []).map(e => `${e.instancePath} ${e.message}`);
}

/** Every object key anywhere in `x` that has an uppercase letter (the API spec is all snake_case). */
export function upperCaseKeys(x: unknown, at = ""): string[] {
    if (Array.isArray(x)) return x.flatMap((v, i) => upperCaseKeys(v, `${at}[${i}]`));
    if (x && typeof x === "object") {
        return Object.entries(x).flatMap(([k, v]) => [...(/[A-Z]/.test(k) ? [`${at}.${k}`] : []), ...upperCaseKeys(v, `${at}.${k}`)]);
    }
    return [];
}
