/**
 * Deploying a prior or promoted release (a set of service images): check every image still
 * exists, point each service's config at its image (only the services in the set), preview
 * and refuse anything beyond the containers, then `up` with progress. Shared by
 * `npm run rollback` and `npm run promote`; `npm run pin` reads the same keys.
 */
import { ConfigMap, EXIT, StackApi, ToolError, upProgress } from "./automation";
import { manifestDigest } from "./registry";
import { Change, changesFromEvents, outsideContainers, ReleaseRecord, ReleaseSet, ServiceImage } from "./releases";
import { configKey } from "../../infra/config/schema";

export interface DeployOptions {
    stackName: string;
    /** The services to change and the image each gets; the stack's other services keep theirs. */
    set: ReleaseSet;
    yes: boolean;
    force: boolean;
    registryUrl?: string;
    /** Progress and report lines (stderr in --json mode, so stdout stays machine-readable). */
    log: (line: string) => void;
}

export interface DeployResult {
    result: "succeeded" | "refused" | "failed";
    code: number;
    /** The set deployed, each digest as the registry resolved it. */
    set: ReleaseSet;
    changes: Change[];
    release?: ReleaseRecord;
    reason?: string;
}

/** One service's image as the stack's config names it. */
export interface ConfiguredImage {
    repository?: string;
    tag?: string;
    digest?: string;
    pin?: string;
}

/** How a stack's config names its images: `platform:services`, one entry per service. */
export interface StackImages {
    services: Record<string, ConfiguredImage>;
}

const str = (v: unknown) => (typeof v === "string" || typeof v === "number" ? String(v) : undefined);

export function stackImages(config: ConfigMap, project = "platform"): StackImages {
    // The CLI also hands a structured value as `objectValue` (not in the SDK's type); its JSON text is `value`.
    const entry = config[`${project}:services`] as (ConfigMap[string] & { objectValue?: unknown }) | undefined;
    if (entry) {
        let map = entry.objectValue;
        if (map === undefined) {
            try {
                map = JSON.parse(entry.value);
            } catch {
                throw new ToolError(
                    `${project}:services is not a mapping of services (pulumi config get ${project}:services)`,
                );
            }
        }
        if (!map || typeof map !== "object" || Array.isArray(map))
            throw new ToolError(
                `${project}:services is not a mapping of services (pulumi config get ${project}:services)`,
            );
        const services: Record<string, ConfiguredImage> = {};
        for (const [name, raw] of Object.entries(map as Record<string, Record<string, unknown> | null>)) {
            services[name] = {
                repository: str(raw?.image),
                tag: str(raw?.tag),
                digest: str(raw?.digest),
                pin: str(raw?.pin),
            };
        }
        return { services };
    }
    throw new ToolError(
        `the stack declares no ${project}:services: every stack declares its services (one entry for a one-service app)`,
    );
}

/**
 * The config keys of one service's image, as `stack.setConfig` takes them. The pin records
 * the tag@digest pair set here, so a later hand edit of the tag is refused (infra/config).
 */
export function imageKeys(
    service: string,
    project = "platform",
): { repository: string; tag: string; digest: string; pin: string } {
    const at = `${project}:services.${service}`;
    return { repository: `${at}.image`, tag: `${at}.tag`, digest: `${at}.digest`, pin: `${at}.pin` };
}

/** The stack's configured service for `name`, or a one-line error listing the ones it has. */
export function serviceOf(images: StackImages, name: string, stackName: string): ConfiguredImage {
    const s = images.services[name];
    if (!s) {
        const known = Object.keys(images.services).join(", ");
        throw new ToolError(`${stackName} has no service ${name}: its services are ${known}`);
    }
    return s;
}

/** Registry credentials from the stack's config. */
const credsOf = (config: ConfigMap, registryUrl?: string) => ({
    registryUrl,
    username: config[configKey("ghcrUsername")]?.value || undefined,
    password: config[configKey("ghcrToken")]?.value || undefined,
});

/** Resolves and verifies one image's digest in the registry, before anything changes. */
export async function verifyInRegistry(
    config: ConfigMap,
    repository: string | undefined,
    target: Pick<ServiceImage, "tag" | "digest">,
    registryUrl?: string,
): Promise<string> {
    if (!repository)
        throw new ToolError("the stack names no image repository for this service (services.<name>.image)");
    const ref = target.digest ?? target.tag;
    const digest = await manifestDigest(repository, ref, credsOf(config, registryUrl));
    if (!digest)
        throw new ToolError(
            `${repository}@${ref} (tag ${target.tag}) no longer exists in the registry: it cannot be deployed again`,
        );
    if (target.digest && digest !== target.digest)
        throw new ToolError(`registry returned ${digest} for ${target.digest}`);
    return digest;
}

/**
 * Writes each service's tag, digest and pin, and returns how to put back what was there
 * (a key that was absent is removed again). Only the services in `set` are touched.
 */
async function writeImages(stack: StackApi, images: StackImages, set: ReleaseSet): Promise<() => Promise<void>> {
    const undo: { key: string; value?: string }[] = [];
    for (const [name, s] of Object.entries(set)) {
        const keys = imageKeys(name);
        const before = images.services[name];
        const writes: [string, string, string | undefined][] = [
            [keys.tag, s.tag, before.tag],
            [keys.digest, s.digest!, before.digest],
            [keys.pin, `${s.tag}@${s.digest}`, before.pin],
        ];
        for (const [key, value, prior] of writes) {
            undo.push({ key, value: prior });
            await stack.setConfig(key, { value, secret: false }, true);
        }
    }
    return async () => {
        for (const u of undo.reverse()) {
            if (u.value === undefined) await stack.removeConfig(u.key, true);
            else await stack.setConfig(u.key, { value: u.value, secret: false }, true);
        }
    };
}

/**
 * Previews the stack as its config stands now and logs each change, marking with ! those
 * `flag` picks. A failed preview undoes the config change first, then throws.
 */
export async function previewChanges(
    stack: StackApi,
    undo: () => Promise<unknown>,
    flag: (changes: Change[]) => Change[],
    log: (line: string) => void,
): Promise<{ changes: Change[]; flagged: Change[] }> {
    const events: unknown[] = [];
    try {
        await stack.preview({ onEvent: (e) => events.push(e) });
    } catch (e) {
        await undo();
        throw e;
    }
    const changes = changesFromEvents(events);
    const flagged = flag(changes);
    log(`preview: ${changes.length} change(s)`);
    for (const c of changes) log(`  ${flagged.includes(c) ? "!" : " "} ${c.op.padEnd(8)} ${c.type} ${c.name}`);
    return { changes, flagged };
}

export async function deployRelease(stack: StackApi, o: DeployOptions): Promise<DeployResult> {
    const before = await stack.getAllConfig();
    const images = stackImages(before);
    const names = Object.keys(o.set);
    if (names.length === 0) throw new ToolError("the release names no service: nothing to deploy");
    // Every image is checked before any config changes, so a missing one changes nothing.
    const set: ReleaseSet = {};
    for (const name of names) {
        const target = o.set[name];
        const repository = serviceOf(images, name, o.stackName).repository;
        const digest = await verifyInRegistry(before, repository, target, o.registryUrl);
        set[name] = { tag: target.tag, digest, repository };
        o.log(`target: ${name} ${target.tag} (${digest}), present in the registry`);
        if (!target.digest)
            o.log(
                `note: that release recorded no digest for ${name} ${target.tag}; it was resolved in the registry just now`,
            );
    }

    const restore = await writeImages(stack, images, set);

    const { changes, flagged: outside } = await previewChanges(stack, restore, outsideContainers, o.log);

    if (outside.length > 0 && !o.force) {
        await restore();
        return {
            result: "refused",
            code: EXIT.refused,
            set,
            changes,
            reason: `${outside.length} change(s) outside the containers (marked !): a release must touch only containers; re-run with --force if this is intended`,
        };
    }
    if (!o.yes) {
        await restore();
        return {
            result: "refused",
            code: EXIT.refused,
            set,
            changes,
            reason: "nothing changed: re-run with --yes to deploy",
        };
    }

    let up;
    try {
        up = await stack.up({ onEvent: upProgress(o.log) });
    } catch (e) {
        // A lock held by another update is an environment problem, reported like the others.
        if ((e as Error).name === "ConcurrentUpdateError") throw e;
        return {
            result: "failed",
            code: EXIT.failed,
            set,
            changes,
            reason: `${failureReason(`${(e as Error).message}`)} (the stack's config now names ${describeTargets(set)}; fix and re-run, or roll back)`,
        };
    }
    return {
        result: "succeeded",
        code: EXIT.ok,
        set,
        changes,
        release: up.outputs.release?.value as ReleaseRecord | undefined,
    };
}

/** `api 1.4.1, web 2.3.0`. */
function describeTargets(set: ReleaseSet): string {
    return Object.entries(set)
        .map(([name, s]) => `${name} ${s.tag}`)
        .join(", ");
}

/** One line on how it ended; the release record when it succeeded. */
export function logOutcome(res: DeployResult, log: (line: string) => void): void {
    if (res.result === "succeeded") log(`release: ${JSON.stringify(res.release)}`);
    else log(`${res.result}: ${res.reason}`);
}

/**
 * The one line that says why an update failed. The on-server scripts (cut-over, workers
 * check, migration) print `error: <server>: ...` lines that name the cause and what still
 * serves; Pulumi wraps them in its own `error:` lines, so theirs win when present.
 */
export function failureReason(text: string): string {
    const lines = text.split("\n").map((l) => l.trim());
    const ours = lines.find((l) =>
        /^error: .*(was not put into service|is not staying up|migration from .* failed|edge proxy)/.test(l),
    );
    const line = ours ?? lines.find((l) => l.startsWith("error:")) ?? "pulumi up failed";
    return line.replace(/^error:\s*/, "");
}
