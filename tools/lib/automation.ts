/**
 * Opening a stack through the Automation API (which drives the `pulumi` CLI) and turning
 * its failures into one line a person can act on.
 */
import * as path from "path";
import { EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { HistoryEntry, ReleaseRecord } from "./releases";
import { committedStacksIn } from "./stacks";

/** Exit codes shared by rollback, promote and releases. */
export const EXIT = { ok: 0, failed: 1, error: 2, refused: 3 } as const;

/** A failure that is the user's to fix; its message is the whole story. */
export class ToolError extends Error {}

export function requireKnownStack(stack: string | undefined, workDir: string, flag = "--stack"): string {
    const known = committedStacksIn(workDir);
    if (!stack) throw new ToolError(`${flag} is required (stacks: ${known.join(", ")})`);
    if (!known.includes(stack)) throw new ToolError(`unknown stack ${JSON.stringify(stack)}: no Pulumi.${stack}.yaml in ${workDir} (stacks: ${known.join(", ")})`);
    return stack;
}

/** One actionable line for an error from the Automation API or the CLI behind it. */
export function explain(e: unknown, stack: string): string {
    if (e instanceof ToolError) return e.message;
    const err = e as Error & { commandResult?: { stderr?: string }; name?: string };
    const text = `${err.message ?? ""}\n${err.commandResult?.stderr ?? ""}`;
    if (/ENOENT/.test(text) && /pulumi/.test(text)) {
        return "the pulumi CLI is not installed or not on PATH: install it with `curl -fsSL https://get.pulumi.com | sh` (or `brew install pulumi/tap/pulumi`), then retry";
    }
    if (/PULUMI_ACCESS_TOKEN must be set|requires logging in|pulumi login/.test(text)) {
        return "not logged in to a Pulumi backend: run `pulumi login` (Pulumi Cloud, or set PULUMI_ACCESS_TOKEN) or `pulumi login 's3://<bucket>?endpoint=<region>.digitaloceanspaces.com&region=<region>'`";
    }
    if (err.name === "StackNotFoundError" || /no stack named/.test(text)) {
        return `stack ${stack} does not exist in this backend: create it with \`pulumi stack init ${stack}\` and run \`pulumi up --stack ${stack}\` first`;
    }
    if (err.name === "ConcurrentUpdateError" || /currently locked|Another update is currently in progress/.test(text)) {
        return `stack ${stack} is locked by another update in progress: wait for it to finish; if that update died, run \`pulumi cancel --stack ${stack}\``;
    }
    if (/PULUMI_CONFIG_PASSPHRASE/.test(text)) {
        return "this backend encrypts secrets with a passphrase: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE)";
    }
    const line = text.split("\n").map((l) => l.trim()).find((l) => l.startsWith("error:"));
    return line ? line.replace(/^error:\s*/, "") : (err.message ?? String(e)).split("\n")[0];
}

export async function openStack(stack: string, workDir: string): Promise<Stack> {
    return LocalWorkspace.selectStack({ stackName: stack, workDir: path.resolve(workDir) });
}

/**
 * The whole update history. Without paging flags the CLI returns only the 10 newest
 * entries, so this pages until an empty page.
 */
export async function fullHistory(stack: Stack, pageSize = 50, maxPages = 40): Promise<HistoryEntry[]> {
    const all: HistoryEntry[] = [];
    for (let page = 1; page <= maxPages; page++) {
        const entries = await stack.history(pageSize, page);
        if (entries.length === 0) break;
        all.push(...(entries as unknown as HistoryEntry[]));
        if (entries.length < pageSize) break;
    }
    return all;
}

/** The release record the stack exports now (see setOfRecord for the set it names). */
export async function currentRelease(stack: Stack): Promise<ReleaseRecord> {
    const outputs = await stack.outputs();
    return (outputs.release?.value as ReleaseRecord | undefined) ?? {};
}

/**
 * Progress of a `stack.up` as one line per resource step, stamped with the seconds since it
 * started: each change as it begins, each as it is done, failures and error diagnostics.
 */
export function upProgress(log: (line: string) => void): (e: EngineEvent) => void {
    const t0 = Date.now();
    const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s]`;
    const name = (urn: string) => urn.split("::").pop();
    return (e) => {
        const pre = e.resourcePreEvent?.metadata;
        if (pre && pre.op !== "same" && pre.type !== "pulumi:pulumi:Stack") log(`${stamp()} ${pre.op.padEnd(18)} ${name(pre.urn)}`);
        const done = e.resOutputsEvent?.metadata;
        if (done && done.op !== "same" && done.type !== "pulumi:pulumi:Stack") log(`${stamp()} done               ${name(done.urn)}`);
        const failed = e.resOpFailedEvent?.metadata;
        if (failed) log(`${stamp()} FAILED             ${name(failed.urn)}`);
        const diag = e.diagnosticEvent;
        if (diag?.severity === "error") log(`${stamp()} error: ${diag.message.trim()}`);
    };
}
