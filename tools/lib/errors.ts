/**
 * Exit codes and the one-line error of every tool. Kept apart from the Automation API so a
 * tool that never opens a stack (notify, drift, post-deploy-check, cost-diff) starts
 * without loading the Pulumi SDK.
 */
import { committedStacksIn } from "./stacks";

export const EXIT = { ok: 0, failed: 1, error: 2, refused: 3 } as const;

/** A failure that is the user's to fix; its message is the whole story. */
export class ToolError extends Error {}

export function requireKnownStack(stack: string | undefined, workDir: string, flag = "--stack"): string {
    const known = committedStacksIn(workDir);
    if (!stack) throw new ToolError(`${flag} is required (stacks: ${known.join(", ")})`);
    if (!known.includes(stack))
        throw new ToolError(
            `unknown stack ${JSON.stringify(stack)}: no Pulumi.${stack}.yaml in ${workDir} (stacks: ${known.join(", ")})`,
        );
    return stack;
}

/** One actionable line for an error from the Automation API or the CLI behind it. */
export function explain(e: unknown, stack: string): string {
    if (e instanceof ToolError) return e.message;
    const err = e as Error;
    // A CommandError's message carries the CLI's stderr (automation/errors.ts: `code: .. stderr: ..`).
    const text = `${err.message ?? ""}`;
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
    const line = text
        .split("\n")
        .map((l) => l.trim())
        .find((l) => l.startsWith("error:"));
    return line ? line.replace(/^error:\s*/, "") : (err.message ?? String(e)).split("\n")[0];
}
