/**
 * The rules for a service's environment (services.<name>.env and .secrets): names the
 * platform does not set itself, and plain values that do not look like secrets (their values
 * live only in `appSecrets`).
 */
import { credentialsIn, isSecretName } from "../secrets";
import { fail, isEnvName } from "../validate";

/** Environment variables the platform sets itself; config may not override them. */
export const RESERVED_ENV = [
    "DATABASE_URL",
    "ENVIRONMENT",
    "API_URL",
    "FRONTEND_URL",
    "PUBLIC_URL",
    "LOG_LEVEL",
    "PORT",
] as const;

/** An env var name a service may set: a valid name the platform does not set itself. `key` names the config key in the error. */
export function checkEnvName(key: string, name: string): void {
    if (!isEnvName(name)) fail(key, name, "expected an environment variable name (A-Z, 0-9, _)");
    if ((RESERVED_ENV as readonly string[]).includes(name))
        fail(key, name, `expected a name the platform does not set itself (it sets ${RESERVED_ENV.join(", ")})`);
}

/** Why an env entry looks like a secret (its name or its value), or undefined. */
export function secretLooking(name: string, value: string): string | undefined {
    if (isSecretName(name)) return "its name";
    const hit = credentialsIn(value)[0];
    return hit ? `its value is ${hit}` : undefined;
}
