/** Pure helpers for the app's containers: healthcheck, environment, logging. */
import { RESERVED_ENV } from "../config";
import { isDigest } from "../config/validate";

/**
 * The app container's optional Docker healthcheck: the configured argv run inside it (exec
 * form, no shell needed), or none. The deploy does not need it: the cut-over probes the
 * health path from the proxy's network, so an image without curl, wget or even a shell
 * deploys the same way. (The old default, `curl || wget` inside the container, never
 * turned a distroless image healthy.)
 */
export function dockerHealthcheck(
    command: string[],
    intervalSeconds: number,
    retries: number,
): { tests: string[]; interval: string; timeout: string; retries: number; startPeriod: string } | undefined {
    if (command.length === 0) return undefined;
    return { tests: ["CMD", ...command], interval: `${intervalSeconds}s`, timeout: "3s", retries, startPeriod: "10s" };
}

/** json-file logs with rotation, so a chatty container cannot fill the disk. */
export const LOG_OPTS = { "max-size": "10m", "max-file": "5" } as const;

export interface PlainEnv {
    environment: string;
    apiUrl: string;
    frontendUrl: string;
    publicUrl: string;
    logLevel: string;
    port: number;
    extra: Record<string, string>;
}

/** The non-secret environment every app process gets, as KEY=value lines in a stable order. */
export function plainEnv(e: PlainEnv): string[] {
    const platform: Record<(typeof RESERVED_ENV)[number], string | undefined> = {
        DATABASE_URL: undefined, // secret: added by the caller inside a secret Output
        ENVIRONMENT: e.environment,
        API_URL: e.apiUrl,
        FRONTEND_URL: e.frontendUrl,
        PUBLIC_URL: e.publicUrl,
        LOG_LEVEL: e.logLevel,
        PORT: String(e.port),
    };
    const lines = Object.entries(platform)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${v}`);
    return [
        ...lines,
        ...Object.keys(e.extra)
            .sort()
            .map((k) => `${k}=${e.extra[k]}`),
    ];
}

/** `repository@sha256:...`: what every container runs, so a tag moved later changes nothing. */
export function imageRef(repository: string, digest: string): string {
    if (!isDigest(digest)) {
        throw new Error(`registry returned ${JSON.stringify(digest)} for ${repository}, which is not a sha256 digest`);
    }
    return `${repository}@${digest}`;
}
