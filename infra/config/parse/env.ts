/**
 * A service's environment: plain values (`appEnv`), which must not look like secrets, and
 * the names of its secrets (`appSecretNames`), whose values live only in `appSecrets`.
 */
import { ParseContext, q, Reader, setSecretHint } from "../reader";
import { credentialsIn, isSecretName } from "../secrets";
import { ConfigError, fail, isEnvName } from "../validate";

/** Environment variables the platform sets itself; config may not override them. */
export const RESERVED_ENV = ["DATABASE_URL", "ENVIRONMENT", "API_URL", "FRONTEND_URL", "PUBLIC_URL", "LOG_LEVEL", "PORT"] as const;

/** An env var name a service may set: a valid name the platform does not set itself. `key` names the config key in the error. */
export function checkEnvName(key: string, name: string): void {
    if (!isEnvName(name)) fail(key, name, "expected an environment variable name (A-Z, 0-9, _)");
    if ((RESERVED_ENV as readonly string[]).includes(name)) fail(key, name, `expected a name the platform does not set itself (it sets ${RESERVED_ENV.join(", ")})`);
}

export function parseEnv(r: Reader, ctx: ParseContext): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.object("appEnv"))) {
        checkEnvName(q("appEnv"), k);
        if (typeof v !== "string") fail(q("appEnv"), { [k]: v }, "expected string values (quote numbers and booleans)");
        const why = secretLooking(k, v);
        if (why) {
            // The value is never echoed: it may be a live credential.
            throw new ConfigError(q("appEnv"), `${q("appEnv")}: ${k} looks like a secret (${why}); plain env is visible in the stack file, the state and \`docker inspect\` — move it: add ${k} to appSecretNames and run: pulumi config set --secret --path 'appSecrets.${k}' --stack ${ctx.stack} (it prompts for the value)`);
        }
        env[k] = v;
    }
    return env;
}

/** `appSecretNames`, sorted, each name checked like an env name. */
export function parseSecretNames(r: Reader): string[] {
    const names = r.strings("appSecretNames", { each: isEnvName, what: "an environment variable name (A-Z, 0-9, _)" }).slice().sort();
    for (const n of names) checkEnvName(q("appSecretNames"), n);
    return names;
}

/**
 * `appSecrets` holds a value for every listed name and nothing else. Only the names are
 * compared here; the values stay inside secret Outputs (see loadConfig).
 */
export function checkAppSecrets(r: Reader, ctx: ParseContext, secretNames: readonly string[]): void {
    if (!r.secretPresent("appSecrets") && secretNames.length === 0) return;
    const have = r.secretEntryNames("appSecrets");
    if (have === undefined) {
        throw new ConfigError(q("appSecrets"), `${q("appSecrets")}: [secret] is not valid; expected a mapping of NAME: value — run: ${setSecretHint("appSecrets", ctx.stack)}`);
    }
    const missing = secretNames.find((n) => !have.includes(n));
    if (missing) {
        throw new ConfigError(q("appSecrets"), `${q("appSecrets")}: ${missing} is listed in appSecretNames but has no value — run: pulumi config set --secret --path 'appSecrets.${missing}' --stack ${ctx.stack} (it prompts for the value)`);
    }
    const extra = have.find((n) => !secretNames.includes(n));
    if (extra) fail(q("appSecretNames"), secretNames, `expected it to list ${extra}, which appSecrets holds (or remove that secret)`);
}

/** Why an env entry looks like a secret (its name or its value), or undefined. */
export function secretLooking(name: string, value: string): string | undefined {
    if (isSecretName(name)) return "its name";
    const hit = credentialsIn(value)[0];
    return hit ? `its value is ${hit}` : undefined;
}
