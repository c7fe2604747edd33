/**
 * Deploying a prior or promoted release: check the image still exists, point the stack's
 * config at it, preview and refuse anything beyond the containers, then `up` with progress.
 * Shared by `npm run rollback` and `npm run promote`.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { EXIT, ToolError, upProgress } from "./automation";
import { manifestDigest } from "./registry";
import { Change, changesFromEvents, outsideContainers } from "./releases";

export interface Target { tag: string; digest?: string }

export interface DeployOptions {
    stackName: string;
    target: Target;
    yes: boolean;
    force: boolean;
    registryUrl?: string;
    /** Progress and report lines (stderr in --json mode, so stdout stays machine-readable). */
    log: (line: string) => void;
}

export interface DeployResult {
    result: "succeeded" | "refused" | "failed";
    code: number;
    digest: string;
    changes: Change[];
    release?: Record<string, unknown>;
    reason?: string;
}

/** imagePin records the tag@digest pair set here, so a later hand edit of imageTag is refused (infra/config checkDigestPin). */
const KEY = { tag: "platform:imageTag", digest: "platform:imageDigest", pin: "platform:imagePin" };

type ConfigMap = Awaited<ReturnType<Stack["getAllConfig"]>>;

/** Resolves and verifies the target's digest in the registry, before anything changes. */
export async function verifyInRegistry(config: ConfigMap, target: Target, registryUrl?: string): Promise<string> {
    const repository = config["platform:imageRepository"]?.value;
    if (!repository) throw new ToolError("the stack has no platform:imageRepository in its config");
    const creds = { registryUrl, username: config["platform:ghcrUsername"]?.value || undefined, password: config["platform:ghcrToken"]?.value || undefined };
    const ref = target.digest ?? target.tag;
    const digest = await manifestDigest(repository, ref, creds);
    if (!digest) throw new ToolError(`${repository}@${ref} (tag ${target.tag}) no longer exists in the registry: it cannot be deployed again`);
    if (target.digest && digest !== target.digest) throw new ToolError(`registry returned ${digest} for ${target.digest}`);
    return digest;
}

export async function deployRelease(stack: Stack, o: DeployOptions): Promise<DeployResult> {
    const before = await stack.getAllConfig();
    const digest = await verifyInRegistry(before, o.target, o.registryUrl);
    o.log(`target: ${o.target.tag} (${digest}), present in the registry`);
    if (!o.target.digest) o.log(`note: that release recorded no digest; ${o.target.tag} was resolved in the registry just now`);

    const restore = async () => {
        await stack.setConfig(KEY.tag, { value: before[KEY.tag]?.value ?? "", secret: false });
        await stack.setConfig(KEY.digest, { value: before[KEY.digest]?.value ?? "", secret: false });
        await stack.setConfig(KEY.pin, { value: before[KEY.pin]?.value ?? "", secret: false });
    };
    await stack.setConfig(KEY.tag, { value: o.target.tag, secret: false });
    await stack.setConfig(KEY.digest, { value: digest, secret: false });
    await stack.setConfig(KEY.pin, { value: `${o.target.tag}@${digest}`, secret: false });

    const events: unknown[] = [];
    await stack.preview({ onEvent: (e) => events.push(e) });
    const changes = changesFromEvents(events);
    const outside = outsideContainers(changes);
    o.log(`preview: ${changes.length} change(s)`);
    for (const c of changes) o.log(`  ${outside.includes(c) ? "!" : " "} ${c.op.padEnd(8)} ${c.type} ${c.name}`);

    if (outside.length > 0 && !o.force) {
        await restore();
        return { result: "refused", code: EXIT.refused, digest, changes, reason: `${outside.length} change(s) outside the containers (marked !): a release must touch only containers; re-run with --force if this is intended` };
    }
    if (!o.yes) {
        await restore();
        return { result: "refused", code: EXIT.refused, digest, changes, reason: "nothing changed: re-run with --yes to deploy" };
    }

    let up;
    try {
        up = await stack.up({ onEvent: upProgress(o.log) });
    } catch (e) {
        // A lock held by another update is an environment problem, reported like the others.
        if ((e as Error).name === "ConcurrentUpdateError") throw e;
        return { result: "failed", code: EXIT.failed, digest, changes, reason: `${failureReason(`${(e as Error).message}`)} (the stack's config now names ${o.target.tag}; fix and re-run, or roll back)` };
    }
    return { result: "succeeded", code: EXIT.ok, digest, changes, release: up.outputs.release?.value as Record<string, unknown> };
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
    const ours = lines.find((l) => /^error: .*(was not put into service|is not staying up|migration from .* failed|edge proxy)/.test(l));
    const line = ours ?? lines.find((l) => l.startsWith("error:")) ?? "pulumi up failed";
    return line.replace(/^error:\s*/, "");
}
